//! Command line of the `c1-sim` binary: `serve`, `credentials`, and `oidc-token` / `oidc-jwks`
//! (test OIDC tokens for workload identity).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::catalog::Catalog;
use crate::faults::FaultConfig;
use crate::oidc::{TrustSpec, DEFAULT_LIFETIME_SECS};
use crate::server::{ServeOptions, TlsFiles, DEFAULT_MAX_BODY_BYTES};

/// A local simulator of the ConductorOne (C1) connector API, for tests, demos and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "c1-sim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the simulated C1 API. The first line of stdout is `listening on <base URL>`.
    Serve(Box<ServeArgs>),
    /// Mint client credentials: appends the public half to the clients file and prints
    /// `{"client_id", "client_secret", "user_id"}` as JSON.
    Credentials(CredentialsArgs),
    /// Mint a signed OIDC token (EdDSA JWT) as a CI system would issue it, and print it. Signed
    /// with the issuer's test key (which `serve --oidc-issuer URL` trusts), or with --key-file.
    OidcToken(OidcTokenArgs),
    /// Print the public JWKS of the issuer's test key, or of --key-file's key.
    OidcJwks(OidcJwksArgs),
}

#[derive(Debug, Args)]
pub struct OidcTokenArgs {
    /// The token's `iss`, e.g. https://token.actions.githubusercontent.com.
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    /// The token's `aud`: the audience the C1 client's federation expects.
    #[arg(long, value_name = "AUD")]
    pub audience: String,
    /// The token's `sub`, e.g. repo:acme/infra:ref:refs/heads/main.
    #[arg(long, value_name = "SUB")]
    pub subject: String,
    /// Seconds until `exp`; negative for a token that has already expired.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LIFETIME_SECS, allow_negative_numbers = true)]
    pub expires_in: i64,
    /// Sign with the Ed25519 private JWK in this file (made when missing) instead of the
    /// issuer's test key.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct OidcJwksArgs {
    /// The issuer whose test key to print.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// The Ed25519 private JWK file whose public half to print.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. The admin API (/_sim) only answers loopback clients.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free port (see the first stdout line or --addr-file).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Write the base URL (e.g. http://127.0.0.1:41234) to this file once listening.
    #[arg(long, value_name = "FILE")]
    pub addr_file: Option<PathBuf>,
    /// PEM certificate (chain) to serve HTTPS with; needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// JSON file of trusted clients (public halves), as written by `c1-sim credentials`.
    /// Re-read whenever a token request names an unknown client.
    #[arg(long, value_name = "FILE")]
    pub clients: Option<PathBuf>,
    /// Persist apps, connectors and clients to this JSON file on every change; loaded at start.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub token_ttl: u64,
    /// How long a connector sync stays SYNC_STATUS_RUNNING before DONE or ERROR, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub sync_delay_ms: u64,
    /// Comma-separated app ids to create at start, each `id` or `id=Display Name` (kept if they
    /// already exist).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub seed_apps: Vec<String>,
    /// Comma-separated display names of apps to create at start as C1 discovers them through
    /// the identity provider (SSO): unmanaged, under a directory app "Okta" (kept if they exist).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub seed_discovered_apps: Vec<String>,
    /// Also accept this fixed bearer token (caller `static-token`), for quick manual use.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "C1_SIM_STATIC_TOKEN",
        hide_env_values = true
    )]
    pub static_token: Option<String>,
    /// Fault: add this much latency to every /api/ and /auth/ call, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Fault: every Nth /api/ or /auth/ call answers 429 with Retry-After (0 = never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fail_429_every: u64,
    /// Retry-After of injected 429 answers, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    pub retry_after: u64,
    /// Fault: every Nth /api/ or /auth/ call answers --fail-status (0 = never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fail_5xx_every: u64,
    /// HTTP status (500-599) of injected server errors.
    #[arg(long, value_name = "STATUS", default_value_t = 503)]
    pub fail_status: u16,
    /// Injected server errors take these statuses (500-599) in turn, e.g. 500,502,503,504
    /// (instead of --fail-status).
    #[arg(long, value_name = "STATUSES", value_delimiter = ',')]
    pub fail_statuses: Vec<u16>,
    /// Fault: every Nth /api/ or /auth/ call has its connection closed without an answer (0 = never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub drop_every: u64,
    /// Restrict the faults above to calls whose path contains this string.
    #[arg(long, value_name = "TEXT")]
    pub fault_path_contains: Option<String>,
    /// Restrict the faults above to calls with this HTTP method.
    #[arg(long, value_name = "METHOD")]
    pub fault_method: Option<String>,
    /// Fault: the 5xx and dropped-connection faults strike after the call was carried out (C1
    /// acted but the answer is lost), as when a create's outcome is unknown to the client
    #[arg(long)]
    pub fault_after_handling: bool,
    /// Fault: with --fault-after-handling, a struck call is answered with its fault at once and
    /// carried out this many milliseconds later (a create that lands late; 0 = at once).
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 0,
        requires = "fault_after_handling"
    )]
    pub fault_land_late_ms: u64,
    /// A setting value that the simulated connectors reject: a sync with it ends in
    /// SYNC_STATUS_ERROR. Repeatable.
    #[arg(long = "bad-credential", value_name = "VALUE")]
    pub bad_credentials: Vec<String>,
    /// Trust this OIDC issuer's tokens for token exchange (workload identity), for any known
    /// client the request names: `URL` (signed with its test key, as `c1-sim oidc-token` signs)
    /// or `URL=JWKS_FILE` (a JWKS of Ed25519 keys, or one JWK). Repeatable; needs --oidc-audience.
    #[arg(
        long = "oidc-issuer",
        value_name = "URL[=JWKS_FILE]",
        requires = "oidc_audience"
    )]
    pub oidc_issuers: Vec<String>,
    /// The audience (`aud`) tokens of the --oidc-issuer issuers must carry.
    #[arg(long, value_name = "AUD")]
    pub oidc_audience: Option<String>,
    /// A JSON file of OIDC trusts: `[{"issuer", "audience", "jwks" | "jwks_file", "client_id",
    /// "subject"}]` (the body of POST /_sim/oidc/issuers, as a list).
    #[arg(long, value_name = "FILE")]
    pub oidc_trusts: Option<PathBuf>,
    /// Largest accepted request body, in bytes (larger ones answer 413).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
}

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// Clients file to add the public half to (created if missing).
    #[arg(long, value_name = "FILE")]
    pub clients: PathBuf,
    /// Name part of the client id (`<name>-<random>@<tenant>.conductor.one/pcc`).
    #[arg(long, default_value = "sim-client")]
    pub name: String,
    /// Tenant part of the client id.
    #[arg(long, default_value = "sim")]
    pub tenant: String,
}

impl ServeArgs {
    /// The OIDC trusts of --oidc-issuer, --oidc-audience and --oidc-trusts.
    pub fn oidc_trusts(&self) -> anyhow::Result<Vec<TrustSpec>> {
        use anyhow::Context as _;
        let mut trusts: Vec<TrustSpec> = self
            .oidc_issuers
            .iter()
            .map(|flag| {
                let (issuer, jwks_file) = match flag.split_once('=') {
                    Some((issuer, file)) => (issuer, Some(PathBuf::from(file))),
                    None => (flag.as_str(), None),
                };
                TrustSpec {
                    issuer: issuer.to_string(),
                    audience: self.oidc_audience.clone().unwrap_or_default(),
                    jwks: None,
                    jwks_file,
                    client_id: None,
                    subject: None,
                }
            })
            .collect();
        if let Some(path) = &self.oidc_trusts {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --oidc-trusts {}", path.display()))?;
            let listed: Vec<TrustSpec> = serde_json::from_str(&text).with_context(|| {
                format!("--oidc-trusts {} is not a list of trusts", path.display())
            })?;
            trusts.extend(listed);
        }
        Ok(trusts)
    }

    pub fn to_options(&self) -> ServeOptions {
        ServeOptions {
            bind: self.bind,
            port: self.port,
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            },
            clients_file: self.clients.clone(),
            state_file: self.state.clone(),
            token_ttl: Duration::from_secs(self.token_ttl),
            sync_delay: Duration::from_millis(self.sync_delay_ms),
            seed_apps: self
                .seed_apps
                .iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            seed_discovered_apps: self
                .seed_discovered_apps
                .iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            static_token: self.static_token.clone(),
            faults: FaultConfig {
                latency_ms: self.latency_ms,
                fail_429_every: self.fail_429_every,
                retry_after_secs: self.retry_after,
                fail_5xx_every: self.fail_5xx_every,
                fail_status: self.fail_status,
                fail_statuses: self.fail_statuses.clone(),
                drop_every: self.drop_every,
                path_contains: self.fault_path_contains.clone(),
                method: self.fault_method.clone(),
                after_handling: self.fault_after_handling,
                land_late_ms: self.fault_land_late_ms,
            },
            bad_credentials: self.bad_credentials.clone(),
            max_body_bytes: self.max_body_bytes,
            catalog: Catalog::shipped(),
            oidc_trusts: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
