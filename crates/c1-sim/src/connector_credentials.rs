//! Connector credentials: the client id and secret a self-hosted connector authenticates to C1
//! with (same format as API credentials). Rotating makes a new one (its secret is handed out
//! once, only its public half is kept), revoking ends one, and using one at the token endpoint
//! records it and marks the connector as connected (its first sync starts).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::clock;
use crate::credentials::{self, ClientRecord};
use crate::domain::{SyncRun, Tenant};
use crate::error::ApiError;
use crate::ids;

/// One connector credential, as C1 keeps it (the secret is never kept).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CredentialRecord {
    pub id: String,
    pub app_id: String,
    pub connector_id: String,
    pub client_id: String,
    /// base64url (no padding) of the Ed25519 public key, as in the JWK's `x`.
    pub public_key: String,
    pub display_name: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// When it stops being accepted; `None`: it does not expire.
    pub expires_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
    /// Set when it was revoked: it is gone for every call from then on.
    pub deleted_ms: Option<i64>,
}

impl CredentialRecord {
    /// Accepted at the token endpoint at `now_ms`: not revoked, not expired.
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.deleted_ms.is_none() && self.expires_ms.is_none_or(|at| at > now_ms)
    }

    /// The public half in the form the token endpoint verifies assertions with.
    pub fn client_record(&self, user_id: &str) -> ClientRecord {
        ClientRecord {
            client_id: self.client_id.clone(),
            public_key: self.public_key.clone(),
            user_id: user_id.to_owned(),
            name: self.display_name.clone(),
        }
    }

    /// The `ConnectorCredential` as the API returns it; `client_secret` only in a rotate answer.
    pub fn to_json(&self, client_secret: Option<&str>) -> Value {
        let mut value = json!({
            "id": self.id,
            "appId": self.app_id,
            "connectorId": self.connector_id,
            "clientId": self.client_id,
            "displayName": self.display_name,
            "createdAt": clock::rfc3339_secs(self.created_ms),
            "updatedAt": clock::rfc3339_secs(self.updated_ms),
            "expiresTime": self.expires_ms.map(clock::rfc3339_secs),
            "lastUsedAt": self.last_used_ms.map(clock::rfc3339_secs),
            "deletedAt": self.deleted_ms.map(clock::rfc3339_secs),
        });
        if let Some(secret) = client_secret {
            value["clientSecret"] = json!(secret);
        }
        value
    }
}

impl Tenant {
    /// Makes a new credential for a live connector: the record kept, and the client secret to
    /// hand out once. Earlier credentials stay valid until revoked. It does not expire by itself
    /// (`expire_credential` lets one expire, as the admin API's out-of-band change).
    pub fn rotate_credential(
        &mut self,
        app_id: &str,
        connector_id: &str,
    ) -> Result<(CredentialRecord, String), ApiError> {
        let connector = self.connector(app_id, connector_id)?;
        if connector.deleted_ms.is_some() {
            return Err(ApiError::not_found(format!(
                "connector {connector_id} not found"
            )));
        }
        let (public, minted) = credentials::mint("connector", "sim");
        let now = clock::now_ms();
        let record = CredentialRecord {
            id: ids::new_object_id(),
            app_id: app_id.to_owned(),
            connector_id: connector_id.to_owned(),
            client_id: public.client_id,
            public_key: public.public_key,
            display_name: format!("{} connector credential", connector.display_name),
            created_ms: now,
            updated_ms: now,
            expires_ms: None,
            last_used_ms: None,
            deleted_ms: None,
        };
        self.credentials.push(record.clone());
        Ok((record, minted.client_secret))
    }

    /// A credential that has not been revoked (an expired one is still readable).
    pub fn credential(
        &self,
        app_id: &str,
        connector_id: &str,
        id: &str,
    ) -> Result<&CredentialRecord, ApiError> {
        self.credentials
            .iter()
            .find(|c| {
                c.app_id == app_id
                    && c.connector_id == connector_id
                    && c.id == id
                    && c.deleted_ms.is_none()
            })
            .ok_or_else(|| ApiError::not_found(format!("connector credential {id} not found")))
    }

    fn credential_mut(
        &mut self,
        app_id: &str,
        connector_id: &str,
        id: &str,
    ) -> Result<&mut CredentialRecord, ApiError> {
        self.credential(app_id, connector_id, id)?;
        Ok(self
            .credentials
            .iter_mut()
            .find(|c| c.id == id && c.deleted_ms.is_none())
            .expect("found above"))
    }

    /// Revokes a credential: from now on it is refused and reads answer 404.
    pub fn revoke_credential(
        &mut self,
        app_id: &str,
        connector_id: &str,
        id: &str,
    ) -> Result<(), ApiError> {
        let credential = self.credential_mut(app_id, connector_id, id)?;
        let now = clock::bumped_after(credential.updated_ms);
        credential.deleted_ms = Some(now);
        credential.updated_ms = now;
        Ok(())
    }

    /// Lets a credential expire now (as its expiry time passing would).
    pub fn expire_credential(
        &mut self,
        app_id: &str,
        connector_id: &str,
        id: &str,
    ) -> Result<(), ApiError> {
        self.credential_mut(app_id, connector_id, id)?.expires_ms = Some(clock::now_ms());
        Ok(())
    }

    /// The live credential with this client id, if any.
    pub fn live_credential_by_client_id(&self, client_id: &str) -> Option<&CredentialRecord> {
        let now = clock::now_ms();
        self.credentials
            .iter()
            .find(|c| c.client_id == client_id && c.is_live(now))
    }

    /// The user a connector credential's calls act as: the connector's first owner.
    pub fn credential_user(&self, credential: &CredentialRecord) -> String {
        self.connectors
            .iter()
            .find(|c| c.id == credential.connector_id)
            .and_then(|c| c.user_ids.first().cloned())
            .unwrap_or_default()
    }

    /// Records that the connector authenticated with credential `id`: its `lastUsedAt`, and for
    /// a connector that never synced (a self-hosted Baton connector has no settings in C1), the
    /// first sync, which finishes after `sync_delay`.
    pub fn credential_used(&mut self, id: &str, sync_delay: Duration) {
        let now = clock::now_ms();
        let Some(credential) = self.credentials.iter_mut().find(|c| c.id == id) else {
            return;
        };
        credential.last_used_ms = Some(now);
        let connector_id = credential.connector_id.clone();
        if let Some(connector) = self
            .connectors
            .iter_mut()
            .find(|c| c.id == connector_id && c.deleted_ms.is_none())
        {
            if connector.sync.is_none() {
                connector.sync = Some(SyncRun {
                    started_ms: now,
                    finishes_ms: now + sync_delay.as_millis() as i64,
                    error: None,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::domain::NewConnector;
    use c1_contract::integrations::{Baton, Integration as _};

    fn tenant_with_baton() -> (Tenant, String) {
        let mut tenant = Tenant::default();
        tenant
            .create_app(Some("app1".into()), "App".into(), String::new())
            .unwrap();
        let catalog = Catalog::shipped();
        let entry = catalog.lookup(Baton::CATALOG_ID).unwrap();
        let connector = tenant
            .create_connector(
                "app1",
                entry,
                NewConnector::default(),
                "owner1",
                Duration::ZERO,
            )
            .unwrap();
        (tenant, connector.id)
    }

    #[test]
    fn rotate_revoke_expire_and_use() {
        let (mut tenant, connector) = tenant_with_baton();
        let (first, secret) = tenant.rotate_credential("app1", &connector).unwrap();
        assert!(secret.starts_with("secret-token:conductorone.com:v1:"));
        assert_eq!(first.display_name, "Baton connector credential");
        let (second, _) = tenant.rotate_credential("app1", &connector).unwrap();
        assert_ne!(first.client_id, second.client_id);
        // Both are live until one is revoked.
        assert!(tenant
            .live_credential_by_client_id(&first.client_id)
            .is_some());
        tenant
            .revoke_credential("app1", &connector, &first.id)
            .unwrap();
        assert!(tenant
            .live_credential_by_client_id(&first.client_id)
            .is_none());
        assert!(tenant.credential("app1", &connector, &first.id).is_err());
        assert!(tenant
            .revoke_credential("app1", &connector, &first.id)
            .is_err());
        assert!(tenant
            .live_credential_by_client_id(&second.client_id)
            .is_some());

        // The first use starts the connector's first sync; later uses do not restart it.
        assert_eq!(tenant.connectors[0].sync, None);
        tenant.credential_used(&second.id, Duration::ZERO);
        let sync = tenant.connectors[0].sync.clone().expect("a sync");
        assert_eq!(sync.error, None);
        tenant.credential_used(&second.id, Duration::from_secs(60));
        assert_eq!(tenant.connectors[0].sync, Some(sync));
        assert!(tenant
            .credential("app1", &connector, &second.id)
            .unwrap()
            .last_used_ms
            .is_some());

        tenant
            .expire_credential("app1", &connector, &second.id)
            .unwrap();
        assert!(tenant
            .live_credential_by_client_id(&second.client_id)
            .is_none());
        assert!(tenant.credential("app1", &connector, &second.id).is_ok());
        assert!(tenant.rotate_credential("app1", "nope").is_err());
    }
}
