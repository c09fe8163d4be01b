//! `IntegrationResource<I>`: the Terraform resource for any integration declaration `I`.
//!
//! Plan logic (what changes, what forces replacement, what becomes unknown) and apply logic
//! (which C1 calls make the change) live here; the C1 calls themselves are `c1_client`'s.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use c1_client::{
    ClientError, Connector, ConnectorClient, CreateConfigured, CreateDelegated, SyncProgress,
    SyncStatus,
};
use c1_contract::integrations::Integration;
use c1_contract::object_id::is_object_id;
use rand::Rng as _;
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostic, Diagnostics, Resource};

use super::bounded::Bounded;
use super::error::{diagnostic, ResourceError};
use super::state::{IntegrationPrivate, IntegrationState, SYNC_STATUS_NAMES};
use super::sync_wait::{self, WaitError, WaitFailure};
use super::timeouts::{self, format_duration, CreateReadUpdateDelete, Operation, Timeouts};
use super::ClientSlot;
use crate::settings_schema::SettingsSchema;
use crate::stop::StopSignal;

/// The schema version of every integration resource: the official provider's, so its states
/// load without an upgrade.
pub const SCHEMA_VERSION: i64 = 0;

/// A Terraform resource managing one C1 connector of integration `I`.
pub struct IntegrationResource<I: Integration> {
    client: ClientSlot,
    /// Stops every call of this resource at once (StopProvider, Ctrl-C).
    stop: &'static StopSignal,
    settings: SettingsSchema,
    _integration: PhantomData<fn() -> I>,
}

type Private = Option<IntegrationPrivate>;

impl<I: Integration> IntegrationResource<I> {
    pub fn new(client: ClientSlot, stop: &'static StopSignal) -> Self {
        Self {
            client,
            stop,
            settings: SettingsSchema::new::<I>(),
            _integration: PhantomData,
        }
    }

    /// The client for `operation`, within the budget `timeouts` gives it.
    fn bounded(
        &self,
        timeouts: &Value<Timeouts>,
        operation: Operation,
    ) -> Result<Bounded, ResourceError> {
        Bounded::new(&self.client, self.stop, timeouts, operation)
    }

    /// Like [`bounded`](Self::bounded), reporting a missing configuration.
    fn bounded_or_report(
        &self,
        diags: &mut Diagnostics,
        timeouts: &Value<Timeouts>,
        operation: Operation,
    ) -> Option<Bounded> {
        self.bounded(timeouts, operation)
            .map_err(|e| e.report(diags))
            .ok()
    }

    /// The resource error for a client error while doing `action` within `bounded`'s budget.
    fn api_error(
        &self,
        bounded: &Bounded,
        action: &'static str,
        source: ClientError,
    ) -> ResourceError {
        let integration = I::DISPLAY_NAME;
        if source.is_interrupted() {
            return ResourceError::Interrupted {
                action,
                integration,
                reason: self.stop.reason().map_or_else(
                    || "the provider was asked to stop".to_string(),
                    |r| r.to_string(),
                ),
            };
        }
        if source.is_out_of_time() {
            return ResourceError::OutOfTime {
                action,
                integration,
                timeout: bounded.operation.name(),
                budget: format_duration(bounded.budget),
                source: Box::new(source),
            };
        }
        ResourceError::Api {
            action,
            integration,
            source: Box::new(source),
        }
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

    /// The private state for `connector`, keeping a marker still to reconcile and the time of
    /// a settings change whose sync failed ([`IntegrationPrivate::unsynced_change`]).
    fn private_from(
        connector: &Connector,
        unreconciled_marker: Option<String>,
        unsynced_change: Option<String>,
    ) -> Private {
        Some(IntegrationPrivate {
            display_name: if connector.display_name.is_empty() {
                I::DISPLAY_NAME.to_string()
            } else {
                connector.display_name.clone()
            },
            unreconciled_marker,
            unsynced_change,
        })
    }

    /// The time of a settings change whose sync failed under `wait_for_sync`: the next plan
    /// applies the settings again.
    fn unsynced(private: &Private) -> Option<String> {
        private.as_ref().and_then(|p| p.unsynced_change.clone())
    }

    /// `wait_for_sync` after `action` (`create` or `update`) of connector `changed`: waits for
    /// the first sync since the change. On failure, `state` takes the sync as last seen and the
    /// error is returned with the change's time, to keep in private state.
    async fn wait_for_first_sync(
        &self,
        bounded: &Bounded,
        action: &'static str,
        changed: &Connector,
        state: &mut IntegrationState,
    ) -> Result<(), (ResourceError, String)> {
        let changed_at = changed.settings_changed_at();
        let result = sync_wait::wait_for_sync(
            &bounded.client,
            &bounded.call,
            &changed.app_id,
            &changed.id,
            changed_at.as_deref(),
            changed.clone(),
        )
        .await;
        let WaitError { failure, last_seen } = match result {
            Ok(synced) => {
                state.apply_sync(&synced);
                return Ok(());
            }
            Err(err) => err,
        };
        state.apply_sync(&last_seen);
        let id = changed.id.clone();
        let integration = I::DISPLAY_NAME;
        let error = match failure {
            WaitFailure::Failed => ResourceError::SyncFailed {
                integration,
                action,
                id,
                why: last_seen
                    .status
                    .as_ref()
                    .and_then(|s| s.last_error.clone())
                    .unwrap_or_else(|| "the sync ended in SYNC_STATUS_ERROR without a lastError".into()),
                hint: Some(I::SYNC_FAILURE_HINT),
            },
            WaitFailure::Disabled => ResourceError::SyncFailed {
                integration,
                action,
                id,
                why: "syncs of this connector are disabled (sync_status = \"disabled\"), so none will come. \
                      Enable them in C1 (Apps > the app > Connectors), or set wait_for_sync = false."
                    .into(),
                hint: None,
            },
            WaitFailure::Gone => ResourceError::SyncFailed {
                integration,
                action,
                id,
                why: "the connector was deleted in C1 while waiting for its sync".into(),
                hint: None,
            },
            WaitFailure::OutOfTime => ResourceError::SyncTimedOut {
                integration,
                action,
                id,
                budget: format_duration(bounded.budget),
                last_seen: sync_wait::describe_last_seen(&last_seen, changed_at.as_deref()),
            },
            WaitFailure::Interrupted => ResourceError::Interrupted {
                action: "wait for the first sync of",
                integration,
                reason: self.stop.reason().map_or_else(
                    || "the provider was asked to stop".to_string(),
                    |r| r.to_string(),
                ),
            },
            WaitFailure::Client(err) => self.api_error(bounded, "wait for the first sync of", err),
        };
        Err((error, changed_at.unwrap_or_default()))
    }

    /// The warning a refresh gives for a connector whose last sync failed: C1's `lastError` and
    /// what to check. It changes nothing in the plan.
    fn sync_failed_warning(connector: &Connector, reapplies: bool) -> Diagnostic {
        let status = connector.status.as_ref();
        let why = status
            .and_then(|s| s.last_error.as_deref())
            .unwrap_or("(C1 gave no lastError)");
        let when = status
            .and_then(|s| s.completed_at.as_deref())
            .map(|at| format!(" (the sync ended {at})"))
            .unwrap_or_default();
        let next = if reapplies {
            "This plan applies the settings again, since they did not sync when last applied."
        } else {
            "Terraform changes nothing for this: fix the credentials (or correct the settings and apply), \
             and the next sync in C1 clears this warning."
        };
        diagnostic(
            format!(
                "The last sync of {} integration {} failed",
                I::DISPLAY_NAME,
                connector.id
            ),
            format!(
                "C1 reports: {why}{when}\n\n{}\n\n{next}",
                I::SYNC_FAILURE_HINT
            ),
            AttributePath::root(),
        )
    }

    /// The marker of a retried create whose other tries are still to be looked for.
    fn unreconciled(private: &Private) -> Option<String> {
        private.as_ref().and_then(|p| p.unreconciled_marker.clone())
    }

    /// Creates the connector: configured when any setting is set, delegated otherwise.
    ///
    /// When C1 may or may not have acted on a create (a 5xx or a broken connection after the
    /// request was sent, an answer that cannot be read, an interrupt while it was under way), the
    /// create is tried again with the same marker in its description, after a capped, jittered
    /// wait, for as long as the create budget (`timeouts.create`) lasts. After the first unknown
    /// outcome and then after every second one, the app's connectors are looked up by the
    /// marker first, and one that landed is adopted (duplicates deleted): a create whose answer
    /// is always lost is found after its first try, and a pattern of failures that always
    /// strikes the call after a lookup cannot starve the create. Once a try succeeds after
    /// unknown outcomes, the other tries that landed are deleted ([`Self::reconcile`]). When
    /// the budget ends, a last lookup adopts what landed; if nothing did (yet), the create ends
    /// as [`CreateFailure::MaybeCreated`]: the resource keeps a placeholder whose destroy
    /// removes whatever carries the marker.
    async fn create_connector(
        &self,
        bounded: &Bounded,
        planned: &IntegrationState,
    ) -> Result<Created, CreateFailure> {
        let client = &bounded.client;
        let app_id = planned.app_id.as_ref_option().cloned().unwrap_or_default();
        let nonce = rand::random::<u64>();
        let marker = create_marker(nonce);
        // Below this much budget no create is sent any more: it is kept for the last lookup.
        let reserve = timeouts::lookup_reserve(bounded.budget);
        let mut tries: u32 = 0;
        let mut unknown_outcomes: u32 = 0;
        let last_error = loop {
            tries += 1;
            let err = match self.send_create(client, &app_id, planned, &marker).await {
                Ok(connector) if unknown_outcomes == 0 => {
                    return Ok(Created {
                        connector,
                        unreconciled: None,
                    })
                }
                Ok(connector) => return Ok(self.reconcile(bounded, connector, &marker).await),
                Err(err) => err,
            };
            // A 2xx whose body cannot be read made the connector all the same.
            let unknown = err.is_ambiguous() || matches!(err, ClientError::Decode { .. });
            if !unknown {
                let error = self.api_error(bounded, "create", err);
                if unknown_outcomes == 0 {
                    return Err(CreateFailure::NotCreated(error));
                }
                break error;
            }
            unknown_outcomes += 1;
            let error = self.api_error(bounded, "create", err);
            // Give a create still in flight a moment to land before looking or trying again,
            // never out of the reserve kept for the last lookup.
            let wait =
                create_round_wait(tries).min(bounded.call.remaining().saturating_sub(reserve));
            if !bounded.call.sleep(wait).await {
                break error;
            }
            if unknown_outcomes % 2 == 1 {
                tracing::warn!(tries, "create outcome unknown; looking the connector up");
                match self.find_created(bounded, &app_id, &marker).await {
                    Ok(Some(found)) => {
                        return Ok(Created {
                            connector: found,
                            unreconciled: None,
                        })
                    }
                    Ok(None) => {}
                    Err(lookup) => break lookup,
                }
            } else {
                tracing::warn!(tries, "create outcome unknown again; sending it again");
            }
            if bounded.call.remaining() < reserve {
                break error;
            }
        };
        // The budget ran out, the provider was stopped, or a lookup failed: look once more
        // (unless stopped), then keep a placeholder.
        if !bounded.call.is_stopped() {
            if let Ok(Some(found)) = self.find_created(bounded, &app_id, &marker).await {
                return Ok(Created {
                    connector: found,
                    unreconciled: None,
                });
            }
        }
        Err(CreateFailure::MaybeCreated {
            nonce,
            error: ResourceError::CreateOutcomeUnknown {
                integration: I::DISPLAY_NAME,
                tries,
                marker,
                why: last_error.to_diagnostic().detail.into_owned(),
            },
        })
    }

    /// After a create succeeded following unknown outcomes: deletes the other connectors that
    /// carry its marker (earlier tries that landed). Should that fail, the marker is kept in
    /// private state and the next read or destroy finishes the job.
    async fn reconcile(&self, bounded: &Bounded, created: Connector, marker: &str) -> Created {
        let result = async {
            for landed in self
                .marked(bounded, &created.app_id, marker, "look for duplicates of")
                .await?
                .into_iter()
                .filter(|c| c.id != created.id)
            {
                tracing::warn!(connector_id = %landed.id, "deleting a duplicate left by a retried create");
                bounded
                    .client
                    .delete(&created.app_id, &landed.id)
                    .await
                    .map_err(|e| self.api_error(bounded, "delete a duplicate of", e))?;
            }
            Ok::<_, ResourceError>(())
        }
        .await;
        match result {
            Ok(()) => Created {
                connector: created,
                unreconciled: None,
            },
            Err(err) => {
                tracing::warn!(error = %err, "could not look for duplicates of a retried create; the next refresh will");
                Created {
                    connector: created,
                    unreconciled: Some(marker.to_string()),
                }
            }
        }
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
        bounded: &Bounded,
        app_id: &str,
        marker: &str,
    ) -> Result<Option<Connector>, ResourceError> {
        let mut found = self
            .marked(bounded, app_id, marker, "look for the newly created")
            .await?;
        if found.is_empty() {
            return Ok(None);
        }
        let kept = found.remove(0);
        for extra in found {
            tracing::warn!(connector_id = %extra.id, "deleting a duplicate left by a retried create");
            bounded
                .client
                .delete(app_id, &extra.id)
                .await
                .map_err(|e| self.api_error(bounded, "delete a duplicate of", e))?;
        }
        tracing::warn!(connector_id = %kept.id, "create outcome was unknown; found the connector it made");
        Ok(Some(kept))
    }

    /// The app's connectors of this integration whose description is `marker`.
    async fn marked(
        &self,
        bounded: &Bounded,
        app_id: &str,
        marker: &str,
        action: &'static str,
    ) -> Result<Vec<Connector>, ResourceError> {
        Ok(bounded
            .client
            .list(app_id)
            .await
            .map_err(|e| self.api_error(bounded, action, e))?
            .into_iter()
            .filter(|c| c.catalog_id == I::CATALOG_ID && c.description == marker)
            .collect())
    }

    /// Destroys the placeholder of a create whose outcome stayed unknown: deletes every
    /// connector of the app that carries its marker (none, one, or several that landed late).
    async fn sweep_marked(
        &self,
        bounded: &Bounded,
        app_id: &str,
        marker: &str,
    ) -> Result<(), ResourceError> {
        for landed in self
            .marked(
                bounded,
                app_id,
                marker,
                "look for connectors left by a create of",
            )
            .await?
        {
            tracing::warn!(connector_id = %landed.id, "deleting a connector made by a create whose outcome was unknown");
            bounded
                .client
                .delete(app_id, &landed.id)
                .await
                .map_err(|e| {
                    self.api_error(bounded, "delete a connector left by a create of", e)
                })?;
        }
        Ok(())
    }

    /// The state kept for a create that may have landed: the plan with no C1 values and an id
    /// that stands for the create ([`placeholder_id`]). Terraform keeps it tainted.
    fn placeholder(planned: IntegrationState, nonce: u64) -> IntegrationState {
        let mut state = planned;
        state.id = Value::Value(placeholder_id(nonce));
        state.created_at = Value::Null;
        state.updated_at = Value::Null;
        state.deleted_at = Value::Null;
        state.sync_status = Value::Null;
        state.sync_last_error = Value::Null;
        state.sync_completed_at = Value::Null;
        if !state.user_ids.is_value()
            || state
                .user_ids
                .as_ref_option()
                .is_some_and(|l| l.iter().any(Value::is_unknown))
        {
            state.user_ids = Value::Null;
        }
        state
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
        planned.unknown_sync();
        if config.user_ids.is_null() {
            // C1 picks the owners (the calling user) when none are given.
            planned.user_ids = Value::Unknown;
        }
        planned.fill_settings(self.settings.fields());
        planned
    }

    /// Judges the configuration against the integration's schema (unknown values are skipped)
    /// and the `timeouts` block's durations.
    fn validate_config(&self, diags: &mut Diagnostics, config: &IntegrationState) {
        timeouts::validate(&config.timeouts, diags);
        // Terraform leaves it to the provider to refuse a value for a read-only attribute.
        for (name, value) in config.read_only_attributes() {
            if !value.is_null() {
                diags.add_error(diagnostic(
                    format!("Can't configure a value for \"{name}\""),
                    format!("`{name}` is read-only: C1 sets it and every refresh reads it. Remove it from the resource block."),
                    AttributePath::new(name),
                ));
            }
        }
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
        attributes.insert(
            "sync_status".into(),
            Self::string_attribute(
                format!(
                    "Where the connector's last sync stands in C1: {}. `unspecified` until a \
                     connector has settings (a delegated one). Refreshed on every read; a change in it \
                     never plans a change.",
                    SYNC_STATUS_NAMES.map(|s| format!("`{s}`")).join(", ")
                ),
                Computed,
                false,
            ),
        );
        attributes.insert(
            "sync_last_error".into(),
            computed("C1's `lastError` of the connector's sync; null when it reports none."),
        );
        attributes.insert(
            "sync_completed_at".into(),
            computed("When the connector's last sync ended (RFC 3339); null while none has."),
        );
        attributes.insert(
            "wait_for_sync".into(),
            Attribute {
                attr_type: AttributeType::Bool,
                description: Description::markdown(
                    "Wait, when the connector is created or its settings change, until its first sync \
                     after the change has finished (polling C1 within the `timeouts` budget). A sync that \
                     ends in error fails the apply with C1's `lastError` and what to check; the connector \
                     stays in the state and the next apply applies its settings again. A delegated \
                     connector (no settings) does not sync, so nothing is waited for. Default `false`.",
                ),
                constraint: Optional,
                sensitive: false,
                deprecated: false,
            },
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
                blocks: [(
                    timeouts::BLOCK.to_string(),
                    timeouts::block::<CreateReadUpdateDelete>(timeout_covers),
                )]
                .into(),
                description: Description::markdown(if self.settings.fields().is_empty() {
                    format!(
                        "A self-hosted connector in ConductorOne: a C1 connector of the {name} catalog entry, attached to an app. \
                         It has no settings in C1: the connector runs in your own environment (for example Kubernetes) and \
                         authenticates with a `conductorone_connector_credential`.",
                        name = I::DISPLAY_NAME
                    )
                } else {
                    format!(
                        "Connects {name} to ConductorOne: a C1 connector of the {name} catalog entry, attached to an app. \
                         With settings it is created configured; without any, it is created delegated and its owners finish the setup in C1.",
                        name = I::DISPLAY_NAME
                    )
                }),
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
        let Some(bounded) = self.bounded_or_report(diags, &state.timeouts, Operation::Read) else {
            return Some((state, private_state));
        };
        let (Some(app_id), Some(id)) = (state.app_id.as_ref_option(), state.id.as_ref_option())
        else {
            return Some((state, private_state));
        };
        if marker_of_placeholder(id).is_some() {
            // A create whose outcome is unknown: kept as it is (tainted), so the next apply
            // replaces it and its destroy removes whatever the create left.
            return Some((state, private_state));
        }
        match bounded.client.get(app_id, id).await {
            Ok(Some(connector)) if connector.deleted_at.is_none() => {
                let mut unreconciled = Self::unreconciled(&private_state);
                if let Some(marker) = &unreconciled {
                    // Earlier tries of the create that made it may have landed too.
                    let reconciled = self.reconcile(&bounded, connector.clone(), marker).await;
                    unreconciled = reconciled.unreconciled;
                }
                // Settings that did not sync under wait_for_sync are confirmed by any later sync
                // that finished without error (one C1 ran on its own, after a slow first sync).
                let unsynced = Self::unsynced(&private_state).filter(|changed_at| {
                    let since = Some(changed_at.as_str()).filter(|t| !t.is_empty());
                    connector.sync_since(since) != SyncProgress::Done
                });
                if connector.sync_status() == SyncStatus::Error {
                    diags.add_warning(Self::sync_failed_warning(&connector, unsynced.is_some()));
                }
                let private = Self::private_from(&connector, unreconciled, unsynced);
                let mut state = self.state_from(state, &connector, true);
                state.apply_sync(&connector);
                Some((state, private))
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
                self.api_error(&bounded, "read", err).report(diags);
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
        // Settings that did not sync under wait_for_sync are applied again.
        let settings_change = prior_state.settings_differ(&planned, self.settings.fields())
            || Self::unsynced(&prior_private_state).is_some();
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
        if settings_change {
            // Applying settings starts a sync; otherwise the sync attributes stay as read.
            planned.unknown_sync();
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
        let bounded = self.bounded_or_report(diags, &planned_state.timeouts, Operation::Create)?;
        match self.create_connector(&bounded, &planned_state).await {
            Ok(Created {
                connector,
                unreconciled,
            }) => {
                let mut state = self.state_from(planned_state, &connector, false);
                state.apply_sync(&connector);
                let mut unsynced = None;
                // A delegated connector has no settings and does not sync: nothing to wait for.
                if state.waits_for_sync() && !state.known_settings().0.is_empty() {
                    if let Err((err, changed_at)) = self
                        .wait_for_first_sync(&bounded, "create", &connector, &mut state)
                        .await
                    {
                        err.report(diags);
                        unsynced = Some(changed_at);
                    }
                }
                let private = Self::private_from(&connector, unreconciled, unsynced);
                Some((state, private))
            }
            Err(CreateFailure::NotCreated(err)) => {
                err.report(diags);
                None
            }
            Err(CreateFailure::MaybeCreated { nonce, error }) => {
                error.report(diags);
                Some((Self::placeholder(planned_state, nonce), None))
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
        let bounded = self.bounded_or_report(diags, &planned_state.timeouts, Operation::Update)?;
        let client = &bounded.client;
        let app_id = prior_state
            .app_id
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let id = prior_state.id.as_ref_option().cloned().unwrap_or_default();
        let fields = self.settings.fields();
        // What C1 holds so far: start from the prior state and move it forward call by call, so
        // a failure half-way leaves a state that matches C1. The timeouts are Terraform's only.
        let mut state = prior_state.clone();
        state.timeouts = planned_state.timeouts.clone();
        state.wait_for_sync = planned_state.wait_for_sync;
        let mut private = planned_private_state;
        // The connector as the settings update answered: the sync to wait for starts there.
        let mut settings_applied = None;

        if prior_state.settings_differ(&planned_state, fields) || Self::unsynced(&private).is_some()
        {
            match client
                .update_config(&app_id, &id, &planned_state.known_settings())
                .await
            {
                Ok(connector) => {
                    state.settings = planned_state.settings.clone();
                    state = self.state_from(state, &connector, false);
                    state.apply_sync(&connector);
                    private = Self::private_from(&connector, Self::unreconciled(&private), None);
                    settings_applied = Some(connector);
                }
                Err(err) => {
                    self.api_error(&bounded, "update the settings of", err)
                        .report(diags);
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
                    private = Self::private_from(
                        &connector,
                        Self::unreconciled(&private),
                        Self::unsynced(&private),
                    );
                }
                Err(err) => {
                    self.api_error(&bounded, "update the owners of", err)
                        .report(diags);
                    return Some((state, private));
                }
            }
        }

        // Settings were applied: with wait_for_sync, wait for the sync they started (a connector
        // left without settings does not sync).
        if let Some(changed) = settings_applied
            .filter(|_| state.waits_for_sync() && !state.known_settings().0.is_empty())
        {
            if let Err((err, changed_at)) = self
                .wait_for_first_sync(&bounded, "update", &changed, &mut state)
                .await
            {
                err.report(diags);
                if let Some(p) = private.as_mut() {
                    p.unsynced_change = Some(changed_at);
                }
            }
        }
        Some((state, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let bounded = self.bounded_or_report(diags, &prior_state.timeouts, Operation::Delete)?;
        let (Some(app_id), Some(id)) = (
            prior_state.app_id.as_ref_option(),
            prior_state.id.as_ref_option(),
        ) else {
            return Some(());
        };
        let deleted = match marker_of_placeholder(id) {
            Some(marker) => self.sweep_marked(&bounded, app_id, &marker).await,
            None => match bounded.client.delete(app_id, id).await {
                Err(err) => Err(self.api_error(&bounded, "delete", err)),
                // Other tries of the create that made it may have landed too.
                Ok(()) => match Self::unreconciled(&planned_private_state) {
                    Some(marker) => self.sweep_marked(&bounded, app_id, &marker).await,
                    None => Ok(()),
                },
            },
        };
        match deleted {
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
            let (app_id, connector_id) = id
                .split_once('/')
                .filter(|(a, c)| is_object_id(a) && is_object_id(c))
                .ok_or(ResourceError::InvalidImportId)?;
            let bounded = self.bounded(&Value::Null, Operation::Read)?;
            let not_found = || ResourceError::ImportNotFound {
                integration: I::DISPLAY_NAME,
            };
            let connector = bounded
                .client
                .get(app_id, connector_id)
                .await
                .map_err(|e| self.api_error(&bounded, "import", e))?
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
                let private = Self::private_from(&connector, None, None);
                let mut state = self.state_from(IntegrationState::default(), &connector, true);
                state.apply_sync(&connector);
                Some((state, private))
            }
            Err(err) => {
                err.report(diags);
                None
            }
        }
    }
}

/// A connector made by a create.
struct Created {
    connector: Connector,
    /// The marker of earlier tries that may have landed too, when looking for them failed.
    unreconciled: Option<String>,
}

/// How a create failed.
enum CreateFailure {
    /// Certainly nothing was created.
    NotCreated(ResourceError),
    /// A create with the marker of `nonce` may have landed in C1 (or may yet).
    MaybeCreated { nonce: u64, error: ResourceError },
}

/// The wait before looking up a create whose outcome is unknown: a moment for a create in flight
/// to land, plus full jitter under a ceiling that doubles each try (250 ms, 500 ms, ... 10 s).
fn create_round_wait(tries: u32) -> Duration {
    let ceiling = Duration::from_millis(250)
        .saturating_mul(1u32 << tries.saturating_sub(1).min(6))
        .min(Duration::from_secs(10));
    Duration::from_millis(250) + ceiling.mul_f64(rand::thread_rng().gen_range(0.0..=1.0))
}

/// What the budget of `operation` covers, for the `timeouts` block's descriptions.
fn timeout_covers(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => {
            "creating the connector (retries, the lookup after a lost answer and `wait_for_sync` included)"
        }
        Operation::Read => "reading the connector (refresh, import)",
        Operation::Update => "updating the connector's settings and owners (`wait_for_sync` included)",
        Operation::Delete => "deleting the connector",
    }
}

/// The marker carried in the description of every try of one create.
fn create_marker(nonce: u64) -> String {
    format!("Managed by Terraform (create {nonce:016x})")
}

/// The prefix of the id kept for a create whose outcome is unknown. C1 ids never contain it.
const PLACEHOLDER_PREFIX: &str = "create-outcome-unknown-";

/// The id that stands for the create of `nonce` until it is replaced.
fn placeholder_id(nonce: u64) -> String {
    format!("{PLACEHOLDER_PREFIX}{nonce:016x}")
}

/// The marker of the create a placeholder id stands for; None for a real connector id.
fn marker_of_placeholder(id: &str) -> Option<String> {
    let nonce = id.strip_prefix(PLACEHOLDER_PREFIX)?;
    let nonce = u64::from_str_radix(nonce, 16)
        .ok()
        .filter(|_| nonce.len() == 16)?;
    Some(create_marker(nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_markers_differ() {
        assert_ne!(create_marker(1), create_marker(2));
        assert_eq!(
            create_marker(0xab),
            "Managed by Terraform (create 00000000000000ab)"
        );
    }

    #[test]
    fn a_placeholder_id_names_its_create_and_no_real_id_is_one() {
        let id = placeholder_id(0xab);
        assert_eq!(id, "create-outcome-unknown-00000000000000ab");
        assert_eq!(marker_of_placeholder(&id), Some(create_marker(0xab)));
        for real in [
            "2abcCONNECTOR",
            "",
            "create-outcome-unknown-xyz",
            "create-outcome-unknown-ab",
        ] {
            assert_eq!(marker_of_placeholder(real), None, "{real}");
        }
    }

    #[test]
    fn create_round_waits_grow_with_jitter_under_a_cap() {
        for tries in 1..=20 {
            let wait = create_round_wait(tries);
            assert!(wait >= Duration::from_millis(250), "{wait:?}");
            assert!(wait <= Duration::from_millis(10_250), "{wait:?}");
        }
        let spread: std::collections::HashSet<_> = (0..20).map(|_| create_round_wait(5)).collect();
        assert!(spread.len() > 1, "jittered");
    }
}
