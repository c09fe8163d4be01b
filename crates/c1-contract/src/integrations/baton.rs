//! Baton: the generic catalog entry of a self-hosted connector. The connector (for example
//! baton-segment or baton-twingate) runs in the customer's own environment with its service's
//! secret and authenticates to C1 with a connector credential; C1 holds no settings for it.

use schemars::JsonSchema;

use super::Integration;

/// The Baton (self-hosted connector) integration.
pub struct Baton;

/// Settings of a Baton connector: none. The service's secret stays with the self-hosted
/// connector, configured there (`BATON_`-prefixed environment variables or flags).
#[derive(JsonSchema)]
#[schemars(title = "Baton integration settings")]
pub struct BatonSettings {}

impl Integration for Baton {
    type Settings = BatonSettings;
    const NAME: &'static str = "baton";
    const DISPLAY_NAME: &'static str = "Baton";
    const CATALOG_ID: &'static str = "2HErg7BRmNdHgX8sTCWVq4E1fyh";
    const SYNC_FAILURE_HINT: &'static str =
        "The sync runs in your self-hosted connector: check its \
         logs, that it runs with a live credential of this connector (BATON_CLIENT_ID and \
         BATON_CLIENT_SECRET from its conductorone_connector_credential), and the credentials of \
         the service it was given.";
}
