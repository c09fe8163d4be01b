//! Workload identity in the simulator: the OIDC issuers it trusts (each with its signing keys,
//! JWKS-style, the audience its tokens must carry, and which client ids a token may act as),
//! verifying a subject token against them, and minting test tokens. Keys are Ed25519 (EdDSA
//! JWS, `c1_contract::jws`). Every issuer has a test key derived from its URL, which
//! `c1-sim oidc-token` signs with and a trust without keys accepts: a test tool's key, known to
//! anyone who has this code.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use c1_contract::jws::{self, JwsError};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 5;
/// Lifetime of a minted token when none is given (CI tokens live minutes).
pub const DEFAULT_LIFETIME_SECS: i64 = 300;

/// One Ed25519 public key of a JWKS (`{"kty":"OKP","crv":"Ed25519","x":...,"kid":...}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// A JSON Web Key Set of Ed25519 public keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

/// An OIDC issuer the simulator trusts, and for what.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrustedIssuer {
    /// The `iss` its tokens carry, e.g. `https://token.actions.githubusercontent.com`.
    pub issuer: String,
    /// The `aud` its tokens must carry (one of them, when `aud` is a list).
    pub audience: String,
    /// Its signing keys.
    pub jwks: Jwks,
    /// The client a token of this issuer acts as; None: the client id the request names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The `sub` a token must carry (a trailing `*` matches any rest); None: any subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// How a trust is given by flag, file or admin call: `jwks` inline, a `jwks_file`, or neither
/// (the issuer's test key).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustSpec {
    pub issuer: String,
    pub audience: String,
    #[serde(default)]
    pub jwks: Option<Jwks>,
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
}

/// Why a trust cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("issuer and audience must not be empty")]
    Empty,
    #[error("give jwks or jwks_file, not both")]
    BothKeySources,
    #[error("cannot read JWKS file {path}: {message}")]
    JwksFile { path: PathBuf, message: String },
    #[error("the JWKS has no Ed25519 key (kty OKP, crv Ed25519, x = 32 bytes base64url)")]
    NoUsableKey,
}

impl TrustSpec {
    /// The trust this spec describes: keys read and checked.
    pub fn resolve(self) -> Result<TrustedIssuer, TrustError> {
        if self.issuer.trim().is_empty() || self.audience.trim().is_empty() {
            return Err(TrustError::Empty);
        }
        let jwks = match (self.jwks, &self.jwks_file) {
            (Some(_), Some(_)) => return Err(TrustError::BothKeySources),
            (Some(jwks), None) => jwks,
            (None, Some(path)) => read_jwks(path)?,
            (None, None) => Jwks {
                keys: vec![public_jwk(&test_key(&self.issuer))],
            },
        };
        if !jwks.keys.iter().any(|k| verifying_key(k).is_some()) {
            return Err(TrustError::NoUsableKey);
        }
        Ok(TrustedIssuer {
            issuer: self.issuer,
            audience: self.audience,
            jwks,
            client_id: self.client_id.filter(|c| !c.is_empty()),
            subject: self.subject.filter(|s| !s.is_empty()),
        })
    }
}

fn read_jwks(path: &Path) -> Result<Jwks, TrustError> {
    let err = |message: String| TrustError::JwksFile {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    // A JWKS, or a single key (a private one is accepted: only its public half is kept).
    if value.get("keys").is_some() {
        serde_json::from_value(value).map_err(|e| err(e.to_string()))
    } else {
        let key: PublicJwk = serde_json::from_value(value).map_err(|e| err(e.to_string()))?;
        Ok(Jwks { keys: vec![key] })
    }
}

/// The test key of `issuer`: derived from its URL, so `c1-sim oidc-token` and a simulator that
/// trusts the issuer without keys agree on it without sharing a file.
pub fn test_key(issuer: &str) -> SigningKey {
    let digest = Sha256::new()
        .chain_update(b"c1-sim OIDC test key\0")
        .chain_update(issuer.as_bytes())
        .finalize();
    SigningKey::from_bytes(&digest.into())
}

/// The key id of a public key: the start of its `x`.
fn kid_of(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())[..16].to_string()
}

/// The public JWK of `key`.
pub fn public_jwk(key: &SigningKey) -> PublicJwk {
    let public = key.verifying_key();
    PublicJwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: URL_SAFE_NO_PAD.encode(public.as_bytes()),
        kid: Some(kid_of(&public)),
    }
}

/// The private JWK of `key` (`d` added), as a key file holds it.
pub fn private_jwk(key: &SigningKey) -> Value {
    let mut jwk = serde_json::to_value(public_jwk(key)).expect("a JWK serialises");
    jwk["d"] = Value::String(URL_SAFE_NO_PAD.encode(key.to_bytes()));
    jwk
}

/// The key in a private JWK file, made (and written) when the file does not exist yet.
pub fn key_file(path: &Path) -> anyhow::Result<SigningKey> {
    use anyhow::Context as _;
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let jwk: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a JSON Web Key", path.display()))?;
            let d = jwk["d"]
                .as_str()
                .and_then(|d| URL_SAFE_NO_PAD.decode(d).ok())
                .and_then(|d| <[u8; 32]>::try_from(d).ok())
                .with_context(|| {
                    format!("{} holds no Ed25519 private key (`d`)", path.display())
                })?;
            Ok(SigningKey::from_bytes(&d))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            crate::files::write_atomically(path, private_jwk(&key).to_string().as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct TokenClaims {
    pub issuer: String,
    pub audience: String,
    pub subject: String,
    /// Seconds from `now_secs` to `exp` (negative: already expired).
    pub expires_in: i64,
}

/// A signed OIDC token (compact JWS, EdDSA) with `iss`, `sub`, `aud`, `iat`, `nbf`, `exp` and a
/// random `jti`, its header naming the key (`kid`).
pub fn mint(claims: &TokenClaims, key: &SigningKey, now_secs: i64) -> String {
    let mut header = Map::new();
    header.insert("typ".into(), json!("JWT"));
    header.insert("kid".into(), json!(kid_of(&key.verifying_key())));
    // Issued now; an already expired token was issued just before it expired.
    let issued_at = now_secs.min(now_secs + claims.expires_in - 1);
    let body = json!({
        "iss": claims.issuer,
        "sub": claims.subject,
        "aud": claims.audience,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": now_secs + claims.expires_in,
        "jti": crate::ids::random_base62(22),
    });
    jws::sign(header, &body, key)
}

/// Why a subject token was refused. Messages never contain the token; they may name its
/// issuer, audience and subject, which are not secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectTokenError {
    #[error("subject_token: {0}")]
    Jws(JwsError),
    #[error("subject_token has no iss claim")]
    NoIssuer,
    #[error("subject_token issuer {0} is not a trusted OIDC issuer")]
    UnknownIssuer(String),
    #[error("subject_token is not signed by a key of issuer {0}")]
    BadSignature(String),
    #[error(
        "subject_token audience {found:?} is not the audience the federation expects ({expected})"
    )]
    WrongAudience { found: String, expected: String },
    #[error("subject_token has no exp")]
    NoExpiry,
    #[error("subject_token has expired")]
    Expired,
    #[error("subject_token is not valid yet (nbf)")]
    NotYetValid,
    #[error("subject_token has no sub claim")]
    NoSubject,
}

/// A subject token that verified: who issued it, its subject, and the trusts of its issuer
/// whose audience it carries.
#[derive(Debug, Clone)]
pub struct Verified<'t> {
    pub issuer: String,
    pub subject: String,
    pub trusts: Vec<&'t TrustedIssuer>,
}

fn verifying_key(jwk: &PublicJwk) -> Option<VerifyingKey> {
    if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
        return None;
    }
    let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(&jwk.x).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Verifies `token` against `trusts` at `now_secs`: signature by a key of its issuer (the one
/// its `kid` names, else any), `iss`, `aud`, `exp` and `nbf`.
pub fn verify<'t>(
    token: &str,
    trusts: &'t [TrustedIssuer],
    now_secs: i64,
) -> Result<Verified<'t>, SubjectTokenError> {
    let parts = jws::parse(token).map_err(SubjectTokenError::Jws)?;
    let issuer = parts
        .claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(SubjectTokenError::NoIssuer)?
        .to_string();
    let of_issuer: Vec<&TrustedIssuer> = trusts.iter().filter(|t| t.issuer == issuer).collect();
    if of_issuer.is_empty() {
        return Err(SubjectTokenError::UnknownIssuer(issuer));
    }
    let kid = parts.header.get("kid").and_then(Value::as_str);
    let mut signed = Err(SubjectTokenError::BadSignature(issuer.clone()));
    for key in of_issuer
        .iter()
        .flat_map(|t| &t.jwks.keys)
        .filter(|k| kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid)
        .filter_map(verifying_key)
    {
        match parts.verify(&key) {
            Ok(()) => {
                signed = Ok(());
                break;
            }
            Err(e @ JwsError::UnsupportedAlgorithm(_)) => {
                signed = Err(SubjectTokenError::Jws(e));
                break;
            }
            Err(_) => {}
        }
    }
    signed?;
    let audiences: Vec<&str> = match parts.claims.get("aud") {
        Some(Value::String(aud)) => vec![aud],
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let trusted: Vec<&TrustedIssuer> = of_issuer
        .iter()
        .copied()
        .filter(|t| audiences.contains(&t.audience.as_str()))
        .collect();
    if trusted.is_empty() {
        let mut expected: Vec<&str> = of_issuer.iter().map(|t| t.audience.as_str()).collect();
        expected.dedup();
        return Err(SubjectTokenError::WrongAudience {
            found: audiences.join(","),
            expected: expected.join(" or "),
        });
    }
    let seconds = |claim: &str| parts.claims.get(claim).and_then(Value::as_f64);
    let exp = seconds("exp").ok_or(SubjectTokenError::NoExpiry)?;
    if (exp as i64) + LEEWAY_SECS <= now_secs {
        return Err(SubjectTokenError::Expired);
    }
    if seconds("nbf").is_some_and(|nbf| (nbf as i64) - LEEWAY_SECS > now_secs) {
        return Err(SubjectTokenError::NotYetValid);
    }
    let subject = parts
        .claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(SubjectTokenError::NoSubject)?
        .to_string();
    Ok(Verified {
        issuer,
        subject,
        trusts: trusted,
    })
}

impl TrustedIssuer {
    /// True when this trust lets a token with `subject` act as the client `client_id` (None:
    /// the request named no client).
    pub fn admits(&self, subject: &str, client_id: Option<&str>) -> bool {
        let subject_ok = match self.subject.as_deref() {
            None => true,
            Some(pattern) => match pattern.strip_suffix('*') {
                Some(prefix) => subject.starts_with(prefix),
                None => subject == pattern,
            },
        };
        let client_ok = match (client_id, self.client_id.as_deref()) {
            (Some(asked), Some(mapped)) => asked == mapped,
            (Some(_), None) => true,
            (None, Some(_)) => true,
            (None, None) => false,
        };
        subject_ok && client_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://token.actions.githubusercontent.com";

    fn trust(audience: &str) -> TrustedIssuer {
        TrustSpec {
            issuer: ISSUER.into(),
            audience: audience.into(),
            jwks: None,
            jwks_file: None,
            client_id: None,
            subject: Some("repo:acme/*".into()),
        }
        .resolve()
        .unwrap()
    }

    fn token(issuer: &str, audience: &str, expires_in: i64, key: &SigningKey) -> String {
        let claims = TokenClaims {
            issuer: issuer.into(),
            audience: audience.into(),
            subject: "repo:acme/infra:ref:refs/heads/main".into(),
            expires_in,
        };
        mint(&claims, key, 1_000_000)
    }

    #[test]
    fn a_minted_token_verifies_against_the_issuers_test_key() {
        let trusts = [trust("c1")];
        let t = token(ISSUER, "c1", 300, &test_key(ISSUER));
        let verified = verify(&t, &trusts, 1_000_100).unwrap();
        assert_eq!(verified.subject, "repo:acme/infra:ref:refs/heads/main");
        assert!(verified.trusts[0].admits(&verified.subject, Some("x@sim.conductor.one/pcc")));
        assert!(!verified.trusts[0].admits("repo:evil/infra", Some("x")));
        assert!(
            !verified.trusts[0].admits(&verified.subject, None),
            "no client to map to"
        );
        assert_eq!(test_key(ISSUER).to_bytes(), test_key(ISSUER).to_bytes());
        assert_ne!(
            test_key(ISSUER).to_bytes(),
            test_key("https://other").to_bytes()
        );
    }

    #[test]
    fn each_check_refuses_with_its_reason() {
        let trusts = [trust("c1")];
        let key = test_key(ISSUER);
        let now = 1_000_000;
        let check = |t: &str| verify(t, &trusts, now).unwrap_err();
        assert_eq!(
            check(&token("https://gitlab.example", "c1", 300, &key)),
            SubjectTokenError::UnknownIssuer("https://gitlab.example".into())
        );
        assert_eq!(
            check(&token(ISSUER, "c1", 300, &test_key("https://other"))),
            SubjectTokenError::BadSignature(ISSUER.into())
        );
        assert_eq!(
            check(&token(ISSUER, "sts.amazonaws.com", 300, &key)),
            SubjectTokenError::WrongAudience {
                found: "sts.amazonaws.com".into(),
                expected: "c1".into()
            }
        );
        assert_eq!(
            check(&token(ISSUER, "c1", -60, &key)),
            SubjectTokenError::Expired
        );
        assert_eq!(
            check("not-a-jwt"),
            SubjectTokenError::Jws(JwsError::Malformed)
        );
        let mut header = Map::new();
        header.insert("typ".into(), json!("JWT"));
        let future = jws::sign(
            header,
            &json!({"iss": ISSUER, "aud": "c1", "sub": "s", "exp": now + 600, "nbf": now + 300}),
            &key,
        );
        assert_eq!(check(&future), SubjectTokenError::NotYetValid);
    }

    #[test]
    fn jwks_files_and_specs_are_checked() {
        let dir =
            std::env::temp_dir().join(format!("c1-sim-oidc-{}", crate::ids::random_base62(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let key_path = dir.join("key.json");
        let key = key_file(&key_path).unwrap();
        assert_eq!(
            key_file(&key_path).unwrap().to_bytes(),
            key.to_bytes(),
            "read back"
        );
        let spec = |jwks_file: Option<PathBuf>, jwks: Option<Jwks>| TrustSpec {
            issuer: "https://ci.example".into(),
            audience: "c1".into(),
            jwks,
            jwks_file,
            client_id: None,
            subject: None,
        };
        // The private key file doubles as a one-key JWKS (only the public half is kept).
        let t = spec(Some(key_path.clone()), None).resolve().unwrap();
        assert_eq!(t.jwks.keys, [public_jwk(&key)]);
        let minted = mint(
            &TokenClaims {
                issuer: "https://ci.example".into(),
                audience: "c1".into(),
                subject: "s".into(),
                expires_in: 60,
            },
            &key,
            10,
        );
        verify(&minted, &[t], 20).unwrap();
        assert!(matches!(
            spec(Some(dir.join("missing.json")), None).resolve(),
            Err(TrustError::JwksFile { .. })
        ));
        assert!(matches!(
            spec(None, Some(Jwks::default())).resolve(),
            Err(TrustError::NoUsableKey)
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
