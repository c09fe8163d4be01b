//! Retry policy: which failures are transient, capped exponential backoff with full jitter,
//! `Retry-After` parsing, and the create-vs-other rules.

use std::time::{Duration, SystemTime};

use rand::Rng as _;

/// How hard the client tries before giving up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total time budget for one logical call, including waits.
    pub deadline: Duration,
    /// First backoff ceiling; doubles every attempt.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
    /// Upper bound on attempts (first try included).
    pub max_attempts: u32,
    /// Timeout of a single HTTP attempt.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(120),
            base: Duration::from_millis(250),
            cap: Duration::from_secs(10),
            max_attempts: 10,
            attempt_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy for tests: tiny waits, short deadline.
    pub fn fast() -> Self {
        Self {
            deadline: Duration::from_secs(5),
            base: Duration::from_millis(1),
            cap: Duration::from_millis(10),
            max_attempts: 5,
            attempt_timeout: Duration::from_secs(5),
        }
    }

    /// Upper bound of the wait after failed attempt number `attempt` (1-based):
    /// `min(cap, base * 2^(attempt-1))`.
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.cap)
    }

    /// Full jitter: uniformly random in `[0, backoff_ceiling(attempt)]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.backoff_ceiling(attempt);
        let nanos = ceiling.as_nanos().min(u64::MAX as u128) as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
    }
}

/// Parses a `Retry-After` header value: delay-seconds or an HTTP-date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
        return None;
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether the request is a create (not idempotent) or can safely be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, full-mask updates, deletes, token requests.
    Idempotent,
    /// Creates: repeat only when the request certainly did not reach C1.
    Create,
}

/// What went wrong on one attempt, as far as the retry decision cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFailure {
    /// Could not connect: the request never left.
    Connect,
    /// Timeout, reset or other transport failure after the request may have been sent.
    AfterSend,
    /// The server's TLS certificate was rejected: retrying cannot help.
    Certificate,
    /// An HTTP answer with this status.
    Status(u16),
}

/// The decision for one failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Retry,
    /// Not transient: report the error as is.
    Fail,
    /// A create may have reached C1: report `Ambiguous`.
    Ambiguous,
}

/// Whether a status is transient (429, 502, 503, 504).
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The retry rules. A create is retried only on connect errors and 429 (C1 rejects before
/// acting); 502/503/504 or a failure after sending make a create ambiguous.
pub fn decide(kind: Idempotency, failure: AttemptFailure) -> Decision {
    match (kind, failure) {
        (_, AttemptFailure::Certificate) => Decision::Fail,
        (_, AttemptFailure::Connect) => Decision::Retry,
        (_, AttemptFailure::Status(429)) => Decision::Retry,
        (Idempotency::Idempotent, AttemptFailure::AfterSend) => Decision::Retry,
        (Idempotency::Create, AttemptFailure::AfterSend) => Decision::Ambiguous,
        (Idempotency::Idempotent, AttemptFailure::Status(s)) if is_transient_status(s) => {
            Decision::Retry
        }
        (Idempotency::Create, AttemptFailure::Status(s)) if is_transient_status(s) => {
            Decision::Ambiguous
        }
        (_, AttemptFailure::Status(_)) => Decision::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_exponential_with_full_jitter() {
        let p = RetryPolicy {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let ceilings: Vec<_> = (1..=8).map(|a| p.backoff_ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, [250, 500, 1000, 2000, 4000, 8000, 10000, 10000]);
        assert_eq!(p.backoff_ceiling(1000), Duration::from_secs(10));
        for attempt in 1..=10 {
            for _ in 0..200 {
                assert!(p.backoff(attempt) <= p.backoff_ceiling(attempt));
            }
        }
        // Full jitter actually spreads: not all equal to the ceiling.
        let samples: Vec<_> = (0..50).map(|_| p.backoff(5)).collect();
        assert!(samples.iter().any(|d| *d < p.backoff_ceiling(5)));
        let zero = RetryPolicy {
            base: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }

    #[test]
    fn retry_after_parsing() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn which_failures_are_retried() {
        use AttemptFailure::*;
        use Decision::*;
        use Idempotency::*;
        for s in [429, 502, 503, 504] {
            assert_eq!(decide(Idempotent, Status(s)), Retry, "{s}");
            assert!(is_transient_status(s));
        }
        for s in [400, 401, 403, 404, 409, 500, 501] {
            assert_eq!(decide(Idempotent, Status(s)), Fail, "{s}");
            assert_eq!(decide(Create, Status(s)), Fail, "{s}");
        }
        assert_eq!(decide(Idempotent, Connect), Retry);
        assert_eq!(decide(Idempotent, AfterSend), Retry);
    }

    #[test]
    fn creates_retry_only_when_c1_certainly_did_not_act() {
        use AttemptFailure::*;
        use Decision::*;
        use Idempotency::*;
        assert_eq!(decide(Create, Connect), Retry);
        assert_eq!(decide(Create, Status(429)), Retry);
        for s in [502, 503, 504] {
            assert_eq!(decide(Create, Status(s)), Ambiguous, "{s}");
        }
        assert_eq!(decide(Create, AfterSend), Ambiguous);
    }
}
