//! Compact JWS signed with EdDSA (Ed25519), the form of C1's client assertions.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde_json::{Map, Value};

/// The one algorithm C1 client assertions use.
pub const ALGORITHM: &str = "EdDSA";

/// Why a compact JWS was refused. Never carries the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS (three base64url parts separated by dots)")]
    Malformed,
    #[error("the header or claims are not base64url-encoded JSON objects")]
    BadEncoding,
    #[error("signed with alg {0}, not EdDSA")]
    UnsupportedAlgorithm(String),
    #[error("the signature does not verify")]
    BadSignature,
}

/// Signs `claims` with `key`. The header is `{"alg": "EdDSA"}` plus `extra_header` (for example a
/// `nonce`).
pub fn sign(extra_header: Map<String, Value>, claims: &Value, key: &SigningKey) -> String {
    let mut header = extra_header;
    header.insert("alg".into(), Value::String(ALGORITHM.into()));
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(Value::Object(header).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// A compact JWS taken apart: its header and claims, not yet verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Parts {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

/// Takes a compact JWS apart (header and claims must be JSON objects). Verify it with
/// [`Parts::verify`] before trusting the claims.
pub fn parse(token: &str) -> Result<Parts, JwsError> {
    let mut pieces = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(JwsError::Malformed);
    };
    let object = |piece: &str| -> Result<Map<String, Value>, JwsError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(piece)
            .map_err(|_| JwsError::BadEncoding)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(JwsError::BadEncoding),
        }
    };
    Ok(Parts {
        header: object(header)?,
        claims: object(claims)?,
        signing_input: format!("{header}.{claims}"),
        signature: URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwsError::BadEncoding)?,
    })
}

impl Parts {
    /// Checks the algorithm is EdDSA and the signature is `key`'s.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), JwsError> {
        match self.header.get("alg").and_then(Value::as_str) {
            Some(ALGORITHM) => {}
            Some(other) => return Err(JwsError::UnsupportedAlgorithm(other.into())),
            None => return Err(JwsError::UnsupportedAlgorithm("(none)".into())),
        }
        let signature =
            Signature::from_slice(&self.signature).map_err(|_| JwsError::BadSignature)?;
        key.verify(self.signing_input.as_bytes(), &signature)
            .map_err(|_| JwsError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn signs_and_verifies() {
        let mut extra = Map::new();
        extra.insert("nonce".into(), json!("n1"));
        let token = sign(extra, &json!({"iss": "me", "exp": 5}), &key(1));
        let parts = parse(&token).unwrap();
        assert_eq!(parts.header["alg"], "EdDSA");
        assert_eq!(parts.header["nonce"], "n1");
        assert_eq!(parts.claims["iss"], "me");
        parts.verify(&key(1).verifying_key()).unwrap();
        assert_eq!(
            parts.verify(&key(2).verifying_key()),
            Err(JwsError::BadSignature)
        );
    }

    #[test]
    fn refuses_tampering_and_other_shapes() {
        let token = sign(Map::new(), &json!({"sub": "a"}), &key(1));
        let mut pieces: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"sub": "b"}).to_string());
        pieces[1] = &forged;
        let tampered = pieces.join(".");
        assert_eq!(
            parse(&tampered).unwrap().verify(&key(1).verifying_key()),
            Err(JwsError::BadSignature)
        );
        assert_eq!(parse("a.b"), Err(JwsError::Malformed));
        assert_eq!(parse("a.b.c.d"), Err(JwsError::Malformed));
        assert_eq!(parse("!.!.!"), Err(JwsError::BadEncoding));
        let array = URL_SAFE_NO_PAD.encode("[1]");
        assert_eq!(
            parse(&format!("{array}.{array}.AA")),
            Err(JwsError::BadEncoding)
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert_eq!(
            parse(&none).unwrap().verify(&key(1).verifying_key()),
            Err(JwsError::UnsupportedAlgorithm("none".into()))
        );
    }
}
