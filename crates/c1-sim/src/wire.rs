//! The C1 wire form of the tenant's records: apps and connectors as the API returns them (secret
//! settings left out), the admin view of a connector, and the `config` envelope settings travel in.

use std::collections::BTreeMap;

use c1_contract::ENV_CONFIG_TYPE;
use serde_json::{json, Value};

use crate::catalog::{Catalog, CatalogEntry};
use crate::clock;
use crate::domain::{AppRecord, ConnectorRecord, SyncRun};
use crate::error::ApiError;

/// Placeholder shown instead of secret setting values by the admin state view.
pub const REDACTED: &str = "REDACTED";

/// The app as the API returns it (`c1.api.app.v1.App`: the fields the simulator models; the
/// policy ids are empty, as it models no policies; `userCount` is an int64, a string in JSON).
pub fn app_json(app: &AppRecord) -> Value {
    let d = &app.details;
    json!({
        "id": app.id,
        "displayName": app.display_name,
        "description": app.description,
        "createdAt": clock::rfc3339_secs(app.created_ms),
        "updatedAt": clock::rfc3339_secs(app.updated_ms),
        "deletedAt": null,
        "isDirectory": d.is_directory,
        "isManuallyManaged": d.is_manually_managed,
        "parentAppId": d.parent_app_id,
        "appAccountId": d.app_account_id,
        "appAccountName": d.app_account_name,
        "monthlyCostUsd": d.monthly_cost_usd,
        "identityMatching": d.identity_matching,
        "instructions": d.instructions,
        "iconUrl": d.icon_url,
        "logoUri": d.icon_url,
        "defaultRequestCatalogId": d.default_request_catalog_id,
        "userCount": d.user_count.to_string(),
        "grantPolicyId": "",
        "revokePolicyId": "",
        "certifyPolicyId": "",
    })
}

/// The connector as the API returns it (secret settings left out).
pub fn connector_json(connector: &ConnectorRecord, catalog: &Catalog) -> Value {
    let entry = catalog.lookup(&connector.catalog_id);
    json!({
        "id": connector.id,
        "appId": connector.app_id,
        "catalogId": connector.catalog_id,
        "displayName": connector.display_name,
        "description": connector.description,
        "userIds": connector.user_ids,
        "config": connector.settings.as_ref().map(|s| public_env_config(entry, s)),
        "createdAt": clock::rfc3339_secs(connector.created_ms),
        "updatedAt": clock::rfc3339_secs(connector.updated_ms),
        "configUpdatedAt": connector.config_updated_ms.map(clock::rfc3339_secs),
        "deletedAt": connector.deleted_ms.map(clock::rfc3339_secs),
        "status": status_json(connector.sync.as_ref(), connector.sync_disabled, clock::now_ms()),
    })
}

/// `{"connectorView": {"connector": ...}, "expanded": []}`, the answer of creates, gets and updates.
pub fn connector_view(connector: &ConnectorRecord, catalog: &Catalog) -> Value {
    json!({ "connectorView": { "connector": connector_json(connector, catalog) }, "expanded": [] })
}

/// The API view plus every setting key, with secret values redacted (for `/_sim/state`).
pub fn admin_connector_json(connector: &ConnectorRecord, catalog: &Catalog) -> Value {
    let entry = catalog.lookup(&connector.catalog_id);
    let mut value = connector_json(connector, catalog);
    value["settings"] = match &connector.settings {
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

/// The settings of `entry` parsed from a connector's `config` envelope
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

/// The connector's `status` (`c1.api.app.v1.ConnectorStatus`): the last sync run as it stands at
/// `now_ms`; `SYNC_STATUS_DISABLED` (with that run's times) when syncs are disabled.
fn status_json(sync: Option<&SyncRun>, disabled: bool, now_ms: i64) -> Value {
    let Some(run) = sync else {
        let status = if disabled {
            "SYNC_STATUS_DISABLED"
        } else {
            "SYNC_STATUS_UNSPECIFIED"
        };
        return json!({ "status": status });
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
        "status": match (disabled, &run.error) {
            (true, _) => "SYNC_STATUS_DISABLED",
            (false, Some(_)) => "SYNC_STATUS_ERROR",
            (false, None) => "SYNC_STATUS_DONE",
        },
        "startedAt": started,
        "completedAt": completed,
        "updatedAt": completed,
    });
    if let Some(error) = &run.error {
        status["lastError"] = json!(error);
    }
    status
}
