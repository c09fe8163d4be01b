//! The ConductorOne Terraform provider: protocol layer and the generic integration resource,
//! parameterised by the integration declarations of `c1_contract::integrations`.
//!
//! The binary (`main.rs`) uses the start-up pieces below; the acceptance tests use the
//! configuration table (attribute names and their environment variables).

mod config;
#[cfg(test)]
mod fourth_integration;
mod guard;
mod logging;
mod plugin_nodelay;
mod provider;
#[cfg(test)]
mod registry_docs;
mod resource;
mod settings_schema;
mod stop;

pub use config::{
    ConfigAttribute, ATTRIBUTES, CLIENT_ID, CLIENT_SECRET, ENV_ACCESS_TOKEN, OIDC_TOKEN,
    SERVER_URL, TENANT_DOMAIN,
};
pub use guard::GuardedProvider;
pub use logging::init as init_logging;
pub use plugin_nodelay::install as install_plugin_nodelay;
pub use provider::{ConductorOneProvider, PROVIDER_NAME, PROVIDER_VERSION};
pub use stop::{process_signal as stop_signal, watch_signals as stop_on_signals};
