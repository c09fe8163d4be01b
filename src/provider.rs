//! The protocol layer: the `conductorone` provider's schema, its configuration, and the
//! registry of resources Terraform can ask for.

use std::collections::HashMap;

use async_trait::async_trait;
use c1_client::ConnectorClient;
use c1_contract::integrations::{register_all, Integration, IntegrationVisitor};
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, DynamicDataSource, DynamicResource, Provider};

use crate::config::{
    self, ConfigError, ProviderAttributes, ATTRIBUTES, CLIENT_ID, CLIENT_SECRET, ENV_ACCESS_TOKEN,
    OIDC_TOKEN, SERVER_URL, TENANT_DOMAIN,
};
use crate::guard::{GuardedDataSource, GuardedResource};
use crate::resource::{
    client_error_detail, diagnostic, AppDataSource, AppResource, ClientSlot,
    ConnectorCredentialResource, IntegrationResource,
};
use crate::stop::{self, StopSignal};

/// The provider's local name: resources are `conductorone_<name>`.
pub const PROVIDER_NAME: &str = "conductorone";

/// The provider's version: the Cargo package version, which `make release` checks against the
/// release's `VERSION`.
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The provider block as Terraform sends it.
#[derive(Serialize, Deserialize, Default)]
pub struct ProviderConfig {
    #[serde(default)]
    pub server_url: Value<String>,
    #[serde(default)]
    pub tenant_domain: Value<String>,
    #[serde(default)]
    pub client_id: Value<String>,
    #[serde(default)]
    pub client_secret: Value<String>,
    #[serde(default)]
    pub oidc_token: Value<String>,
}

/// The ConductorOne provider.
pub struct ConductorOneProvider {
    client: ClientSlot,
    /// Stops every operation at once: the process's signal (StopProvider, SIGINT, SIGTERM).
    stop: &'static StopSignal,
}

impl Default for ConductorOneProvider {
    fn default() -> Self {
        Self {
            client: ClientSlot::default(),
            stop: stop::process_signal(),
        }
    }
}

impl ConductorOneProvider {
    pub fn new() -> Self {
        Self::default()
    }

    /// The resource of integration `I`, using this provider's C1 client once it is configured.
    /// The provider serves it as `integration_<I::NAME>` when `I` is one it ships
    /// (`register_all`); tests build it for declarations that are not shipped.
    pub fn integration_resource<I: Integration>(&self) -> IntegrationResource<I> {
        IntegrationResource::new(self.client.clone(), self.stop)
    }
}

/// Reads an attribute that must be known when the provider is configured.
fn known(diags: &mut Diagnostics, name: &'static str, value: Value<String>) -> Option<String> {
    match value {
        Value::Value(v) => Some(v),
        Value::Null => None,
        Value::Unknown => {
            diags.add_error(diagnostic(
                format!("`{name}` is not known yet"),
                "The provider is configured before anything is created: set it from a variable or the environment, not from another resource's result.".into(),
                AttributePath::new(name),
            ));
            None
        }
    }
}

fn config_error(diags: &mut Diagnostics, err: &ConfigError) {
    diags.add_error(diagnostic(
        "Invalid ConductorOne provider configuration".into(),
        err.to_string(),
        err.attribute()
            .map_or_else(AttributePath::root, AttributePath::new),
    ));
}

#[async_trait]
impl Provider for ConductorOneProvider {
    type Config<'a> = ProviderConfig;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let attributes = ATTRIBUTES
            .iter()
            .map(|attribute| {
                (
                    attribute.name.to_string(),
                    Attribute {
                        attr_type: AttributeType::String,
                        description: Description::markdown(format!(
                            "{} Falls back to {} (empty counts as unset; blank is an error).",
                            attribute.description,
                            attribute.env_text()
                        )),
                        constraint: AttributeConstraint::Optional,
                        sensitive: attribute.sensitive,
                        deprecated: false,
                    },
                )
            })
            .collect();
        Some(Schema {
            version: 0,
            block: Block {
                version: 0,
                attributes,
                description: Description::markdown(format!(
                    "Manages ConductorOne (C1) integrations. A ready bearer token in `{ENV_ACCESS_TOKEN}` overrides the credentials; an OIDC token (`{}`, workload identity) overrides the client secret.",
                    OIDC_TOKEN.name
                )),
                ..Default::default()
            },
        })
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        _terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()> {
        let attrs = ProviderAttributes {
            server_url: known(diags, SERVER_URL.name, config.server_url),
            tenant_domain: known(diags, TENANT_DOMAIN.name, config.tenant_domain),
            client_id: known(diags, CLIENT_ID.name, config.client_id),
            client_secret: known(diags, CLIENT_SECRET.name, config.client_secret),
            oidc_token: known(diags, OIDC_TOKEN.name, config.oidc_token),
        };
        if !diags.errors.is_empty() {
            return Some(());
        }
        let resolved = config::resolve(attrs, &|k| std::env::var(k).ok());
        let client = resolved
            .map_err(|e| config_error(diags, &e))
            .ok()
            .and_then(|cfg| {
                ConnectorClient::new(cfg)
                    .map_err(|e| {
                        diags.add_error(diagnostic(
                            "Could not set up the ConductorOne client".into(),
                            client_error_detail(&e),
                            AttributePath::root(),
                        ))
                    })
                    .ok()
            });
        if let Some(client) = client {
            self.client.set(client);
        }
        Some(())
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        struct Register<'p> {
            provider: &'p ConductorOneProvider,
            resources: HashMap<String, Box<dyn DynamicResource>>,
        }
        impl IntegrationVisitor for Register<'_> {
            fn visit<I: Integration>(&mut self) {
                let name = format!("integration_{}", I::NAME);
                let guarded = GuardedResource::new(
                    format!("{PROVIDER_NAME}_{name}"),
                    self.provider.integration_resource::<I>(),
                );
                self.resources.insert(name, Box::new(guarded));
            }
        }
        let mut register = Register {
            provider: self,
            resources: HashMap::new(),
        };
        register_all(&mut register);
        register.resources.insert(
            "app".into(),
            Box::new(GuardedResource::new(
                format!("{PROVIDER_NAME}_app"),
                AppResource::new(self.client.clone(), self.stop),
            )),
        );
        register.resources.insert(
            "connector_credential".into(),
            Box::new(GuardedResource::new(
                format!("{PROVIDER_NAME}_connector_credential"),
                ConnectorCredentialResource::new(self.client.clone(), self.stop),
            )),
        );
        Some(register.resources)
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        let app: Box<dyn DynamicDataSource> = Box::new(GuardedDataSource::new(
            format!("{PROVIDER_NAME}_app"),
            AppDataSource::new(self.client.clone(), self.stop),
        ));
        Some([("app".to_string(), app)].into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Attribute name -> (constraint, sensitive) of a resource schema.
    pub(crate) fn shape(schema: &Schema) -> BTreeMap<String, (String, bool)> {
        schema
            .block
            .attributes
            .iter()
            .map(|(k, a)| (k.clone(), (format!("{:?}", a.constraint), a.sensitive)))
            .collect()
    }

    /// The shape of an integration resource with these settings (name, secret): every
    /// attribute of the official provider, unchanged, and the connector-health ones this
    /// provider adds (computed, or optional and null by default, so the official provider's
    /// states plan clean).
    pub(crate) fn expected(settings: &[(&str, bool)]) -> BTreeMap<String, (String, bool)> {
        let mut m: BTreeMap<String, (String, bool)> = [
            ("id", "Computed"),
            ("app_id", "Required"),
            ("user_ids", "OptionalComputed"),
            ("created_at", "Computed"),
            ("updated_at", "Computed"),
            ("deleted_at", "Computed"),
            ("sync_status", "Computed"),
            ("sync_last_error", "Computed"),
            ("sync_completed_at", "Computed"),
            ("wait_for_sync", "Optional"),
        ]
        .into_iter()
        .map(|(k, c)| (k.to_string(), (c.to_string(), false)))
        .collect();
        for (name, secret) in settings {
            m.insert(name.to_string(), ("Optional".into(), *secret));
        }
        m
    }

    #[test]
    fn resources_match_the_official_provider_attribute_for_attribute() {
        let provider = ConductorOneProvider::new();
        let mut diags = Diagnostics::default();
        let resources = Provider::get_resources(&provider, &mut diags).unwrap();
        let mut names: Vec<_> = resources.keys().cloned().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "app",
                "connector_credential",
                "integration_baton",
                "integration_segment",
                "integration_torq",
                "integration_twingate"
            ]
        );
        let cases = [
            (
                "integration_twingate",
                vec![("twingate_apikey", true), ("twingate_domain", false)],
            ),
            (
                "integration_torq",
                vec![("torq_client_id", false), ("torq_client_secret", true)],
            ),
            ("integration_segment", vec![("segment_access_token", true)]),
            ("integration_baton", vec![]),
        ];
        for (name, settings) in cases {
            let schema = resources[name].schema(&mut diags).unwrap();
            assert_eq!(
                schema.version, 0,
                "{name}: the official provider's schema version"
            );
            assert_eq!(shape(&schema), expected(&settings), "{name}");
        }
        let credential = resources["connector_credential"]
            .schema(&mut diags)
            .unwrap();
        assert_eq!(credential.version, 0);
        let computed = |k: &str, sensitive| (k.to_string(), ("Computed".to_string(), sensitive));
        let mut want: BTreeMap<String, (String, bool)> = [
            "id",
            "client_id",
            "display_name",
            "expires_time",
            "last_used_at",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        .into_iter()
        .map(|k| computed(k, false))
        .collect();
        want.extend([computed("client_secret", true)]);
        for (k, c) in [
            ("app_id", "Required"),
            ("connector_id", "Required"),
            ("rotation_triggers", "Optional"),
        ] {
            want.insert(k.into(), (c.into(), false));
        }
        assert_eq!(shape(&credential), want);
        assert!(diags.errors.is_empty());
    }

    #[test]
    fn provider_block_marks_only_the_secrets_sensitive() {
        let schema =
            Provider::schema(&ConductorOneProvider::new(), &mut Diagnostics::default()).unwrap();
        let sensitive: Vec<_> = schema
            .block
            .attributes
            .iter()
            .filter(|(_, a)| a.sensitive)
            .map(|(k, _)| k.as_str())
            .collect();
        let mut sensitive = sensitive;
        sensitive.sort();
        assert_eq!(sensitive, ["client_secret", "oidc_token"]);
        assert_eq!(schema.block.attributes.len(), 5);
        let oidc = &schema.block.attributes["oidc_token"].description.content;
        assert!(
            oidc.contains("Falls back to the first set of `CONDUCTORONE_OIDC_TOKEN`, `TFC_WORKLOAD_IDENTITY_TOKEN_CONDUCTORONE`, `TFC_WORKLOAD_IDENTITY_TOKEN_C1`, `TFC_WORKLOAD_IDENTITY_TOKEN`"),
            "{oidc}"
        );
    }
}
