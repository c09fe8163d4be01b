//! The simulated C1 tenant: apps, connectors, clients and their rules, held in memory and
//! optionally persisted to a state file on every mutation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use c1_contract::ENV_CONFIG_TYPE;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::{Caller, TokenStore};
use crate::catalog::{Catalog, CatalogEntry};
use crate::clock;
use crate::credentials::{ClientRecord, CredentialsError};
use crate::error::ApiError;
use crate::faults::FaultState;
use crate::ids;
use crate::request_log::RequestLog;

/// Placeholder shown instead of secret setting values by the admin state view.
pub const REDACTED: &str = "REDACTED";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AppRecord {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A sync run started when a connector got (new) settings; its outcome is fixed when it starts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SyncRun {
    pub started_ms: i64,
    pub finishes_ms: i64,
    /// `Some` when the sync ends in `SYNC_STATUS_ERROR`.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConnectorRecord {
    /// Creation order, for listing and page tokens.
    pub seq: u64,
    pub id: String,
    pub app_id: String,
    pub catalog_id: String,
    pub display_name: String,
    pub description: String,
    pub user_ids: Vec<String>,
    /// All settings including secret values; `None` for a delegated connector not yet configured.
    pub settings: Option<BTreeMap<String, String>>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub config_updated_ms: Option<i64>,
    pub sync: Option<SyncRun>,
    /// Set while C1 is deleting the connector: reads show `deletedAt`, nothing else sees it.
    #[serde(default)]
    pub deleted_ms: Option<i64>,
}

/// What the state file holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    pub apps: Vec<AppRecord>,
    pub connectors: Vec<ConnectorRecord>,
    pub clients: Vec<ClientRecord>,
    pub next_seq: u64,
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
    pub apps: Vec<AppRecord>,
    pub connectors: Vec<ConnectorRecord>,
    pub clients: Vec<ClientRecord>,
    pub next_seq: u64,
    pub tokens: TokenStore,
    pub faults: FaultState,
    pub log: RequestLog,
    pub bad_credentials: BTreeSet<String>,
}

/// The shared simulator: its fixed configuration and its mutable state behind one lock.
#[derive(Debug)]
pub struct Simulator {
    pub config: RuntimeConfig,
    state: Mutex<SimState>,
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
        save_snapshot(path, &state.snapshot()).map_err(|err| {
            tracing::error!(%err, "persisting state failed");
            ApiError::internal("cannot persist simulator state")
        })
    }
}

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

pub fn save_snapshot(path: &Path, snapshot: &Snapshot) -> Result<(), StateFileError> {
    let text = serde_json::to_vec_pretty(snapshot).expect("snapshot serialises");
    crate::credentials::write_atomically(path, &text).map_err(|source| StateFileError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Fields a connector update may change, by update-mask path.
#[derive(Debug, Default)]
pub struct ConnectorChanges {
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// `Some(None)`: set to the default owner.
    pub user_ids: Option<Option<Vec<String>>>,
    /// `Some(None)`: remove the configuration.
    pub settings: Option<Option<BTreeMap<String, String>>>,
}

impl SimState {
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        Self {
            apps: snapshot.apps,
            connectors: snapshot.connectors,
            clients: snapshot.clients,
            next_seq: snapshot.next_seq,
            ..Self::default()
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            apps: self.apps.clone(),
            connectors: self.connectors.clone(),
            clients: self.clients.clone(),
            next_seq: self.next_seq,
        }
    }

    /// Adds clients not known yet; returns how many were new.
    pub fn merge_clients(&mut self, clients: Vec<ClientRecord>) -> usize {
        let mut added = 0;
        for client in clients {
            if !self.clients.iter().any(|c| c.client_id == client.client_id) {
                self.clients.push(client);
                added += 1;
            }
        }
        added
    }

    pub fn client(&self, client_id: &str) -> Option<&ClientRecord> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    pub fn app(&self, app_id: &str) -> Result<&AppRecord, ApiError> {
        self.apps
            .iter()
            .find(|a| a.id == app_id)
            .ok_or_else(|| ApiError::not_found(format!("app {app_id} not found")))
    }

    pub fn create_app(
        &mut self,
        id: Option<String>,
        display_name: String,
        description: String,
    ) -> Result<AppRecord, ApiError> {
        let id = match id {
            Some(id) if id.is_empty() => return Err(ApiError::invalid_argument("app id is empty")),
            Some(id) => id,
            None => ids::new_object_id(),
        };
        if self.apps.iter().any(|a| a.id == id) {
            return Err(ApiError::already_exists(format!("app {id} already exists")));
        }
        let now = clock::now_ms();
        let app = AppRecord {
            id,
            display_name,
            description,
            created_ms: now,
            updated_ms: now,
        };
        self.apps.push(app.clone());
        Ok(app)
    }

    /// Deletes an app and its connectors.
    pub fn delete_app(&mut self, app_id: &str) -> Result<(), ApiError> {
        self.app(app_id)?;
        self.apps.retain(|a| a.id != app_id);
        self.connectors.retain(|c| c.app_id != app_id);
        Ok(())
    }

    pub fn connector(&self, app_id: &str, id: &str) -> Result<&ConnectorRecord, ApiError> {
        self.app(app_id)?;
        self.connectors
            .iter()
            .find(|c| c.app_id == app_id && c.id == id)
            .ok_or_else(|| ApiError::not_found(format!("connector {id} not found")))
    }

    fn connector_mut(&mut self, app_id: &str, id: &str) -> Result<&mut ConnectorRecord, ApiError> {
        self.app(app_id)?;
        self.connectors
            .iter_mut()
            .find(|c| c.app_id == app_id && c.id == id && c.deleted_ms.is_none())
            .ok_or_else(|| ApiError::not_found(format!("connector {id} not found")))
    }

    /// Connectors of an app created after the one with sequence number `after_seq`, at most `limit`.
    /// Returns the page and whether more follow.
    pub fn list_connectors(
        &self,
        app_id: &str,
        after_seq: u64,
        limit: usize,
    ) -> Result<(Vec<&ConnectorRecord>, bool), ApiError> {
        self.app(app_id)?;
        let mut matching = self
            .connectors
            .iter()
            .filter(|c| c.app_id == app_id && c.seq > after_seq && c.deleted_ms.is_none());
        let page: Vec<&ConnectorRecord> = matching.by_ref().take(limit).collect();
        let more = matching.next().is_some();
        Ok((page, more))
    }

    /// Starts a sync of `settings`, deciding now whether it will fail.
    pub fn start_sync(
        &self,
        entry: &CatalogEntry,
        settings: &BTreeMap<String, String>,
        delay: Duration,
    ) -> SyncRun {
        let started_ms = clock::now_ms();
        let error = entry.sync_problem(settings).or_else(|| {
            settings
                .values()
                .any(|v| self.bad_credentials.contains(v))
                .then(|| {
                    format!(
                        "{}: authentication failed: the credentials were rejected (401 Unauthorized)",
                        entry.display_name
                    )
                })
        });
        SyncRun {
            started_ms,
            finishes_ms: started_ms + delay.as_millis() as i64,
            error,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn create_connector(
        &mut self,
        app_id: &str,
        entry: &CatalogEntry,
        display_name: Option<String>,
        description: String,
        user_ids: Option<Vec<String>>,
        settings: Option<BTreeMap<String, String>>,
        caller: &Caller,
        sync_delay: Duration,
    ) -> Result<ConnectorRecord, ApiError> {
        self.app(app_id)?;
        let now = clock::now_ms();
        let sync = settings
            .as_ref()
            .map(|s| self.start_sync(entry, s, sync_delay));
        self.next_seq += 1;
        let connector = ConnectorRecord {
            seq: self.next_seq,
            id: ids::new_object_id(),
            app_id: app_id.to_owned(),
            catalog_id: entry.catalog_id.to_owned(),
            display_name: display_name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| entry.display_name.to_owned()),
            description,
            user_ids: owners_or_default(user_ids, caller),
            config_updated_ms: settings.as_ref().map(|_| now),
            settings,
            created_ms: now,
            updated_ms: now,
            sync,
            deleted_ms: None,
        };
        self.connectors.push(connector.clone());
        Ok(connector)
    }

    /// Applies `changes` to a connector; new settings start a new sync.
    pub fn update_connector(
        &mut self,
        app_id: &str,
        id: &str,
        changes: ConnectorChanges,
        default_owner: &Caller,
        catalog: &Catalog,
        sync_delay: Duration,
    ) -> Result<ConnectorRecord, ApiError> {
        let catalog_id = self.connector(app_id, id)?.catalog_id.clone();
        let entry = catalog
            .lookup(&catalog_id)
            .ok_or_else(|| ApiError::internal("connector of an unknown catalog entry"))?;
        let sync = match &changes.settings {
            Some(Some(settings)) => Some(Some(self.start_sync(entry, settings, sync_delay))),
            Some(None) => Some(None),
            None => None,
        };
        let connector = self.connector_mut(app_id, id)?;
        if let Some(name) = changes.display_name {
            connector.display_name = name;
        }
        if let Some(description) = changes.description {
            connector.description = description;
        }
        if let Some(user_ids) = changes.user_ids {
            connector.user_ids = owners_or_default(user_ids, default_owner);
        }
        connector.updated_ms = clock::bumped_after(connector.updated_ms);
        if let Some(settings) = changes.settings {
            connector.settings = settings;
            connector.config_updated_ms = Some(connector.updated_ms);
        }
        if let Some(sync) = sync {
            connector.sync = sync;
        }
        Ok(connector.clone())
    }

    /// Marks a connector as being deleted (as C1 does before it is gone): reads still find it,
    /// with `deletedAt` set; lists, updates and the rest do not.
    pub fn begin_deleting_connector(&mut self, app_id: &str, id: &str) -> Result<(), ApiError> {
        self.connector_mut(app_id, id)?.deleted_ms = Some(clock::now_ms());
        Ok(())
    }

    pub fn delete_connector(&mut self, app_id: &str, id: &str) -> Result<(), ApiError> {
        self.connector(app_id, id)?;
        self.connectors
            .retain(|c| !(c.app_id == app_id && c.id == id));
        Ok(())
    }
}

fn owners_or_default(user_ids: Option<Vec<String>>, caller: &Caller) -> Vec<String> {
    match user_ids {
        Some(ids) if !ids.is_empty() => ids,
        _ => vec![caller.user_id.clone()],
    }
}

/// The settings of `catalog_id` parsed from a connector's `config` envelope
/// (`{"@type": EnvConfig, "configuration": {"key": {"stringValue": "v"}}}`).
pub fn parse_env_config(
    config: &Value,
    entry: &CatalogEntry,
) -> Result<BTreeMap<String, String>, ApiError> {
    let object = config
        .as_object()
        .ok_or_else(|| ApiError::invalid_argument("config must be an object"))?;
    match object.get("@type").and_then(Value::as_str) {
        Some(ENV_CONFIG_TYPE) => {}
        Some(other) => {
            return Err(ApiError::invalid_argument(format!(
                "config: unsupported @type {other:?}, expected {ENV_CONFIG_TYPE:?}"
            )))
        }
        None => return Err(ApiError::invalid_argument("config: missing @type")),
    }
    if let Some(key) = object
        .keys()
        .find(|k| k.as_str() != "@type" && k.as_str() != "configuration")
    {
        return Err(ApiError::invalid_argument(format!(
            "config: unknown field {key:?} in EnvConfig"
        )));
    }
    let mut settings = BTreeMap::new();
    match object.get("configuration") {
        None | Some(Value::Null) => {}
        Some(Value::Object(configuration)) => {
            for (key, value) in configuration {
                let string_value = value
                    .as_object()
                    .filter(|v| v.len() == 1)
                    .and_then(|v| v.get("stringValue"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        ApiError::invalid_argument(format!(
                            "config.configuration.{key}: expected {{\"stringValue\": <string>}}"
                        ))
                    })?;
                settings.insert(key.clone(), string_value.to_owned());
            }
        }
        Some(_) => {
            return Err(ApiError::invalid_argument(
                "config.configuration must be an object",
            ))
        }
    }
    let unknown = entry.unknown_keys(&settings);
    if !unknown.is_empty() {
        return Err(ApiError::invalid_argument(format!(
            "config: unknown settings for {} connector: {}",
            entry.display_name,
            unknown.join(", ")
        )));
    }
    Ok(settings)
}

/// The `config` envelope as reads return it: only non-secret settings.
fn public_env_config(entry: Option<&CatalogEntry>, settings: &BTreeMap<String, String>) -> Value {
    let configuration: serde_json::Map<String, Value> = settings
        .iter()
        .filter(|(key, _)| entry.is_some_and(|e| !e.is_secret(key)))
        .map(|(key, value)| (key.clone(), json!({ "stringValue": value })))
        .collect();
    json!({ "@type": ENV_CONFIG_TYPE, "configuration": configuration })
}

fn status_json(sync: Option<&SyncRun>, now_ms: i64) -> Value {
    let Some(run) = sync else {
        return json!({ "status": "SYNC_STATUS_UNSPECIFIED" });
    };
    let started = clock::rfc3339_secs(run.started_ms);
    if now_ms < run.finishes_ms {
        return json!({
            "status": "SYNC_STATUS_RUNNING",
            "startedAt": started,
            "completedAt": null,
            "updatedAt": started,
        });
    }
    let completed = clock::rfc3339_secs(run.finishes_ms);
    let mut status = json!({
        "status": if run.error.is_some() { "SYNC_STATUS_ERROR" } else { "SYNC_STATUS_DONE" },
        "startedAt": started,
        "completedAt": completed,
        "updatedAt": completed,
    });
    if let Some(error) = &run.error {
        status["lastError"] = json!(error);
    }
    status
}

impl ConnectorRecord {
    /// The connector as the API returns it (secret settings left out).
    pub fn to_api_json(&self, catalog: &Catalog) -> Value {
        let entry = catalog.lookup(&self.catalog_id);
        json!({
            "id": self.id,
            "appId": self.app_id,
            "catalogId": self.catalog_id,
            "displayName": self.display_name,
            "description": self.description,
            "userIds": self.user_ids,
            "config": self.settings.as_ref().map(|s| public_env_config(entry, s)),
            "createdAt": clock::rfc3339_secs(self.created_ms),
            "updatedAt": clock::rfc3339_secs(self.updated_ms),
            "configUpdatedAt": self.config_updated_ms.map(clock::rfc3339_secs),
            "deletedAt": self.deleted_ms.map(clock::rfc3339_secs),
            "status": status_json(self.sync.as_ref(), clock::now_ms()),
        })
    }

    /// The API view plus every setting key, with secret values redacted (for `/_sim/state`).
    pub fn to_admin_json(&self, catalog: &Catalog) -> Value {
        let entry = catalog.lookup(&self.catalog_id);
        let mut value = self.to_api_json(catalog);
        value["settings"] = match &self.settings {
            None => Value::Null,
            Some(settings) => settings
                .iter()
                .map(|(key, v)| {
                    let shown = if entry.is_none_or(|e| e.is_secret(key)) {
                        REDACTED.to_owned()
                    } else {
                        v.clone()
                    };
                    (key.clone(), Value::String(shown))
                })
                .collect::<serde_json::Map<_, _>>()
                .into(),
        };
        value
    }
}

impl AppRecord {
    pub fn to_api_json(&self) -> Value {
        json!({
            "id": self.id,
            "displayName": self.display_name,
            "description": self.description,
            "createdAt": clock::rfc3339_secs(self.created_ms),
            "updatedAt": clock::rfc3339_secs(self.updated_ms),
            "deletedAt": null,
        })
    }
}

/// Reads the clients file into the state; used at start and when an unknown client asks for a token.
pub fn reload_clients(sim: &Simulator) -> Result<usize, CredentialsError> {
    let Some(path) = &sim.config.clients_file else {
        return Ok(0);
    };
    let clients = crate::credentials::read_clients_file(path)?;
    let mut state = sim.lock();
    let added = state.merge_clients(clients);
    if added > 0 {
        let _ = sim.persist(&state);
    }
    Ok(added)
}
