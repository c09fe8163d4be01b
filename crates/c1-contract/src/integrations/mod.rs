//! Integration declarations: what one C1 connector catalog entry is (its id, its name, its
//! settings), declared once for the provider, the simulator and the published schemas.
//!
//! A declaration names the catalog entry and carries the settings type. The settings type derives
//! `schemars::JsonSchema`; its schema is the single source of the settings' names, descriptions,
//! secrecy (`writeOnly`) and validation rules. Adding an integration is one small file here, one
//! line in [`register_all`], and its test.

mod baton;
mod segment;
mod torq;
mod twingate;

pub use baton::{Baton, BatonSettings};
pub use segment::{Segment, SegmentSettings};
pub use torq::{Torq, TorqSettings};
pub use twingate::{Twingate, TwingateSettings};

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::Value as Json;

/// A non-empty value without leading or trailing white space and without control characters
/// (line breaks, tabs, C0 and C1 controls) anywhere (ids, secrets).
pub const TRIMMED_PATTERN: &str =
    r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$";

/// One C1 integration: a connector catalog entry and the settings its connectors take.
pub trait Integration: Send + Sync + 'static {
    /// The integration's settings, exactly as the user writes them in Terraform. Its
    /// `JsonSchema` derive declares each setting's description, rules and secrecy.
    type Settings: JsonSchema;

    /// Short name: the resource is `conductorone_integration_<NAME>`, the published schema
    /// `schemas/<NAME>.schema.json`.
    const NAME: &'static str;

    /// Name shown in C1 and in messages, e.g. "Twingate".
    const DISPLAY_NAME: &'static str;

    /// The C1 connector catalog id this integration creates connectors of.
    const CATALOG_ID: &'static str;

    /// What to check when a sync of this integration's connector fails, in the user's terms
    /// (which credential, which permission, which account): shown beside C1's `lastError` when
    /// `wait_for_sync` fails an apply and in the warning a refresh gives for a failed sync.
    /// Names settings, never their values.
    const SYNC_FAILURE_HINT: &'static str;

    /// A hint for a rejected setting value, in the user's terms (e.g. that a Twingate domain
    /// looks like a host name). It must never quote the value or anything taken from it: values
    /// may come from sensitive variables, and diagnostics end up in CI logs. `None` when there is
    /// nothing better to say than the rule.
    fn suggest(field: &str, value: &str) -> Option<String> {
        let _ = (field, value);
        None
    }
}

/// Calls `visitor` once for every integration the provider ships.
pub fn register_all(visitor: &mut impl IntegrationVisitor) {
    visitor.visit::<Twingate>();
    visitor.visit::<Torq>();
    visitor.visit::<Segment>();
    visitor.visit::<Baton>();
}

/// Something done once per integration type (build its resource, write its schema, ...).
pub trait IntegrationVisitor {
    fn visit<I: Integration>(&mut self);
}

/// One setting of an integration, as its declaration's JSON Schema states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingField {
    /// Attribute name, also the key in the connector's config.
    pub name: String,
    /// Markdown description for the schema and docs.
    pub description: String,
    /// Secret (`writeOnly`): sensitive in Terraform, never returned by C1.
    pub secret: bool,
}

/// The settings of integration `I`, read from the JSON Schema of its settings type (in the
/// order of the schema's properties).
pub fn setting_fields<I: Integration>() -> Vec<SettingField> {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<I::Settings>();
    let Some(properties) = schema.get("properties").and_then(Json::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| SettingField {
            name: name.clone(),
            description: property
                .get("description")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
            secret: property.get("writeOnly").and_then(Json::as_bool) == Some(true),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_and_secrecy<I: Integration>() -> Vec<(String, bool)> {
        setting_fields::<I>()
            .into_iter()
            .map(|f| (f.name, f.secret))
            .collect()
    }

    #[test]
    fn settings_fields_and_secrecy_come_from_the_declaration() {
        assert_eq!(
            names_and_secrecy::<Twingate>(),
            [
                ("twingate_apikey".into(), true),
                ("twingate_domain".into(), false)
            ]
        );
        assert_eq!(
            names_and_secrecy::<Torq>(),
            [
                ("torq_client_id".into(), false),
                ("torq_client_secret".into(), true)
            ]
        );
        assert_eq!(
            names_and_secrecy::<Segment>(),
            [("segment_access_token".into(), true)]
        );
        assert_eq!(names_and_secrecy::<Baton>(), []);
        let domain = &setting_fields::<Twingate>()[1];
        assert!(domain.description.contains("bare subdomain"), "{domain:?}");
    }

    #[test]
    fn every_sync_failure_hint_names_its_own_settings() {
        struct Check;
        impl IntegrationVisitor for Check {
            fn visit<I: Integration>(&mut self) {
                for field in setting_fields::<I>().iter().filter(|f| f.secret) {
                    assert!(
                        I::SYNC_FAILURE_HINT.contains(&format!("`{}`", field.name)),
                        "{}: {}",
                        I::NAME,
                        I::SYNC_FAILURE_HINT
                    );
                }
            }
        }
        register_all(&mut Check);
        assert!(Twingate::SYNC_FAILURE_HINT.contains("\"Read & Write\""));
        assert!(Segment::SYNC_FAILURE_HINT.contains("workspace"));
        assert!(Torq::SYNC_FAILURE_HINT.contains("same Torq API key"));
    }

    #[test]
    fn catalog_ids_and_names_are_distinct() {
        struct Collect(Vec<(&'static str, &'static str, &'static str)>);
        impl IntegrationVisitor for Collect {
            fn visit<I: Integration>(&mut self) {
                self.0.push((I::NAME, I::DISPLAY_NAME, I::CATALOG_ID));
            }
        }
        let mut all = Collect(Vec::new());
        register_all(&mut all);
        assert_eq!(all.0.len(), 4);
        for (i, a) in all.0.iter().enumerate() {
            for b in &all.0[i + 1..] {
                assert!(a.0 != b.0 && a.1 != b.1 && a.2 != b.2, "{a:?} {b:?}");
            }
        }
    }
}
