//! `IntegrationResource<I>`: the Terraform resource for any integration declaration `I`.
//!
//! Plan logic (what changes, what forces replacement, what becomes unknown) and apply logic
//! (which C1 calls make the change) live here; the C1 calls themselves are `c1_client`'s.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use c1_client::{ClientError, Connector, ConnectorClient, CreateConfigured, CreateDelegated};
use c1_contract::integrations::Integration;
use c1_contract::object_id::is_object_id;
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use super::error::{diagnostic, ResourceError};
use super::state::{IntegrationPrivate, IntegrationState};
use super::ClientSlot;
use crate::settings_schema::SettingsSchema;

/// The schema version of every integration resource: the official provider's, so its states
/// load without an upgrade.
pub const SCHEMA_VERSION: i64 = 0;

/// A Terraform resource managing one C1 connector of integration `I`.
pub struct IntegrationResource<I: Integration> {
    client: ClientSlot,
    settings: SettingsSchema,
    _integration: PhantomData<fn() -> I>,
}

type Private = Option<IntegrationPrivate>;

impl<I: Integration> IntegrationResource<I> {
    pub fn new(client: ClientSlot) -> Self {
        Self {
            client,
            settings: SettingsSchema::new::<I>(),
            _integration: PhantomData,
        }
    }

    fn api_error(action: &'static str, source: ClientError) -> ResourceError {
        ResourceError::Api {
            action,
            integration: I::DISPLAY_NAME,
            source: Box::new(source),
        }
    }

    fn client(&self, diags: &mut Diagnostics) -> Option<ConnectorClient> {
        self.client.get().map_err(|e| e.report(diags)).ok()
    }

    /// Turns a connector C1 answered into the state to store.
    fn state_from(
        &self,
        base: IntegrationState,
        connector: &Connector,
        read_settings: bool,
    ) -> IntegrationState {
        let mut state = base;
        state.apply_connector(connector, self.settings.fields(), read_settings);
        state
    }

    fn private_from(connector: &Connector) -> Private {
        Some(IntegrationPrivate {
            display_name: if connector.display_name.is_empty() {
                I::DISPLAY_NAME.to_string()
            } else {
                connector.display_name.clone()
            },
        })
    }

    /// Creates the connector: configured when any setting is set, delegated otherwise.
    ///
    /// When C1 may or may not have acted on a create (a 5xx or a broken connection after the
    /// request was sent), the app's connectors are looked up by the marker the request carried:
    /// found, the connector is adopted (and any duplicates deleted); not found, the create is sent
    /// again, [`CREATE_ROUNDS`] times at most. What is guaranteed: a create that landed before a
    /// lookup is found by it, so it is neither orphaned nor made twice. A create still on its way
    /// that lands after the last lookup is not found; the error then names the marker it carries.
    async fn create_connector(
        &self,
        client: &ConnectorClient,
        planned: &IntegrationState,
    ) -> Result<Connector, ResourceError> {
        let app_id = planned.app_id.as_ref_option().cloned().unwrap_or_default();
        let marker = create_marker();
        let mut last_unknown = None;
        for round in 0..CREATE_ROUNDS {
            match self.send_create(client, &app_id, planned, &marker).await {
                Ok(connector) => return Ok(connector),
                Err(err) if err.is_ambiguous() => {
                    tracing::warn!(round, "create outcome unknown; looking the connector up");
                    // Give a create still in flight a moment to land before looking.
                    tokio::time::sleep(Duration::from_millis(250 * (u64::from(round) + 1))).await;
                    if let Some(found) = self.find_created(client, &app_id, &marker).await? {
                        return Ok(found);
                    }
                    last_unknown = Some(err);
                }
                Err(err) => return Err(Self::api_error("create", err)),
            }
        }
        Err(ResourceError::CreateOutcomeUnknown {
            integration: I::DISPLAY_NAME,
            rounds: CREATE_ROUNDS,
            marker,
            source: Box::new(last_unknown.expect("at least one round ran")),
        })
    }

    async fn send_create(
        &self,
        client: &ConnectorClient,
        app_id: &str,
        planned: &IntegrationState,
        marker: &str,
    ) -> Result<Connector, ClientError> {
        let settings = planned.known_settings();
        let user_ids = planned.explicit_user_ids();
        let description = Some(marker.to_string());
        if settings.0.is_empty() {
            let request = CreateDelegated {
                catalog_id: I::CATALOG_ID.into(),
                display_name: I::DISPLAY_NAME.into(),
                user_ids,
                description,
            };
            client.create_delegated(app_id, &request).await
        } else {
            let request = CreateConfigured {
                catalog_id: I::CATALOG_ID.into(),
                user_ids,
                settings,
                description,
            };
            client.create_configured(app_id, &request).await
        }
    }

    /// The connector a create with `marker` made, if C1 has it. Should C1 hold several (a
    /// create that landed late beside a later one), one is kept and the others deleted.
    async fn find_created(
        &self,
        client: &ConnectorClient,
        app_id: &str,
        marker: &str,
    ) -> Result<Option<Connector>, ResourceError> {
        let mut found: Vec<Connector> = client
            .list(app_id)
            .await
            .map_err(|e| Self::api_error("look for the newly created", e))?
            .into_iter()
            .filter(|c| c.catalog_id == I::CATALOG_ID && c.description == marker)
            .collect();
        if found.is_empty() {
            return Ok(None);
        }
        let kept = found.remove(0);
        for extra in found {
            tracing::warn!(connector_id = %extra.id, "deleting a duplicate left by a retried create");
            client
                .delete(app_id, &extra.id)
                .await
                .map_err(|e| Self::api_error("delete a duplicate of", e))?;
        }
        tracing::warn!(connector_id = %kept.id, "create outcome was unknown; found the connector it made");
        Ok(Some(kept))
    }

    /// The plan for a connector about to be created: what C1 assigns is unknown until then.
    fn plan_new_connector(
        &self,
        proposed: IntegrationState,
        config: &IntegrationState,
    ) -> IntegrationState {
        let mut planned = proposed;
        planned.id = Value::Unknown;
        planned.created_at = Value::Unknown;
        planned.updated_at = Value::Unknown;
        planned.deleted_at = Value::Null;
        if config.user_ids.is_null() {
            // C1 picks the owners (the calling user) when none are given.
            planned.user_ids = Value::Unknown;
        }
        planned.fill_settings(self.settings.fields());
        planned
    }

    /// Judges the configuration against the integration's schema; unknown values are skipped.
    fn validate_config(&self, diags: &mut Diagnostics, config: &IntegrationState) {
        let (instance, unknown) = config.to_validation_instance();
        for v in self.settings.validate(&instance, &unknown) {
            let mut path = AttributePath::new(v.attribute.clone());
            if let Some(i) = v.index {
                path = path.index(i);
            }
            diags.add_error(diagnostic(v.summary, v.detail, path));
        }
    }

    fn string_attribute(
        description: String,
        constraint: AttributeConstraint,
        sensitive: bool,
    ) -> Attribute {
        Attribute {
            attr_type: AttributeType::String,
            description: Description::markdown(description),
            constraint,
            sensitive,
            deprecated: false,
        }
    }
}

#[async_trait]
impl<I: Integration> Resource for IntegrationResource<I> {
    type State<'a> = IntegrationState;
    type PrivateState<'a> = Private;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::*;
        let mut attributes = HashMap::new();
        let computed = |d: &str| Self::string_attribute(d.into(), Computed, false);
        attributes.insert("id".into(), computed("The connector's id in C1."));
        attributes.insert(
            "app_id".into(),
            Self::string_attribute(
                self.settings.property_description("app_id"),
                Required,
                false,
            ),
        );
        attributes.insert(
            "user_ids".into(),
            Attribute {
                attr_type: AttributeType::List(Box::new(AttributeType::String)),
                description: Description::markdown(self.settings.property_description("user_ids")),
                constraint: OptionalComputed,
                sensitive: false,
                deprecated: false,
            },
        );
        attributes.insert(
            "created_at".into(),
            computed("When the connector was created (RFC 3339)."),
        );
        attributes.insert(
            "updated_at".into(),
            computed("When the connector was last updated (RFC 3339)."),
        );
        attributes.insert(
            "deleted_at".into(),
            computed("When the connector was deleted (RFC 3339); null while it exists."),
        );
        for field in self.settings.fields() {
            let mut description = field.description.clone();
            if field.secret {
                description.push_str(
                    " Secret: C1 never returns it, so it stays null after import until you set it.",
                );
            }
            attributes.insert(
                field.name.clone(),
                Self::string_attribute(description, Optional, field.secret),
            );
        }
        Some(Schema {
            version: SCHEMA_VERSION,
            block: Block {
                version: SCHEMA_VERSION,
                attributes,
                description: Description::markdown(format!(
                    "Connects {name} to ConductorOne: a C1 connector of the {name} catalog entry, attached to an app. \
                     With settings it is created configured; without any, it is created delegated and its owners finish the setup in C1.",
                    name = I::DISPLAY_NAME
                )),
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        self.validate_config(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let client = match self.client(diags) {
            Some(c) => c,
            None => return Some((state, private_state)),
        };
        let (Some(app_id), Some(id)) = (state.app_id.as_ref_option(), state.id.as_ref_option())
        else {
            return Some((state, private_state));
        };
        match client.get(app_id, id).await {
            Ok(Some(connector)) if connector.deleted_at.is_none() => {
                let private = Self::private_from(&connector);
                Some((self.state_from(state, &connector, true), private))
            }
            Ok(_) => {
                diags.add_warning(diagnostic(
                    format!("{} integration {id} no longer exists in C1", I::DISPLAY_NAME),
                    "It was deleted outside Terraform. It has been removed from the state; the plan creates it again.".into(),
                    AttributePath::root(),
                ));
                None
            }
            Err(err) => {
                Self::api_error("read", err).report(diags);
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
        // Values unknown at validation may be known now (Terraform plans again during apply).
        self.validate_config(diags, &config_state);
        Some((self.plan_new_connector(proposed_state, &config_state), None))
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
        self.validate_config(diags, &config_state);
        let mut planned = proposed_state;
        planned.fill_settings(self.settings.fields());
        if planned.app_id != prior_state.app_id {
            // A connector cannot move between apps: replace it.
            let planned = self.plan_new_connector(planned, &config_state);
            return Some((
                planned,
                prior_private_state,
                vec![AttributePath::new("app_id")],
            ));
        }
        let settings_change = prior_state.settings_differ(&planned, self.settings.fields());
        let owners_change =
            config_state.explicit_user_ids().is_some() && planned.user_ids != prior_state.user_ids;
        if config_state.owners_unmanaged() && !prior_state.owners_unmanaged() {
            diags.add_warning(diagnostic(
                "`user_ids = []` does not remove the owners".into(),
                "An empty list means no explicit owners: C1 keeps the current owners (a connector always has one), \
                 and the provider stops managing them. To change them, list the new owners' C1 user ids."
                    .into(),
                AttributePath::new("user_ids"),
            ));
        }
        if settings_change || owners_change {
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
        let client = self.client(diags)?;
        match self.create_connector(&client, &planned_state).await {
            Ok(connector) => {
                let private = Self::private_from(&connector);
                Some((self.state_from(planned_state, &connector, false), private))
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
        config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let client = self.client(diags)?;
        let app_id = prior_state
            .app_id
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let id = prior_state.id.as_ref_option().cloned().unwrap_or_default();
        let fields = self.settings.fields();
        // What C1 holds so far: start from the prior state and move it forward call by call, so
        // a failure half-way leaves a state that matches C1.
        let mut state = prior_state.clone();
        let mut private = planned_private_state;

        if prior_state.settings_differ(&planned_state, fields) {
            match client
                .update_config(&app_id, &id, &planned_state.known_settings())
                .await
            {
                Ok(connector) => {
                    state.settings = planned_state.settings.clone();
                    state = self.state_from(state, &connector, false);
                    private = Self::private_from(&connector);
                }
                Err(err) => {
                    Self::api_error("update the settings of", err).report(diags);
                    return Some((state, private));
                }
            }
        }

        if planned_state.owners_unmanaged() {
            // No explicit owners: C1 keeps the current ones, no call (see `owners_unmanaged`).
            state.user_ids = Value::Value(Vec::new());
        } else if let Some(wanted_owners) = config_state
            .explicit_user_ids()
            .and(planned_state.explicit_user_ids())
            .filter(|_| planned_state.user_ids != state.user_ids)
        {
            let display_name = private
                .as_ref()
                .map(|p| p.display_name.clone())
                .unwrap_or_else(|| I::DISPLAY_NAME.to_string());
            match client
                .update_owners(&app_id, &id, &display_name, &wanted_owners)
                .await
            {
                Ok(connector) => {
                    state.user_ids = planned_state.user_ids.clone();
                    state = self.state_from(state, &connector, false);
                    private = Self::private_from(&connector);
                }
                Err(err) => {
                    Self::api_error("update the owners of", err).report(diags);
                    return Some((state, private));
                }
            }
        }
        Some((state, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let client = self.client(diags)?;
        let (Some(app_id), Some(id)) = (
            prior_state.app_id.as_ref_option(),
            prior_state.id.as_ref_option(),
        ) else {
            return Some(());
        };
        match client.delete(app_id, id).await {
            Ok(()) => Some(()),
            Err(err) => {
                Self::api_error("delete", err).report(diags);
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
            let (app_id, connector_id) = id
                .split_once('/')
                .filter(|(a, c)| is_object_id(a) && is_object_id(c))
                .ok_or(ResourceError::InvalidImportId)?;
            let client = self.client.get()?;
            let not_found = || ResourceError::ImportNotFound {
                integration: I::DISPLAY_NAME,
            };
            let connector = client
                .get(app_id, connector_id)
                .await
                .map_err(|e| Self::api_error("import", e))?
                .filter(|c| c.deleted_at.is_none())
                .ok_or_else(not_found)?;
            if connector.catalog_id != I::CATALOG_ID {
                return Err(ResourceError::WrongCatalog {
                    integration: I::DISPLAY_NAME,
                    id: connector.id,
                    catalog_id: connector.catalog_id,
                });
            }
            Ok(connector)
        }
        .await;
        match result {
            Ok(connector) => {
                let private = Self::private_from(&connector);
                Some((
                    self.state_from(IntegrationState::default(), &connector, true),
                    private,
                ))
            }
            Err(err) => {
                err.report(diags);
                None
            }
        }
    }
}

/// How many times a create whose outcome stays unknown is sent before giving up.
const CREATE_ROUNDS: u32 = 3;

/// A marker unique to one create, carried in the connector's description.
fn create_marker() -> String {
    format!(
        "Managed by Terraform (create {:016x})",
        rand::random::<u64>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_markers_differ() {
        assert_ne!(create_marker(), create_marker());
        assert!(create_marker().starts_with("Managed by Terraform"));
    }
}
