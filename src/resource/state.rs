//! The Terraform state of an integration resource, and its conversions to and from C1 connectors.

use std::collections::BTreeMap;

use c1_client::{Connector, ConnectorSettings};
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
            // defaults) and is written as an empty block.
            assert_eq!(state.timeouts, Value::Null);
            let mut written = serde_json::to_value(&state).unwrap();
            assert_eq!(written["timeouts"], serde_json::json!([]));
            written.as_object_mut().unwrap().remove("timeouts");
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
}
