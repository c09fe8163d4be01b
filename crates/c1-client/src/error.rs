//! Client errors, phrased for a Terraform user and free of secrets.

use crate::config::ConfigError;

/// An error from a C1 API call. Messages never contain tokens, secrets or settings values.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// C1 answered with an error status and (usually) a `{"code","message"}` body.
    #[error("{operation}: C1 answered HTTP {status}{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Api {
        operation: String,
        status: u16,
        /// gRPC status code from the body, if any.
        code: Option<i64>,
        message: String,
    },
    /// C1 rejected the credentials even after renewing the token.
    #[error("{operation}: C1 rejected the credentials: {message}. Check client_id and client_secret (or CONDUCTORONE_CLIENT_ID / CONDUCTORONE_CLIENT_SECRET / CONDUCTORONE_ACCESS_TOKEN) and that the API credential still exists in C1")]
    Unauthenticated { operation: String, message: String },
    /// The request could not be completed (DNS, connect, TLS, timeout, reset).
    #[error("{operation}: could not reach C1 at {url}: {message}")]
    Transport {
        operation: String,
        url: String,
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
        last_text(last)
    )]
    GaveUp {
        operation: String,
        attempts: u32,
        elapsed_secs: f64,
        last: Box<ClientError>,
    },
    /// The client could not be built from the configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The HTTP client could not be set up (e.g. TLS roots).
    #[error("could not set up the HTTP client: {0}")]
    Setup(String),
}

/// The last error of a `GaveUp`, without repeating the operation.
fn last_text(e: &ClientError) -> String {
    match e {
        ClientError::Api {
            status,
            code,
            message,
            ..
        } => match code {
            Some(c) => format!("HTTP {status} (code {c}): {message}"),
            None => format!("HTTP {status}: {message}"),
        },
        ClientError::Transport { url, message, .. } => {
            format!("could not reach C1 at {url}: {message}")
        }
        other => other.to_string(),
    }
}

impl ClientError {
    /// The HTTP status C1 answered (looking through `GaveUp`), if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            ClientError::Unauthenticated { .. } => Some(401),
            ClientError::GaveUp { last, .. } => last.status(),
            _ => None,
        }
    }

    /// True when the error is a 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when a create may have reached C1 (`Ambiguous`, possibly behind `GaveUp`).
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ClientError::Ambiguous { .. } => true,
            ClientError::GaveUp { last, .. } => last.is_ambiguous(),
            _ => false,
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
            last: Box::new(ClientError::Decode {
                operation: "x".into(),
                message: "m".into(),
            }),
        };
        assert!(one.to_string().contains("after 1 attempt over"), "{one}");
    }
}
