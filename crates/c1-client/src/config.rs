//! Provider configuration: attribute/environment precedence, server derivation, credential parsing.

use std::fmt;
use std::net::IpAddr;

use url::Url;

use crate::retry::RetryPolicy;

/// Environment variable names, in the order the official provider documents them.
pub const ENV_SERVER_URL: &str = "CONDUCTORONE_SERVER_URL";
pub const ENV_TENANT_DOMAIN: &str = "CONDUCTORONE_TENANT_DOMAIN";
pub const ENV_CLIENT_ID: &str = "CONDUCTORONE_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "CONDUCTORONE_CLIENT_SECRET";
pub const ENV_ACCESS_TOKEN: &str = "CONDUCTORONE_ACCESS_TOKEN";

use c1_contract::client_secret::{self, PREFIX as SECRET_PREFIX};

/// The User-Agent every request carries.
pub fn default_user_agent() -> String {
    format!(
        "terraform-provider-conductorone/{}",
        env!("CARGO_PKG_VERSION")
    )
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

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// The Ed25519 private key carried by a client secret. `Debug` shows `"<redacted>"`.
#[derive(Clone)]
pub struct SigningKey(pub(crate) ed25519_dalek::SigningKey);

impl SigningKey {
    /// Parses `secret-token:conductorone.com:v1:<base64url JWK>`. The error names
    /// `client_secret` and never contains the secret.
    pub fn from_client_secret(secret: &str) -> Result<Self, ConfigError> {
        client_secret::decode(secret)
            .map(Self)
            .map_err(|why| ConfigError::InvalidAttribute {
                attribute: "client_secret",
                env: ENV_CLIENT_SECRET,
                message: format!(
                    "{why}. Expected the client secret exactly as C1 showed it when the API \
                     credential was created (it starts with `{SECRET_PREFIX}`); create a new \
                     credential in C1 if it was lost"
                ),
            })
    }

    /// Builds the client-secret text for a key (used by tests and tools).
    pub fn to_client_secret(&self) -> String {
        client_secret::encode(&self.0)
    }

    /// Wraps a raw Ed25519 key.
    pub fn from_dalek(key: ed25519_dalek::SigningKey) -> Self {
        Self(key)
    }

    /// The public half, to verify assertions.
    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.0.verifying_key()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Inputs before env fallback; every field is the Terraform attribute value if set.
#[derive(Clone, Default)]
pub struct ProviderAttributes {
    pub server_url: Option<String>,
    pub tenant_domain: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

impl fmt::Debug for ProviderAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderAttributes")
            .field("server_url", &self.server_url)
            .field("tenant_domain", &self.tenant_domain)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// How requests authenticate.
#[allow(clippy::large_enum_variant)] // built once per provider; boxing buys nothing
#[derive(Clone, Debug)]
pub enum Auth {
    /// A ready bearer token (`CONDUCTORONE_ACCESS_TOKEN`).
    AccessToken(SecretString),
    /// The signed-assertion client-credentials flow.
    ClientCredentials { client_id: String, key: SigningKey },
}

/// Everything the client needs; produced by [`resolve_config`].
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Scheme, host and port of the tenant (path `/`).
    pub base_url: Url,
    pub auth: Auth,
    pub retry: RetryPolicy,
    pub user_agent: String,
}

/// A provider configuration problem, phrased for the Terraform user. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid `{attribute}` (or {env}): {message}")]
    InvalidAttribute {
        attribute: &'static str,
        env: &'static str,
        message: String,
    },
    #[error(
        "missing C1 credentials: set `client_id` and `client_secret` in the provider block \
         (or {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}), or a bearer token in {ENV_ACCESS_TOKEN}; \
         missing: {missing}"
    )]
    MissingCredentials { missing: &'static str },
    #[error(
        "cannot tell which C1 tenant to use: set `server_url` (or {ENV_SERVER_URL}) or \
         `tenant_domain` (or {ENV_TENANT_DOMAIN}), or use a client id of the form \
         `<name>@<tenant>.conductor.one/<suffix>`"
    )]
    MissingServer,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Resolves attributes with environment fallback (attribute first, then environment) into a
/// client configuration. `env` is injected so tests are hermetic; pass
/// `&|k| std::env::var(k).ok()` in the provider.
pub fn resolve_config(
    attrs: ProviderAttributes,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientConfig, ConfigError> {
    let server_url = non_empty(attrs.server_url).or_else(|| non_empty(env(ENV_SERVER_URL)));
    let tenant = non_empty(attrs.tenant_domain).or_else(|| non_empty(env(ENV_TENANT_DOMAIN)));
    let client_id = non_empty(attrs.client_id).or_else(|| non_empty(env(ENV_CLIENT_ID)));
    // Never trim-print the secret; trimming whitespace is harmless.
    let client_secret =
        non_empty(attrs.client_secret).or_else(|| non_empty(env(ENV_CLIENT_SECRET)));
    let access_token = non_empty(env(ENV_ACCESS_TOKEN));

    let auth = match access_token {
        Some(token) => Auth::AccessToken(SecretString::new(token)),
        None => match (&client_id, client_secret) {
            (Some(id), Some(secret)) => {
                validate_client_id(id)?;
                Auth::ClientCredentials {
                    client_id: id.clone(),
                    key: SigningKey::from_client_secret(&secret)?,
                }
            }
            (None, None) => {
                return Err(ConfigError::MissingCredentials {
                    missing: "client_id, client_secret",
                })
            }
            (None, Some(_)) => {
                return Err(ConfigError::MissingCredentials {
                    missing: "client_id",
                })
            }
            (Some(_), None) => {
                return Err(ConfigError::MissingCredentials {
                    missing: "client_secret",
                })
            }
        },
    };

    let base_url = if let Some(s) = server_url {
        parse_server(&s, "server_url", ENV_SERVER_URL)?
    } else if let Some(t) = tenant {
        parse_server(&t, "tenant_domain", ENV_TENANT_DOMAIN)?
    } else if let Some(host) = client_id.as_deref().and_then(tenant_host_from_client_id) {
        parse_server(host, "client_id", ENV_CLIENT_ID)?
    } else {
        return Err(ConfigError::MissingServer);
    };

    Ok(ClientConfig {
        base_url,
        auth,
        retry: RetryPolicy::default(),
        user_agent: default_user_agent(),
    })
}

/// `<name>@<tenant host>/<suffix>` -> the tenant host, if the id has that shape.
pub fn tenant_host_from_client_id(client_id: &str) -> Option<&str> {
    let (_, rest) = client_id.split_once('@')?;
    let (host, _) = rest.split_once('/')?;
    (!host.is_empty()).then_some(host)
}

fn validate_client_id(id: &str) -> Result<(), ConfigError> {
    let ok = id.split_once('@').is_some_and(|(name, rest)| {
        !name.is_empty()
            && rest
                .split_once('/')
                .is_some_and(|(host, suffix)| !host.is_empty() && !suffix.is_empty())
    }) && !id.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidAttribute {
            attribute: "client_id",
            env: ENV_CLIENT_ID,
            message: "a C1 client id looks like `<name>@<tenant>.conductor.one/<suffix>`; \
                      copy it from the API credential in C1 (and check client_id and \
                      client_secret are not swapped)"
                .to_string(),
        })
    }
}

/// Turns a server URL, host or bare tenant name into a base URL.
/// `acme` -> `https://acme.conductor.one/`; `acme.example.com` -> `https://acme.example.com/`;
/// `http://` only for loopback hosts.
pub fn parse_server(
    value: &str,
    attribute: &'static str,
    env: &'static str,
) -> Result<Url, ConfigError> {
    let err = |message: String| ConfigError::InvalidAttribute {
        attribute,
        env,
        message,
    };
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        let host_part = value.split(['/', ':']).next().unwrap_or("");
        if !host_part.contains('.') && host_part != "localhost" && !value.starts_with('[') {
            format!("https://{host_part}.conductor.one")
        } else {
            format!("https://{value}")
        }
    };
    let mut url = Url::parse(&with_scheme)
        .map_err(|e| err(format!("`{value}` is not a valid URL or host name ({e})")))?;
    let host = url
        .host_str()
        .ok_or_else(|| err(format!("`{value}` has no host")))?
        .to_string();
    // A host with no dot given with a scheme is still a tenant name.
    if !host.contains('.')
        && host != "localhost"
        && url
            .host()
            .is_some_and(|h| matches!(h, url::Host::Domain(_)))
    {
        url.set_host(Some(&format!("{host}.conductor.one")))
            .map_err(|e| err(format!("`{value}`: {e}")))?;
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback(&url) {
                return Err(err(format!(
                    "`{value}` uses plain http://, which would send credentials unencrypted; \
                     use https:// (http:// is accepted only for loopback hosts such as \
                     127.0.0.1, ::1 or localhost, e.g. a local simulator)"
                )));
            }
        }
        other => return Err(err(format!("`{value}` has scheme `{other}`; use https://"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err("the URL must not contain user information".to_string()));
    }
    url.set_path("/");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &Url) -> bool {
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
    use base64::Engine as _;
    use std::collections::HashMap;

    fn key() -> SigningKey {
        SigningKey::from_dalek(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]))
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const ID: &str = "tf@acme.conductor.one/abc123";

    fn attrs(id: Option<&str>, secret: Option<&str>) -> ProviderAttributes {
        ProviderAttributes {
            client_id: id.map(String::from),
            client_secret: secret.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn client_secret_round_trips() {
        let secret = key().to_client_secret();
        assert!(secret.starts_with(SECRET_PREFIX));
        let parsed = SigningKey::from_client_secret(&secret).unwrap();
        assert_eq!(parsed.verifying_key(), key().verifying_key());
    }

    #[test]
    fn server_derived_from_client_id() {
        let cfg = resolve_config(
            attrs(Some(ID), Some(&key().to_client_secret())),
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://acme.conductor.one/");
        assert!(matches!(&cfg.auth, Auth::ClientCredentials { client_id, .. } if client_id == ID));
        assert_eq!(cfg.retry, RetryPolicy::default());
        assert!(cfg
            .user_agent
            .starts_with("terraform-provider-conductorone/"));
    }

    #[test]
    fn attribute_beats_environment() {
        let secret = key().to_client_secret();
        let env = env_of(&[
            (ENV_SERVER_URL, "https://env.example.com"),
            (ENV_TENANT_DOMAIN, "envtenant"),
            (ENV_CLIENT_ID, "env@env.conductor.one/x"),
            (ENV_CLIENT_SECRET, "garbage-that-would-fail"),
        ]);
        let mut a = attrs(Some(ID), Some(&secret));
        a.server_url = Some("https://attr.example.com:8443/some/path".into());
        let cfg = resolve_config(a.clone(), &env).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://attr.example.com:8443/");
        assert!(matches!(&cfg.auth, Auth::ClientCredentials { client_id, .. } if client_id == ID));

        // No attribute: environment server_url wins over environment tenant.
        a.server_url = None;
        let cfg = resolve_config(a.clone(), &env).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://env.example.com/");

        // Each attribute falls back to its own variable; then server_url (from either source)
        // beats tenant_domain, which beats the client id.
        a.tenant_domain = Some("attrtenant".into());
        let cfg = resolve_config(a, &env).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://env.example.com/");
    }

    #[test]
    fn everything_from_environment() {
        let secret = key().to_client_secret();
        let env = env_of(&[
            (ENV_TENANT_DOMAIN, "acme"),
            (ENV_CLIENT_ID, ID),
            (ENV_CLIENT_SECRET, &secret),
        ]);
        let cfg = resolve_config(ProviderAttributes::default(), &env).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://acme.conductor.one/");
    }

    #[test]
    fn access_token_overrides_other_auth() {
        let env = env_of(&[(ENV_ACCESS_TOKEN, "tok-123"), (ENV_TENANT_DOMAIN, "acme")]);
        // Even a malformed secret is ignored when a ready token is given.
        let cfg = resolve_config(attrs(Some("bad id"), Some("bad")), &env).unwrap();
        match cfg.auth {
            Auth::AccessToken(t) => assert_eq!(t.expose(), "tok-123"),
            other => panic!("{other:?}"),
        }
        let err = resolve_config(
            ProviderAttributes::default(),
            &env_of(&[(ENV_ACCESS_TOKEN, "t")]),
        )
        .unwrap_err();
        assert_eq!(err, ConfigError::MissingServer);
    }

    #[test]
    fn missing_credentials_say_which() {
        let e = resolve_config(ProviderAttributes::default(), &env_of(&[])).unwrap_err();
        assert!(e.to_string().contains("client_id, client_secret"), "{e}");
        let e = resolve_config(attrs(Some(ID), None), &env_of(&[])).unwrap_err();
        assert_eq!(
            e,
            ConfigError::MissingCredentials {
                missing: "client_secret"
            }
        );
    }

    #[test]
    fn server_derivation() {
        let p = |v: &str| parse_server(v, "server_url", ENV_SERVER_URL).map(|u| u.to_string());
        assert_eq!(p("acme").unwrap(), "https://acme.conductor.one/");
        assert_eq!(p("https://acme").unwrap(), "https://acme.conductor.one/");
        assert_eq!(
            p("acme.conductor.one").unwrap(),
            "https://acme.conductor.one/"
        );
        assert_eq!(
            p("https://c1.corp.example:444/x?y#z").unwrap(),
            "https://c1.corp.example:444/"
        );
        assert_eq!(p("localhost:8080").unwrap(), "https://localhost:8080/");
        assert_eq!(tenant_host_from_client_id(ID), Some("acme.conductor.one"));
        assert_eq!(tenant_host_from_client_id("nope"), None);
        let e = resolve_config(
            ProviderAttributes {
                tenant_domain: Some("acme".into()),
                ..attrs(Some(ID), Some(&key().to_client_secret()))
            },
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(e.base_url.as_str(), "https://acme.conductor.one/");
    }

    #[test]
    fn plain_http_only_for_loopback() {
        let p = |v: &str| parse_server(v, "server_url", ENV_SERVER_URL);
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://[::1]:9000/",
            "http://localhost:1234",
            "http://LOCALHOST",
        ] {
            assert!(p(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://acme.conductor.one",
            "http://10.0.0.1",
            "http://[::2]",
            "http://localhost.evil.com",
        ] {
            let e = p(bad).unwrap_err().to_string();
            assert!(
                e.contains("http://") && e.contains("loopback"),
                "{bad}: {e}"
            );
            assert!(e.contains("server_url"), "{e}");
        }
        assert!(p("ftp://x.example")
            .unwrap_err()
            .to_string()
            .contains("https://"));
    }

    #[test]
    fn malformed_secret_is_named_and_never_printed() {
        let valid = key().to_client_secret();
        let truncated = &valid[..valid.len() - 10];
        let wrong_prefix = valid.replace("v1", "v9");
        let mut mismatched_jwk: serde_json::Value = serde_json::json!({
            "kty": "OKP", "crv": "Ed25519",
            "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([1u8; 32]),
            "d": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]),
        });
        let mismatched = format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mismatched_jwk.to_string())
        );
        mismatched_jwk["kty"] = "RSA".into();
        let rsa = format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mismatched_jwk.to_string())
        );
        for secret in [
            "hunter2-super-secret",
            truncated,
            &wrong_prefix,
            &mismatched,
            &rsa,
            "secret-token:conductorone.com:v1:!!!notbase64!!!",
        ] {
            let e = resolve_config(attrs(Some(ID), Some(secret)), &env_of(&[])).unwrap_err();
            let text = e.to_string();
            let dbg = format!("{e:?}");
            assert!(text.contains("client_secret"), "{text}");
            assert!(text.contains(ENV_CLIENT_SECRET), "{text}");
            let payload = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
            assert!(
                !text.contains(payload) && !dbg.contains(payload),
                "leaked: {text}"
            );
        }
    }

    #[test]
    fn malformed_client_id_is_named() {
        let secret = key().to_client_secret();
        for id in [
            "justaname",
            "name@",
            "@acme.conductor.one/x",
            "a b@acme.conductor.one/x",
            "n@acme.conductor.one",
        ] {
            let e = resolve_config(attrs(Some(id), Some(&secret)), &env_of(&[])).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("`client_id`")
                    && text.contains("<name>@<tenant>.conductor.one/<suffix>"),
                "{text}"
            );
            assert!(!text.contains(&secret[SECRET_PREFIX.len()..]));
        }
    }

    #[test]
    fn secrets_redacted_in_debug() {
        let secret = key().to_client_secret();
        let a = attrs(Some(ID), Some(&secret));
        let cfg = resolve_config(a.clone(), &env_of(&[])).unwrap();
        for dbg in [
            format!("{a:?}"),
            format!("{cfg:?}"),
            format!("{:?}", SecretString::new("tok-xyz")),
        ] {
            assert!(!dbg.contains(&secret[SECRET_PREFIX.len()..]), "{dbg}");
            assert!(!dbg.contains("tok-xyz"), "{dbg}");
            assert!(dbg.contains("<redacted>"), "{dbg}");
        }
    }
}
