//! The connector catalog entries the simulator knows, with their settings and which are secret.

use std::collections::BTreeMap;

/// One setting (config key) of a catalog entry.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    pub key: &'static str,
    pub secret: bool,
}

/// A catalog entry: what kind of connector a `catalogId` names.
#[derive(Debug, Clone, Copy)]
pub struct CatalogEntry {
    pub catalog_id: &'static str,
    pub display_name: &'static str,
    pub settings: &'static [SettingSpec],
}

pub const TWINGATE_CATALOG_ID: &str = "2G8Wk6xIkBU5qJ1O4wlz4mD8ef0";
pub const TORQ_CATALOG_ID: &str = "2dYadq89kbCyS23tPrCs4dfmqJr";
pub const SEGMENT_CATALOG_ID: &str = "2YuQMfugzij8vRI4FGkYNcMxgOe";

/// `@type` of the settings envelope in a connector's `config`.
pub const ENV_CONFIG_TYPE: &str = "type.googleapis.com/c1.api.app.v1.EnvConfig";

pub static CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        catalog_id: TWINGATE_CATALOG_ID,
        display_name: "Twingate",
        settings: &[
            SettingSpec {
                key: "twingate_apikey",
                secret: true,
            },
            SettingSpec {
                key: "twingate_domain",
                secret: false,
            },
        ],
    },
    CatalogEntry {
        catalog_id: TORQ_CATALOG_ID,
        display_name: "Torq",
        settings: &[
            SettingSpec {
                key: "torq_client_id",
                secret: false,
            },
            SettingSpec {
                key: "torq_client_secret",
                secret: true,
            },
        ],
    },
    CatalogEntry {
        catalog_id: SEGMENT_CATALOG_ID,
        display_name: "Segment",
        settings: &[SettingSpec {
            key: "segment_access_token",
            secret: true,
        }],
    },
];

/// The catalog entry for `catalog_id`, if the simulator knows it.
pub fn lookup(catalog_id: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|entry| entry.catalog_id == catalog_id)
}

impl CatalogEntry {
    pub fn setting(&self, key: &str) -> Option<&'static SettingSpec> {
        self.settings.iter().find(|spec| spec.key == key)
    }

    pub fn is_secret(&self, key: &str) -> bool {
        self.setting(key).is_some_and(|spec| spec.secret)
    }

    /// Keys in `settings` that this entry does not have.
    pub fn unknown_keys<'a>(&self, settings: &'a BTreeMap<String, String>) -> Vec<&'a str> {
        settings
            .keys()
            .filter(|key| self.setting(key).is_none())
            .map(String::as_str)
            .collect()
    }

    /// Why a connector with these settings cannot sync, if it cannot (independent of bad credentials).
    pub fn sync_problem(&self, settings: &BTreeMap<String, String>) -> Option<String> {
        let missing: Vec<&str> = self
            .settings
            .iter()
            .filter(|spec| settings.get(spec.key).is_none_or(|v| v.is_empty()))
            .map(|spec| spec.key)
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "{} connector is missing required settings: {}",
                self.display_name,
                missing.join(", ")
            ));
        }
        if self.catalog_id == TWINGATE_CATALOG_ID {
            let domain = settings.get("twingate_domain").map(String::as_str);
            if let Some(domain) = domain.filter(|d| !is_dns_label(d)) {
                return Some(format!(
                    "cannot reach https://{domain}.twingate.com/api/graphql/: twingate_domain must be a single DNS label"
                ));
            }
        }
        None
    }
}

/// Letters, digits and inner hyphens; 1 to 63 characters.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twingate_domain_must_be_a_label() {
        let entry = lookup(TWINGATE_CATALOG_ID).unwrap();
        let mut settings = BTreeMap::new();
        settings.insert("twingate_apikey".to_owned(), "k".to_owned());
        settings.insert("twingate_domain".to_owned(), "acme".to_owned());
        assert_eq!(entry.sync_problem(&settings), None);
        settings.insert("twingate_domain".to_owned(), "acme.twingate.com".to_owned());
        assert!(entry.sync_problem(&settings).is_some());
        settings.remove("twingate_apikey");
        assert!(entry
            .sync_problem(&settings)
            .unwrap()
            .contains("twingate_apikey"));
    }
}
