//! Provider configuration: attribute/environment precedence, server derivation, credential parsing.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use serde::Deserialize;
use url::Url;

use crate::retry::RetryPolicy;

/// Environment variable names, in the order the official provider documents them.
pub const ENV_SERVER_URL: &str = "CONDUCTORONE_SERVER_URL";
pub const ENV_TENANT_DOMAIN: &str = "CONDUCTORONE_TENANT_DOMAIN";
pub const ENV_CLIENT_ID: &str = "CONDUCTORONE_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "CONDUCTORONE_CLIENT_SECRET";
pub const ENV_ACCESS_TOKEN: &str = "CONDUCTORONE_ACCESS_TOKEN";

/// Prefix of a C1 client secret; the rest is a base64url JSON Web Key.
const SECRET_PREFIX: &str = "secret-token:conductorone.com:v1:";

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
        let bad = |why: &str| ConfigError::InvalidAttribute {
            attribute: "client_secret",
            env: ENV_CLIENT_SECRET,
            message: format!(
                "{why}. Expected the client secret exactly as C1 showed it when the API \
                 credential was created (it starts with `{SECRET_PREFIX}`); create a new \
                 credential in C1 if it was lost"
            ),
        };
        let secret = secret.trim();
        let b64 = secret
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| bad("the value is not a C1 client secret"))?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64.trim_end_matches('='))
            .map_err(|_| bad("the key part of the client secret is not valid base64url"))?;
        #[derive(Deserialize)]
        struct Jwk {
            kty: String,
            crv: String,
            #[serde(default)]
            x: Option<String>,
            d: String,
        }
        let jwk: Jwk = serde_json::from_slice(&json)
            .map_err(|_| bad("the key part of the client secret is not a JSON Web Key"))?;
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            return Err(bad("the client secret does not hold an Ed25519 key"));
        }
        let d = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwk.d.trim_end_matches('='))
            .map_err(|_| bad("the private key in the client secret is not valid base64url"))?;
        let d: [u8; 32] = d
            .try_into()
            .map_err(|_| bad("the private key in the client secret has the wrong length"))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&d);
        if let Some(x) = jwk.x {
            let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(x.trim_end_matches('='))
                .map_err(|_| bad("the public key in the client secret is not valid base64url"))?;
            if x.as_slice() != key.verifying_key().as_bytes() {
                return Err(bad(
                    "the public and private halves of the client secret do not match",
                ));
            }
        }
        Ok(Self(key))
    }

    /// Builds the client-secret text for a key (used by tests and tools).
    pub fn to_client_secret(&self) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let jwk = serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": e.encode(self.0.verifying_key().as_bytes()),
            "d": e.encode(self.0.to_bytes()),
        });
        format!("{SECRET_PREFIX}{}", e.encode(jwk.to_string()))
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
