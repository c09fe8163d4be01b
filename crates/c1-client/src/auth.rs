//! Authentication: the signed Ed25519 client assertion (JWS) and the shared access-token cache.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ed25519_dalek::Signer as _;
use rand::RngCore as _;
use serde_json::json;

use crate::config::{SecretString, SigningKey};

/// Assertion lifetime either side of now, as the C1 SDK does.
const SKEW: u64 = 120;

/// Builds the compact JWS client assertion: header `{"alg":"EdDSA","nonce":..}`, claims
/// `iss = sub = client_id`, `aud = audience`, `iat = now`, `nbf = now - 2 min`, `exp = now + 2 min`.
pub fn mint_assertion(
    client_id: &str,
    audience: &str,
    key: &SigningKey,
    now: SystemTime,
) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut nonce = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut nonce);
    let header = json!({ "alg": "EdDSA", "nonce": b64.encode(nonce) });
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "nbf": now.saturating_sub(SKEW),
        "exp": now + SKEW,
    });
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let sig = key.0.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64.encode(sig.to_bytes()))
}

/// The token host without port (and without IPv6 brackets), as the assertion's `aud`.
pub fn audience_for(url: &url::Url) -> String {
    url.host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// How long before expiry a token is renewed: a quarter of its lifetime, at most 30 s.
pub fn renewal_margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(Duration::from_secs(30))
}

/// A cached access token.
#[derive(Clone, Debug)]
pub(crate) struct CachedToken {
    pub(crate) token: SecretString,
    pub(crate) renew_at: Instant,
    /// Increments on every new token, so a 401 only invalidates the token it was seen with.
    pub(crate) generation: u64,
}

impl CachedToken {
    pub(crate) fn new(token: SecretString, lifetime: Duration, generation: u64) -> Self {
        let renew_at = Instant::now() + lifetime.saturating_sub(renewal_margin(lifetime));
        Self {
            token,
            renew_at,
            generation,
        }
    }

    pub(crate) fn is_fresh(&self) -> bool {
        Instant::now() < self.renew_at
    }
}
