//! The Terraform state of an integration resource, and its conversions to and from C1 connectors.

use std::collections::BTreeMap;

use c1_client::{Connector, ConnectorSettings, SyncStatus};
use c1_contract::integrations::SettingField;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use tf_provider::value::Value;

use super::timeouts::{self, Timeouts};

/// Attributes every integration resource has, plus its settings (flattened, one per field).
///
/// Attribute names and types are those of the official provider, so its states load unchanged.
#[derive(Serialize, Deserialize, Clone, Default, PartialEq)]
pub struct IntegrationState {
    pub id: Value<String>,
    pub app_id: Value<String>,
    pub user_ids: Value<Vec<Value<String>>>,
    pub created_at: Value<String>,
    pub updated_at: Value<String>,
    pub deleted_at: Value<String>,
    /// Where the connector's last sync stands ([`sync_status_name`]); computed, refreshed on
    /// every read. Absent from the official provider's states.
    #[serde(default)]
    pub sync_status: Value<String>,
    /// C1's `lastError` of the connector's sync; null when it reports none.
    #[serde(default)]
    pub sync_last_error: Value<String>,
    /// When the last sync ended (RFC 3339); null while none has.
    #[serde(default)]
    pub sync_completed_at: Value<String>,
    /// Wait, on create and on a settings update, for the first sync after the change (null:
    /// false).
    #[serde(default)]
    pub wait_for_sync: Value<bool>,
    /// The `timeouts` block; absent from the official provider's states (null: the defaults).
    #[serde(with = "timeouts::as_optional_block", default)]
    pub timeouts: Value<Timeouts>,
    #[serde(flatten)]
    pub settings: BTreeMap<String, Value<String>>,
}

/// Data kept in Terraform's private state: not shown to users, but needed for later calls.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct IntegrationPrivate {
    /// The connector's display name in C1, sent back with every owner update.
    pub display_name: String,
    /// Set when a create succeeded after tries whose outcome was unknown and the lookup for
    /// those that landed failed: the marker they carry, for the next read or destroy to delete
    /// them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreconciled_marker: Option<String>,
    /// Set when `wait_for_sync` failed: the settings that took effect at this time (C1's clock;
    /// empty when C1 gave none) have not synced, so the next plan applies them again (an update
    /// in place). Cleared once a read sees a sync since then finish without error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsynced_change: Option<String>,
}

impl IntegrationState {
    /// The settings that have a value, as C1 carries them.
    pub fn known_settings(&self) -> ConnectorSettings {
        ConnectorSettings(
            self.settings
                .iter()
                .filter_map(|(k, v)| v.as_ref_option().map(|v| (k.clone(), v.clone())))
                .collect(),
        )
    }

    /// The owners, when all of them are known.
    pub fn known_user_ids(&self) -> Option<Vec<String>> {
        let list = self.user_ids.as_ref_option()?;
        list.iter().map(|v| v.as_ref_option().cloned()).collect()
    }

    /// The owners to send to C1: none when unset or `[]` (C1 then picks its default, the
    /// calling user, at create, and keeps the current owners otherwise).
    pub fn explicit_user_ids(&self) -> Option<Vec<String>> {
        self.known_user_ids().filter(|ids| !ids.is_empty())
    }

    /// `user_ids = []`: the owners are not managed; the state keeps `[]` as written.
    pub fn owners_unmanaged(&self) -> bool {
        matches!(&self.user_ids, Value::Value(ids) if ids.is_empty())
    }

    /// Did any setting change between `self` (prior) and `other` (planned)?
    pub fn settings_differ(&self, other: &Self, fields: &[SettingField]) -> bool {
        fields
            .iter()
            .any(|f| self.settings.get(&f.name) != other.settings.get(&f.name))
    }

    /// Makes sure every setting has an entry (Terraform wants every attribute in an object).
    pub fn fill_settings(&mut self, fields: &[SettingField]) {
        for f in fields {
            self.settings.entry(f.name.clone()).or_insert(Value::Null);
        }
        self.settings
            .retain(|k, _| fields.iter().any(|f| &f.name == k));
    }

    /// Takes what C1 knows of the connector: ids, owners (unless they are not managed, see
    /// [`Self::owners_unmanaged`]), timestamps and (when `read_settings`) the non-secret settings
    /// it echoes back. Secret settings are left as they are.
    pub fn apply_connector(
        &mut self,
        connector: &Connector,
        fields: &[SettingField],
        read_settings: bool,
    ) {
        self.id = Value::Value(connector.id.clone());
        self.app_id = Value::Value(connector.app_id.clone());
        if !self.owners_unmanaged() {
            self.user_ids = Value::Value(
                connector
                    .user_ids
                    .iter()
                    .cloned()
                    .map(Value::Value)
                    .collect(),
            );
        }
        self.created_at = opt(&connector.created_at);
        self.updated_at = opt(&connector.updated_at);
        self.deleted_at = opt(&connector.deleted_at);
        if read_settings {
            for f in fields.iter().filter(|f| !f.secret) {
                let value = connector
                    .settings
                    .as_ref()
                    .and_then(|s| s.0.get(&f.name))
                    .cloned();
                self.settings
                    .insert(f.name.clone(), value.map_or(Value::Null, Value::Value));
            }
        }
        self.fill_settings(fields);
    }

    /// Takes the connector's sync as C1 reports it: `sync_status`, `sync_last_error`,
    /// `sync_completed_at`.
    pub fn apply_sync(&mut self, connector: &Connector) {
        let status = connector.status.as_ref();
        self.sync_status = Value::Value(sync_status_name(connector.sync_status()).to_string());
        self.sync_last_error = opt(&status.and_then(|s| s.last_error.clone()));
        self.sync_completed_at = opt(&status.and_then(|s| s.completed_at.clone()));
    }

    /// The sync attributes as unknown: a change about to be applied starts a new sync.
    pub fn unknown_sync(&mut self) {
        self.sync_status = Value::Unknown;
        self.sync_last_error = Value::Unknown;
        self.sync_completed_at = Value::Unknown;
    }

    /// The computed attributes no configuration may set, with their values.
    pub fn read_only_attributes(&self) -> [(&'static str, &Value<String>); 7] {
        [
            ("id", &self.id),
            ("created_at", &self.created_at),
            ("updated_at", &self.updated_at),
            ("deleted_at", &self.deleted_at),
            ("sync_status", &self.sync_status),
            ("sync_last_error", &self.sync_last_error),
            ("sync_completed_at", &self.sync_completed_at),
        ]
    }

    /// `wait_for_sync = true`.
    pub fn waits_for_sync(&self) -> bool {
        self.wait_for_sync.as_ref_option() == Some(&true)
    }

    /// The configuration as a JSON object for schema validation: known values only. The names
    /// of attributes whose value is unknown are returned beside it.
    pub fn to_validation_instance(&self) -> (Map<String, Json>, Vec<String>) {
        let mut instance = Map::new();
        let mut unknown = Vec::new();
        let mut put = |name: &str, value: &Value<String>| match value {
            Value::Value(v) => {
                instance.insert(name.to_string(), Json::String(v.clone()));
            }
            Value::Unknown => unknown.push(name.to_string()),
            Value::Null => {}
        };
        put("app_id", &self.app_id);
        for (name, value) in &self.settings {
            put(name, value);
        }
        match &self.user_ids {
            Value::Value(list) if list.iter().any(Value::is_unknown) => {
                unknown.push("user_ids".into())
            }
            Value::Value(list) => {
                let items = list
                    .iter()
                    .map(|v| {
                        v.as_ref_option()
                            .map_or(Json::Null, |s| Json::String(s.clone()))
                    })
                    .collect();
                instance.insert("user_ids".into(), Json::Array(items));
            }
            Value::Unknown => unknown.push("user_ids".into()),
            Value::Null => {}
        }
        (instance, unknown)
    }
}

/// The value of `sync_status` for C1's `status.status` (`SYNC_STATUS_DONE` -> `done`, ...).
pub fn sync_status_name(status: SyncStatus) -> &'static str {
    match status {
        SyncStatus::Unspecified => "unspecified",
        SyncStatus::Running => "running",
        SyncStatus::Done => "done",
        SyncStatus::Error => "error",
        SyncStatus::Disabled => "disabled",
    }
}

/// Every value `sync_status` takes, for the schema description.
pub const SYNC_STATUS_NAMES: [&str; 5] = ["running", "done", "error", "disabled", "unspecified"];

fn opt(v: &Option<String>) -> Value<String> {
    v.clone().map_or(Value::Null, Value::Value)
}

/// States print their ids only: settings may be secret.
impl std::fmt::Debug for IntegrationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationState")
            .field("id", &self.id)
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn official_state() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/acceptance/testdata/official-provider-v1.5.0.tfstate"
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("the official provider's state"))
            .unwrap()
    }

    #[test]
    fn reads_every_instance_the_official_provider_wrote() {
        for resource in official_state()["resources"].as_array().unwrap() {
            let attrs = &resource["instances"][0]["attributes"];
            let state: IntegrationState = serde_json::from_value(attrs.clone()).unwrap();
            assert_eq!(
                state.id.as_ref_option(),
                attrs["id"].as_str().map(str::to_string).as_ref()
            );
            // Nothing lost on the way back out; the absent timeouts block reads as null (the
            // defaults) and is written as an empty block; the sync attributes are null until
            // the first refresh.
            assert_eq!(state.timeouts, Value::Null);
            assert!(state.sync_status.is_null() && state.wait_for_sync.is_null());
            let mut written = serde_json::to_value(&state).unwrap();
            assert_eq!(written["timeouts"], serde_json::json!([]));
            for added in [
                "timeouts",
                "sync_status",
                "sync_last_error",
                "sync_completed_at",
                "wait_for_sync",
            ] {
                let value = written.as_object_mut().unwrap().remove(added);
                assert!(added == "timeouts" || value == Some(serde_json::Value::Null));
            }
            assert_eq!(written, *attrs, "{}", resource["type"]);
        }
    }

    #[test]
    fn unknown_values_survive_the_msgpack_round_trip() {
        let mut state = IntegrationState {
            id: Value::Unknown,
            app_id: Value::Value("app1".into()),
            user_ids: Value::Value(vec![Value::Value("u1".into()), Value::Unknown]),
            ..Default::default()
        };
        state
            .settings
            .insert("twingate_apikey".into(), Value::Unknown);
        state.settings.insert("twingate_domain".into(), Value::Null);
        let bytes = rmp_serde::to_vec_named(&state).unwrap();
        let back: IntegrationState = rmp_serde::from_slice(&bytes).unwrap();
        assert!(back == state);
        let (instance, unknown) = back.to_validation_instance();
        assert_eq!(
            unknown,
            vec!["twingate_apikey".to_string(), "user_ids".to_string()]
        );
        assert_eq!(instance.keys().collect::<Vec<_>>(), vec!["app_id"]);
    }

    #[test]
    fn the_sync_attributes_map_every_contract_status() {
        use c1_client::ConnectorStatus;
        let names: Vec<&str> = [
            SyncStatus::Running,
            SyncStatus::Done,
            SyncStatus::Error,
            SyncStatus::Disabled,
            SyncStatus::Unspecified,
        ]
        .into_iter()
        .map(sync_status_name)
        .collect();
        assert_eq!(names, SYNC_STATUS_NAMES);
        let mut state = IntegrationState::default();
        state.apply_sync(&Connector {
            status: Some(ConnectorStatus {
                status: SyncStatus::Error,
                last_error: Some("twingate: 401".into()),
                completed_at: Some("2026-11-23T21:54:00Z".into()),
                ..ConnectorStatus::default()
            }),
            ..Connector::default()
        });
        assert_eq!(state.sync_status, Value::Value("error".to_string()));
        assert_eq!(
            state.sync_last_error,
            Value::Value("twingate: 401".to_string())
        );
        assert_eq!(
            state.sync_completed_at,
            Value::Value("2026-11-23T21:54:00Z".to_string())
        );
        state.apply_sync(&Connector::default());
        assert_eq!(state.sync_status, Value::Value("unspecified".to_string()));
        assert!(state.sync_last_error.is_null() && state.sync_completed_at.is_null());
    }
}
