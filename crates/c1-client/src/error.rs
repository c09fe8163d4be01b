//! The client's errors, in C1 and HTTP terms and free of secrets. Saying what a user should do
//! about them (which setting to check) is the caller's job.

use crate::config::BaseUrlError;

/// An error from a C1 API call. Messages never contain tokens, secrets or settings values.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// C1 answered with an error status and (usually) a `{"code","message"}` body.
    #[error("{operation}: C1 answered HTTP {status}{}: {message}", code_text(*code))]
    Api {
        operation: String,
        status: u16,
        /// gRPC status code from the body, if any.
        code: Option<i64>,
        message: String,
    },
    /// C1 refused the credentials: a 401 even after renewing the token, or the token endpoint
    /// refused the client assertion.
    #[error("{operation}: C1 rejected the credentials: {message}")]
    Unauthenticated { operation: String, message: String },
    /// C1 refused to exchange the workload's OIDC token (its issuer, audience or subject is not
    /// trusted for the client, or the client is unknown). `from` names where the token came from.
    #[error("{operation}: C1 refused the OIDC token from {from}: {message}")]
    SubjectTokenRefused {
        operation: String,
        from: String,
        message: String,
    },
    /// The workload's OIDC token has expired (by its own `exp`), so no new access token can be
    /// had for it. `from` names where it came from.
    #[error("{operation}: {}", expired_text(from, expired_at, refusal.as_deref()))]
    SubjectTokenExpired {
        operation: String,
        from: String,
        expired_at: String,
        /// What C1 answered, when it was asked (None: the token was known to be expired).
        refusal: Option<String>,
    },
    /// The request could not be completed (connect, timeout, reset): possibly transient.
    #[error("{operation}: could not reach C1 at {url}: {message}")]
    Transport {
        operation: String,
        url: String,
        message: String,
    },
    /// The endpoint cannot be used as configured (no such host, another protocol on that port,
    /// an untrusted certificate): retrying cannot help, so it is reported at once.
    #[error("{operation}: cannot use C1 at {url}: {message}")]
    Endpoint {
        operation: String,
        url: String,
        problem: EndpointProblem,
        message: String,
    },
    /// A create may or may not have reached C1; look the connector up before retrying.
    #[error("{operation}: the request may or may not have been applied by C1 ({message}); the result is unknown")]
    Ambiguous { operation: String, message: String },
    /// C1 answered 2xx but the body was not what the API contract says.
    #[error("{operation}: unexpected answer from C1: {message}")]
    Decode { operation: String, message: String },
    /// Transient failures kept happening until the retry budget ran out.
    #[error(
        "{operation}: gave up after {attempts} attempt{} over {elapsed_secs:.1}s: last error {}",
        if *attempts == 1 { "" } else { "s" },
        last.without_operation()
    )]
    GaveUp {
        operation: String,
        attempts: u32,
        elapsed_secs: f64,
        last: Box<ClientError>,
        /// False when no attempt even connected (refused, unreachable): the server was not there
        /// for the whole budget.
        connected: bool,
    },
    /// The caller asked to stop (its [`CallBudget`](crate::CallBudget) was stopped) before the
    /// call finished. `maybe_applied`: a create had been sent and C1 may have carried it out.
    #[error(
        "{operation}: interrupted: asked to stop before C1 answered{}",
        if *maybe_applied { " (the request was under way: C1 may have carried it out)" } else { "" }
    )]
    Interrupted {
        operation: String,
        maybe_applied: bool,
    },
    /// The call's time budget was spent before it could be sent.
    #[error("{operation}: not sent: its time budget was already spent")]
    BudgetSpent { operation: String },
    /// An earlier token request of this client failed (after its whole budget, or for good):
    /// its failure is remembered and reported at once instead of trying again.
    #[error("{operation}: the token request already failed: {}", source.without_operation())]
    TokenFailedEarlier {
        operation: String,
        source: Box<ClientError>,
    },
    /// An earlier call of this client found C1 unreachable for its whole budget (no attempt
    /// connected): later calls fail at once with that failure instead of each retrying.
    #[error("{operation}: not sent: C1 was already unreachable for a whole call: {}", source.without_operation())]
    UnreachableEarlier {
        operation: String,
        source: Box<ClientError>,
    },
    /// The configured base URL breaks [`check_base_url`](crate::check_base_url).
    #[error("cannot use `{url}` as the C1 base URL: {reason}")]
    InvalidBaseUrl { url: String, reason: BaseUrlError },
    /// The configured access token cannot travel in an HTTP header.
    #[error("the access token contains characters not allowed in an HTTP header")]
    AccessTokenNotHeaderSafe,
    /// An id would make a request path address another endpoint (empty, `.` or `..`); nothing
    /// was sent.
    #[error("{operation}: refused to send a request whose path holds an empty, `.` or `..` id (it would address another endpoint)")]
    UnsafePathSegment { operation: String },
    /// The HTTP client could not be set up (e.g. TLS roots).
    #[error("could not set up the HTTP client: {0}")]
    Setup(String),
}

/// Why an endpoint cannot be used: what [`ClientError::Endpoint`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointProblem {
    /// The host name does not resolve (DNS).
    UnknownHost,
    /// `https://` to a server that does not speak TLS (a plain-HTTP port).
    NotTls,
    /// The server answered something that is not HTTP (e.g. `http://` to a TLS port).
    NotHttp,
    /// The server's TLS certificate is not trusted.
    UntrustedCertificate,
}

fn expired_text(from: &str, expired_at: &str, refusal: Option<&str>) -> String {
    format!(
        "the OIDC token from {from} expired at {expired_at}, so it cannot be exchanged for an \
         access token{}",
        refusal
            .map(|m| format!(" (C1 answered: {m})"))
            .unwrap_or_default()
    )
}

fn code_text(code: Option<i64>) -> String {
    code.map(|c| format!(" (code {c})")).unwrap_or_default()
}

impl ClientError {
    /// The HTTP status C1 answered (looking through `GaveUp`), if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            ClientError::Unauthenticated { .. }
            | ClientError::SubjectTokenRefused { .. }
            | ClientError::SubjectTokenExpired { .. } => Some(401),
            ClientError::GaveUp { last, .. } => last.status(),
            ClientError::TokenFailedEarlier { source, .. } => source.status(),
            _ => None,
        }
    }

    /// True when the error is a 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when a create may have reached C1: `Ambiguous` (possibly behind `GaveUp`), or
    /// interrupted while it was under way.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ClientError::Ambiguous { .. } => true,
            ClientError::Interrupted { maybe_applied, .. } => *maybe_applied,
            ClientError::GaveUp { last, .. } => last.is_ambiguous(),
            _ => false,
        }
    }

    /// True when C1 refused the credentials (now or in a token request that already failed).
    pub fn is_unauthenticated(&self) -> bool {
        match self {
            ClientError::Unauthenticated { .. }
            | ClientError::SubjectTokenRefused { .. }
            | ClientError::SubjectTokenExpired { .. } => true,
            ClientError::TokenFailedEarlier { source, .. } => source.is_unauthenticated(),
            _ => false,
        }
    }

    /// The workload's OIDC token this error is about (directly, or as the token request that
    /// already failed): where it came from, and whether it has expired. None for other errors.
    pub fn subject_token_problem(&self) -> Option<(&str, bool)> {
        match self {
            ClientError::SubjectTokenRefused { from, .. } => Some((from, false)),
            ClientError::SubjectTokenExpired { from, .. } => Some((from, true)),
            ClientError::TokenFailedEarlier { source, .. } => source.subject_token_problem(),
            _ => None,
        }
    }

    /// True when the caller asked to stop before the call finished.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, ClientError::Interrupted { .. })
    }

    /// True when the time budget ran out (given up on transient failures, or spent before the
    /// call could be sent).
    pub fn is_out_of_time(&self) -> bool {
        matches!(
            self,
            ClientError::GaveUp { .. } | ClientError::BudgetSpent { .. }
        )
    }

    /// The endpoint problem this error is (directly, or as the token request that already
    /// failed), if any.
    pub fn endpoint_problem(&self) -> Option<EndpointProblem> {
        match self {
            ClientError::Endpoint { problem, .. } => Some(*problem),
            ClientError::TokenFailedEarlier { source, .. } => source.endpoint_problem(),
            _ => None,
        }
    }

    /// The message without the operation it is about, to quote inside another error's message.
    pub(crate) fn without_operation(&self) -> String {
        match self {
            ClientError::Api {
                status,
                code,
                message,
                ..
            } => format!("HTTP {status}{}: {message}", code_text(*code)),
            ClientError::Transport { url, message, .. } => {
                format!("could not reach C1 at {url}: {message}")
            }
            ClientError::Endpoint { url, message, .. } => {
                format!("cannot use C1 at {url}: {message}")
            }
            ClientError::Unauthenticated { message, .. } => {
                format!("C1 rejected the credentials: {message}")
            }
            ClientError::SubjectTokenRefused { from, message, .. } => {
                format!("C1 refused the OIDC token from {from}: {message}")
            }
            ClientError::SubjectTokenExpired {
                from,
                expired_at,
                refusal,
                ..
            } => expired_text(from, expired_at, refusal.as_deref()),
            ClientError::GaveUp {
                attempts,
                elapsed_secs,
                last,
                ..
            } => format!(
                "gave up after {attempts} attempt{} over {elapsed_secs:.1}s: last error {}",
                if *attempts == 1 { "" } else { "s" },
                last.without_operation()
            ),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well() {
        let api = ClientError::Api {
            operation: "read connector".into(),
            status: 503,
            code: Some(14),
            message: "unavailable".into(),
        };
        assert_eq!(
            api.to_string(),
            "read connector: C1 answered HTTP 503 (code 14): unavailable"
        );
        let gave_up = ClientError::GaveUp {
            operation: "read connector".into(),
            attempts: 5,
            elapsed_secs: 3.24,
            last: Box::new(api),
            connected: true,
        };
        assert_eq!(
            gave_up.to_string(),
            "read connector: gave up after 5 attempts over 3.2s: last error HTTP 503 (code 14): unavailable"
        );
        assert_eq!(gave_up.status(), Some(503));
        assert!(!gave_up.is_not_found());
        let one = ClientError::GaveUp {
            operation: "x".into(),
            attempts: 1,
            elapsed_secs: 0.0,
            connected: true,
            last: Box::new(ClientError::Decode {
                operation: "x".into(),
                message: "m".into(),
            }),
        };
        assert!(one.to_string().contains("after 1 attempt over"), "{one}");
    }

    #[test]
    fn oidc_token_errors_name_their_source_inside_and_outside_a_remembered_failure() {
        let expired = ClientError::SubjectTokenExpired {
            operation: "get access token".into(),
            from: "CONDUCTORONE_OIDC_TOKEN".into(),
            expired_at: "2026-11-24T10:00:00Z".into(),
            refusal: Some("invalid_grant: subject_token has expired".into()),
        };
        assert_eq!(
            expired.to_string(),
            "get access token: the OIDC token from CONDUCTORONE_OIDC_TOKEN expired at \
             2026-11-24T10:00:00Z, so it cannot be exchanged for an access token (C1 answered: \
             invalid_grant: subject_token has expired)"
        );
        let earlier = ClientError::TokenFailedEarlier {
            operation: "get access token".into(),
            source: Box::new(expired),
        };
        assert!(
            earlier.to_string().starts_with(
                "get access token: the token request already failed: the OIDC token from \
                 CONDUCTORONE_OIDC_TOKEN expired at"
            ),
            "{earlier}"
        );
        assert_eq!(earlier.status(), Some(401));
        assert!(earlier.is_unauthenticated());
        assert_eq!(
            earlier.subject_token_problem(),
            Some(("CONDUCTORONE_OIDC_TOKEN", true))
        );
        let refused = ClientError::SubjectTokenRefused {
            operation: "get access token".into(),
            from: "`oidc_token`".into(),
            message: "invalid_grant: unknown issuer".into(),
        };
        assert_eq!(
            refused.without_operation(),
            "C1 refused the OIDC token from `oidc_token`: invalid_grant: unknown issuer"
        );
        assert_eq!(
            refused.subject_token_problem(),
            Some(("`oidc_token`", false))
        );
        let plain = ClientError::Unauthenticated {
            operation: "x".into(),
            message: "m".into(),
        };
        assert_eq!(plain.subject_token_problem(), None);
    }

    #[test]
    fn unauthenticated_says_what_c1_said_and_names_no_setting() {
        let e = ClientError::Unauthenticated {
            operation: "get access token".into(),
            message: "invalid_client: unknown client".into(),
        };
        assert!(e.is_unauthenticated());
        assert_eq!(e.status(), Some(401));
        assert_eq!(
            e.to_string(),
            "get access token: C1 rejected the credentials: invalid_client: unknown client"
        );
    }
}
