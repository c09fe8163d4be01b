//! `AppResource`: the `conductorone_app` resource, a manually managed C1 app that connectors
//! attach to. Plan logic (what changes, what becomes unknown) and apply logic (which C1 calls
//! make the change); the calls themselves are `c1_client::AppClient`'s.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use c1_client::{App, AppSearch, AppUpdate, CallBudget, ClientError, ConnectorClient, CreateApp};
use c1_contract::object_id::is_object_id;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use super::app_error::{AppError, Named};
use super::bounded::Bounded;
use super::error::diagnostic;
use super::timeouts::{self, format_duration, CreateReadUpdateDelete, Operation, Timeouts};
use super::ClientSlot;
use crate::stop::StopSignal;

/// The schema version of `conductorone_app`.
pub const SCHEMA_VERSION: i64 = 0;

/// The state of a `conductorone_app`: the official provider's attribute names.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct AppState {
    pub id: Value<String>,
    pub display_name: Value<String>,
    pub description: Value<String>,
    pub created_at: Value<String>,
    pub updated_at: Value<String>,
    pub is_directory: Value<bool>,
    pub is_manually_managed: Value<bool>,
    pub parent_app_id: Value<String>,
    /// The `timeouts` block; absent from the official provider's states (null: the defaults).
    #[serde(with = "timeouts::as_optional_block", default)]
    pub timeouts: Value<Timeouts>,
}

impl AppState {
    /// Takes what C1 holds. An empty description stays null when the configuration has none
    /// (C1 keeps "no description" as an empty one).
    fn apply(&mut self, app: &App) {
        self.id = Value::Value(app.id.clone());
        self.display_name = Value::Value(app.display_name.clone());
        if !(app.description.is_empty() && self.description.is_null()) {
            self.description = Value::Value(app.description.clone());
        }
        self.created_at = opt(app.created_at.as_deref());
        self.updated_at = opt(app.updated_at.as_deref());
        self.is_directory = Value::Value(app.is_directory);
        self.is_manually_managed = Value::Value(app.is_manually_managed);
        self.parent_app_id = opt(Some(app.parent_app_id.as_str()));
    }
}

/// A string C1 sent, null when absent or empty.
pub(super) fn opt(v: Option<&str>) -> Value<String> {
    v.filter(|s| !s.is_empty())
        .map_or(Value::Null, |s| Value::Value(s.to_string()))
}

/// The C1 client whose calls run within `budget` (which stops with the provider).
pub(super) fn bounded_client(
    slot: &ClientSlot,
    budget: &CallBudget,
) -> Result<ConnectorClient, AppError> {
    slot.get()
        .map(|client| client.within(budget.clone()))
        .map_err(|_| AppError::NotConfigured)
}

/// Why the provider stopped, for an interrupted call.
pub(super) fn stop_reason(stop: &'static StopSignal) -> Option<String> {
    stop.reason().map(|r| r.to_string())
}

/// A Terraform resource managing one manually managed C1 app.
pub struct AppResource {
    client: ClientSlot,
    stop: &'static StopSignal,
}

impl AppResource {
    pub fn new(client: ClientSlot, stop: &'static StopSignal) -> Self {
        Self { client, stop }
    }

    fn bounded(
        &self,
        timeouts: &Value<Timeouts>,
        operation: Operation,
    ) -> Result<Bounded, AppError> {
        Bounded::new(&self.client, self.stop, timeouts, operation)
            .map_err(|_| AppError::NotConfigured)
    }

    /// The error for a client error while doing `action` to `app` within `bounded`'s budget.
    fn error(
        &self,
        bounded: &Bounded,
        action: &'static str,
        app: &str,
        source: ClientError,
    ) -> AppError {
        if source.is_out_of_time() {
            return AppError::OutOfTime {
                action,
                app: app.to_string(),
                timeout: bounded.operation.name(),
                budget: format_duration(bounded.budget),
                source: Box::new(source),
            };
        }
        AppError::api(action, app, source, stop_reason(self.stop))
    }

    /// A display name must have a letter in it, and `timeouts` values must be durations;
    /// unknown values are judged once known.
    fn validate_config(diags: &mut Diagnostics, config: &AppState) {
        timeouts::validate(&config.timeouts, diags);
        if let Value::Value(name) = &config.display_name {
            if name.trim().is_empty() {
                diags.add_error(diagnostic(
                    "`display_name` is empty".into(),
                    "C1 needs a name for the app: the name users see in C1 and in access requests."
                        .into(),
                    AttributePath::new("display_name"),
                ));
            }
        }
    }

    /// Creates the app. When C1 may or may not have carried the create out (the answer was lost
    /// or unreadable, or C1 had not answered when the create's budget ran out), the app is
    /// looked for by name among those that were not there before the create, and adopted when
    /// exactly one is found: no orphan app, no duplicate on the next apply. The create itself
    /// may use the budget (`timeouts.create`) but for [`timeouts::lookup_reserve`], kept for
    /// that lookup. Otherwise the error says what is known and how to find and import the app.
    async fn create_app(&self, bounded: &Bounded, request: &CreateApp) -> Result<App, AppError> {
        let client = bounded.apps();
        let label = format!("{:?}", request.display_name);
        let same_name = AppSearch {
            display_name: Some(request.display_name.clone()),
            ..AppSearch::default()
        };
        let before: HashSet<String> = client
            .search(&same_name)
            .await
            .map_err(|err| self.error(bounded, "look for apps named like", &label, err))?
            .into_iter()
            .map(|app| app.id)
            .collect();
        let reserve = timeouts::lookup_reserve(bounded.budget);
        let create_call = CallBudget::new(
            bounded.call.remaining().saturating_sub(reserve),
            self.stop.token(),
        );
        let create_client = bounded_client(&self.client, &create_call)?.apps();
        let err = match create_client.create(request).await {
            Ok(app) => return Ok(app),
            Err(err) if err.is_ambiguous() || matches!(err, ClientError::Decode { .. }) => err,
            Err(err) => return Err(self.error(bounded, "create", &label, err)),
        };
        // The budget ran out while C1 had the create (an answer cut off by the budget).
        let ran_out = (create_call.remaining().is_zero() && !create_call.is_stopped())
            .then(|| (bounded.operation.name(), format_duration(bounded.budget)));
        tracing::warn!(error = %err, "app create outcome unknown; looking the app up by name");
        let landed: Option<Vec<App>> = match client.search(&same_name).await {
            Ok(found) => Some(
                found
                    .into_iter()
                    .filter(|app| {
                        !before.contains(&app.id)
                            && app.is_manually_managed
                            && app.display_name.to_lowercase()
                                == request.display_name.to_lowercase()
                    })
                    .collect(),
            ),
            Err(lookup) => {
                tracing::warn!(error = %lookup, "could not look the app up after an unknown create outcome");
                None
            }
        };
        if let Some([app]) = landed.as_deref() {
            tracing::warn!(app_id = %app.id, "the create had made the app; adopted");
            return Ok(app.clone());
        }
        Err(AppError::CreateOutcomeUnknown {
            name: request.display_name.clone(),
            found: landed.map(|landed| {
                landed
                    .into_iter()
                    .map(|a| Named {
                        id: a.id,
                        name: a.display_name,
                        note: None,
                    })
                    .collect()
            }),
            ran_out,
            source: Box::new(err),
        })
    }

    /// Deletes the app unless connectors are still attached to it (C1 would delete them with
    /// it): those are listed instead, with what to do.
    async fn delete_app(&self, state: &AppState) -> Result<(), AppError> {
        let Some(id) = state.id.as_ref_option() else {
            return Ok(());
        };
        let bounded = self.bounded(&state.timeouts, Operation::Delete)?;
        let client = &bounded.client;
        let name = state
            .display_name
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let connectors = match client.list(id).await {
            Ok(connectors) => connectors,
            // Gone already (deleted outside Terraform): nothing left to delete.
            Err(err) if err.is_not_found() => return Ok(()),
            Err(err) => return Err(self.error(&bounded, "list the connectors of", id, err)),
        };
        if !connectors.is_empty() {
            return Err(AppError::HasConnectors {
                app: Named {
                    id: id.clone(),
                    name,
                    note: None,
                },
                connectors: connectors
                    .into_iter()
                    .map(|c| Named {
                        id: c.id,
                        name: c.display_name,
                        note: None,
                    })
                    .collect(),
            });
        }
        client
            .apps()
            .delete(id)
            .await
            .map_err(|err| self.error(&bounded, "delete", id, err))
    }

    fn string_attribute(description: &str, constraint: AttributeConstraint) -> Attribute {
        Attribute {
            attr_type: AttributeType::String,
            description: Description::markdown(description),
            constraint,
            sensitive: false,
            deprecated: false,
        }
    }
}

#[async_trait]
impl Resource for AppResource {
    type State<'a> = AppState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::*;
        let mut attributes: HashMap<String, Attribute> = HashMap::new();
        let mut add = |name: &str, attribute: Attribute| {
            attributes.insert(name.to_string(), attribute);
        };
        add(
            "display_name",
            Self::string_attribute(
                "The app's name in C1. Changing it updates the app in place.",
                Required,
            ),
        );
        add(
            "description",
            Self::string_attribute(
                "The app's description in C1. Unset: none (an empty description in C1).",
                Optional,
            ),
        );
        add(
            "id",
            Self::string_attribute(
                "The app's id in C1: what `app_id` of an integration takes.",
                Computed,
            ),
        );
        add(
            "created_at",
            Self::string_attribute("When the app was created (RFC 3339).", Computed),
        );
        add(
            "updated_at",
            Self::string_attribute("When the app was last updated (RFC 3339).", Computed),
        );
        let flag = |d: &str| Attribute {
            attr_type: AttributeType::Bool,
            description: Description::markdown(d),
            constraint: Computed,
            sensitive: false,
            deprecated: false,
        };
        add("is_directory", flag("Whether the app is a directory (an identity provider); false for an app made here."));
        add(
            "is_manually_managed",
            flag("Whether the app was made by hand rather than discovered; true for an app made here."),
        );
        add(
            "parent_app_id",
            Self::string_attribute(
                "The id of the app that created this one, if any; null for an app made here.",
                Computed,
            ),
        );
        Some(Schema {
            version: SCHEMA_VERSION,
            block: Block {
                version: SCHEMA_VERSION,
                attributes,
                blocks: [(
                    timeouts::BLOCK.to_string(),
                    timeouts::block::<CreateReadUpdateDelete>(timeout_covers),
                )]
                .into(),
                description: Description::markdown(
                    "A manually managed C1 app: a place for connectors (`conductorone_integration_*`) to attach to. \
                     To attach connectors to an app C1 discovered (through SSO) or one made elsewhere, look it up with \
                     the `conductorone_app` data source instead.",
                ),
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        Self::validate_config(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let Some(id) = state.id.as_ref_option().cloned() else {
            return Some((state, private_state));
        };
        let bounded = match self.bounded(&state.timeouts, Operation::Read) {
            Ok(bounded) => bounded,
            Err(err) => {
                err.report(diags);
                return Some((state, private_state));
            }
        };
        match bounded.apps().get(&id).await {
            Ok(Some(app)) if app.deleted_at.is_none() => {
                let mut state = state;
                state.apply(&app);
                Some((state, private_state))
            }
            Ok(_) => {
                diags.add_warning(diagnostic(
                    format!("App {id} no longer exists in C1"),
                    "It was deleted outside Terraform (with its connectors). It has been removed from the state; \
                     the plan creates it again."
                        .into(),
                    AttributePath::root(),
                ));
                None
            }
            Err(err) => {
                self.error(&bounded, "read", &id, err).report(diags);
                Some((state, private_state))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed_state: Self::State<'a>,
        config_state: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Self::validate_config(diags, &config_state);
        let mut planned = proposed_state;
        planned.id = Value::Unknown;
        planned.created_at = Value::Unknown;
        planned.updated_at = Value::Unknown;
        planned.is_directory = Value::Unknown;
        planned.is_manually_managed = Value::Unknown;
        planned.parent_app_id = Value::Unknown;
        Some((planned, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        proposed_state: Self::State<'a>,
        config_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        Self::validate_config(diags, &config_state);
        let mut planned = proposed_state;
        if planned.display_name != prior_state.display_name
            || planned.description != prior_state.description
        {
            planned.updated_at = Value::Unknown;
        }
        Some((planned, prior_private_state, vec![]))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(prior_private_state)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let name = planned_state
            .display_name
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let request = CreateApp {
            display_name: name.clone(),
            description: planned_state.description.as_ref_option().cloned(),
        };
        let created = match self.bounded(&planned_state.timeouts, Operation::Create) {
            Ok(bounded) => self.create_app(&bounded, &request).await,
            Err(err) => Err(err),
        };
        match created {
            Ok(app) => {
                let mut state = planned_state;
                state.apply(&app);
                Some((state, Value::Null))
            }
            Err(err) => {
                err.report(diags);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let id = prior_state.id.as_ref_option().cloned().unwrap_or_default();
        let update = AppUpdate {
            display_name: planned_state
                .display_name
                .as_ref_option()
                .filter(|_| planned_state.display_name != prior_state.display_name)
                .cloned(),
            description: (planned_state.description != prior_state.description).then(|| {
                planned_state
                    .description
                    .as_ref_option()
                    .cloned()
                    .unwrap_or_default()
            }),
        };
        if update.is_empty() {
            return Some((planned_state, planned_private_state));
        }
        let updated = match self.bounded(&planned_state.timeouts, Operation::Update) {
            Ok(bounded) => bounded
                .apps()
                .update(&id, &update)
                .await
                .map_err(|err| self.error(&bounded, "update", &id, err)),
            Err(err) => Err(err),
        };
        match updated {
            Ok(app) => {
                let mut state = planned_state;
                state.apply(&app);
                Some((state, planned_private_state))
            }
            Err(err) => {
                err.report(diags);
                Some((prior_state, planned_private_state))
            }
        }
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        match self.delete_app(&prior_state).await {
            Ok(()) => Some(()),
            Err(err) => {
                err.report(diags);
                None
            }
        }
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let result = async {
            if !is_object_id(&id) {
                return Err(AppError::InvalidImportId);
            }
            let bounded = self.bounded(&Value::Null, Operation::Read)?;
            bounded
                .apps()
                .get(&id)
                .await
                .map_err(|err| self.error(&bounded, "import", &id, err))?
                .filter(|app| app.deleted_at.is_none())
                .ok_or_else(|| AppError::ImportNotFound { id: id.clone() })
        }
        .await;
        match result {
            Ok(app) => {
                let mut state = AppState::default();
                state.apply(&app);
                Some((state, Value::Null))
            }
            Err(err) => {
                err.report(diags);
                None
            }
        }
    }
}

/// What the budget of `operation` covers, for the `timeouts` block's descriptions.
fn timeout_covers(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => {
            "creating the app (retries and the lookup after a lost answer included)"
        }
        Operation::Read => "reading the app (refresh, import)",
        Operation::Update => "updating the app's name and description",
        Operation::Delete => "deleting the app (the check for connectors still in it included)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(description: &str) -> App {
        App {
            id: "a1".into(),
            display_name: "Payroll".into(),
            description: description.into(),
            created_at: Some("2026-11-23T21:54:00Z".into()),
            is_manually_managed: true,
            ..App::default()
        }
    }

    #[test]
    fn no_description_reads_back_as_null_and_a_set_one_as_itself() {
        let mut state = AppState::default();
        state.apply(&app(""));
        assert_eq!(state.description, Value::Null);
        assert_eq!(
            state.parent_app_id,
            Value::Null,
            "no parent: null, not \"\""
        );
        assert_eq!(state.is_manually_managed, Value::Value(true));
        // Written outside Terraform: the state shows it, so the plan puts it back.
        state.apply(&app("set in the UI"));
        assert_eq!(state.description, Value::Value("set in the UI".into()));
        // An explicit "" stays "".
        let mut explicit = AppState {
            description: Value::Value(String::new()),
            ..AppState::default()
        };
        explicit.apply(&app(""));
        assert_eq!(explicit.description, Value::Value(String::new()));
    }
}
