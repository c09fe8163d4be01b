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
    /// What C1 reports about the app beyond its name (read-only fields, and writable ones the
    /// simulator keeps but does not act on). Absent from older state files: the defaults.
    #[serde(default)]
    pub details: AppDetails,
}

/// The App fields besides id, names and timestamps (`c1.api.app.v1.App` in the contract).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct AppDetails {
    /// A directory (an identity provider such as Okta) whose users C1 matches to other apps.
    pub is_directory: bool,
    /// Created by hand (`POST /api/v1/apps`) rather than discovered through a directory.
    pub is_manually_managed: bool,
    /// The directory app that discovered this one (SSO), if any.
    pub parent_app_id: String,
    pub app_account_id: String,
    pub app_account_name: String,
    pub monthly_cost_usd: i32,
    /// `APP_USER_IDENTITY_MATCHING_*`.
    pub identity_matching: String,
    pub instructions: String,
    pub icon_url: String,
    pub default_request_catalog_id: String,
    pub user_count: i64,
}

impl Default for AppDetails {
    fn default() -> Self {
        Self {
            is_directory: false,
            is_manually_managed: true,
            parent_app_id: String::new(),
            app_account_id: String::new(),
            app_account_name: String::new(),
            monthly_cost_usd: 0,
            identity_matching: IDENTITY_MATCHING_STRICT.to_owned(),
            instructions: String::new(),
            icon_url: String::new(),
            default_request_catalog_id: String::new(),
            user_count: 0,
        }
    }
}

/// C1's default identity matching for a new app.
pub const IDENTITY_MATCHING_STRICT: &str = "APP_USER_IDENTITY_MATCHING_STRICT";

/// Fields an app update may change, by update-mask path.
#[derive(Debug, Default)]
pub struct AppChanges {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub instructions: Option<String>,
    pub monthly_cost_usd: Option<i32>,
}

/// What an app search asks for (`c1.api.app.v1.SearchAppsRequest`, paging aside).
#[derive(Debug, Default)]
pub struct AppSearch {
    /// Case-insensitive equality with the display name.
    pub display_name: Option<String>,
    /// Every word of it appears (case-insensitively) in the display name or the description.
    pub query: Option<String>,
    pub app_ids: Vec<String>,
    pub exclude_app_ids: Vec<String>,
    pub only_directories: bool,
    /// Policy ids: apps using any of them as grant, revoke or certify policy. The simulator
    /// models no policies, so a non-empty list matches nothing.
    pub policy_ids: Vec<String>,
}

impl AppSearch {
    pub fn matches(&self, app: &AppRecord) -> bool {
        let name = app.display_name.to_lowercase();
        let description = app.description.to_lowercase();
        let name_ok = self
            .display_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .is_none_or(|n| n.to_lowercase() == name);
        let query_ok = self.query.as_deref().is_none_or(|q| {
            q.split_whitespace()
                .map(str::to_lowercase)
                .all(|word| name.contains(&word) || description.contains(&word))
        });
        name_ok
            && query_ok
            && (self.app_ids.is_empty() || self.app_ids.contains(&app.id))
            && !self.exclude_app_ids.contains(&app.id)
            && (!self.only_directories || app.details.is_directory)
            && self.policy_ids.is_empty()
    }
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
    /// C1 runs no syncs of this connector (`SYNC_STATUS_DISABLED`); set through the admin API.
    #[serde(default)]
    pub sync_disabled: bool,
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
        self.create_app_with(id, display_name, description, AppDetails::default())
    }

    /// Creates an app with these details (a discovered app, a directory, ...).
    pub fn create_app_with(
        &mut self,
        id: Option<String>,
        display_name: String,
        description: String,
        details: AppDetails,
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
            details,
        };
        self.apps.push(app.clone());
        Ok(app)
    }

    /// Applies `changes` to an app; `updatedAt` moves by at least a second.
    pub fn update_app(&mut self, app_id: &str, changes: AppChanges) -> Result<AppRecord, ApiError> {
        if changes
            .display_name
            .as_deref()
            .is_some_and(|n| n.trim().is_empty())
        {
            return Err(ApiError::invalid_argument(
                "app.displayName must not be empty",
            ));
        }
        let app = self
            .apps
            .iter_mut()
            .find(|a| a.id == app_id)
            .ok_or_else(|| ApiError::not_found(format!("app {app_id} not found")))?;
        if let Some(name) = changes.display_name {
            app.display_name = name;
        }
        if let Some(description) = changes.description {
            app.description = description;
        }
        if let Some(instructions) = changes.instructions {
            app.details.instructions = instructions;
        }
        if let Some(cost) = changes.monthly_cost_usd {
            app.details.monthly_cost_usd = cost;
        }
        app.updated_ms = clock::bumped_after(app.updated_ms);
        Ok(app.clone())
    }

    /// The apps `search` matches, in creation order.
    pub fn search_apps<'a>(&'a self, search: &'a AppSearch) -> impl Iterator<Item = &'a AppRecord> {
        self.apps.iter().filter(|a| search.matches(a))
    }

    /// Creates, unless it exists, an app C1 discovered through the identity provider (SSO):
    /// not manually managed, its parent the directory app `directory` (created too if missing).
    /// Idempotent by display name.
    pub fn seed_discovered_app(
        &mut self,
        display_name: &str,
        directory: &str,
    ) -> Result<(), ApiError> {
        let directory_id = match self
            .apps
            .iter()
            .find(|a| a.details.is_directory && a.display_name == directory)
        {
            Some(app) => app.id.clone(),
            None => {
                self.create_app_with(
                    None,
                    directory.to_owned(),
                    format!("{directory}: the identity provider"),
                    AppDetails {
                        is_directory: true,
                        is_manually_managed: false,
                        app_account_name: "acme".to_owned(),
                        ..AppDetails::default()
                    },
                )?
                .id
            }
        };
        if self
            .apps
            .iter()
            .any(|a| a.display_name == display_name && !a.details.is_directory)
        {
            return Ok(());
        }
        self.create_app_with(
            None,
            display_name.to_owned(),
            format!("Discovered through {directory} (SSO)"),
            AppDetails {
                is_manually_managed: false,
                parent_app_id: directory_id,
                ..AppDetails::default()
            },
        )?;
        Ok(())
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

    /// Starts a sync of `settings` at `started_ms`, deciding now whether it will fail.
    fn start_sync(
        &self,
        entry: &CatalogEntry,
        settings: &BTreeMap<String, String>,
        delay: Duration,
        started_ms: i64,
    ) -> SyncRun {
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
        // The sync starts with the settings: its `startedAt` is their `configUpdatedAt`.
        let sync = new
            .settings
            .as_ref()
            .map(|s| self.start_sync(entry, s, sync_delay, now));
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
            sync_disabled: false,
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
        let updated_ms = clock::bumped_after(self.connector(app_id, id)?.updated_ms);
        // New settings start a sync when they take effect (`startedAt` = `configUpdatedAt`).
        let sync = match &changes.settings {
            Some(Some(settings)) => Some(Some(
                self.start_sync(entry, settings, sync_delay, updated_ms),
            )),
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
        connector.updated_ms = updated_ms;
        if let Some(settings) = changes.settings {
            connector.settings = settings;
            connector.config_updated_ms = Some(connector.updated_ms);
        }
        if let Some(sync) = sync {
            connector.sync = sync;
        }
        Ok(connector.clone())
    }

    /// Runs a sync of a connector's current settings now, as C1's schedule does (its outcome
    /// decided by the bad-credential values and the settings, unless `error` forces one), or,
    /// with `disabled`, stops its syncs (`SYNC_STATUS_DISABLED`). Settings and `updatedAt`
    /// stay as they are.
    pub fn sync_connector(
        &mut self,
        app_id: &str,
        id: &str,
        catalog: &Catalog,
        sync_delay: Duration,
        error: Option<String>,
        disabled: bool,
    ) -> Result<ConnectorRecord, ApiError> {
        let current = self.connector(app_id, id)?;
        let entry = catalog
            .lookup(&current.catalog_id)
            .ok_or_else(|| ApiError::internal("connector of an unknown catalog entry"))?;
        let Some(settings) = current.settings.clone() else {
            return Err(ApiError::invalid_argument(
                "a delegated connector without settings does not sync",
            ));
        };
        let mut run = self.start_sync(entry, &settings, sync_delay, clock::now_ms());
        if error.is_some() {
            run.error = error;
        }
        let connector = self.connector_mut(app_id, id)?;
        connector.sync_disabled = disabled;
        if !disabled {
            connector.sync = Some(run);
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
