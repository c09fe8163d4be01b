//! `AppDataSource`: the `conductorone_app` data source. Looks one app up by its display name or
//! a query, narrowed by ids and to directories, through every page of C1's app search; finds
//! exactly one or fails saying what it found.

use std::collections::HashMap;

use async_trait::async_trait;
use c1_client::{App, AppSearch, CallBudget};
use c1_contract::object_id::{is_object_id, CHARACTERS};
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, DataSource, Diagnostics};

use super::app::{bounded_client, opt, stop_reason};
use super::app_error::{AppError, Criterion, Named};
use super::error::diagnostic;
use super::timeouts::Operation;
use super::ClientSlot;
use crate::stop::StopSignal;

/// The data source's configuration and result: the official provider's attribute names.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct AppLookup {
    // What to look for.
    pub display_name: Value<String>,
    pub query: Value<String>,
    pub app_ids: Value<Vec<Value<String>>>,
    pub exclude_app_ids: Value<Vec<Value<String>>>,
    pub only_directories: Value<bool>,
    // What was found.
    pub id: Value<String>,
    pub description: Value<String>,
    pub created_at: Value<String>,
    pub updated_at: Value<String>,
    pub is_directory: Value<bool>,
    pub is_manually_managed: Value<bool>,
    pub parent_app_id: Value<String>,
    pub app_account_id: Value<String>,
    pub app_account_name: Value<String>,
    pub monthly_cost_usd: Value<i64>,
    pub identity_matching: Value<String>,
    pub instructions: Value<String>,
    pub icon_url: Value<String>,
    pub logo_uri: Value<String>,
    pub default_request_catalog_id: Value<String>,
    pub grant_policy_id: Value<String>,
    pub revoke_policy_id: Value<String>,
    pub certify_policy_id: Value<String>,
    pub strict_access_entitlement_provisioning: Value<bool>,
    pub user_count: Value<i64>,
}

/// The inputs: (name, type, description).
const INPUTS: [(&str, Kind, &str); 5] = [
    (
        "display_name",
        Kind::String,
        "The app's display name, matched whole and case-insensitively. Set this or `query`. \
         Once read, the name as written here.",
    ),
    (
        "query",
        Kind::String,
        "A fuzzy search over app names and descriptions (C1's). Set this or `display_name`.",
    ),
    ("app_ids", Kind::List, "Only these apps (C1 ids)."),
    ("exclude_app_ids", Kind::List, "Never these apps (C1 ids)."),
    (
        "only_directories",
        Kind::Bool,
        "Only directories (identity providers).",
    ),
];

/// The outputs: (name, type, description).
const OUTPUTS: [(&str, Kind, &str); 20] = [
    ("id", Kind::String, "The app's id in C1: what `app_id` of an integration takes."),
    ("description", Kind::String, "The app's description (empty when none)."),
    ("created_at", Kind::String, "When the app was created (RFC 3339)."),
    ("updated_at", Kind::String, "When the app was last updated (RFC 3339)."),
    ("is_directory", Kind::Bool, "Whether the app is a directory (an identity provider)."),
    (
        "is_manually_managed",
        Kind::Bool,
        "Whether the app was made by hand; false for an app C1 discovered (through SSO or a connector).",
    ),
    ("parent_app_id", Kind::String, "The id of the app that created this one (the directory that discovered it); null if none."),
    ("app_account_id", Kind::String, "The id of the account named by `app_account_name`; null if none."),
    ("app_account_name", Kind::String, "The app's account (for example the AWS account id, the GitHub organisation); null if none."),
    ("monthly_cost_usd", Kind::Number, "The cost per seat and month, in US dollars."),
    ("identity_matching", Kind::String, "How C1 matches the app's users to identities (`APP_USER_IDENTITY_MATCHING_*`)."),
    ("instructions", Kind::String, "Instructions shown in the access request form; null if none."),
    ("icon_url", Kind::String, "The URL of the app's icon; null if none."),
    ("logo_uri", Kind::String, "The URL of the app's logo; null if none."),
    ("default_request_catalog_id", Kind::String, "The app's default request catalog; null if none."),
    ("grant_policy_id", Kind::String, "The app's grant policy; null if none."),
    ("revoke_policy_id", Kind::String, "The app's revoke policy; null if none."),
    ("certify_policy_id", Kind::String, "The app's certify policy; null if none."),
    (
        "strict_access_entitlement_provisioning",
        Kind::Bool,
        "Whether provisioning always includes the access entitlement.",
    ),
    ("user_count", Kind::Number, "How many users have grants to the app."),
];

#[derive(Clone, Copy)]
enum Kind {
    String,
    Bool,
    Number,
    List,
}

impl Kind {
    fn attr_type(self) -> AttributeType {
        match self {
            Kind::String => AttributeType::String,
            Kind::Bool => AttributeType::Bool,
            Kind::Number => AttributeType::Number,
            Kind::List => AttributeType::List(Box::new(AttributeType::String)),
        }
    }
}

impl AppLookup {
    /// The search to send, once the configuration is known and valid.
    fn search(&self) -> (Criterion, AppSearch) {
        let known = |v: &Value<Vec<Value<String>>>| -> Vec<String> {
            v.as_ref_option()
                .into_iter()
                .flatten()
                .filter_map(|id| id.as_ref_option().cloned())
                .collect()
        };
        let mut search = AppSearch {
            app_ids: known(&self.app_ids),
            exclude_app_ids: known(&self.exclude_app_ids),
            only_directories: self
                .only_directories
                .as_ref_option()
                .copied()
                .unwrap_or(false),
            ..AppSearch::default()
        };
        let criterion = match (
            self.display_name.as_ref_option(),
            self.query.as_ref_option(),
        ) {
            (Some(name), _) => {
                search.display_name = Some(name.clone());
                Criterion::DisplayName(name.clone())
            }
            (None, query) => {
                let query = query.cloned().unwrap_or_default();
                search.query = Some(query.clone());
                Criterion::Query(query)
            }
        };
        (criterion, search)
    }

    /// The narrowing in words, for messages (" among `app_ids`, ...").
    fn narrowed(&self, search: &AppSearch) -> String {
        let mut parts = Vec::new();
        if !search.app_ids.is_empty() {
            parts.push(format!("among `app_ids` ({})", search.app_ids.join(", ")));
        }
        if !search.exclude_app_ids.is_empty() {
            parts.push(format!(
                "leaving out `exclude_app_ids` ({})",
                search.exclude_app_ids.join(", ")
            ));
        }
        if search.only_directories {
            parts.push("among directories only (`only_directories`)".to_string());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" {}", parts.join(", "))
        }
    }

    /// Takes the found app's fields; the inputs stay as written (a name found case-insensitively
    /// too: Terraform holds a configured value to what the configuration says).
    fn apply(&mut self, app: &App) {
        if self.display_name.is_null() {
            self.display_name = Value::Value(app.display_name.clone());
        }
        self.id = Value::Value(app.id.clone());
        self.description = Value::Value(app.description.clone());
        self.created_at = opt(app.created_at.as_deref());
        self.updated_at = opt(app.updated_at.as_deref());
        self.is_directory = Value::Value(app.is_directory);
        self.is_manually_managed = Value::Value(app.is_manually_managed);
        self.parent_app_id = opt(Some(&app.parent_app_id));
        self.app_account_id = opt(Some(&app.app_account_id));
        self.app_account_name = opt(Some(&app.app_account_name));
        self.monthly_cost_usd = Value::Value(app.monthly_cost_usd);
        self.identity_matching = opt(Some(&app.identity_matching));
        self.instructions = opt(Some(&app.instructions));
        self.icon_url = opt(Some(&app.icon_url));
        self.logo_uri = opt(Some(&app.logo_uri));
        self.default_request_catalog_id = opt(Some(&app.default_request_catalog_id));
        self.grant_policy_id = opt(Some(&app.grant_policy_id));
        self.revoke_policy_id = opt(Some(&app.revoke_policy_id));
        self.certify_policy_id = opt(Some(&app.certify_policy_id));
        self.strict_access_entitlement_provisioning =
            Value::Value(app.strict_access_entitlement_provisioning);
        self.user_count = Value::Value(app.user_count);
    }
}

/// Judges a configuration before any call to C1: exactly one of `display_name` and `query`
/// (an unknown value counts as set), neither blank, ids that are C1 ids.
fn validate_lookup(diags: &mut Diagnostics, config: &AppLookup) {
    match (config.display_name.is_null(), config.query.is_null()) {
        (true, true) => diags.add_error(diagnostic(
            "Set `display_name` or `query`".into(),
            "The `conductorone_app` data source looks one app up: by its exact name (`display_name`, \
             case-insensitive) or by a fuzzy search (`query`). Set one of them."
                .into(),
            AttributePath::root(),
        )),
        (false, false) => diags.add_error(diagnostic(
            "`display_name` and `query` are both set".into(),
            "Set only one: `display_name` for an app's exact name (case-insensitive), or `query` for a fuzzy \
             search over names and descriptions."
                .into(),
            AttributePath::new("query"),
        )),
        _ => {}
    }
    for name in ["display_name", "query"] {
        let value = if name == "display_name" {
            &config.display_name
        } else {
            &config.query
        };
        if value.as_ref_option().is_some_and(|v| v.trim().is_empty()) {
            diags.add_error(diagnostic(
                format!("`{name}` is empty"),
                "An empty value would match every app (or none): give the name or words to look for.".into(),
                AttributePath::new(name),
            ));
        }
    }
    for (name, list) in [
        ("app_ids", &config.app_ids),
        ("exclude_app_ids", &config.exclude_app_ids),
    ] {
        for (i, id) in list.as_ref_option().into_iter().flatten().enumerate() {
            if id.as_ref_option().is_some_and(|id| !is_object_id(id)) || id.is_null() {
                diags.add_error(diagnostic(
                    format!("`{name}` holds something that is not a C1 app id"),
                    format!("C1 ids are made of {CHARACTERS}."),
                    AttributePath::new(name).index(i as i64),
                ));
            }
        }
    }
}

/// Reads the lookup's answer: the one app matching, or why there is not exactly one.
fn pick(
    lookup: &AppLookup,
    criterion: Criterion,
    search: &AppSearch,
    found: Vec<App>,
) -> Result<App, AppError> {
    let named = |apps: &[App]| -> Vec<Named> {
        apps.iter()
            .map(|a| Named {
                id: a.id.clone(),
                name: a.display_name.clone(),
                note: if a.is_directory {
                    Some("directory")
                } else if !a.is_manually_managed {
                    Some("discovered")
                } else {
                    None
                },
            })
            .collect()
    };
    // C1 matches display names case-insensitively; keep only whole-name matches in case it
    // answers more.
    let (mut matching, near): (Vec<App>, Vec<App>) = match &criterion {
        Criterion::DisplayName(name) => found
            .into_iter()
            .partition(|a| a.display_name.to_lowercase() == name.to_lowercase()),
        Criterion::Query(_) => (found, Vec::new()),
    };
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(AppError::NoMatch {
            narrowed: lookup.narrowed(search),
            criterion,
            near: named(&near),
        }),
        _ => Err(AppError::SeveralMatches {
            narrowed: lookup.narrowed(search),
            criterion,
            found: named(&matching),
        }),
    }
}

/// The `conductorone_app` data source.
pub struct AppDataSource {
    client: ClientSlot,
    stop: &'static StopSignal,
}

impl AppDataSource {
    pub fn new(client: ClientSlot, stop: &'static StopSignal) -> Self {
        Self { client, stop }
    }

    async fn lookup(&self, config: &AppLookup) -> Result<App, AppError> {
        let (criterion, search) = config.search();
        let budget = CallBudget::new(Operation::Read.default_budget(), self.stop.token());
        let client = bounded_client(&self.client, &budget)?.apps();
        let found = client.search(&search).await.map_err(|err| {
            AppError::api(
                "look up",
                &format!("with the {}", criterion.attribute()),
                err,
                stop_reason(self.stop),
            )
        })?;
        pick(config, criterion, &search, found)
    }
}

#[async_trait]
impl DataSource for AppDataSource {
    type State<'a> = AppLookup;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let mut attributes: HashMap<String, Attribute> = HashMap::new();
        let attribute = |kind: Kind, description: &str, constraint| Attribute {
            attr_type: kind.attr_type(),
            description: Description::markdown(description),
            constraint,
            sensitive: false,
            deprecated: false,
        };
        for (name, kind, description) in INPUTS {
            let constraint = if name == "display_name" {
                AttributeConstraint::OptionalComputed
            } else {
                AttributeConstraint::Optional
            };
            attributes.insert(name.into(), attribute(kind, description, constraint));
        }
        for (name, kind, description) in OUTPUTS {
            attributes.insert(
                name.into(),
                attribute(kind, description, AttributeConstraint::Computed),
            );
        }
        Some(Schema {
            version: 0,
            block: Block {
                version: 0,
                attributes,
                description: Description::markdown(
                    "Looks up one C1 app: one C1 discovered through the identity provider (SSO), or one made \
                     elsewhere, to attach integrations to (`app_id = data.conductorone_app.<name>.id`). Pages \
                     through C1's app search; finding none or several is an error that lists what C1 has.",
                ),
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate_lookup(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        validate_lookup(diags, &config);
        if !diags.errors.is_empty() {
            return None;
        }
        match self.lookup(&config).await {
            Ok(app) => {
                let mut state = config;
                state.apply(&app);
                Some(state)
            }
            Err(err) => {
                err.report(diags);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str, name: &str) -> App {
        App {
            id: id.into(),
            display_name: name.into(),
            ..App::default()
        }
    }

    fn by_name(name: &str) -> AppLookup {
        AppLookup {
            display_name: Value::Value(name.into()),
            ..AppLookup::default()
        }
    }

    fn errors(config: &AppLookup) -> Vec<(String, AttributePath)> {
        let mut diags = Diagnostics::default();
        validate_lookup(&mut diags, config);
        diags
            .errors
            .into_iter()
            .map(|d| (d.summary.into_owned(), d.attribute))
            .collect()
    }

    #[test]
    fn exactly_one_of_display_name_and_query() {
        assert!(errors(&by_name("Torq")).is_empty());
        let neither = errors(&AppLookup::default());
        assert_eq!(neither.len(), 1);
        assert!(
            neither[0].0.contains("`display_name` or `query`"),
            "{neither:?}"
        );
        let both = errors(&AppLookup {
            query: Value::Value("torq".into()),
            ..by_name("Torq")
        });
        assert_eq!(both[0].1, AttributePath::new("query"));
        assert!(both[0].0.contains("`display_name` and `query`"));
        // Unknown until apply counts as set.
        let unknown = AppLookup {
            display_name: Value::Unknown,
            ..AppLookup::default()
        };
        assert!(errors(&unknown).is_empty());
        let blank = errors(&by_name("  "));
        assert_eq!(blank[0].1, AttributePath::new("display_name"));
        let bad_id = errors(&AppLookup {
            app_ids: Value::Value(vec![Value::Value("ok".into()), Value::Value("a/b".into())]),
            ..by_name("Torq")
        });
        assert_eq!(bad_id[0].1, AttributePath::new("app_ids").index(1));
    }

    #[test]
    fn a_name_lookup_keeps_whole_name_matches_only() {
        let lookup = by_name("torq");
        let (criterion, search) = lookup.search();
        assert_eq!(search.display_name.as_deref(), Some("torq"));
        let one = pick(
            &lookup,
            criterion.clone(),
            &search,
            vec![app("a", "Torq"), app("b", "Torque")],
        )
        .unwrap();
        assert_eq!(one.id, "a");
        let none = pick(
            &lookup,
            criterion.clone(),
            &search,
            vec![app("b", "Torque")],
        );
        match none {
            Err(AppError::NoMatch { near, .. }) => assert_eq!(near[0].id, "b"),
            other => panic!("{other:?}"),
        }
        let several = pick(
            &lookup,
            criterion,
            &search,
            vec![app("a", "Torq"), app("c", "TORQ")],
        );
        match several {
            Err(AppError::SeveralMatches { found, .. }) => assert_eq!(found.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_found_app_fills_the_outputs_and_leaves_the_inputs() {
        let mut lookup = by_name("torq");
        let mut found = app("a", "Torq");
        found.user_count = 3;
        found.parent_app_id = "okta".into();
        lookup.apply(&found);
        assert_eq!(lookup.display_name, Value::Value("torq".into()));
        assert_eq!(lookup.id, Value::Value("a".into()));
        assert_eq!(lookup.user_count, Value::Value(3));
        assert_eq!(lookup.parent_app_id, Value::Value("okta".into()));
        assert_eq!(lookup.app_account_name, Value::Null);
        let mut by_query = AppLookup {
            query: Value::Value("tor".into()),
            ..AppLookup::default()
        };
        by_query.apply(&found);
        assert_eq!(by_query.display_name, Value::Value("Torq".into()));
    }
}
