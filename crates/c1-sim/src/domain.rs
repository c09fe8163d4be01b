//! The simulated C1 tenant: apps, connectors and their sync runs, with the rules C1 applies to
//! them. The wire form of these records is `wire`'s; persisting them is `state`'s.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogEntry};
use crate::clock;
use crate::connector_credentials::CredentialRecord;
use crate::error::ApiError;
use crate::ids;

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

/// What a create says about the new connector.
#[derive(Debug, Default)]
pub struct NewConnector {
    /// Empty or absent: the catalog entry's display name.
    pub display_name: Option<String>,
    pub description: String,
    /// Absent or empty: the caller's user.
    pub user_ids: Option<Vec<String>>,
    /// `None`: a delegated connector, not configured yet.
    pub settings: Option<BTreeMap<String, String>>,
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

/// The tenant's apps and connectors.
#[derive(Debug, Default)]
pub struct Tenant {
    pub apps: Vec<AppRecord>,
    pub connectors: Vec<ConnectorRecord>,
    /// The last connector sequence number handed out.
    pub next_seq: u64,
    /// Connector credentials, revoked ones included (`connector_credentials`).
    pub credentials: Vec<CredentialRecord>,
    /// Setting values the simulated services reject: a sync started with one of them ends in
    /// `SYNC_STATUS_ERROR` (set through the admin API; not persisted).
    pub bad_credentials: BTreeSet<String>,
}

impl Tenant {
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
        self.credentials.retain(|c| c.app_id != app_id);
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
    fn start_sync(
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

    /// Creates a connector of `entry` in an app; one with settings starts syncing.
    pub fn create_connector(
        &mut self,
        app_id: &str,
        entry: &CatalogEntry,
        new: NewConnector,
        default_owner: &str,
        sync_delay: Duration,
    ) -> Result<ConnectorRecord, ApiError> {
        self.app(app_id)?;
        let now = clock::now_ms();
        let sync = new
            .settings
            .as_ref()
            .map(|s| self.start_sync(entry, s, sync_delay));
        self.next_seq += 1;
        let connector = ConnectorRecord {
            seq: self.next_seq,
            id: ids::new_object_id(),
            app_id: app_id.to_owned(),
            catalog_id: entry.catalog_id.to_owned(),
            display_name: new
                .display_name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| entry.display_name.to_owned()),
            description: new.description,
            user_ids: owners_or_default(new.user_ids, default_owner),
            config_updated_ms: new.settings.as_ref().map(|_| now),
            settings: new.settings,
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
        default_owner: &str,
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
        // A connector's credentials end with it.
        self.credentials
            .retain(|c| !(c.app_id == app_id && c.connector_id == id));
        Ok(())
    }
}

fn owners_or_default(user_ids: Option<Vec<String>>, default_owner: &str) -> Vec<String> {
    match user_ids {
        Some(ids) if !ids.is_empty() => ids,
        _ => vec![default_owner.to_owned()],
    }
}
