//! Twingate: connects a Twingate network (its API key and subdomain) to C1.

use schemars::JsonSchema;

use super::{Integration, TRIMMED_PATTERN};
use crate::dns_label;

/// The Twingate integration.
pub struct Twingate;

/// Settings of a Twingate connector. Both are needed for the connector to sync.
#[derive(JsonSchema)]
#[schemars(
    title = "Twingate integration settings",
    extend("dependentRequired" = {
        "twingate_apikey": ["twingate_domain"],
        "twingate_domain": ["twingate_apikey"],
    })
)]
#[allow(dead_code)] // read through its JSON Schema, never as a Rust value
pub struct TwingateSettings {
    /// API key of the Twingate network (Settings > API in the Twingate admin console).
    #[schemars(
        length(min = 1),
        pattern(TRIMMED_PATTERN),
        extend("writeOnly" = true, "errorMessage" = "must not start or end with white space")
    )]
    twingate_apikey: Option<String>,

    /// The network's bare subdomain: for `https://acme.twingate.com` enter `acme`.
    #[schemars(
        length(min = 1, max = dns_label::MAX_LEN),
        pattern(dns_label::PATTERN),
        extend("errorMessage" = "must be the bare Twingate subdomain (one DNS label of letters, digits and inner hyphens): for https://acme.twingate.com enter \"acme\"")
    )]
    twingate_domain: Option<String>,
}

impl Integration for Twingate {
    type Settings = TwingateSettings;
    const NAME: &'static str = "twingate";
    const DISPLAY_NAME: &'static str = "Twingate";
    const CATALOG_ID: &'static str = "2G8Wk6xIkBU5qJ1O4wlz4mD8ef0";
    const SYNC_FAILURE_HINT: &'static str = "Check `twingate_apikey`: the API key must exist in the Twingate admin console (Settings > API) \
         and have the permission level \"Read & Write\", which C1 needs to provision group membership (a \"Read\" key syncs \
         nothing C1 can change). Check that `twingate_domain` is the network's bare subdomain.";

    fn suggest(field: &str, value: &str) -> Option<String> {
        if field != "twingate_domain" {
            return None;
        }
        let host = value.trim();
        let host = host.split_once("://").map_or(host, |(_, rest)| rest);
        let host = host.split(['/', ':']).next().unwrap_or_default();
        let label = host.split('.').next().unwrap_or_default();
        if !dns_label::is_dns_label(label) || label == value {
            return None;
        }
        Some(if label == value.trim() {
            "Remove the white space around it.".to_string()
        } else {
            "The value looks like a host name or URL: enter only its first label, the subdomain."
                .to_string()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_at_the_subdomain_without_quoting_the_value() {
        for input in [
            "corp-q.twingate.com",
            "https://corp-q.twingate.com",
            "https://corp-q.twingate.com/api/graphql/",
        ] {
            let hint = Twingate::suggest("twingate_domain", input).expect(input);
            assert!(hint.contains("first label"), "{hint}");
            assert!(!hint.contains("corp-q"), "{hint}");
        }
        assert_eq!(
            Twingate::suggest("twingate_domain", " corp-q ").as_deref(),
            Some("Remove the white space around it.")
        );
        assert_eq!(Twingate::suggest("twingate_domain", "acme"), None);
        assert_eq!(Twingate::suggest("twingate_domain", "-bad-.x"), None);
        assert_eq!(Twingate::suggest("twingate_apikey", "a.b"), None);
    }
}
