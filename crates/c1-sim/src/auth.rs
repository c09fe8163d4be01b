//! Authentication as C1 does it: verifying the signed client assertion (EdDSA JWS) of a
//! client-credentials token request, and the server-side store of issued access tokens.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use c1_contract::jws::{self, JwsError};
use serde::Deserialize;

use crate::credentials::ClientRecord;
use crate::ids;

/// Clock skew tolerated on `exp` and `nbf`.
pub const ASSERTION_LEEWAY_SECS: i64 = 5;
/// Client id recorded for calls made with the static token.
pub const STATIC_TOKEN_CLIENT_ID: &str = "static-token";
/// User id of the static token's caller.
pub const STATIC_TOKEN_USER_ID: &str = "2StaticTokenUser00000000000";

/// Why a client assertion was refused. Messages never contain the assertion itself.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssertionError {
    #[error("client assertion: {0}")]
    Jws(#[from] JwsError),
    #[error("client assertion claims have the wrong types")]
    BadClaims,
    #[error("client assertion iss and sub must both be the client id")]
    WrongIssuer,
    #[error("client assertion aud {found:?} is not this server ({expected})")]
    WrongAudience { found: String, expected: String },
    #[error("client assertion has no exp")]
    MissingExpiry,
    #[error("client assertion has expired")]
    Expired,
    #[error("client assertion is not valid yet (nbf)")]
    NotYetValid,
    #[error("the client's public key is malformed")]
    BadClientKey,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<serde_json::Value>,
    exp: Option<f64>,
    nbf: Option<f64>,
}

/// Verifies a compact EdDSA JWS `assertion` from `client` against the accepted audiences and `now_secs`.
pub fn verify_assertion(
    assertion: &str,
    client: &ClientRecord,
    accepted_audiences: &[String],
    now_secs: i64,
) -> Result<(), AssertionError> {
    let parts = jws::parse(assertion)?;
    let key = client
        .verifying_key()
        .map_err(|_| AssertionError::BadClientKey)?;
    parts.verify(&key)?;
    let claims: AssertionClaims = serde_json::from_value(serde_json::Value::Object(parts.claims))
        .map_err(|_| AssertionError::BadClaims)?;
    if claims.iss.as_deref() != Some(client.client_id.as_str())
        || claims.sub.as_deref() != Some(client.client_id.as_str())
    {
        return Err(AssertionError::WrongIssuer);
    }
    let audiences: Vec<String> = match &claims.aud {
        Some(serde_json::Value::String(aud)) => vec![aud.clone()],
        Some(serde_json::Value::Array(values)) => values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if !audiences.iter().any(|aud| accepted_audiences.contains(aud)) {
        return Err(AssertionError::WrongAudience {
            found: audiences.join(","),
            expected: accepted_audiences.join(" or "),
        });
    }
    let exp = claims.exp.ok_or(AssertionError::MissingExpiry)?;
    if (exp as i64) + ASSERTION_LEEWAY_SECS <= now_secs {
        return Err(AssertionError::Expired);
    }
    if let Some(nbf) = claims.nbf {
        if (nbf as i64) - ASSERTION_LEEWAY_SECS > now_secs {
            return Err(AssertionError::NotYetValid);
        }
    }
    Ok(())
}

/// Who made an API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub client_id: String,
    pub user_id: String,
}

#[derive(Debug, Clone)]
struct IssuedToken {
    caller: Caller,
    expires_at: Instant,
}

/// Outcome of looking up a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    Valid(Caller),
    /// Issued once, but past its lifetime (the caller is still known, for the request log).
    Expired(Caller),
    Unknown,
}

/// Access tokens issued by the token endpoint, with their expiry tracked server-side.
#[derive(Debug, Default)]
pub struct TokenStore {
    issued: HashMap<String, IssuedToken>,
    static_token: Option<String>,
}

impl TokenStore {
    pub fn new(static_token: Option<String>) -> Self {
        Self {
            issued: HashMap::new(),
            static_token: static_token.filter(|t| !t.is_empty()),
        }
    }

    /// Issues a new opaque token for `caller`, valid for `ttl`.
    pub fn issue(&mut self, caller: Caller, ttl: Duration) -> String {
        let now = Instant::now();
        // Forget tokens that expired long ago so the map stays small.
        self.issued
            .retain(|_, t| t.expires_at + Duration::from_secs(3600) > now);
        let token = ids::new_access_token();
        self.issued.insert(
            token.clone(),
            IssuedToken {
                caller,
                expires_at: now + ttl,
            },
        );
        token
    }

    pub fn check(&self, token: &str) -> TokenCheck {
        if self.static_token.as_deref() == Some(token) {
            return TokenCheck::Valid(Caller {
                client_id: STATIC_TOKEN_CLIENT_ID.to_owned(),
                user_id: STATIC_TOKEN_USER_ID.to_owned(),
            });
        }
        match self.issued.get(token) {
            Some(t) if t.expires_at > Instant::now() => TokenCheck::Valid(t.caller.clone()),
            Some(t) => TokenCheck::Expired(t.caller.clone()),
            None => TokenCheck::Unknown,
        }
    }

    /// Makes every issued token expire now (the static token is unaffected).
    pub fn expire_all(&mut self) -> usize {
        let now = Instant::now();
        for token in self.issued.values_mut() {
            token.expires_at = token.expires_at.min(now);
        }
        self.issued.len()
    }
}
