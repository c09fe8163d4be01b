//! Torq: connects a Torq workspace (an API client id and secret) to C1.

use schemars::JsonSchema;

use super::{Integration, TRIMMED_PATTERN};

/// The Torq integration.
pub struct Torq;

/// Settings of a Torq connector. Both are needed for the connector to sync.
#[derive(JsonSchema)]
#[schemars(
    title = "Torq integration settings",
    extend("dependentRequired" = {
        "torq_client_id": ["torq_client_secret"],
        "torq_client_secret": ["torq_client_id"],
    })
)]
#[allow(dead_code)] // read through its JSON Schema, never as a Rust value
pub struct TorqSettings {
    /// Client id of a Torq API key (Settings > API Keys in Torq).
    #[schemars(
        length(min = 1),
        pattern(TRIMMED_PATTERN),
        extend("errorMessage" = "must not start or end with white space")
    )]
    torq_client_id: Option<String>,

    /// Client secret of the same Torq API key.
    #[schemars(
        length(min = 1),
        pattern(TRIMMED_PATTERN),
        extend("writeOnly" = true, "errorMessage" = "must not start or end with white space")
    )]
    torq_client_secret: Option<String>,
}

impl Integration for Torq {
    type Settings = TorqSettings;
    const NAME: &'static str = "torq";
    const DISPLAY_NAME: &'static str = "Torq";
    const CATALOG_ID: &'static str = "2dYadq89kbCyS23tPrCs4dfmqJr";
    const SYNC_FAILURE_HINT: &'static str = "Check `torq_client_id` and `torq_client_secret`: they must be the id and secret \
         of the same Torq API key (Settings > API Keys in Torq), and the key must not have been deleted.";
}
