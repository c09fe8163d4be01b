//! `conductorone_connector_credential`: the client id and secret a self-hosted connector (a
//! `conductorone_integration_baton`) authenticates to C1 with.
//!
//! Create rotates (C1 makes a new credential and answers its secret once: it is kept from that
//! answer, in the state only, as a sensitive attribute that no read changes), destroy revokes,
//! read refreshes and drops a credential that was revoked or expired outside Terraform so the plan
//! creates a new one. `app_id`, `connector_id` and `rotation_triggers` force a replacement: a
//! change of `rotation_triggers` (for example a `time_rotating`'s output) is how a credential is
//! rotated. With `lifecycle { create_before_destroy = true }` the new credential exists before the
//! old one is revoked; either order leaves exactly the credential in the state live in C1.
//!
//! Its `timeouts` block has `create`, `read` and `delete`: every change replaces it, so there is
//! no update to give time to.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use c1_client::{ClientError, ConnectorCredential};
use c1_contract::object_id::{is_object_id, CHARACTERS};
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use super::bounded::Bounded;
use super::error::{
    client_error_detail, diagnostic, out_of_time_detail, out_of_time_summary, ResourceError,
};
use super::timeouts::{self, format_duration, CreateReadDelete, Operation, Timeouts};
use super::ClientSlot;
use crate::stop::StopSignal;

/// The official provider's schema version of this resource.
const SCHEMA_VERSION: i64 = 0;

/// How many times a rotate whose answer was lost is sent again (each may leave a credential
/// whose secret nobody received, which cannot be used).
const MAX_ROTATE_TRIES: u32 = 3;

/// The state of a connector credential: the official provider's attributes plus
/// `rotation_triggers`.
#[derive(Serialize, Deserialize, Clone, Default, PartialEq)]
pub struct CredentialState {
    pub id: Value<String>,
    pub app_id: Value<String>,
    pub connector_id: Value<String>,
    pub client_id: Value<String>,
    pub client_secret: Value<String>,
    pub display_name: Value<String>,
    pub expires_time: Value<String>,
    pub last_used_at: Value<String>,
    pub created_at: Value<String>,
    pub updated_at: Value<String>,
    pub deleted_at: Value<String>,
    #[serde(default)]
    pub rotation_triggers: Value<BTreeMap<String, Value<String>>>,
    /// The `timeouts` block; absent from states written before it existed (null: the defaults).
    #[serde(with = "timeouts::as_optional_block", default)]
    pub timeouts: Value<Timeouts<CreateReadDelete>>,
}

/// States print their ids only: the secret must never reach a log.
impl std::fmt::Debug for CredentialState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialState")
            .field("id", &self.id)
            .field("app_id", &self.app_id)
            .field("connector_id", &self.connector_id)
            .finish_non_exhaustive()
    }
}

impl CredentialState {
    /// Takes what C1 says about the credential; the secret only when the answer has one.
    fn apply(&mut self, credential: &ConnectorCredential) {
        let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::Value);
        self.id = Value::Value(credential.id.clone());
        self.app_id = Value::Value(credential.app_id.clone());
        self.connector_id = Value::Value(credential.connector_id.clone());
        self.client_id = Value::Value(credential.client_id.clone());
        if let Some(secret) = &credential.client_secret {
            self.client_secret = Value::Value(secret.expose().to_string());
        }
        self.display_name = Value::Value(credential.display_name.clone());
        self.expires_time = opt(&credential.expires_time);
        self.last_used_at = opt(&credential.last_used_at);
        self.created_at = opt(&credential.created_at);
        self.updated_at = opt(&credential.updated_at);
        self.deleted_at = opt(&credential.deleted_at);
    }

    /// Everything C1 assigns is unknown until the credential is made.
    fn plan_new(mut self) -> Self {
        self.id = Value::Unknown;
        self.client_id = Value::Unknown;
        self.client_secret = Value::Unknown;
        self.display_name = Value::Unknown;
        self.expires_time = Value::Unknown;
        self.last_used_at = Value::Unknown;
        self.created_at = Value::Unknown;
        self.updated_at = Value::Unknown;
        self.deleted_at = Value::Null;
        self
    }

    /// `rotation_triggers`, with an empty map the same as none.
    fn triggers(&self) -> Value<&BTreeMap<String, Value<String>>> {
        match &self.rotation_triggers {
            Value::Value(map) if map.is_empty() => Value::Null,
            Value::Value(map) => Value::Value(map),
            Value::Null => Value::Null,
            Value::Unknown => Value::Unknown,
        }
    }

    /// The (app id, connector id, credential id) of a credential in the state.
    fn ids(&self) -> Option<(&String, &String, &String)> {
        Some((
            self.app_id.as_ref_option()?,
            self.connector_id.as_ref_option()?,
            self.id.as_ref_option()?,
        ))
    }
}

/// Something the connector credential resource could not do.
#[derive(Debug, thiserror::Error)]
enum CredentialError {
    #[error("Could not {action} the connector credential")]
    Api {
        action: &'static str,
        source: Box<ClientError>,
        /// Why the provider stopped, when it was interrupted.
        stopped: Option<String>,
        /// The operation whose time budget applied, and that budget, for an error that ran out
        /// of it.
        operation: Operation,
        budget: Duration,
    },
    #[error("C1 answered the rotate without the new credential's secret")]
    NoSecret,
    #[error("Invalid import id")]
    InvalidImportId,
    #[error("No live connector credential with the ids of the import id")]
    ImportNotFound,
}

impl CredentialError {
    fn report(&self, diags: &mut Diagnostics) {
        let mut summary = self.to_string();
        let detail = match self {
            CredentialError::Api {
                action,
                source,
                stopped,
                operation,
                budget,
            } => {
                if source.is_interrupted() {
                    format!(
                        "interrupted: {} before this finished. Run the command again to finish.",
                        stopped.as_deref().unwrap_or("the provider was asked to stop")
                    )
                } else if source.is_out_of_time() {
                    let budget = format_duration(*budget);
                    summary = out_of_time_summary(
                        &format!("{action} the connector credential"),
                        operation.name(),
                        &budget,
                    );
                    out_of_time_detail(&client_error_detail(source), operation.name(), &budget)
                } else {
                    client_error_detail(source)
                }
            }
            CredentialError::NoSecret => {
                "The credential it made cannot be handed to a connector, so it was revoked again. Apply again to rotate once more."
                    .into()
            }
            CredentialError::InvalidImportId => format!(
                "Import ids have the form `<app_id>/<connector_id>/<credential_id>`: three C1 ids ({CHARACTERS}) joined by `/`, \
                 e.g. `terraform import conductorone_connector_credential.example 2abc.../2def.../2ghi...`."
            ),
            CredentialError::ImportNotFound => {
                "C1 has no connector credential with that id for that connector in that app that is neither revoked nor expired. \
                 Check the ids in C1 (Apps > the app > Connectors > the connector)."
                    .into()
            }
        };
        diags.add_error(diagnostic(summary, detail, AttributePath::root()));
    }
}

/// The Terraform resource `conductorone_connector_credential`.
pub struct ConnectorCredentialResource {
    client: ClientSlot,
    stop: &'static StopSignal,
}

impl ConnectorCredentialResource {
    pub fn new(client: ClientSlot, stop: &'static StopSignal) -> Self {
        Self { client, stop }
    }

    fn bounded(
        &self,
        timeouts: &Value<Timeouts<CreateReadDelete>>,
        operation: Operation,
    ) -> Result<Bounded, ResourceError> {
        Bounded::new(&self.client, self.stop, timeouts, operation)
    }

    fn bounded_or_report(
        &self,
        diags: &mut Diagnostics,
        timeouts: &Value<Timeouts<CreateReadDelete>>,
        operation: Operation,
    ) -> Option<Bounded> {
        self.bounded(timeouts, operation)
            .map_err(|e| e.report(diags))
            .ok()
    }

    fn api_error(
        &self,
        bounded: &Bounded,
        action: &'static str,
        source: ClientError,
    ) -> CredentialError {
        CredentialError::Api {
            action,
            source: Box::new(source),
            stopped: self.stop.reason().map(|r| r.to_string()),
            operation: bounded.operation,
            budget: bounded.budget,
        }
    }

    /// Rotates: a new credential with its secret. An answer lost after the rotate was sent is
    /// sent again (a few times): the credential it may have made has a secret nobody received,
    /// so it cannot be used; a warning says how many such tries there were.
    async fn rotate(
        &self,
        diags: &mut Diagnostics,
        bounded: &Bounded,
        app_id: &str,
        connector_id: &str,
    ) -> Result<ConnectorCredential, CredentialError> {
        let mut lost = 0;
        let credential = loop {
            match bounded.client.rotate_credential(app_id, connector_id).await {
                Ok(credential) => break credential,
                Err(err)
                    if (err.is_ambiguous() || matches!(err, ClientError::Decode { .. }))
                        && lost + 1 < MAX_ROTATE_TRIES =>
                {
                    lost += 1;
                    tracing::warn!(tries = lost, "rotate outcome unknown; rotating again");
                }
                Err(err) => return Err(self.api_error(bounded, "create", err)),
            }
        };
        if lost > 0 {
            diags.add_warning(diagnostic(
                "An earlier rotate's answer was lost".into(),
                format!(
                    "{lost} rotate request{} of this connector got no readable answer; C1 may have made a credential for {} whose secret \
                     nobody received. Such a credential cannot be used; revoke it in C1 (Apps > the app > Connectors > the connector) \
                     to tidy up. The credential in the state is the one whose answer arrived.",
                    if lost == 1 { "" } else { "s" },
                    if lost == 1 { "it" } else { "each" },
                ),
                AttributePath::root(),
            ));
        }
        if credential.client_secret.is_none() {
            if let Err(err) = bounded
                .client
                .revoke_credential(app_id, connector_id, &credential.id)
                .await
            {
                tracing::warn!(error = %err, "could not revoke a credential C1 answered without its secret");
            }
            return Err(CredentialError::NoSecret);
        }
        Ok(credential)
    }

    /// Errors for `app_id` and `connector_id` values that are not C1 ids, and for `timeouts`
    /// values that are not durations.
    fn validate_config(diags: &mut Diagnostics, config: &CredentialState) {
        timeouts::validate(&config.timeouts, diags);
        for (name, value) in [
            ("app_id", &config.app_id),
            ("connector_id", &config.connector_id),
        ] {
            if let Value::Value(v) = value {
                if !is_object_id(v) {
                    diags.add_error(diagnostic(
                        format!("`{name}` must be a C1 id ({CHARACTERS})"),
                        format!(
                            "Set `{name}` to the id C1 shows for it (Apps > the app{}), or to the `{}` of the resource that manages it.",
                            if name == "connector_id" { " > Connectors" } else { "" },
                            if name == "connector_id" { "id" } else { "app_id" },
                        ),
                        AttributePath::new(name),
                    ));
                }
            }
        }
    }

    fn computed(description: &str, sensitive: bool) -> Attribute {
        Attribute {
            attr_type: AttributeType::String,
            description: Description::markdown(description),
            constraint: AttributeConstraint::Computed,
            sensitive,
            deprecated: false,
        }
    }
}

#[async_trait]
impl Resource for ConnectorCredentialResource {
    type State<'a> = CredentialState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let required = |description: &str| Attribute {
            attr_type: AttributeType::String,
            description: Description::markdown(description),
            constraint: AttributeConstraint::Required,
            sensitive: false,
            deprecated: false,
        };
        let mut attributes = HashMap::new();
        attributes.insert(
            "app_id".into(),
            required(
                "Id of the C1 app the connector belongs to. Changing it replaces the credential.",
            ),
        );
        attributes.insert(
            "connector_id".into(),
            required("Id of the connector (for example a `conductorone_integration_baton`'s `id`) the credential authenticates. Changing it replaces the credential."),
        );
        attributes.insert(
            "rotation_triggers".into(),
            Attribute {
                attr_type: AttributeType::Map(Box::new(AttributeType::String)),
                description: Description::markdown(
                    "Arbitrary values whose change replaces the credential with a new one (a rotation), e.g. \
                     `{ rotated = time_rotating.baton.id }`. Use `lifecycle { create_before_destroy = true }` so the new \
                     credential exists (and reaches the connector) before the old one is revoked.",
                ),
                constraint: AttributeConstraint::Optional,
                sensitive: false,
                deprecated: false,
            },
        );
        for (name, description, sensitive) in [
            ("id", "The credential's id in C1.", false),
            ("client_id", "The client id the connector authenticates with (`BATON_CLIENT_ID`).", false),
            (
                "client_secret",
                "The client secret the connector authenticates with (`BATON_CLIENT_SECRET`). C1 returns it only when the credential \
                 is made: it is kept from that answer, in the state only; refreshes never change it, and it is null after an import.",
                true,
            ),
            ("display_name", "The credential's name in C1.", false),
            ("expires_time", "When C1 stops accepting the credential (RFC 3339); null when it does not expire. An expired credential is planned for creation.", false),
            ("last_used_at", "When a connector last authenticated with the credential (RFC 3339); null until then.", false),
            ("created_at", "When the credential was made (RFC 3339).", false),
            ("updated_at", "When the credential was last changed (RFC 3339).", false),
            ("deleted_at", "When the credential was revoked (RFC 3339); null while it is live.", false),
        ] {
            attributes.insert(name.into(), Self::computed(description, sensitive));
        }
        Some(Schema {
            version: SCHEMA_VERSION,
            block: Block {
                version: SCHEMA_VERSION,
                attributes,
                blocks: [(
                    timeouts::BLOCK.to_string(),
                    timeouts::block::<CreateReadDelete>(timeout_covers),
                )]
                .into(),
                description: Description::markdown(
                    "A connector credential: the client id and secret a self-hosted connector (for example a \
                     `conductorone_integration_baton` running in Kubernetes) authenticates to ConductorOne with. Creating it rotates \
                     (C1 makes a new credential), destroying it revokes it.",
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
        let Some(bounded) = self.bounded_or_report(diags, &state.timeouts, Operation::Read) else {
            return Some((state, private_state));
        };
        let Some((app_id, connector_id, id)) = state.ids() else {
            return Some((state, private_state));
        };
        match bounded
            .client
            .get_credential(app_id, connector_id, id)
            .await
        {
            Ok(Some(credential)) if credential.is_live_at(time::OffsetDateTime::now_utc()) => {
                let mut refreshed = state;
                refreshed.apply(&credential);
                Some((refreshed, private_state))
            }
            Ok(found) => {
                let why = if found.is_some_and(|c| c.deleted_at.is_none()) {
                    "expired"
                } else {
                    "was revoked or is gone"
                };
                diags.add_warning(diagnostic(
                    format!("Connector credential {id} {why}"),
                    "C1 no longer accepts it. It has been removed from the state; the plan creates a new one.".into(),
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
        Self::validate_config(diags, &config_state);
        Some((proposed_state.plan_new(), ValueEmpty::Null))
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
        let mut replace = Vec::new();
        if proposed_state.app_id != prior_state.app_id {
            replace.push(AttributePath::new("app_id"));
        }
        if proposed_state.connector_id != prior_state.connector_id {
            replace.push(AttributePath::new("connector_id"));
        }
        // Unknown triggers (a time_rotating being replaced) may differ: they replace it too.
        if proposed_state.triggers() != prior_state.triggers() {
            replace.push(AttributePath::new("rotation_triggers"));
        }
        if replace.is_empty() {
            // Nothing C1 holds changes (at most `rotation_triggers` between null and `{}`).
            return Some((proposed_state, prior_private_state, replace));
        }
        Some((proposed_state.plan_new(), prior_private_state, replace))
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
        planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let bounded = self.bounded_or_report(diags, &planned_state.timeouts, Operation::Create)?;
        let app_id = planned_state.app_id.as_ref_option()?.clone();
        let connector_id = planned_state.connector_id.as_ref_option()?.clone();
        match self.rotate(diags, &bounded, &app_id, &connector_id).await {
            Ok(credential) => {
                let mut state = planned_state;
                state.apply(&credential);
                Some((state, planned_private_state))
            }
            Err(err) => {
                err.report(diags);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        // Only `rotation_triggers` between null and `{}`, or `timeouts`, get here: nothing to tell
        // C1 (the timeouts are Terraform's only).
        Some((planned_state, planned_private_state))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let bounded = self.bounded_or_report(diags, &prior_state.timeouts, Operation::Delete)?;
        let Some((app_id, connector_id, id)) = prior_state.ids() else {
            return Some(());
        };
        match bounded
            .client
            .revoke_credential(app_id, connector_id, id)
            .await
        {
            Ok(()) => Some(()),
            Err(err) => {
                self.api_error(&bounded, "revoke", err).report(diags);
                None
            }
        }
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let parts: Vec<&str> = id.split('/').collect();
        let [app_id, connector_id, credential_id] = parts[..] else {
            CredentialError::InvalidImportId.report(diags);
            return None;
        };
        if !parts.iter().all(|p| is_object_id(p)) {
            CredentialError::InvalidImportId.report(diags);
            return None;
        }
        let bounded = self.bounded_or_report(diags, &Value::Null, Operation::Read)?;
        let result = bounded
            .client
            .get_credential(app_id, connector_id, credential_id)
            .await
            .map_err(|e| self.api_error(&bounded, "import", e))
            .and_then(|found| {
                found
                    .filter(|c| c.is_live_at(time::OffsetDateTime::now_utc()))
                    .ok_or(CredentialError::ImportNotFound)
            });
        match result {
            Ok(credential) => {
                diags.add_warning(diagnostic(
                    "The imported credential's client_secret is null".into(),
                    "C1 returns a credential's secret only when it is made, so an import cannot know it. To get a credential \
                     whose secret Terraform knows, rotate it: change its `rotation_triggers` (or `terraform apply -replace=...`)."
                        .into(),
                    AttributePath::new("client_secret"),
                ));
                let mut state = CredentialState::default();
                state.apply(&credential);
                Some((state, ValueEmpty::Null))
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
        Operation::Create => "creating (rotating) the credential, retries included",
        Operation::Read => "reading the credential (refresh, import)",
        // Every change replaces the credential: the block has no `update`.
        Operation::Update => "nothing: a change replaces the credential",
        Operation::Delete => "revoking the credential",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(triggers: Value<BTreeMap<String, Value<String>>>) -> CredentialState {
        CredentialState {
            id: Value::Value("2cred".into()),
            app_id: Value::Value("app1".into()),
            connector_id: Value::Value("conn1".into()),
            client_secret: Value::Value("secret-token:SEKRIT".into()),
            rotation_triggers: triggers,
            ..CredentialState::default()
        }
    }

    fn triggers(pairs: &[(&str, &str)]) -> Value<BTreeMap<String, Value<String>>> {
        Value::Value(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::Value(v.to_string())))
                .collect(),
        )
    }

    async fn replaced_by(
        prior: CredentialState,
        proposed: CredentialState,
    ) -> (CredentialState, Vec<AttributePath>) {
        let resource =
            ConnectorCredentialResource::new(ClientSlot::default(), crate::stop::process_signal());
        let mut diags = Diagnostics::default();
        let (planned, _, replace) = resource
            .plan_update(
                &mut diags,
                prior,
                proposed.clone(),
                proposed,
                ValueEmpty::Null,
                ValueEmpty::Null,
            )
            .await
            .unwrap();
        assert!(diags.errors.is_empty(), "{:?}", diags.errors);
        (planned, replace)
    }

    #[tokio::test]
    async fn a_change_of_triggers_or_ids_replaces_it_and_nothing_else_does() {
        let prior = state(triggers(&[("rotated", "2026-01-01")]));
        let (planned, replace) = replaced_by(prior.clone(), prior.clone()).await;
        assert!(replace.is_empty());
        assert_eq!(
            planned.client_secret, prior.client_secret,
            "never planned as a change"
        );

        let rotated = state(triggers(&[("rotated", "2026-02-01")]));
        let (planned, replace) = replaced_by(prior.clone(), rotated).await;
        assert_eq!(replace, vec![AttributePath::new("rotation_triggers")]);
        assert_eq!(planned.client_secret, Value::Unknown);
        assert_eq!(planned.id, Value::Unknown);

        let (_, replace) = replaced_by(prior.clone(), state(Value::Unknown)).await;
        assert_eq!(replace, vec![AttributePath::new("rotation_triggers")]);

        let moved = CredentialState {
            connector_id: Value::Value("conn2".into()),
            ..prior.clone()
        };
        let (_, replace) = replaced_by(prior, moved).await;
        assert_eq!(replace, vec![AttributePath::new("connector_id")]);

        // No triggers and an empty map are the same.
        let (_, replace) = replaced_by(state(Value::Null), state(triggers(&[]))).await;
        assert!(replace.is_empty());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?}", state(Value::Null));
        assert!(!shown.contains("SEKRIT"), "{shown}");
        assert!(shown.contains("2cred"));
    }

    #[tokio::test]
    async fn ids_must_be_c1_ids() {
        let resource =
            ConnectorCredentialResource::new(ClientSlot::default(), crate::stop::process_signal());
        let mut diags = Diagnostics::default();
        let config = CredentialState {
            app_id: Value::Value("app 1".into()),
            connector_id: Value::Unknown,
            ..CredentialState::default()
        };
        resource.validate(&mut diags, config).await;
        let at: Vec<_> = diags.errors.iter().map(|d| d.attribute.clone()).collect();
        assert_eq!(at, vec![AttributePath::new("app_id")]);
    }
}
