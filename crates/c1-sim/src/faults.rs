//! Faults on demand for `/api/` and `/auth/` calls: added latency, 429 with `Retry-After`,
//! 5xx answers (one status, or several in turn) and dropped connections, every Nth matching
//! call; and calls carried out after their answer was lost, at once or late.

use serde::{Deserialize, Serialize};

/// The fault settings (the JSON shape of `GET/PUT /_sim/faults`). Zero or absent means off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Added to every matching call, before anything else happens.
    pub latency_ms: u64,
    /// Every Nth matching call answers 429 with `Retry-After`.
    pub fail_429_every: u64,
    /// The `Retry-After` of injected 429s, in seconds.
    pub retry_after_secs: u64,
    /// Every Nth matching call answers `fail_status`.
    pub fail_5xx_every: u64,
    /// HTTP status of injected server errors (500-599; default 503).
    pub fail_status: u16,
    /// When not empty, injected server errors take these statuses (500-599) in turn instead of
    /// `fail_status`.
    pub fail_statuses: Vec<u16>,
    /// Every Nth matching call has its connection closed without an answer.
    pub drop_every: u64,
    /// Only calls whose path contains this string are affected (and counted).
    pub path_contains: Option<String>,
    /// Only calls with this HTTP method (case-insensitive) are affected (and counted).
    pub method: Option<String>,
    /// 5xx and dropped-connection faults strike after the call was carried out: C1 acted, but
    /// the answer is lost (what makes a create's outcome unknown to the client).
    pub after_handling: bool,
    /// With `after_handling`: a struck call gets its fault at once and is carried out this many
    /// milliseconds later (a request C1 acts on after the client gave up on it; 0 = at once).
    pub land_late_ms: u64,
}

impl FaultConfig {
    /// Fills in defaults for fields left at zero: `fail_status` 503, `retry_after_secs` 1.
    pub fn normalised(mut self) -> Self {
        if !(500..=599).contains(&self.fail_status) {
            self.fail_status = 503;
        }
        self.fail_statuses.retain(|s| (500..=599).contains(s));
        if self.retry_after_secs == 0 {
            self.retry_after_secs = 1;
        }
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let path_ok = self
            .path_contains
            .as_deref()
            .is_none_or(|needle| needle.is_empty() || path.contains(needle));
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.is_empty() || m.eq_ignore_ascii_case(method));
        path_ok && method_ok
    }
}

/// What to do to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultDecision {
    pub latency_ms: u64,
    pub action: Option<FaultAction>,
    /// The action (a 5xx or a drop) replaces the answer of a call that was carried out.
    pub after_handling: bool,
    /// With `after_handling`: the call is carried out this much later, after the fault.
    pub land_late_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    Drop,
    TooManyRequests { retry_after_secs: u64 },
    ServerError { status: u16 },
}

/// The active fault configuration and the count of calls it has matched.
#[derive(Debug, Default)]
pub struct FaultState {
    config: FaultConfig,
    matched_calls: u64,
    /// Server errors injected so far (which of `fail_statuses` is next).
    server_errors: u64,
}

impl FaultState {
    pub fn new(config: FaultConfig) -> Self {
        Self {
            config: config.normalised(),
            matched_calls: 0,
            server_errors: 0,
        }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Replaces the configuration and restarts the call count.
    pub fn set(&mut self, config: FaultConfig) {
        self.config = config.normalised();
        self.matched_calls = 0;
        self.server_errors = 0;
    }

    /// Counts the call if it matches, and decides its fault. Drop wins over 429, 429 over 5xx.
    pub fn decide(&mut self, method: &str, path: &str) -> FaultDecision {
        if !self.config.matches(method, path) {
            return FaultDecision::default();
        }
        self.matched_calls += 1;
        let n = self.matched_calls;
        let hits = |every: u64| every > 0 && n % every == 0;
        let action = if hits(self.config.drop_every) {
            Some(FaultAction::Drop)
        } else if hits(self.config.fail_429_every) {
            Some(FaultAction::TooManyRequests {
                retry_after_secs: self.config.retry_after_secs,
            })
        } else if hits(self.config.fail_5xx_every) {
            let statuses = &self.config.fail_statuses;
            let status = if statuses.is_empty() {
                self.config.fail_status
            } else {
                statuses[(self.server_errors % statuses.len() as u64) as usize]
            };
            self.server_errors += 1;
            Some(FaultAction::ServerError { status })
        } else {
            None
        };
        let after_handling = self.config.after_handling
            && matches!(
                action,
                Some(FaultAction::Drop | FaultAction::ServerError { .. })
            );
        FaultDecision {
            latency_ms: self.config.latency_ms,
            action,
            after_handling,
            land_late_ms: if after_handling {
                self.config.land_late_ms
            } else {
                0
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_take_the_listed_statuses_in_turn() {
        let mut faults = FaultState::new(FaultConfig {
            fail_5xx_every: 2,
            fail_statuses: vec![500, 502, 200, 504],
            ..Default::default()
        });
        let statuses: Vec<_> = (0..8)
            .filter_map(|_| match faults.decide("GET", "/api/v1/apps").action {
                Some(FaultAction::ServerError { status }) => Some(status),
                _ => None,
            })
            .collect();
        // 200 is not a server error: dropped from the list.
        assert_eq!(statuses, [500, 502, 504, 500]);
    }

    #[test]
    fn late_landing_applies_to_faults_after_handling_only() {
        let mut faults = FaultState::new(FaultConfig {
            fail_5xx_every: 1,
            after_handling: true,
            land_late_ms: 700,
            ..Default::default()
        });
        let d = faults.decide("POST", "/api/v1/apps/a/connectors/create");
        assert!(d.after_handling);
        assert_eq!(d.land_late_ms, 700);
        faults.set(FaultConfig {
            fail_429_every: 1,
            after_handling: true,
            land_late_ms: 700,
            ..Default::default()
        });
        let d = faults.decide("POST", "/api/v1/apps/a/connectors/create");
        assert_eq!(d.land_late_ms, 0, "a 429 is answered before acting");
    }

    #[test]
    fn every_nth_matching_call_fails() {
        let mut faults = FaultState::new(FaultConfig {
            fail_429_every: 2,
            path_contains: Some("/connectors/create".into()),
            method: Some("post".into()),
            ..Default::default()
        });
        assert_eq!(
            faults
                .decide("POST", "/api/v1/apps/a/connectors/create")
                .action,
            None
        );
        assert_eq!(
            faults
                .decide("GET", "/api/v1/apps/a/connectors/create")
                .action,
            None
        );
        assert_eq!(
            faults.decide("POST", "/api/v1/apps/a/connectors").action,
            None
        );
        assert_eq!(
            faults
                .decide("POST", "/api/v1/apps/a/connectors/create")
                .action,
            Some(FaultAction::TooManyRequests {
                retry_after_secs: 1
            })
        );
    }
}
