//! Authentication as C1 does it: verifying the signed client assertion (EdDSA JWS) of a
//! client-credentials token request, and the server-side store of issued access tokens.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier as _};
use serde::Deserialize;

use crate::credentials::ClientRecord;
use crate::ids;

/// Grant type accepted by the token endpoint.
pub const GRANT_TYPE_CLIENT_CREDENTIALS: &str = "client_credentials";
/// Client assertion type accepted by the token endpoint.
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew tolerated on `exp` and `nbf`.
pub const ASSERTION_LEEWAY_SECS: i64 = 5;
/// Client id recorded for calls made with the static token.
pub const STATIC_TOKEN_CLIENT_ID: &str = "static-token";
/// User id of the static token's caller.
pub const STATIC_TOKEN_USER_ID: &str = "2StaticTokenUser00000000000";

/// Why a client assertion was refused. Messages never contain the assertion itself.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssertionError {
    #[error("client assertion is not a compact JWS")]
    Malformed,
    #[error("client assertion header or claims are not valid base64url JSON")]
    BadEncoding,
    #[error("client assertion must be signed with alg EdDSA, not {0}")]
    UnsupportedAlgorithm(String),
    #[error("client assertion signature does not verify")]
    BadSignature,
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
struct JwsHeader {
    alg: String,
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
    let mut parts = assertion.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AssertionError::Malformed);
    };
    let header: JwsHeader = decode_json(header_b64)?;
    if header.alg != "EdDSA" {
        return Err(AssertionError::UnsupportedAlgorithm(header.alg));
    }
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| AssertionError::BadEncoding)?;
    let signature =
        Signature::from_slice(&signature_bytes).map_err(|_| AssertionError::BadSignature)?;
    let key = client
        .verifying_key()
        .map_err(|_| AssertionError::BadClientKey)?;
    let signing_input = &assertion[..header_b64.len() + 1 + claims_b64.len()];
    key.verify(signing_input.as_bytes(), &signature)
        .map_err(|_| AssertionError::BadSignature)?;

    let claims: AssertionClaims = decode_json(claims_b64)?;
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

fn decode_json<T: for<'de> Deserialize<'de>>(segment: &str) -> Result<T, AssertionError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AssertionError::BadEncoding)?;
    serde_json::from_slice(&bytes).map_err(|_| AssertionError::BadEncoding)
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
