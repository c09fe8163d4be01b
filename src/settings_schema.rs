//! The JSON Schema of an integration's configuration, and plan-time validation against it.
//!
//! The schema covers everything the user writes in a resource block (`app_id`, `user_ids` and the
//! integration's settings); it is generated from the declarations, published under `schemas/`, and
//! compiled once per resource type to validate configurations before any API call.

use std::collections::BTreeMap;

use schemars::{generate::SchemaSettings, JsonSchema, Schema};
use serde_json::{Map, Value as Json};

use c1_contract::integrations::{setting_fields, Integration, SettingField};
use c1_contract::object_id;

/// What a broken id rule is reported as (the schema's `errorMessage` of ids).
fn id_rule_message() -> String {
    format!("must be a C1 id ({})", object_id::CHARACTERS)
}

/// What the user writes in every integration resource block, with the settings flattened in.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)] // read through its JSON Schema, never as a Rust value
struct IntegrationConfig<S> {
    /// Id of the C1 app the connector belongs to. Changing it replaces the connector.
    #[schemars(
        length(min = 1),
        pattern(object_id::PATTERN),
        extend("errorMessage" = id_rule_message())
    )]
    app_id: String,

    /// C1 user ids of the integration's owners. Unset or `[]`: no explicit owners; C1 makes the user the provider authenticates as the owner at create and keeps the current owners on later changes (`[]` stays in the state as written).
    #[schemars(
        inner(length(min = 1), pattern(object_id::PATTERN)),
        extend("uniqueItems" = true)
    )]
    user_ids: Option<Vec<String>>,

    #[serde(flatten)]
    settings: S,
}

/// A rule the configuration breaks, located at an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The attribute (and list index, if any) the message is about.
    pub attribute: String,
    pub index: Option<i64>,
    /// One line saying what is wrong.
    pub summary: String,
    /// How to fix it.
    pub detail: String,
}

/// The compiled schema of one integration.
pub struct SettingsSchema {
    schema: Json,
    validator: jsonschema::Validator,
    fields: Vec<SettingField>,
    display_name: &'static str,
    /// The integration's short name (its published schema is `schemas/<name>.schema.json`).
    name: &'static str,
    suggest: fn(&str, &str) -> Option<String>,
}

/// The published JSON Schema document for integration `I` (what `schemas/<name>.schema.json` holds).
pub fn schema_document<I: Integration>() -> Json {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema: Schema = generator.into_root_schema_for::<IntegrationConfig<I::Settings>>();
    let obj = schema.ensure_object();
    // Owners are ids: their entries break the id rule with the same message as `app_id`.
    if let Some(items) = obj
        .get_mut("properties")
        .and_then(|p| p.get_mut("user_ids"))
        .and_then(|u| u.get_mut("items"))
        .and_then(Json::as_object_mut)
    {
        items.insert("errorMessage".into(), Json::String(id_rule_message()));
    }
    obj.insert(
        "$id".into(),
        Json::String(format!(
            "https://registry.terraform.io/providers/conductorone/conductorone/schemas/{}.schema.json",
            I::NAME
        )),
    );
    obj.insert(
        "title".into(),
        Json::String(format!("conductorone_integration_{}", I::NAME)),
    );
    obj.insert(
        "description".into(),
        Json::String(format!(
            "Configuration of a {} integration (a C1 connector of catalog entry {}).",
            I::DISPLAY_NAME,
            I::CATALOG_ID
        )),
    );
    schema.to_value()
}

impl SettingsSchema {
    /// Compiles the schema of integration `I`.
    pub fn new<I: Integration>() -> Self {
        let schema = schema_document::<I>();
        let validator = jsonschema::draft202012::new(&schema)
            .expect("the generated settings schema is a valid JSON Schema");
        Self {
            schema,
            validator,
            fields: setting_fields::<I>(),
            display_name: I::DISPLAY_NAME,
            name: I::NAME,
            suggest: I::suggest,
        }
    }

    /// The integration's settings (every property but `app_id` and `user_ids`).
    pub fn fields(&self) -> &[SettingField] {
        &self.fields
    }

    /// Description of a property from the schema, for the Terraform schema.
    pub fn property_description(&self, name: &str) -> String {
        self.property(name)
            .and_then(|p| p.get("description"))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    }

    fn property(&self, name: &str) -> Option<&Map<String, Json>> {
        self.schema.get("properties")?.get(name)?.as_object()
    }

    /// Validates a configuration. `config` holds the known, non-null attributes; `unknown`
    /// names attributes whose value is not known yet: rules about them are not judged.
    pub fn validate(&self, config: &Map<String, Json>, unknown: &[String]) -> Vec<Violation> {
        let instance = Json::Object(config.clone());
        let mut violations: Vec<Violation> = Vec::new();
        for error in self.validator.iter_errors(&instance) {
            let pointer = error.instance_path().to_string();
            let mut segments = pointer.split('/').skip(1);
            let attribute = segments.next().map(str::to_string);
            let index = segments.next().and_then(|s| s.parse::<i64>().ok());
            let violation = match (error.kind(), attribute) {
                (jsonschema::error::ValidationErrorKind::Required { property }, None) => {
                    let name = property.as_str().unwrap_or_default().to_string();
                    if unknown.contains(&name) {
                        continue;
                    }
                    if !self.is_required(&name) {
                        match self.dependent_required(config, unknown) {
                            Some(v) => v,
                            None => continue,
                        }
                    } else {
                        Violation {
                        summary: format!("Missing required argument `{name}`"),
                        detail: format!(
                            "`{name}` is required: set it to the id of the C1 app the integration belongs to."
                        ),
                        attribute: name,
                        index: None,
                    }
                    }
                }
                (
                    jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected },
                    _,
                ) => Violation {
                    attribute: unexpected.join(", "),
                    index: None,
                    summary: "Unsupported argument".into(),
                    detail: format!(
                        "{} does not take {}.",
                        self.display_name,
                        unexpected.join(", ")
                    ),
                },
                (_, None) => continue,
                (kind, Some(attribute)) => {
                    if unknown.contains(&attribute) {
                        continue;
                    }
                    self.property_violation(
                        kind,
                        kind.keyword(),
                        attribute,
                        index,
                        error.instance(),
                    )
                }
            };
            // One message per attribute: the first rule it breaks.
            if !violations
                .iter()
                .any(|v| v.attribute == violation.attribute && v.index == violation.index)
            {
                violations.push(violation);
            }
        }
        violations
    }

    fn is_required(&self, name: &str) -> bool {
        self.schema
            .get("required")
            .and_then(Json::as_array)
            .is_some_and(|r| r.iter().any(|p| p.as_str() == Some(name)))
    }

    /// `dependentRequired` reports as `Required` at the object: find which pair broke.
    fn dependent_required(
        &self,
        config: &Map<String, Json>,
        unknown: &[String],
    ) -> Option<Violation> {
        None.or_else(|| {
            let deps = self.schema.get("dependentRequired")?.as_object()?;
            for (present, needs) in deps {
                if !config.contains_key(present) {
                    continue;
                }
                for need in needs.as_array()?.iter().filter_map(Json::as_str) {
                    if config.contains_key(need) || unknown.iter().any(|u| u == need) {
                        continue;
                    }
                    let together: Vec<&str> = std::iter::once(present.as_str())
                        .chain(needs.as_array()?.iter().filter_map(Json::as_str))
                        .collect();
                    return Some(Violation {
                        attribute: need.to_string(),
                        index: None,
                        summary: format!("Missing argument `{need}`: `{present}` is set"),
                        detail: format!(
                            "{} needs {} together: set `{need}` as well, or remove all of them to create the integration without settings (its owners then finish the setup in C1).",
                            self.display_name,
                            join_names(&together)
                        ),
                    });
                }
            }
            None
        })
    }

    /// The violation of one property's rule. Neither the summary nor the detail quotes the value:
    /// the provider cannot tell which values came from sensitive variables (Terraform strips that
    /// mark before validation), so diagnostics say the rule and the fix and point at the attribute;
    /// Terraform itself shows the expression (and a non-sensitive value).
    fn property_violation(
        &self,
        kind: &jsonschema::error::ValidationErrorKind,
        keyword: &str,
        attribute: String,
        index: Option<i64>,
        value: &Json,
    ) -> Violation {
        use jsonschema::error::ValidationErrorKind as K;
        let shown = match index {
            Some(i) => format!("{attribute}[{i}]"),
            None => attribute.clone(),
        };
        let mut index = index;
        let (summary, mut detail) = match kind {
            K::MinLength { .. } => (
                format!("`{shown}` must not be empty"),
                if index.is_some() {
                    format!("Remove the empty entry from `{attribute}`.")
                } else {
                    format!("Set `{attribute}` to a value, or remove the argument.")
                },
            ),
            K::MaxLength { limit } => (
                format!("`{shown}` is too long"),
                format!("`{attribute}` takes at most {limit} characters."),
            ),
            K::Pattern { .. } if value.as_str().is_some_and(has_control_character) => (
                format!("`{shown}` must not contain line breaks or other control characters"),
                format!(
                    "Remove the line break, tab or other control character from `{attribute}` (a value read from a file often ends with a line break: `trimspace(file(...))` removes it)."
                ),
            ),
            K::Pattern { .. } => {
                let rule = self
                    .property(&attribute)
                    .and_then(|p| p.get("errorMessage"))
                    .or_else(|| {
                        self.property(&attribute)
                            .and_then(|p| p.get("items"))
                            .and_then(|items| items.get("errorMessage"))
                    })
                    .and_then(Json::as_str)
                    .unwrap_or("must not start or end with white space");
                let fix = match attribute.as_str() {
                    "app_id" => "Copy the app's id from C1 (Apps > the app: the last part of its address).",
                    "user_ids" => "List the owners by their C1 user ids (Users > the user: the last part of the address).",
                    _ => "",
                };
                (format!("`{shown}` {rule}"), fix.to_string())
            }
            K::UniqueItems => {
                let (first, repeat) = first_duplicate(value).unwrap_or_default();
                index = Some(repeat as i64);
                (
                    format!("`{attribute}` lists an owner more than once"),
                    format!(
                        "Entry {repeat} of `{attribute}` repeats entry {first}: each owner may appear only once, remove the duplicate."
                    ),
                )
            }
            K::Type { .. } if value.is_null() && index.is_some() => (
                format!("`{attribute}` must not contain null"),
                format!(
                    "Entry {} of `{attribute}` is null (an expression or variable that evaluated to null): remove it, or leave `{attribute}` out.",
                    index.unwrap_or_default()
                ),
            ),
            K::Type { .. } => (
                format!("`{shown}` has the wrong type"),
                format!("`{attribute}` takes a string."),
            ),
            _ => (
                format!("`{shown}` is invalid"),
                format!(
                    "It breaks the `{keyword}` rule of `{attribute}` in the published schema (schemas/{}.schema.json).",
                    self.name
                ),
            ),
        };
        if let Some(hint) = value.as_str().and_then(|v| (self.suggest)(&attribute, v)) {
            detail = format!("{detail} {hint}").trim_start().to_string();
        }
        if detail.is_empty() {
            detail = format!(
                "Correct the value of `{attribute}`. (Values are never shown in these messages: they may be sensitive.)"
            );
        }
        Violation {
            attribute,
            index,
            summary,
            detail,
        }
    }
}

/// Whether `s` has a control character (line breaks and tabs included).
fn has_control_character(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The indexes of the first entry of `list` that repeats an earlier one, and of that earlier one.
fn first_duplicate(list: &Json) -> Option<(usize, usize)> {
    let items = list.as_array()?;
    let mut seen = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(first) = seen.insert(item.to_string(), i) {
            return Some((first, i));
        }
    }
    None
}

fn join_names(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use c1_contract::integrations::{Segment, Torq, Twingate};
    use serde_json::json;

    fn check(schema: &SettingsSchema, config: Json) -> Vec<Violation> {
        schema.validate(config.as_object().unwrap(), &[])
    }

    #[test]
    fn a_complete_configuration_passes() {
        let s = SettingsSchema::new::<Twingate>();
        assert_eq!(
            check(
                &s,
                json!({"app_id": "app1", "user_ids": ["u1", "u2"], "twingate_apikey": "k", "twingate_domain": "acme-corp"})
            ),
            vec![]
        );
        assert_eq!(
            check(&s, json!({"app_id": "app1"})),
            vec![],
            "no settings: delegated setup"
        );
    }

    #[test]
    fn twingate_domain_must_be_a_bare_subdomain() {
        let s = SettingsSchema::new::<Twingate>();
        let v = check(
            &s,
            json!({"app_id": "a", "twingate_apikey": "k", "twingate_domain": "https://acme.twingate.com"}),
        );
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].attribute, "twingate_domain");
        assert!(v[0].summary.contains("bare Twingate subdomain"), "{v:?}");
        assert!(
            v[0].detail.contains("looks like a host name or URL"),
            "{v:?}"
        );
        let v = check(
            &s,
            json!({"app_id": "a", "twingate_apikey": "k", "twingate_domain": "a".repeat(64)}),
        );
        assert_eq!(v[0].summary, "`twingate_domain` is too long");
    }

    #[test]
    fn empty_or_padded_secrets_are_rejected_without_echoing_them() {
        let s = SettingsSchema::new::<Segment>();
        let v = check(&s, json!({"app_id": "a", "segment_access_token": ""}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].summary, "`segment_access_token` must not be empty");
        let v = check(
            &s,
            json!({"app_id": "a", "segment_access_token": " tok-SECRET "}),
        );
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(!format!("{v:?}").contains("tok-SECRET"), "{v:?}");
    }

    #[test]
    fn partial_settings_name_the_missing_one() {
        let s = SettingsSchema::new::<Torq>();
        let v = check(&s, json!({"app_id": "a", "torq_client_id": "cid"}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].attribute, "torq_client_secret");
        assert!(
            v[0].detail
                .contains("`torq_client_id` and `torq_client_secret`"),
            "{v:?}"
        );
        // An unknown value is not judged until it is known.
        let v = s.validate(
            json!({"app_id": "a", "torq_client_id": "cid"})
                .as_object()
                .unwrap(),
            &["torq_client_secret".to_string()],
        );
        assert_eq!(v, vec![]);
    }

    #[test]
    fn owners_must_be_unique_and_non_empty() {
        let s = SettingsSchema::new::<Segment>();
        let v = check(&s, json!({"app_id": "a", "user_ids": ["u1", "u1"]}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].attribute, "user_ids");
        assert_eq!(v[0].summary, "`user_ids` lists an owner more than once");
        assert_eq!(v[0].index, Some(1), "points at the repeat");
        let v = check(&s, json!({"app_id": "a", "user_ids": ["u1", ""]}));
        assert_eq!((v[0].attribute.as_str(), v[0].index), ("user_ids", Some(1)));
        assert_eq!(v[0].summary, "`user_ids[1]` must not be empty");
    }

    #[test]
    fn no_message_quotes_a_value() {
        let tg = SettingsSchema::new::<Twingate>();
        let torq = SettingsSchema::new::<Torq>();
        let cases = [
            (
                &tg,
                json!({"app_id": "a", "twingate_apikey": " k-Q1 ", "twingate_domain": "https://corp-Q2.twingate.com"}),
            ),
            (
                &tg,
                json!({"app_id": "a", "user_ids": ["u-Q3", "u-Q3"], "twingate_apikey": "k", "twingate_domain": "x-Q4\n"}),
            ),
            (
                &torq,
                json!({"app_id": "a", "torq_client_id": "id\tQ5", "torq_client_secret": "s-Q6\r\n"}),
            ),
            (
                &torq,
                json!({"app_id": "a", "torq_client_id": "Q7".repeat(5000), "torq_client_secret": 3}),
            ),
        ];
        for (schema, config) in cases {
            let v = check(schema, config);
            assert!(!v.is_empty());
            let text = format!("{v:?}");
            for needle in ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"] {
                assert!(!text.contains(needle), "{text}");
            }
        }
    }

    #[test]
    fn control_characters_are_named_as_such() {
        let s = SettingsSchema::new::<Torq>();
        for bad in ["a\nb", "a\r\nb", "a\tb", "ab\u{7f}", "a\u{85}b"] {
            let v = check(
                &s,
                json!({"app_id": "a", "torq_client_id": bad, "torq_client_secret": "s"}),
            );
            assert_eq!(v.len(), 1, "{bad:?}: {v:?}");
            assert_eq!(
                v[0].summary,
                "`torq_client_id` must not contain line breaks or other control characters",
                "{bad:?}"
            );
        }
        let v = check(
            &s,
            json!({"app_id": "a", "torq_client_id": " a b ", "torq_client_secret": "s"}),
        );
        assert_eq!(
            v[0].summary,
            "`torq_client_id` must not start or end with white space"
        );
        let inner_space =
            json!({"app_id": "a", "torq_client_id": "a b", "torq_client_secret": "s"});
        assert_eq!(check(&s, inner_space), vec![]);
    }

    #[test]
    fn a_null_owner_is_named_as_such() {
        let s = SettingsSchema::new::<Segment>();
        let v = check(&s, json!({"app_id": "a", "user_ids": ["u1", null]}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!((v[0].attribute.as_str(), v[0].index), ("user_ids", Some(1)));
        assert_eq!(v[0].summary, "`user_ids` must not contain null");
    }

    #[test]
    fn ids_must_be_c1_ids() {
        let s = SettingsSchema::new::<Segment>();
        for bad in ["..", ".", "a/b", "a?b", "a#b", "a%2e", " a", "a b", "-a"] {
            let v = check(&s, json!({"app_id": bad, "user_ids": ["u1", bad]}));
            assert_eq!(v.len(), 2, "{bad:?}: {v:?}");
            assert_eq!(v[0].attribute, "app_id");
            assert_eq!(
                v[0].summary,
                "`app_id` must be a C1 id (letters, digits, `-` and `_`, starting with a letter or digit)"
            );
            assert!(v[0].detail.contains("Copy the app's id from C1"), "{v:?}");
            assert_eq!((v[1].attribute.as_str(), v[1].index), ("user_ids", Some(1)));
            assert!(
                v[1].summary.starts_with("`user_ids[1]` must be a C1 id"),
                "{v:?}"
            );
        }
        let ok = json!({"app_id": "2G8Wk6xIkBU5qJ1O4wlz4mD8ef0", "user_ids": ["demo-user_1"]});
        assert_eq!(check(&s, ok), vec![]);
    }

    #[test]
    fn app_id_must_not_be_empty() {
        let s = SettingsSchema::new::<Twingate>();
        let v = check(&s, json!({"app_id": ""}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].attribute, "app_id");
    }
}

/// The schema export (`make schemas`): `schemas/<name>.schema.json` for every declaration, kept
/// equal to what the declarations generate.
#[cfg(test)]
pub(crate) mod published {
    use std::path::PathBuf;

    use c1_contract::integrations::{register_all, Integration, IntegrationVisitor};

    struct CheckPublished {
        stale: Vec<String>,
        update: bool,
    }

    /// Where the schema of integration `I` is published, and the file's text.
    pub(crate) fn schema_file<I: Integration>() -> (PathBuf, String) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schemas")
            .join(format!("{}.schema.json", I::NAME));
        let text = serde_json::to_string_pretty(&super::schema_document::<I>()).unwrap() + "\n";
        (path, text)
    }

    impl IntegrationVisitor for CheckPublished {
        fn visit<I: Integration>(&mut self) {
            let (path, expected) = schema_file::<I>();
            let actual = std::fs::read_to_string(&path).unwrap_or_default();
            if actual != expected {
                if self.update {
                    std::fs::write(&path, expected).unwrap();
                } else {
                    self.stale.push(path.display().to_string());
                }
            }
        }
    }

    #[test]
    fn committed_schemas_match_the_declarations() {
        let mut check = CheckPublished {
            stale: Vec::new(),
            update: std::env::var_os("UPDATE_SCHEMAS").is_some(),
        };
        register_all(&mut check);
        assert!(
            check.stale.is_empty(),
            "stale published schemas {:?}: run `make schemas` and commit the result",
            check.stale
        );
    }
}
