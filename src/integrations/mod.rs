//! Integration declarations: what one C1 catalog entry needs to become a Terraform resource.
//!
//! A declaration names the catalog entry and carries the settings type. The settings type derives
//! `schemars::JsonSchema`; its schema is the single source of the settings' attribute names,
//! descriptions, secrecy (`writeOnly`) and validation rules. Adding an integration is one small
//! file here, one line in [`register_all`], and its test.

mod segment;
mod torq;
mod twingate;

pub use segment::{Segment, SegmentSettings};
pub use torq::{Torq, TorqSettings};
pub use twingate::{Twingate, TwingateSettings};

use schemars::JsonSchema;

/// A non-empty value without leading or trailing white space (ids, secrets).
pub(crate) const TRIMMED_PATTERN: &str = r"^\S(.*\S)?$";

/// One C1 integration (a connector catalog entry) as a Terraform resource.
pub trait Integration: Send + Sync + 'static {
    /// The integration's settings, exactly as the user writes them in Terraform. Its
    /// `JsonSchema` derive declares each setting's description, rules and secrecy.
    type Settings: JsonSchema;

    /// Short name: the resource is `conductorone_integration_<NAME>`, the published schema
    /// `schemas/<NAME>.schema.json`.
    const NAME: &'static str;

    /// Name shown in C1 and in messages, e.g. "Twingate".
    const DISPLAY_NAME: &'static str;

    /// The C1 connector catalog id this integration creates connectors of.
    const CATALOG_ID: &'static str;

    /// A suggestion for a rejected setting value, in the user's terms (e.g. the bare subdomain
    /// for a full Twingate host name). `None` when there is nothing better to say than the rule.
    fn suggest(field: &str, value: &str) -> Option<String> {
        let _ = (field, value);
        None
    }
}

/// Calls `visitor` once for every integration this provider ships.
pub fn register_all(visitor: &mut impl IntegrationVisitor) {
    visitor.visit::<Twingate>();
    visitor.visit::<Torq>();
    visitor.visit::<Segment>();
}

/// Something done once per integration type (build its resource, write its schema, ...).
pub trait IntegrationVisitor {
    fn visit<I: Integration>(&mut self);
}
