//! Integration tests of the simulator: every response body (and every request body sent) is
//! validated against the schemas of the C1 OpenAPI subset.

mod support;

mod admin_and_faults;
mod apps;
mod auth;
mod binary;
mod connector_credentials;
mod connectors;
mod oidc;
mod robustness;
