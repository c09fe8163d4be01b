//! The ConductorOne Terraform provider: protocol layer and the generic integration resource,
//! parameterised by the integration declarations of `c1_contract::integrations`.

pub mod config;
#[cfg(test)]
mod fourth_integration;
pub mod logging;
pub mod plugin_nodelay;
pub mod provider;
#[cfg(test)]
mod registry_docs;
pub mod resource;
pub mod settings_schema;
