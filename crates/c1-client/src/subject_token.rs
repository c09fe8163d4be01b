//! A workload's OIDC token (the subject token of a token exchange, RFC 8693): the token, where it
//! came from (for messages), and when it expires by its own `exp` claim. The claims are read
//! without verifying the signature (that is C1's job), only so that an expired token can be told
//! apart from one C1 refuses for another reason.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use c1_contract::jws::{self, JwsError};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

use crate::config::SecretString;

/// A CI system's OIDC token to exchange for access tokens. `Debug` never shows the token.
#[derive(Clone)]
pub struct SubjectToken {
    token: SecretString,
    /// Where the token came from, as a user would name it (an attribute or a variable).
    from: String,
    /// Its `exp` claim, in seconds since the Unix epoch, if it has one.
    expires_at: Option<i64>,
}

/// Why a value is not an OIDC token. Never carries the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectTokenError {
    #[error("it is not an OIDC token: a JWT has three base64url parts separated by dots")]
    NotAJwt,
    #[error(
        "it is not an OIDC token: its header or claims are not base64url-encoded JSON objects"
    )]
    NotJson,
    #[error("its `exp` claim is not a number of seconds")]
    BadExpiry,
}

impl SubjectToken {
    /// Reads `token`, which came from `from` (named in every message about it). Its shape is
    /// checked (a JWT whose header and claims are JSON objects) and its `exp` read; the
    /// signature is not verified.
    pub fn new(
        token: impl Into<String>,
        from: impl Into<String>,
    ) -> Result<Self, SubjectTokenError> {
        let token = token.into();
        let parts = jws::parse(&token).map_err(|e| match e {
            JwsError::Malformed => SubjectTokenError::NotAJwt,
            _ => SubjectTokenError::NotJson,
        })?;
        let expires_at = match parts.claims.get("exp") {
            None | Some(Value::Null) => None,
            Some(exp) => Some(
                exp.as_i64()
                    .or_else(|| exp.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                    .ok_or(SubjectTokenError::BadExpiry)?,
            ),
        };
        Ok(Self {
            token: SecretString::new(token),
            from: from.into(),
            expires_at,
        })
    }

    /// Where the token came from, e.g. `TFC_WORKLOAD_IDENTITY_TOKEN` or `` `oidc_token` ``.
    pub fn from(&self) -> &str {
        &self.from
    }

    /// Its `exp` claim (seconds since the Unix epoch), if it has one.
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }

    /// The token itself; only for putting it on the wire.
    pub(crate) fn expose(&self) -> &str {
        self.token.expose()
    }

    /// When it expired, in RFC 3339, if it has expired by `now`.
    pub(crate) fn expired(&self, now: SystemTime) -> Option<String> {
        let exp = self.expires_at?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        (now >= exp).then(|| {
            time::OffsetDateTime::from_unix_timestamp(exp)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_else(|| format!("{exp} (Unix time)"))
        })
    }
}

impl fmt::Debug for SubjectToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectToken")
            .field("token", &self.token)
            .field("from", &self.from)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::json;
    use std::time::Duration;

    fn jwt(claims: Value) -> String {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
        jws::sign(Default::default(), &claims, &key)
    }

    #[test]
    fn reads_exp_without_verifying() {
        let t = SubjectToken::new(
            jwt(json!({"sub": "ci", "exp": 1_000})),
            "CONDUCTORONE_OIDC_TOKEN",
        )
        .unwrap();
        assert_eq!(t.expires_at(), Some(1_000));
        assert_eq!(t.from(), "CONDUCTORONE_OIDC_TOKEN");
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(t.expired(at(999)), None);
        assert_eq!(
            t.expired(at(1_000)).as_deref(),
            Some("1970-01-01T00:16:40Z")
        );
        let no_exp = SubjectToken::new(jwt(json!({"sub": "ci"})), "x").unwrap();
        assert_eq!(no_exp.expired(at(u32::MAX as u64)), None);
        let float = SubjectToken::new(jwt(json!({"exp": 12.5})), "x").unwrap();
        assert_eq!(float.expires_at(), Some(12));
    }

    #[test]
    fn malformed_tokens_are_refused_without_echo() {
        let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
        for (bad, want) in [
            ("ghp_notajwt-Q7".to_string(), SubjectTokenError::NotAJwt),
            ("a.b".into(), SubjectTokenError::NotAJwt),
            ("a.b.c.d".into(), SubjectTokenError::NotAJwt),
            ("!!.??.Q7".into(), SubjectTokenError::NotJson),
            (
                format!("{}.{}.AA", b64("{}"), b64("not json Q7")),
                SubjectTokenError::NotJson,
            ),
            (
                format!("{}.{}.AA", b64("{}"), b64(r#"{"exp":"soon"}"#)),
                SubjectTokenError::BadExpiry,
            ),
        ] {
            let err = SubjectToken::new(bad.clone(), "TFC_WORKLOAD_IDENTITY_TOKEN").unwrap_err();
            assert_eq!(err, want, "{bad}");
            assert!(!err.to_string().contains("Q7"), "{err}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let token = jwt(json!({"sub": "secret-subject-Q8", "exp": 5}));
        let t = SubjectToken::new(token.clone(), "x").unwrap();
        let dbg = format!("{t:?}");
        assert!(!dbg.contains(&token) && dbg.contains("<redacted>"), "{dbg}");
    }
}
