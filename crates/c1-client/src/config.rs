//! What the client is given (the tenant's base URL, the credentials, the retry policy, the user
//! agent), the types that keep secrets out of `Debug`, and the one rule a base URL must meet.

use std::fmt;
use std::net::IpAddr;

use c1_contract::client_secret::{self, SecretFormatError};
use url::Url;

use crate::retry::RetryPolicy;
use crate::subject_token::SubjectToken;

/// Everything [`ConnectorClient::new`](crate::ConnectorClient::new) needs.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Scheme, host and port of the tenant; must pass [`check_base_url`].
    pub base_url: Url,
    pub credentials: Credentials,
    pub retry: RetryPolicy,
    /// The `User-Agent` of every request.
    pub user_agent: String,
}

/// How requests authenticate.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A ready bearer token, sent as it is and never renewed.
    AccessToken(SecretString),
    /// C1's client-credentials flow: a signed client assertion is exchanged for access tokens.
    ClientCredentials { client_id: String, key: SigningKey },
    /// Workload identity: a CI system's OIDC token is exchanged (RFC 8693) for access tokens of
    /// the client `client_id`, again whenever one expires, for as long as the OIDC token is valid.
    TokenExchange {
        client_id: String,
        subject: SubjectToken,
    },
}

/// A string that must never be printed: `Debug` shows `"<redacted>"`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself; only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// The Ed25519 private key of a C1 API credential. `Debug` shows `"<redacted>"`. (Boxed: the
/// key with its public half is large next to a token.)
#[derive(Clone)]
pub struct SigningKey(Box<ed25519_dalek::SigningKey>);

impl SigningKey {
    /// The key a client secret (`secret-token:conductorone.com:v1:...`) holds. The error never
    /// contains the secret.
    pub fn from_client_secret(secret: &str) -> Result<Self, SecretFormatError> {
        client_secret::decode(secret).map(Self::from_dalek)
    }

    /// The client secret that holds this key.
    pub fn to_client_secret(&self) -> String {
        client_secret::encode(&self.0)
    }

    /// Wraps a raw Ed25519 key.
    pub fn from_dalek(key: ed25519_dalek::SigningKey) -> Self {
        Self(Box::new(key))
    }

    pub(crate) fn dalek(&self) -> &ed25519_dalek::SigningKey {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Why a URL cannot be the client's base URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    /// `http://` to a host that is not loopback would send credentials unencrypted.
    #[error("plain http:// is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost)")]
    PlainHttpNotLoopback,
    #[error("scheme `{0}` is not supported; use https://")]
    UnsupportedScheme(String),
    #[error("the URL contains user information")]
    UserInfo,
}

/// The rule for a base URL: `https://`, or `http://` to a loopback host (127.0.0.0/8, ::1,
/// `localhost`, e.g. a local simulator); no user information.
pub fn check_base_url(url: &Url) -> Result<(), BaseUrlError> {
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => return Err(BaseUrlError::PlainHttpNotLoopback),
        other => return Err(BaseUrlError::UnsupportedScheme(other.to_string())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BaseUrlError::UserInfo);
    }
    Ok(())
}

/// A request path would hold a segment that is empty, `.` or `..`: such a path addresses
/// another endpoint (`apps/app1/connectors/..` is the app), so no URL is built from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnsafePathSegment;

/// The URL of the path made of `segments` under `base_url` (keeping any path it has); each
/// segment is percent-encoded (`/`, `?`, `#`, `%` and white space cannot escape it). A segment
/// that is empty, `.` or `..` is refused.
pub(crate) fn endpoint<'a>(
    base_url: &Url,
    segments: impl IntoIterator<Item = &'a str>,
) -> Result<Url, UnsafePathSegment> {
    let segments: Vec<&str> = segments.into_iter().collect();
    if segments.iter().any(|s| matches!(*s, "" | "." | "..")) {
        return Err(UnsafePathSegment);
    }
    let mut url = base_url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let prefix: Vec<String> = base_url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    if let Ok(mut path) = url.path_segments_mut() {
        path.clear();
        path.extend(prefix.iter().map(String::as_str));
        path.extend(segments);
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback() {
        let check = |s: &str| check_base_url(&Url::parse(s).unwrap());
        for ok in [
            "https://acme.conductor.one/",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://[::1]:9000/",
            "http://localhost:1234",
            "http://LOCALHOST",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://acme.conductor.one",
            "http://10.0.0.1",
            "http://[::2]",
            "http://localhost.evil.com",
        ] {
            assert_eq!(check(bad), Err(BaseUrlError::PlainHttpNotLoopback), "{bad}");
        }
        assert_eq!(
            check("ftp://x.example"),
            Err(BaseUrlError::UnsupportedScheme("ftp".into()))
        );
        assert_eq!(check("https://u:p@x.example"), Err(BaseUrlError::UserInfo));
    }

    #[test]
    fn endpoints_keep_the_base_path_and_encode_segments() {
        let base = Url::parse("https://c1.example/prefix/?q=1").unwrap();
        assert_eq!(
            endpoint(&base, ["api", "v1", "apps", "app 1", "c/1", "a?b#c%2e"])
                .unwrap()
                .as_str(),
            "https://c1.example/prefix/api/v1/apps/app%201/c%2F1/a%3Fb%23c%252e"
        );
        let root = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            endpoint(&root, "auth/v1/token".split('/'))
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/auth/v1/token"
        );
    }

    #[test]
    fn endpoints_refuse_segments_that_address_another_path() {
        let root = Url::parse("https://c1.example/").unwrap();
        for bad in ["", ".", ".."] {
            assert_eq!(
                endpoint(&root, ["api", "v1", "apps", "app1", "connectors", bad]),
                Err(UnsafePathSegment),
                "{bad:?}"
            );
            assert_eq!(
                endpoint(&root, ["api", "v1", "apps", bad, "connectors"]),
                Err(UnsafePathSegment),
                "{bad:?}"
            );
        }
        assert!(endpoint(&root, ["api", "v1", "apps", "...", "x.y"]).is_ok());
    }

    #[test]
    fn secrets_redacted_in_debug() {
        let key = SigningKey::from_dalek(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]));
        let secret = key.to_client_secret();
        let parsed = SigningKey::from_client_secret(&secret).unwrap();
        assert_eq!(parsed.dalek().to_bytes(), key.dalek().to_bytes());
        let credentials = Credentials::ClientCredentials {
            client_id: "tf@acme.conductor.one/x".into(),
            key: parsed,
        };
        let payload = &secret[client_secret::PREFIX.len()..];
        for dbg in [
            format!("{credentials:?}"),
            format!(
                "{:?}",
                Credentials::AccessToken(SecretString::new("tok-xyz"))
            ),
        ] {
            assert!(!dbg.contains(payload) && !dbg.contains("tok-xyz"), "{dbg}");
            assert!(dbg.contains("<redacted>"), "{dbg}");
        }
    }
}
