//! The C1 client secret: `secret-token:conductorone.com:v1:` followed by the base64url (no
//! padding) encoding of a JSON Web Key holding an Ed25519 private key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde::Deserialize;

/// What every client secret starts with.
pub const PREFIX: &str = "secret-token:conductorone.com:v1:";

/// Why a text is not a usable client secret. Never carries the secret or any part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretFormatError {
    #[error("the value is not a C1 client secret (it does not start with `{PREFIX}`)")]
    NotAClientSecret,
    #[error("the key part of the client secret is not valid base64url")]
    KeyNotBase64,
    #[error("the key part of the client secret is not a JSON Web Key")]
    NotAJsonWebKey,
    #[error("the client secret does not hold an Ed25519 key")]
    NotEd25519,
    #[error("the private key in the client secret is not 32 bytes of base64url")]
    BadPrivateKey,
    #[error("the public key in the client secret is not valid base64url")]
    BadPublicKey,
    #[error("the public and private halves of the client secret do not match")]
    HalvesDoNotMatch,
}

/// The client secret for `key`.
pub fn encode(key: &SigningKey) -> String {
    let jwk = serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
        "d": URL_SAFE_NO_PAD.encode(key.to_bytes()),
    });
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(jwk.to_string()))
}

/// The Ed25519 key a client secret holds. Surrounding white space is ignored; so is base64
/// padding, which some tools add.
pub fn decode(secret: &str) -> Result<SigningKey, SecretFormatError> {
    #[derive(Deserialize)]
    struct Jwk {
        kty: String,
        crv: String,
        #[serde(default)]
        x: Option<String>,
        d: String,
    }
    let b64 = secret
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(SecretFormatError::NotAClientSecret)?;
    let json = base64url(b64).ok_or(SecretFormatError::KeyNotBase64)?;
    let jwk: Jwk = serde_json::from_slice(&json).map_err(|_| SecretFormatError::NotAJsonWebKey)?;
    if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
        return Err(SecretFormatError::NotEd25519);
    }
    let d: [u8; 32] = base64url(&jwk.d)
        .and_then(|d| d.try_into().ok())
        .ok_or(SecretFormatError::BadPrivateKey)?;
    let key = SigningKey::from_bytes(&d);
    if let Some(x) = jwk.x {
        let x = base64url(&x).ok_or(SecretFormatError::BadPublicKey)?;
        if x.as_slice() != key.verifying_key().as_bytes() {
            return Err(SecretFormatError::HalvesDoNotMatch);
        }
    }
    Ok(key)
}

/// The public half of a key as a JWK's `x` (how the simulator stores the clients it trusts).
pub fn public_key_x(key: &SigningKey) -> String {
    URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())
}

fn base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn round_trips_and_tolerates_white_space_and_padding() {
        let secret = encode(&key());
        assert!(secret.starts_with(PREFIX));
        assert_eq!(decode(&secret).unwrap().to_bytes(), key().to_bytes());
        assert_eq!(
            decode(&format!(" {secret}\n")).unwrap().to_bytes(),
            key().to_bytes()
        );
        assert_eq!(
            decode(&format!("{secret}==")).unwrap().to_bytes(),
            key().to_bytes()
        );
    }

    #[test]
    fn each_malformation_has_its_own_error_without_the_secret() {
        let jwk =
            |v: serde_json::Value| format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(v.to_string()));
        let d = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let cases = [
            ("hunter2".to_string(), SecretFormatError::NotAClientSecret),
            (format!("{PREFIX}!!!"), SecretFormatError::KeyNotBase64),
            (
                format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode("[1]")),
                SecretFormatError::NotAJsonWebKey,
            ),
            (
                jwk(serde_json::json!({"kty":"RSA","crv":"Ed25519","d":d})),
                SecretFormatError::NotEd25519,
            ),
            (
                jwk(serde_json::json!({"kty":"OKP","crv":"Ed25519","d":"AAAA"})),
                SecretFormatError::BadPrivateKey,
            ),
            (
                jwk(serde_json::json!({"kty":"OKP","crv":"Ed25519","d":d,"x":"!"})),
                SecretFormatError::BadPublicKey,
            ),
            (
                jwk(
                    serde_json::json!({"kty":"OKP","crv":"Ed25519","d":d,"x":URL_SAFE_NO_PAD.encode([1u8; 32])}),
                ),
                SecretFormatError::HalvesDoNotMatch,
            ),
        ];
        for (secret, expected) in cases {
            let err = decode(&secret).unwrap_err();
            assert_eq!(err, expected, "{secret}");
            let tail = secret.strip_prefix(PREFIX).unwrap_or(&secret);
            assert!(!err.to_string().contains(tail), "{err}");
        }
    }
}
