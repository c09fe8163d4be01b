//! The running simulator's state: its fixed configuration, and the tenant and control plane
//! behind one lock, persisted to the state file (apps, connectors, clients, trusted OIDC
//! issuers) after each change.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::FromRef;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::connector_credentials::CredentialRecord;
use crate::control::ControlPlane;
use crate::credentials::{self, ClientRecord, CredentialsError};
use crate::domain::{AppRecord, ConnectorRecord, Tenant};
use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::files;
use crate::oidc::TrustedIssuer;

/// Settings of the simulator that do not change while it runs.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub token_ttl: Duration,
    pub sync_delay: Duration,
    pub clients_file: Option<PathBuf>,
    pub state_file: Option<PathBuf>,
    pub max_body_bytes: usize,
    /// The catalog entries connectors can be created of.
    pub catalog: Catalog,
    /// The address the server listens on, for assertion audiences.
    pub bind_host: String,
}

/// Everything that changes while the simulator runs.
#[derive(Debug, Default)]
pub struct SimState {
    pub tenant: Tenant,
    pub control: ControlPlane,
}

/// The shared simulator: its fixed configuration and its mutable state behind one lock.
#[derive(Debug)]
pub struct Simulator {
    pub config: RuntimeConfig,
    state: Mutex<SimState>,
}

impl FromRef<Arc<Simulator>> for BodyLimit {
    fn from_ref(sim: &Arc<Simulator>) -> Self {
        BodyLimit(sim.config.max_body_bytes)
    }
}

impl Simulator {
    pub fn new(config: RuntimeConfig, state: SimState) -> Self {
        Self {
            config,
            state: Mutex::new(state),
        }
    }

    /// Locks the state (a poisoned lock is recovered: every mutation leaves the state consistent).
    pub fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes the state file, if there is one. Called with the lock held, after each mutation.
    pub fn persist(&self, state: &SimState) -> Result<(), ApiError> {
        let Some(path) = &self.config.state_file else {
            return Ok(());
        };
        save_snapshot(path, &Snapshot::of(state)).map_err(|err| {
            tracing::error!(%err, "persisting state failed");
            ApiError::internal("cannot persist simulator state")
        })
    }

    /// Reads the clients file into the state; used when an unknown client asks for a token.
    pub fn reload_clients(&self) -> Result<usize, CredentialsError> {
        let Some(path) = &self.config.clients_file else {
            return Ok(0);
        };
        let clients = credentials::read_clients_file(path)?;
        let mut state = self.lock();
        let added = state.control.merge_clients(clients);
        if added > 0 {
            let _ = self.persist(&state);
        }
        Ok(added)
    }
}

/// What the state file holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    pub apps: Vec<AppRecord>,
    pub connectors: Vec<ConnectorRecord>,
    pub clients: Vec<ClientRecord>,
    pub trusted_issuers: Vec<TrustedIssuer>,
    pub next_seq: u64,
    /// Connector credentials (public halves only).
    pub credentials: Vec<CredentialRecord>,
}

impl Snapshot {
    fn of(state: &SimState) -> Self {
        Snapshot {
            apps: state.tenant.apps.clone(),
            connectors: state.tenant.connectors.clone(),
            clients: state.control.clients.clone(),
            trusted_issuers: state.control.trusted_issuers.clone(),
            next_seq: state.tenant.next_seq,
            credentials: state.tenant.credentials.clone(),
        }
    }
}

impl SimState {
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        Self {
            tenant: Tenant {
                apps: snapshot.apps,
                connectors: snapshot.connectors,
                next_seq: snapshot.next_seq,
                credentials: snapshot.credentials,
                ..Tenant::default()
            },
            control: ControlPlane {
                clients: snapshot.clients,
                trusted_issuers: snapshot.trusted_issuers,
                ..ControlPlane::default()
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error("cannot read state file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state file {path} is not a simulator state: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The state file's snapshot; `None` when there is no file yet.
pub fn load_snapshot(path: &Path) -> Result<Option<Snapshot>, StateFileError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateFileError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| StateFileError::Parse {
            path: path.to_owned(),
            source,
        })
}

fn save_snapshot(path: &Path, snapshot: &Snapshot) -> Result<(), StateFileError> {
    let text = serde_json::to_vec_pretty(snapshot).expect("snapshot serialises");
    files::write_atomically(path, &text).map_err(|source| StateFileError::Write {
        path: path.to_owned(),
        source,
    })
}
