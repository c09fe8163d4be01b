//! Starting the simulator: its options, the router (C1 API, token endpoint and admin API behind
//! the gate), and the accept loop serving HTTP or HTTPS per connection.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::routing::post;
use axum::Router;
use c1_contract::token_endpoint;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::admin::{self, ADMIN_PREFIX};
use crate::api;
use crate::auth::TokenStore;
use crate::catalog::Catalog;
use crate::connection::ConnectionInfo;
use crate::credential_api;
use crate::credentials::{self, CredentialsError, MintedCredentials};
use crate::faults::{FaultConfig, FaultState};
use crate::gate::gate;
use crate::oidc::{TrustError, TrustSpec, TrustedIssuer};
use crate::state::{self, RuntimeConfig, SimState, Simulator, StateFileError};
use crate::token;

/// Largest request body accepted (larger ones answer 413).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The directory (identity provider) app that discovers the `seed_discovered_apps`.
pub const SEED_DIRECTORY: &str = "Okta";

/// Everything `c1-sim serve` can be told.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    pub tls: Option<TlsFiles>,
    pub clients_file: Option<PathBuf>,
    pub state_file: Option<PathBuf>,
    pub token_ttl: Duration,
    pub sync_delay: Duration,
    /// Apps to create at start: `id`, or `id=Display Name` (the name defaults to the id).
    pub seed_apps: Vec<String>,
    /// Display names of apps to create at start as C1 discovers them through the identity
    /// provider (SSO): unmanaged, under a directory app (kept if they already exist).
    pub seed_discovered_apps: Vec<String>,
    pub static_token: Option<String>,
    pub faults: FaultConfig,
    pub bad_credentials: Vec<String>,
    pub max_body_bytes: usize,
    /// The connector catalog: by default the integrations the provider ships.
    pub catalog: Catalog,
    /// OIDC issuers to trust from the start (workload identity).
    pub oidc_trusts: Vec<TrustSpec>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            tls: None,
            clients_file: None,
            state_file: None,
            token_ttl: Duration::from_secs(3600),
            sync_delay: Duration::from_millis(1000),
            seed_apps: Vec::new(),
            seed_discovered_apps: Vec::new(),
            static_token: None,
            faults: FaultConfig::default(),
            bad_credentials: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            catalog: Catalog::shipped(),
            oidc_trusts: Vec::new(),
        }
    }
}

/// PEM files of the server certificate (chain) and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read TLS file {path}: {source}")]
    TlsRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS file {path} holds no {what}")]
    TlsMissing { path: PathBuf, what: &'static str },
    #[error("invalid TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    StateFile(#[from] StateFileError),
    #[error(transparent)]
    Clients(#[from] CredentialsError),
    #[error("cannot trust OIDC issuer {issuer}: {source}")]
    OidcTrust { issuer: String, source: TrustError },
    #[error("cannot seed app {id}: {message}")]
    Seed { id: String, message: String },
}

/// A running simulator. Dropping it stops the server.
pub struct Server {
    addr: SocketAddr,
    base_url: String,
    sim: Arc<Simulator>,
    shutdown: watch::Sender<bool>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds, loads state, and starts serving in the background on the current tokio runtime.
    pub async fn start(options: ServeOptions) -> Result<Server, ServerError> {
        let tls = options.tls.as_ref().map(load_tls).transpose()?;
        let mut state = match &options.state_file {
            Some(path) => state::load_snapshot(path)?
                .map(SimState::from_snapshot)
                .unwrap_or_default(),
            None => SimState::default(),
        };
        if let Some(path) = &options.clients_file {
            state
                .control
                .merge_clients(credentials::read_clients_file(path)?);
        }
        for seed in options.seed_apps.iter().filter(|id| !id.is_empty()) {
            // `id` or `id=Display Name`.
            let (id, name) = seed.split_once('=').unwrap_or((seed, seed));
            let (id, name) = (id.trim().to_owned(), name.trim().to_owned());
            if state.tenant.app(&id).is_err() {
                state
                    .tenant
                    .create_app(Some(id.clone()), name, String::new())
                    .map_err(|err| ServerError::Seed {
                        id: id.clone(),
                        message: err.message,
                    })?;
            }
        }
        for spec in &options.oidc_trusts {
            let issuer = spec.issuer.clone();
            let trust = spec
                .clone()
                .resolve()
                .map_err(|source| ServerError::OidcTrust { issuer, source })?;
            state.control.trust_issuer(trust);
        }
        for name in options
            .seed_discovered_apps
            .iter()
            .filter(|n| !n.is_empty())
        {
            state
                .tenant
                .seed_discovered_app(name, SEED_DIRECTORY)
                .map_err(|err| ServerError::Seed {
                    id: name.clone(),
                    message: err.message,
                })?;
        }
        state.tenant.bad_credentials = options.bad_credentials.iter().cloned().collect();
        state.control.tokens = TokenStore::new(options.static_token.clone());
        state.control.faults = FaultState::new(options.faults.clone());

        let requested = SocketAddr::new(options.bind, options.port);
        let listener = TcpListener::bind(requested)
            .await
            .map_err(|source| ServerError::Bind {
                addr: requested,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: requested,
            source,
        })?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");

        let sim = Arc::new(Simulator::new(
            RuntimeConfig {
                token_ttl: options.token_ttl,
                sync_delay: options.sync_delay,
                clients_file: options.clients_file.clone(),
                state_file: options.state_file.clone(),
                max_body_bytes: options.max_body_bytes,
                catalog: options.catalog.clone(),
                bind_host: options.bind.to_string(),
            },
            state,
        ));
        {
            let state = sim.lock();
            if let Err(err) = sim.persist(&state) {
                tracing::warn!(%err, "cannot write the state file");
            }
        }
        let router = build_router(sim.clone());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let accept_task = tokio::spawn(accept_loop(listener, tls, router, shutdown_rx));
        tracing::info!(%base_url, "c1-sim listening");
        Ok(Server {
            addr,
            base_url,
            sim,
            shutdown,
            accept_task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (or `https://...`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Mints a client the simulator trusts (like `POST /_sim/clients`).
    pub fn mint_client(&self, name: &str) -> MintedCredentials {
        let (record, minted) = credentials::mint(name, "sim");
        let mut state = self.sim.lock();
        state.control.merge_clients(vec![record]);
        let _ = self.sim.persist(&state);
        minted
    }

    /// Trusts an OIDC issuer (like `POST /_sim/oidc/issuers`).
    pub fn trust_issuer(&self, trust: TrustedIssuer) {
        let mut state = self.sim.lock();
        state.control.trust_issuer(trust);
        let _ = self.sim.persist(&state);
    }

    /// Stops accepting and closes open connections.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let handle = &self.accept_task;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while !handle.is_finished() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

fn load_tls(files: &TlsFiles) -> Result<TlsAcceptor, ServerError> {
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|source| ServerError::TlsRead {
            path: path.clone(),
            source,
        })
    };
    let cert_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|source| ServerError::TlsRead {
            path: files.cert.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(ServerError::TlsMissing {
            path: files.cert.clone(),
            what: "certificate",
        });
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|source| ServerError::TlsRead {
            path: files.key.clone(),
            source,
        })?
        .ok_or_else(|| ServerError::TlsMissing {
            path: files.key.clone(),
            what: "private key",
        })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The whole HTTP surface: C1 API, token endpoint, admin API, JSON 404/405 answers.
fn build_router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route(token_endpoint::PATH, post(token::token))
        .with_state(sim.clone())
        .merge(api::router(sim.clone()))
        .merge(credential_api::router(sim.clone()))
        .nest(ADMIN_PREFIX, admin::router(sim.clone()))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(sim, gate))
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, peer, tls.clone(), router.clone(), shutdown.clone()));
            }
            _ = shutdown.changed() => break,
        }
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let kill = Arc::new(Notify::new());
    let info = ConnectionInfo {
        peer,
        kill: kill.clone(),
    };
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(info.clone());
        router.clone().oneshot(request.map(Body::new))
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    match tls {
        None => {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(err) = result { tracing::debug!(%err, %peer, "connection ended with an error"); }
                }
                _ = kill.notified() => tracing::debug!(%peer, "connection dropped (injected fault)"),
                _ = shutdown.changed() => {}
            }
        }
        Some(acceptor) => {
            let stream = tokio::select! {
                accepted = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)) => match accepted {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(err)) => { tracing::debug!(%err, %peer, "TLS handshake failed"); return; }
                    Err(_) => return,
                },
                _ = shutdown.changed() => return,
            };
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(err) = result { tracing::debug!(%err, %peer, "connection ended with an error"); }
                }
                _ = kill.notified() => tracing::debug!(%peer, "connection dropped (injected fault)"),
                _ = shutdown.changed() => {}
            }
        }
    }
}
