//! Authentication: the signed Ed25519 client assertion (JWS) and the shared access-token cache.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use c1_contract::{jws, token_endpoint};
use rand::RngCore as _;
use serde_json::{Map, Value};

use crate::config::{SecretString, SigningKey};

/// Builds the compact JWS client assertion: header `{"alg":"EdDSA","nonce":..}` and the claims
/// of [`token_endpoint::assertion_claims`].
pub fn mint_assertion(
    client_id: &str,
    audience: &str,
    key: &SigningKey,
    now: SystemTime,
) -> String {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut nonce = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut nonce);
    let mut header = Map::new();
    header.insert(
        "nonce".into(),
        Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(nonce)),
    );
    let claims = token_endpoint::assertion_claims(client_id, audience, now);
    jws::sign(header, &claims, &key.0)
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

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Verifier as _;

    #[test]
    fn assertion_is_a_valid_signed_jws() {
        let key = SigningKey::from_dalek(ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]));
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let id = "tf@acme.conductor.one/xyz";
        let jws = mint_assertion(id, "acme.conductor.one", &key, now);
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header["alg"], "EdDSA");
        assert!(header["nonce"].as_str().is_some_and(|n| n.len() >= 16));
        assert_eq!(claims["iss"], id);
        assert_eq!(claims["sub"], id);
        assert_eq!(claims["aud"], "acme.conductor.one");
        assert_eq!(claims["iat"], 1_700_000_000u64);
        assert_eq!(claims["nbf"], 1_700_000_000u64 - 120);
        assert_eq!(claims["exp"], 1_700_000_000u64 + 120);
        let sig = ed25519_dalek::Signature::from_slice(&b64.decode(parts[2]).unwrap()).unwrap();
        let signing_input = format!("{}.{}", parts[0], parts[1]);
        key.verifying_key()
            .verify(signing_input.as_bytes(), &sig)
            .expect("signature verifies with the public key");
        // A tampered payload does not verify.
        assert!(key
            .verifying_key()
            .verify(format!("{}.x", parts[0]).as_bytes(), &sig)
            .is_err());
        // A fresh nonce every time.
        let again = mint_assertion(id, "acme.conductor.one", &key, now);
        assert_ne!(again.split('.').next(), Some(parts[0]));
    }

    #[test]
    fn audience_drops_port_and_brackets() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            audience_for(&u("https://acme.conductor.one:8443/")),
            "acme.conductor.one"
        );
        assert_eq!(audience_for(&u("http://127.0.0.1:9999/")), "127.0.0.1");
        assert_eq!(audience_for(&u("http://[::1]:9999/")), "::1");
    }

    #[test]
    fn renewal_margin_suits_short_and_long_lifetimes() {
        assert_eq!(
            renewal_margin(Duration::from_secs(3600)),
            Duration::from_secs(30)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(60)),
            Duration::from_secs(15)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(4)),
            Duration::from_secs(1)
        );
        let t = CachedToken::new(SecretString::new("x"), Duration::from_secs(3600), 1);
        assert!(t.is_fresh());
        let t = CachedToken::new(SecretString::new("x"), Duration::ZERO, 1);
        assert!(!t.is_fresh());
    }
}
