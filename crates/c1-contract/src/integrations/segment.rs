//! Segment: connects a Segment workspace (a public API access token) to C1.

use schemars::JsonSchema;

use super::{Integration, TRIMMED_PATTERN};

/// The Segment integration.
pub struct Segment;

/// Settings of a Segment connector.
#[derive(JsonSchema)]
#[schemars(title = "Segment integration settings")]
#[allow(dead_code)] // read through its JSON Schema, never as a Rust value
pub struct SegmentSettings {
    /// A Segment Public API access token (Settings > Workspace settings > Access Management > Tokens).
    #[schemars(
        length(min = 1),
        pattern(TRIMMED_PATTERN),
        extend("writeOnly" = true, "errorMessage" = "must not start or end with white space")
    )]
    segment_access_token: Option<String>,
}

impl Integration for Segment {
    type Settings = SegmentSettings;
    const NAME: &'static str = "segment";
    const DISPLAY_NAME: &'static str = "Segment";
    const CATALOG_ID: &'static str = "2YuQMfugzij8vRI4FGkYNcMxgOe";
    const SYNC_FAILURE_HINT: &'static str = "Check `segment_access_token`: it must be a Public API token of the Segment \
         workspace you mean to connect (Settings > Workspace settings > Access Management > Tokens in that workspace), \
         not of another workspace, and must not have been revoked.";
}
