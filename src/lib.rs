//! The ConductorOne Terraform provider: protocol layer, generic integration resource and the
//! integration declarations it is parameterised by.

pub mod integrations;
pub mod logging;
pub mod plugin_nodelay;
pub mod provider;
#[cfg(test)]
mod registry_docs;
pub mod resource;
pub mod settings_schema;
