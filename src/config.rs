//! Provider configuration: the provider block's attributes, the environment variables they fall
//! back to, the precedence between the two, and how they resolve into the C1 client's
//! configuration. Problems are phrased here for the Terraform user; none carries a secret.

use std::fmt;

use c1_client::{
    check_base_url, BaseUrlError, ClientConfig, Credentials, RetryPolicy, SecretString, SigningKey,
    SubjectToken,
};
use c1_contract::{client_secret, dns_label};
use url::Url;

use crate::provider::{PROVIDER_NAME, PROVIDER_VERSION};

/// An attribute of the provider block and the environment variables it falls back to.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigAttribute {
    pub name: &'static str,
    pub env: &'static str,
    /// Further variables, read in this order when `env` is unset (the first set one counts).
    pub more_env: &'static [&'static str],
    /// Markdown for the schema and the registry docs.
    pub description: &'static str,
    pub sensitive: bool,
}

pub const SERVER_URL: ConfigAttribute = ConfigAttribute {
    name: "server_url",
    env: "CONDUCTORONE_SERVER_URL",
    more_env: &[],
    description: "URL of the C1 tenant, e.g. `https://acme.conductor.one`: scheme, host and port only (C1 serves the API at the tenant's root; a path, query, fragment or user information is refused). Derived from `tenant_domain` or `client_id` when not set. `http://` is accepted for loopback hosts only.",
    sensitive: false,
};

pub const TENANT_DOMAIN: ConfigAttribute = ConfigAttribute {
    name: "tenant_domain",
    env: "CONDUCTORONE_TENANT_DOMAIN",
    more_env: &[],
    description: "The tenant's name, e.g. `acme` for `acme.conductor.one`, or its host name; not a URL (use `server_url` for that).",
    sensitive: false,
};

pub const CLIENT_ID: ConfigAttribute = ConfigAttribute {
    name: "client_id",
    env: "CONDUCTORONE_CLIENT_ID",
    more_env: &[],
    description: "Client id of a C1 API credential, `<name>@<tenant>.conductor.one/<suffix>`.",
    sensitive: false,
};

pub const CLIENT_SECRET: ConfigAttribute = ConfigAttribute {
    name: "client_secret",
    env: "CONDUCTORONE_CLIENT_SECRET",
    more_env: &[],
    description: "Client secret of the same credential, `secret-token:conductorone.com:v1:...`.",
    sensitive: true,
};

pub const OIDC_TOKEN: ConfigAttribute = ConfigAttribute {
    name: "oidc_token",
    env: "CONDUCTORONE_OIDC_TOKEN",
    more_env: &[
        "TFC_WORKLOAD_IDENTITY_TOKEN_CONDUCTORONE",
        "TFC_WORKLOAD_IDENTITY_TOKEN_C1",
        "TFC_WORKLOAD_IDENTITY_TOKEN",
    ],
    description: "Workload identity: an OIDC token (JWT) issued to the pipeline by its CI system (GitHub Actions, GitLab, HCP Terraform dynamic credentials), exchanged with C1 for access tokens of the client `client_id`, whose federation must trust the token's issuer and audience. Needs `client_id`; no client secret is used. Used instead of `client_secret` when both are set.",
    sensitive: true,
};

/// The provider block's attributes, in the order the official provider documents them.
pub const ATTRIBUTES: [&ConfigAttribute; 5] = [
    &SERVER_URL,
    &TENANT_DOMAIN,
    &CLIENT_ID,
    &CLIENT_SECRET,
    &OIDC_TOKEN,
];

impl ConfigAttribute {
    /// The environment variables it falls back to, in the order they are read.
    pub fn envs(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.env).chain(self.more_env.iter().copied())
    }

    /// The fallback, as the schema and messages say it: `` `A` `` or "the first set of `A`, `B`".
    pub fn env_text(&self) -> String {
        let names: Vec<String> = self.envs().map(|e| format!("`{e}`")).collect();
        match names.as_slice() {
            [one] => one.clone(),
            many => format!("the first set of {}", many.join(", ")),
        }
    }
}

/// A ready bearer token; when set it is used instead of the client credentials. No attribute.
pub const ENV_ACCESS_TOKEN: &str = "CONDUCTORONE_ACCESS_TOKEN";

/// The User-Agent of every request to C1.
pub fn user_agent() -> String {
    format!("terraform-provider-{PROVIDER_NAME}/{PROVIDER_VERSION}")
}

/// What to check when C1 refuses an OIDC token (or it has expired), appended to that error.
pub fn rejected_oidc_token_hint(expired: bool) -> String {
    if expired {
        "OIDC tokens from CI systems live minutes: run the job again for a fresh one (HCP \
         Terraform issues one per plan and apply), and keep runs shorter than the token's life"
            .to_string()
    } else {
        format!(
            "Check that the C1 client in `{}` has a workload identity federation trusting this \
             token: its issuer, its audience (the audience the CI system was asked to issue the \
             token for) and its subject",
            CLIENT_ID.name
        )
    }
}

/// What to check when C1 rejects the credentials, appended to that error.
pub fn rejected_credentials_hint() -> String {
    format!(
        "Check {} and {} (or {} / {} / {ENV_ACCESS_TOKEN}) and that the API credential still \
         exists in C1",
        CLIENT_ID.name, CLIENT_SECRET.name, CLIENT_ID.env, CLIENT_SECRET.env
    )
}

/// The provider block's values (before the environment fills the gaps).
#[derive(Clone, Default)]
pub struct ProviderAttributes {
    pub server_url: Option<String>,
    pub tenant_domain: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub oidc_token: Option<String>,
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
            .field(
                "oidc_token",
                &self.oidc_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Where a provider setting came from: its attribute in the provider block, or an environment
/// variable. Messages name it, so a problem in the environment is not blamed on the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Attribute(&'static ConfigAttribute),
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Attribute(attribute) => write!(f, "`{}`", attribute.name),
            Source::Env(name) => f.write_str(name),
        }
    }
}

/// A provider configuration problem, phrased for the Terraform user. Never contains a configured
/// value (any of them may come from a sensitive variable): it names where the value came from,
/// the rule and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid {from}: {message}")]
    Invalid { from: Source, message: String },
    #[error(
        "missing C1 credentials: set `{}` and `{}` in the provider block (or {} and {}), or \
         `{}` and an OIDC token in `{}` (or {}) for workload identity, or a bearer token in \
         {ENV_ACCESS_TOKEN}; missing: {missing}",
        CLIENT_ID.name, CLIENT_SECRET.name, CLIENT_ID.env, CLIENT_SECRET.env, CLIENT_ID.name,
        OIDC_TOKEN.name, OIDC_TOKEN.env_text()
    )]
    MissingCredentials { missing: &'static str },
    #[error(
        "the OIDC token from {from} needs `{}` (or {}): the client id of the C1 client whose \
         workload identity federation trusts the token's issuer",
        CLIENT_ID.name, CLIENT_ID.env
    )]
    OidcTokenNeedsClientId { from: Source },
    #[error(
        "cannot tell which C1 tenant to use: set `{}` (or {}) or `{}` (or {}), or use a client id \
         of the form `<name>@<tenant>.conductor.one/<suffix>`",
        SERVER_URL.name, SERVER_URL.env, TENANT_DOMAIN.name, TENANT_DOMAIN.env
    )]
    MissingServer,
}

impl ConfigError {
    /// The provider-block attribute the problem is about, if it is about one (a problem with an
    /// environment variable is about no attribute).
    pub fn attribute(&self) -> Option<&'static str> {
        match self {
            ConfigError::Invalid {
                from: Source::Attribute(attribute),
                ..
            } => Some(attribute.name),
            _ => None,
        }
    }
}

/// A setting's value and where it came from.
type Setting = (String, Source);

/// Reads one setting. An empty value counts as unset (CI systems set variables to "" for missing
/// secrets); a blank one (white space only) or one with control characters is an error naming
/// its source; white space around a value is dropped (a token read from a file ends in a line
/// break).
fn read_setting(value: Option<String>, source: Source) -> Result<Option<Setting>, ConfigError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let invalid = |message: &str| ConfigError::Invalid {
        from: source,
        message: message.to_string(),
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid(
            "it is blank (white space only): remove it or give it a value",
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid(
            "it must not contain line breaks or other control characters",
        ));
    }
    Ok(Some((trimmed.to_string(), source)))
}

/// An attribute's value, else the first set one of its environment variables.
fn attribute_or_env(
    value: Option<String>,
    attribute: &'static ConfigAttribute,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Setting>, ConfigError> {
    if let Some(setting) = read_setting(value, Source::Attribute(attribute))? {
        return Ok(Some(setting));
    }
    for name in attribute.envs() {
        if let Some(setting) = read_setting(env(name), Source::Env(name))? {
            return Ok(Some(setting));
        }
    }
    Ok(None)
}

/// Resolves the provider block with environment fallback into the C1 client's configuration.
/// Each attribute wins over its variable; `server_url` wins over `tenant_domain`, which wins over
/// the tenant in the client id. Credentials: a token in [`ENV_ACCESS_TOKEN`] wins over an OIDC
/// token ([`OIDC_TOKEN`], workload identity), which wins over the client secret.
/// `env` is injected so tests are hermetic; the provider passes `&|k| std::env::var(k).ok()`.
pub fn resolve(
    attrs: ProviderAttributes,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientConfig, ConfigError> {
    let server_url = attribute_or_env(attrs.server_url, &SERVER_URL, env)?;
    let tenant = attribute_or_env(attrs.tenant_domain, &TENANT_DOMAIN, env)?;
    let client_id = attribute_or_env(attrs.client_id, &CLIENT_ID, env)?;
    let client_secret = attribute_or_env(attrs.client_secret, &CLIENT_SECRET, env)?;
    let access_token = read_setting(env(ENV_ACCESS_TOKEN), Source::Env(ENV_ACCESS_TOKEN))?;
    // Read (and checked) only when no ready token overrides it.
    let oidc_token = match access_token {
        Some(_) => None,
        None => attribute_or_env(attrs.oidc_token, &OIDC_TOKEN, env)?,
    };

    let credentials = match (access_token, oidc_token, &client_id, client_secret) {
        (Some((token, _)), _, _, _) => Credentials::AccessToken(SecretString::new(token)),
        (None, Some((_, from)), None, _) => {
            return Err(ConfigError::OidcTokenNeedsClientId { from })
        }
        (None, Some(token), Some(id), _) => {
            validate_client_id(id)?;
            Credentials::TokenExchange {
                client_id: id.0.clone(),
                subject: subject_token(token)?,
            }
        }
        (None, None, Some(id), Some(secret)) => {
            validate_client_id(id)?;
            Credentials::ClientCredentials {
                client_id: id.0.clone(),
                key: signing_key(&secret)?,
            }
        }
        (None, None, None, None) => {
            return Err(ConfigError::MissingCredentials {
                missing: "client_id, client_secret",
            })
        }
        (None, None, None, Some(_)) => {
            return Err(ConfigError::MissingCredentials {
                missing: "client_id",
            })
        }
        (None, None, Some(_), None) => {
            return Err(ConfigError::MissingCredentials {
                missing: "client_secret",
            })
        }
    };

    let base_url = if let Some(url) = server_url {
        parse_server_url(&url)?
    } else if let Some(tenant) = tenant {
        tenant_url(&tenant.0, tenant.1, TENANT_DOMAIN_RULE)?
    } else if let Some((host, source)) = client_id
        .as_ref()
        .and_then(|(id, source)| Some((tenant_host_from_client_id(id)?, *source)))
    {
        tenant_url(host, source, CLIENT_ID_TENANT_RULE)?
    } else {
        return Err(ConfigError::MissingServer);
    };

    Ok(ClientConfig {
        base_url,
        credentials,
        retry: RetryPolicy::default(),
        user_agent: user_agent(),
    })
}

/// The OIDC token, shape checked and its expiry read; the error names where it came from and
/// what is wrong, never the token.
fn subject_token((token, from): Setting) -> Result<SubjectToken, ConfigError> {
    SubjectToken::new(token, from.to_string()).map_err(|why| ConfigError::Invalid {
        from,
        message: format!(
            "{why}. Expected the OIDC token (a JWT, `<header>.<claims>.<signature>`) the CI \
             system issued to this run, e.g. HCP Terraform's TFC_WORKLOAD_IDENTITY_TOKEN or the \
             token GitHub Actions returns for ACTIONS_ID_TOKEN_REQUEST_URL"
        ),
    })
}

/// The key in a client secret; the error says what is wrong and what to do, never the secret.
fn signing_key((secret, source): &Setting) -> Result<SigningKey, ConfigError> {
    SigningKey::from_client_secret(secret).map_err(|why| ConfigError::Invalid {
        from: *source,
        message: format!(
            "{why}. Expected the client secret exactly as C1 showed it when the API credential \
             was created (it starts with `{}`); create a new credential in C1 if it was lost",
            client_secret::PREFIX
        ),
    })
}

/// What a client id looks like, for messages.
const CLIENT_ID_RULE: &str = "a C1 client id looks like `<name>@<tenant>.conductor.one/<suffix>`";

/// What is wrong when the tenant in a client id is not a host name, for messages.
const CLIENT_ID_TENANT_RULE: &str = "the tenant in it is not a host name: a C1 client id looks \
     like `<name>@<tenant>.conductor.one/<suffix>`";

/// What `tenant_domain` takes, for messages.
const TENANT_DOMAIN_RULE: &str = "it takes the tenant's name (`acme`) or its host name \
     (`acme.conductor.one`), not a URL: set `server_url` (or CONDUCTORONE_SERVER_URL) for a URL \
     with a scheme or a port";

/// `<name>@<tenant host>/<suffix>` -> the tenant host, if the id has that shape.
fn tenant_host_from_client_id(client_id: &str) -> Option<&str> {
    let (_, rest) = client_id.split_once('@')?;
    let (host, _) = rest.split_once('/')?;
    (!host.is_empty()).then_some(host)
}

fn validate_client_id((id, source): &Setting) -> Result<(), ConfigError> {
    let ok = id.split_once('@').is_some_and(|(name, rest)| {
        !name.is_empty()
            && rest
                .split_once('/')
                .is_some_and(|(host, suffix)| !host.is_empty() && !suffix.is_empty())
    }) && !id.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            from: *source,
            message: format!(
                "{CLIENT_ID_RULE}; copy it from the API credential in C1 (and check {} and {} \
                 are not swapped)",
                CLIENT_ID.name, CLIENT_SECRET.name
            ),
        })
    }
}

/// The base URL of a tenant given by name (`acme` -> `https://acme.conductor.one/`) or host
/// name (`acme.example.com` -> `https://acme.example.com/`; `localhost` stays itself). Anything
/// else (a scheme, port, path, user information, white space) is refused with `rule`.
fn tenant_url(host: &str, source: Source, rule: &str) -> Result<Url, ConfigError> {
    let err = || ConfigError::Invalid {
        from: source,
        message: rule.to_string(),
    };
    let is_host = host.len() <= 253 && host.split('.').all(dns_label::is_dns_label);
    if !is_host {
        return Err(err());
    }
    let host = if host.contains('.') || host.eq_ignore_ascii_case("localhost") {
        host.to_string()
    } else {
        format!("{host}.conductor.one")
    };
    Url::parse(&format!("https://{host}/")).map_err(|_| err())
}

/// The base URL `server_url` names: a URL of the tenant's root (`https://acme.conductor.one`),
/// a host (`acme.example.com[:port]`, https assumed) or a tenant name (`acme`). A path, query,
/// fragment or user information is refused, not dropped: C1 serves the API at the tenant's root.
/// `http://` only for loopback hosts (the client's rule, [`check_base_url`]).
fn parse_server_url((value, source): &Setting) -> Result<Url, ConfigError> {
    let err = |message: String| ConfigError::Invalid {
        from: *source,
        message,
    };
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("https://{value}")
    };
    let mut url = Url::parse(&with_scheme)
        .map_err(|e| err(format!("it is not a valid URL or host name ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err(
            "it must not contain user information (a user name or password): the credentials \
             go in `client_id` and `client_secret`"
                .into(),
        ));
    }
    let parts = [
        (url.path() != "/" && !url.path().is_empty(), "a path"),
        (url.query().is_some(), "a query (`?...`)"),
        (url.fragment().is_some(), "a fragment (`#...`)"),
    ];
    if let Some((_, part)) = parts.iter().find(|(present, _)| *present) {
        return Err(err(format!(
            "it has {part}, which would be dropped: C1 serves the API at the tenant's root, so \
             give only the scheme, host and port (e.g. `https://acme.conductor.one`)"
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| err("it has no host".into()))?
        .to_string();
    // A host with no dot is a tenant name.
    if !host.contains('.')
        && !host.eq_ignore_ascii_case("localhost")
        && matches!(url.host(), Some(url::Host::Domain(_)))
    {
        url.set_host(Some(&format!("{host}.conductor.one")))
            .map_err(|e| err(format!("it is not a valid host name ({e})")))?;
    }
    check_base_url(&url).map_err(|reason| {
        err(match reason {
            BaseUrlError::PlainHttpNotLoopback => "it uses plain http://, which would send \
                 credentials unencrypted; use https:// (http:// is accepted only for loopback \
                 hosts such as 127.0.0.1, ::1 or localhost, e.g. a local simulator)"
                .to_string(),
            BaseUrlError::UnsupportedScheme(scheme) => {
                format!("it has scheme `{scheme}`; use https://")
            }
            BaseUrlError::UserInfo => "it must not contain user information".to_string(),
        })
    })?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use std::collections::HashMap;

    const ID: &str = "tf@acme.conductor.one/abc123";

    fn secret() -> String {
        SigningKey::from_dalek(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])).to_client_secret()
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn attrs(id: Option<&str>, secret: Option<&str>) -> ProviderAttributes {
        ProviderAttributes {
            client_id: id.map(String::from),
            client_secret: secret.map(String::from),
            ..Default::default()
        }
    }

    fn client_id_of(cfg: &ClientConfig) -> Option<&str> {
        match &cfg.credentials {
            Credentials::ClientCredentials { client_id, .. }
            | Credentials::TokenExchange { client_id, .. } => Some(client_id),
            Credentials::AccessToken(_) => None,
        }
    }

    #[test]
    fn server_derived_from_client_id() {
        let cfg = resolve(attrs(Some(ID), Some(&secret())), &env_of(&[])).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://acme.conductor.one/");
        assert_eq!(client_id_of(&cfg), Some(ID));
        assert_eq!(cfg.retry, RetryPolicy::default());
        assert_eq!(
            cfg.user_agent,
            format!("terraform-provider-conductorone/{PROVIDER_VERSION}")
        );
    }

    #[test]
    fn attribute_beats_environment() {
        let env = env_of(&[
            (SERVER_URL.env, "https://env.example.com"),
            (TENANT_DOMAIN.env, "envtenant"),
            (CLIENT_ID.env, "env@env.conductor.one/x"),
            (CLIENT_SECRET.env, "garbage-that-would-fail"),
        ]);
        let mut a = attrs(Some(ID), Some(&secret()));
        a.server_url = Some("https://attr.example.com:8443/".into());
        let cfg = resolve(a.clone(), &env).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://attr.example.com:8443/");
        assert_eq!(client_id_of(&cfg), Some(ID));

        // No attribute: environment server_url wins over environment tenant.
        a.server_url = None;
        let cfg = resolve(a.clone(), &env).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://env.example.com/");

        // Each attribute falls back to its own variable; then server_url (from either source)
        // beats tenant_domain, which beats the client id.
        a.tenant_domain = Some("attrtenant".into());
        let cfg = resolve(a, &env).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://env.example.com/");
    }

    #[test]
    fn everything_from_environment() {
        let secret = secret();
        let env = env_of(&[
            (TENANT_DOMAIN.env, "acme"),
            (CLIENT_ID.env, ID),
            (CLIENT_SECRET.env, &secret),
        ]);
        let cfg = resolve(ProviderAttributes::default(), &env).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://acme.conductor.one/");
        assert_eq!(client_id_of(&cfg), Some(ID));
    }

    #[test]
    fn access_token_overrides_other_auth() {
        let env = env_of(&[(ENV_ACCESS_TOKEN, "tok-123"), (TENANT_DOMAIN.env, "acme")]);
        // Even a malformed secret is ignored when a ready token is given.
        let cfg = resolve(attrs(Some("bad id"), Some("bad")), &env).unwrap();
        match cfg.credentials {
            Credentials::AccessToken(t) => assert_eq!(t.expose(), "tok-123"),
            other => panic!("{other:?}"),
        }
        let err = resolve(
            ProviderAttributes::default(),
            &env_of(&[(ENV_ACCESS_TOKEN, "t")]),
        )
        .unwrap_err();
        assert_eq!(err, ConfigError::MissingServer);
        let text = err.to_string();
        assert!(
            text.contains("`server_url` (or CONDUCTORONE_SERVER_URL)")
                && text.contains("`tenant_domain` (or CONDUCTORONE_TENANT_DOMAIN)"),
            "{text}"
        );
    }

    #[test]
    fn missing_credentials_say_which() {
        let e = resolve(ProviderAttributes::default(), &env_of(&[])).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("client_id, client_secret"), "{text}");
        assert!(
            text.contains("CONDUCTORONE_CLIENT_ID and CONDUCTORONE_CLIENT_SECRET")
                && text.contains("CONDUCTORONE_ACCESS_TOKEN"),
            "{text}"
        );
        assert_eq!(e.attribute(), None);
        let e = resolve(attrs(Some(ID), None), &env_of(&[])).unwrap_err();
        assert_eq!(
            e,
            ConfigError::MissingCredentials {
                missing: "client_secret"
            }
        );
        let e = resolve(attrs(None, Some(&secret())), &env_of(&[])).unwrap_err();
        assert_eq!(
            e,
            ConfigError::MissingCredentials {
                missing: "client_id"
            }
        );
    }

    fn server_url(v: &str) -> Result<String, ConfigError> {
        parse_server_url(&(v.to_string(), Source::Attribute(&SERVER_URL))).map(|u| u.to_string())
    }

    #[test]
    fn server_derivation() {
        let p = |v: &str| server_url(v).unwrap();
        assert_eq!(p("acme"), "https://acme.conductor.one/");
        assert_eq!(p("https://acme"), "https://acme.conductor.one/");
        assert_eq!(p("acme.conductor.one"), "https://acme.conductor.one/");
        assert_eq!(
            p("https://c1.corp.example:444/"),
            "https://c1.corp.example:444/"
        );
        assert_eq!(p("localhost:8080"), "https://localhost:8080/");
        assert_eq!(tenant_host_from_client_id(ID), Some("acme.conductor.one"));
        assert_eq!(tenant_host_from_client_id("nope"), None);
        let cfg = resolve(
            ProviderAttributes {
                tenant_domain: Some("acme".into()),
                ..attrs(Some(ID), Some(&secret()))
            },
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://acme.conductor.one/");
    }

    #[test]
    fn url_parts_that_would_be_dropped_are_refused() {
        for (bad, part) in [
            ("https://acme.conductor.one/x", "a path"),
            ("https://acme.conductor.one/api/v1/", "a path"),
            ("acme.conductor.one/x", "a path"),
            ("https://acme.conductor.one/?t=1", "a query"),
            ("https://acme.conductor.one?", "a query"),
            ("https://acme.conductor.one/#f", "a fragment"),
        ] {
            let e = server_url(bad).unwrap_err();
            assert_eq!(e.attribute(), Some("server_url"), "{bad}");
            let text = e.to_string();
            assert!(text.contains(part), "{bad}: {text}");
            assert!(
                text.contains("C1 serves the API at the tenant's root"),
                "{text}"
            );
        }
        let e = server_url("https://someone:pw-Q1@acme.conductor.one").unwrap_err();
        assert!(e.to_string().contains("user information"), "{e}");
        assert!(!e.to_string().contains("pw-Q1"), "{e}");
    }

    #[test]
    fn tenant_domain_is_a_tenant_or_host_name() {
        let tenant = |v: &str| {
            resolve(
                ProviderAttributes {
                    tenant_domain: Some(v.into()),
                    ..attrs(Some(ID), Some(&secret()))
                },
                &env_of(&[]),
            )
        };
        assert_eq!(
            tenant("acme.example.com").unwrap().base_url.as_str(),
            "https://acme.example.com/"
        );
        for bad in [
            "evil.com/x",
            "https://acme.conductor.one",
            "acme:8443",
            "a@evil.com",
            "ac me",
            "acme..com",
            "-acme",
        ] {
            let e = tenant(bad).unwrap_err();
            assert_eq!(e.attribute(), Some("tenant_domain"), "{bad}");
            assert!(e.to_string().contains("not a URL"), "{bad}: {e}");
        }
        // The tenant in a client id follows the same rule.
        let e = resolve(
            attrs(Some("tf@evil.com:99/x"), Some(&secret())),
            &env_of(&[]),
        )
        .unwrap_err();
        assert_eq!(e.attribute(), Some("client_id"));
    }

    #[test]
    fn blank_or_control_character_values_name_their_source() {
        let secret = secret();
        for (k, v) in [
            (SERVER_URL.env, "   "),
            (TENANT_DOMAIN.env, "\t"),
            (CLIENT_ID.env, " \n "),
            (ENV_ACCESS_TOKEN, "  "),
        ] {
            let e = resolve(ProviderAttributes::default(), &env_of(&[(k, v)])).unwrap_err();
            assert_eq!(
                e.attribute(),
                None,
                "{k}: an environment variable is no attribute"
            );
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("invalid {k}: it is blank")),
                "{text}"
            );
        }
        let e = resolve(
            attrs(Some(ID), Some(&secret)),
            &env_of(&[(ENV_ACCESS_TOKEN, "tok-Q2\r\nX-Injected: 1")]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid CONDUCTORONE_ACCESS_TOKEN: it must not contain line breaks or other control characters"
        );
        // A malformed secret from the environment is blamed on the variable.
        let e = resolve(
            attrs(Some(ID), None),
            &env_of(&[(CLIENT_SECRET.env, "not-a-secret-Q3")]),
        )
        .unwrap_err();
        assert_eq!(e.attribute(), None);
        assert!(
            e.to_string()
                .starts_with("invalid CONDUCTORONE_CLIENT_SECRET: "),
            "{e}"
        );
        assert!(!e.to_string().contains("Q3"), "{e}");
        let mut a = attrs(Some(ID), Some(&secret));
        a.server_url = Some("  ".into());
        let e = resolve(a, &env_of(&[(SERVER_URL.env, "https://fallback.example")])).unwrap_err();
        assert_eq!(
            e.attribute(),
            Some("server_url"),
            "a blank attribute does not fall back"
        );
        // Empty is unset (CI systems set missing secrets to ""), surrounding white space dropped.
        let cfg = resolve(
            attrs(Some(ID), Some(&secret)),
            &env_of(&[
                (ENV_ACCESS_TOKEN, ""),
                (SERVER_URL.env, " https://c1.example\n"),
            ]),
        )
        .unwrap();
        assert_eq!(client_id_of(&cfg), Some(ID));
        assert_eq!(cfg.base_url.as_str(), "https://c1.example/");
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://[::1]:9000/",
            "http://localhost:1234",
            "http://LOCALHOST",
        ] {
            assert!(server_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://acme.conductor.one",
            "http://10.0.0.1",
            "http://[::2]",
            "http://localhost.evil.com",
        ] {
            let e = server_url(bad).unwrap_err();
            assert_eq!(e.attribute(), Some("server_url"));
            let e = e.to_string();
            assert!(
                e.contains("http://") && e.contains("loopback") && e.contains("unencrypted"),
                "{bad}: {e}"
            );
            assert!(e.starts_with("invalid `server_url`: "), "{e}");
            assert!(!e.contains(bad), "no value quoted: {e}");
        }
        assert!(server_url("ftp://x.example")
            .unwrap_err()
            .to_string()
            .contains("has scheme `ftp`; use https://"));
        let e = resolve(
            ProviderAttributes {
                tenant_domain: Some("http://acme.example.com".into()),
                ..attrs(Some(ID), Some(&secret()))
            },
            &env_of(&[]),
        )
        .unwrap_err();
        assert_eq!(e.attribute(), Some("tenant_domain"));
    }

    #[test]
    fn malformed_secret_is_named_and_never_printed() {
        let valid = secret();
        let truncated = &valid[..valid.len() - 10];
        let wrong_prefix = valid.replace("v1", "v9");
        let mut mismatched_jwk: serde_json::Value = serde_json::json!({
            "kty": "OKP", "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode([1u8; 32]),
            "d": URL_SAFE_NO_PAD.encode([7u8; 32]),
        });
        let prefix = client_secret::PREFIX;
        let mismatched = format!(
            "{prefix}{}",
            URL_SAFE_NO_PAD.encode(mismatched_jwk.to_string())
        );
        mismatched_jwk["kty"] = "RSA".into();
        let rsa = format!(
            "{prefix}{}",
            URL_SAFE_NO_PAD.encode(mismatched_jwk.to_string())
        );
        for secret in [
            "hunter2-super-secret",
            truncated,
            &wrong_prefix,
            &mismatched,
            &rsa,
            "secret-token:conductorone.com:v1:!!!notbase64!!!",
        ] {
            let e = resolve(attrs(Some(ID), Some(secret)), &env_of(&[])).unwrap_err();
            assert_eq!(e.attribute(), Some("client_secret"));
            let text = e.to_string();
            let dbg = format!("{e:?}");
            assert!(text.contains("`client_secret`"), "{text}");
            assert!(text.contains("create a new credential in C1"), "{text}");
            let payload = secret.strip_prefix(prefix).unwrap_or(secret);
            assert!(
                !text.contains(payload) && !dbg.contains(payload),
                "leaked: {text}"
            );
        }
    }

    #[test]
    fn malformed_client_id_is_named() {
        let secret = secret();
        for id in [
            "justaname",
            "name@",
            "@acme.conductor.one/x",
            "a b@acme.conductor.one/x",
            "n@acme.conductor.one",
        ] {
            let e = resolve(attrs(Some(id), Some(&secret)), &env_of(&[])).unwrap_err();
            assert_eq!(e.attribute(), Some("client_id"));
            let text = e.to_string();
            assert!(
                text.contains("`client_id`")
                    && text.contains("<name>@<tenant>.conductor.one/<suffix>"),
                "{text}"
            );
            assert!(!text.contains(&secret[client_secret::PREFIX.len()..]));
        }
    }

    #[test]
    fn secrets_redacted_in_debug() {
        let secret = secret();
        let a = attrs(Some(ID), Some(&secret));
        let cfg = resolve(a.clone(), &env_of(&[])).unwrap();
        for dbg in [format!("{a:?}"), format!("{cfg:?}")] {
            assert!(
                !dbg.contains(&secret[client_secret::PREFIX.len()..]),
                "{dbg}"
            );
            assert!(dbg.contains("<redacted>"), "{dbg}");
        }
    }

    /// An OIDC token (a JWT) whose `sub` is `subject`, expiring at `exp`.
    fn jwt(subject: &str, exp: i64) -> String {
        let claims = serde_json::json!({"iss": "https://ci.example", "sub": subject, "exp": exp});
        let key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
        c1_contract::jws::sign(Default::default(), &claims, &key)
    }

    /// Where the OIDC token of `cfg` came from, and its subject's `exp`.
    fn oidc_of(cfg: &ClientConfig) -> Option<(String, Option<i64>)> {
        match &cfg.credentials {
            Credentials::TokenExchange { subject, .. } => {
                Some((subject.from().to_string(), subject.expires_at()))
            }
            _ => None,
        }
    }

    #[test]
    fn the_oidc_token_comes_from_the_attribute_else_the_first_set_variable() {
        let chain = [
            "CONDUCTORONE_OIDC_TOKEN",
            "TFC_WORKLOAD_IDENTITY_TOKEN_CONDUCTORONE",
            "TFC_WORKLOAD_IDENTITY_TOKEN_C1",
            "TFC_WORKLOAD_IDENTITY_TOKEN",
        ];
        assert_eq!(OIDC_TOKEN.envs().collect::<Vec<_>>(), chain);
        // Each variable is used when the ones before it are unset (or empty).
        for (i, name) in chain.iter().enumerate() {
            let mut pairs: Vec<(&str, String)> = chain[i..]
                .iter()
                .enumerate()
                .map(|(n, later)| (*later, jwt("ci", 1_000 + (i + n) as i64)))
                .collect();
            pairs.extend(chain[..i].iter().map(|earlier| (*earlier, String::new())));
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let cfg = resolve(attrs(Some(ID), None), &env_of(&pairs)).unwrap();
            assert_eq!(
                oidc_of(&cfg),
                Some((name.to_string(), Some(1_000 + i as i64)))
            );
            assert_eq!(client_id_of(&cfg), Some(ID));
        }
        // The attribute wins over every variable.
        let mut a = attrs(Some(ID), None);
        a.oidc_token = Some(jwt("ci", 7));
        let cfg = resolve(a, &env_of(&[("CONDUCTORONE_OIDC_TOKEN", &jwt("ci", 8))])).unwrap();
        assert_eq!(oidc_of(&cfg), Some(("`oidc_token`".to_string(), Some(7))));
    }

    #[test]
    fn credentials_precedence_access_token_then_oidc_token_then_client_secret() {
        let token = jwt("ci", 9);
        let secret = secret();
        let oidc = ("TFC_WORKLOAD_IDENTITY_TOKEN", token.as_str());
        // A ready token wins over both (and an OIDC token it overrides is not even read).
        let cfg = resolve(
            attrs(Some(ID), Some(&secret)),
            &env_of(&[
                (ENV_ACCESS_TOKEN, "tok-1"),
                ("TFC_WORKLOAD_IDENTITY_TOKEN", "not a jwt"),
            ]),
        )
        .unwrap();
        assert!(matches!(cfg.credentials, Credentials::AccessToken(_)));
        // The OIDC token wins over the client secret (which is then not used).
        let cfg = resolve(
            attrs(Some(ID), Some("a malformed secret")),
            &env_of(&[oidc]),
        )
        .unwrap();
        assert_eq!(
            oidc_of(&cfg),
            Some(("TFC_WORKLOAD_IDENTITY_TOKEN".into(), Some(9)))
        );
        // Without either, the client secret.
        let cfg = resolve(attrs(Some(ID), Some(&secret)), &env_of(&[])).unwrap();
        assert!(matches!(
            cfg.credentials,
            Credentials::ClientCredentials { .. }
        ));
    }

    #[test]
    fn an_oidc_token_needs_client_id_and_says_where_it_came_from() {
        let token = jwt("ci", 9);
        let e = resolve(
            ProviderAttributes {
                tenant_domain: Some("acme".into()),
                ..Default::default()
            },
            &env_of(&[("TFC_WORKLOAD_IDENTITY_TOKEN", &token)]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN needs `client_id` (or \
             CONDUCTORONE_CLIENT_ID): the client id of the C1 client whose workload identity \
             federation trusts the token's issuer"
        );
        let mut a = attrs(None, None);
        a.oidc_token = Some(token.clone());
        let e = resolve(a, &env_of(&[])).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("the OIDC token from `oidc_token` needs `client_id`"),
            "{e}"
        );
        assert!(!e.to_string().contains(&token));
        // The tenant comes from the client id, as with a client secret.
        let cfg = resolve(
            attrs(Some(ID), None),
            &env_of(&[("CONDUCTORONE_OIDC_TOKEN", &token)]),
        )
        .unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://acme.conductor.one/");
        // Missing credentials mention workload identity.
        let e = resolve(ProviderAttributes::default(), &env_of(&[])).unwrap_err();
        assert!(
            e.to_string().contains(
                "an OIDC token in `oidc_token` (or the first set of `CONDUCTORONE_OIDC_TOKEN`, "
            ),
            "{e}"
        );
    }

    #[test]
    fn a_malformed_oidc_token_names_its_source_and_is_never_echoed() {
        let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
        for bad in [
            "ghp_R3allyLooksLikeAToken-Q9".to_string(),
            "eyJhbGciOiJSUzI1NiJ9.Q9-notjson.sig".into(),
            format!("{}.{}.c2ln", b64("{}"), b64("{\"exp\": \"Q9-later\"}")),
        ] {
            let e = resolve(
                attrs(Some(ID), None),
                &env_of(&[("TFC_WORKLOAD_IDENTITY_TOKEN_C1", &bad)]),
            )
            .unwrap_err();
            let text = e.to_string();
            assert!(
                text.starts_with("invalid TFC_WORKLOAD_IDENTITY_TOKEN_C1: "),
                "{text}"
            );
            assert!(text.contains("OIDC token"), "{text}");
            assert!(
                !text.contains("Q9") && !format!("{e:?}").contains("Q9"),
                "{text}"
            );
            assert_eq!(e.attribute(), None);
            let mut a = attrs(Some(ID), None);
            a.oidc_token = Some(bad.clone());
            let e = resolve(a, &env_of(&[])).unwrap_err();
            assert_eq!(e.attribute(), Some("oidc_token"));
            assert!(!e.to_string().contains("Q9"), "{e}");
        }
        let mut a = attrs(Some(ID), Some(&secret()));
        a.oidc_token = Some(jwt("ci-Q10", 1));
        let dbg = format!("{a:?}");
        assert!(!dbg.contains(a.oidc_token.as_deref().unwrap()), "{dbg}");
        let cfg = resolve(a, &env_of(&[])).unwrap();
        assert!(!format!("{cfg:?}").contains("eyJ"), "{cfg:?}");
    }

    #[test]
    fn the_credentials_hint_names_the_settings_to_check() {
        assert_eq!(
            rejected_credentials_hint(),
            "Check client_id and client_secret (or CONDUCTORONE_CLIENT_ID / \
             CONDUCTORONE_CLIENT_SECRET / CONDUCTORONE_ACCESS_TOKEN) and that the API credential \
             still exists in C1"
        );
    }
}
