//! The connector catalog the simulator serves: one entry per integration declaration
//! (`c1_contract::integrations`), with its settings and which of them are secret.

use std::collections::BTreeMap;

use c1_contract::dns_label;
use c1_contract::integrations::{
    register_all, setting_fields, Integration, IntegrationVisitor, SettingField, Twingate,
};

/// A catalog entry: what kind of connector a `catalogId` names.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub catalog_id: &'static str,
    pub display_name: &'static str,
    pub settings: Vec<SettingField>,
}

/// The catalog entries the simulator knows.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
}

impl Catalog {
    /// The integrations the provider ships (`c1_contract::integrations::register_all`).
    pub fn shipped() -> Self {
        let mut catalog = Catalog {
            entries: Vec::new(),
        };
        register_all(&mut catalog);
        catalog
    }

    /// This catalog and integration `I` (replacing an entry with the same catalog id).
    pub fn with<I: Integration>(mut self) -> Self {
        self.visit::<I>();
        self
    }

    /// The entry for `catalog_id`, if the simulator knows it.
    pub fn lookup(&self, catalog_id: &str) -> Option<&CatalogEntry> {
        self.entries
            .iter()
            .find(|entry| entry.catalog_id == catalog_id)
    }
}

impl IntegrationVisitor for Catalog {
    fn visit<I: Integration>(&mut self) {
        self.entries.retain(|e| e.catalog_id != I::CATALOG_ID);
        self.entries.push(CatalogEntry {
            catalog_id: I::CATALOG_ID,
            display_name: I::DISPLAY_NAME,
            settings: setting_fields::<I>(),
        });
    }
}

impl CatalogEntry {
    fn setting(&self, key: &str) -> Option<&SettingField> {
        self.settings.iter().find(|field| field.name == key)
    }

    pub fn is_secret(&self, key: &str) -> bool {
        self.setting(key).is_some_and(|field| field.secret)
    }

    /// Keys in `settings` that this entry does not have.
    pub fn unknown_keys<'a>(&self, settings: &'a BTreeMap<String, String>) -> Vec<&'a str> {
        settings
            .keys()
            .filter(|key| self.setting(key).is_none())
            .map(String::as_str)
            .collect()
    }

    /// Why a connector with these settings cannot sync, if it cannot (independent of bad
    /// credentials): a setting is missing or empty, or a Twingate domain is not one DNS label.
    pub fn sync_problem(&self, settings: &BTreeMap<String, String>) -> Option<String> {
        let missing: Vec<&str> = self
            .settings
            .iter()
            .filter(|field| settings.get(&field.name).is_none_or(|v| v.is_empty()))
            .map(|field| field.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "{} connector is missing required settings: {}",
                self.display_name,
                missing.join(", ")
            ));
        }
        if self.catalog_id == Twingate::CATALOG_ID {
            let domain = settings.get("twingate_domain").map(String::as_str);
            if let Some(domain) = domain.filter(|d| !dns_label::is_dns_label(d)) {
                return Some(format!(
                    "cannot reach https://{domain}.twingate.com/api/graphql/: twingate_domain must be a single DNS label"
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use c1_contract::integrations::{Baton, Segment, Torq};

    #[test]
    fn entries_come_from_the_declarations() {
        let catalog = Catalog::shipped();
        for (id, name, secret, plain) in [
            (
                Twingate::CATALOG_ID,
                "Twingate",
                "twingate_apikey",
                Some("twingate_domain"),
            ),
            (
                Torq::CATALOG_ID,
                "Torq",
                "torq_client_secret",
                Some("torq_client_id"),
            ),
            (Segment::CATALOG_ID, "Segment", "segment_access_token", None),
        ] {
            let entry = catalog.lookup(id).unwrap();
            assert_eq!(entry.display_name, name);
            assert!(entry.is_secret(secret), "{secret}");
            if let Some(plain) = plain {
                assert!(
                    entry.setting(plain).is_some() && !entry.is_secret(plain),
                    "{plain}"
                );
            }
        }
        let baton = catalog.lookup(Baton::CATALOG_ID).unwrap();
        assert_eq!(baton.display_name, "Baton");
        assert!(baton.settings.is_empty());
        assert_eq!(baton.sync_problem(&BTreeMap::new()), None);
        assert!(catalog.lookup("2NotACatalogId000000000000").is_none());
    }

    #[test]
    fn twingate_domain_must_be_a_label() {
        let catalog = Catalog::shipped();
        let entry = catalog.lookup(Twingate::CATALOG_ID).unwrap();
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
