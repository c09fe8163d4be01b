//! The resource layer: one generic integration resource, its state, its time budgets and its
//! errors; the app resource and data source (`app`, `app_lookup`, `app_error`); and the
//! connector credential of a self-hosted connector.

mod app;
mod app_error;
mod app_lookup;
mod bounded;
mod connector_credential;
mod error;
mod integration;
mod state;
mod sync_wait;
mod timeouts;

pub use app::AppResource;
pub use app_lookup::AppDataSource;
pub use connector_credential::ConnectorCredentialResource;
pub use error::{client_error_detail, diagnostic, ResourceError};
pub use integration::IntegrationResource;

use std::sync::{Arc, RwLock};

use c1_client::ConnectorClient;

/// The C1 client, set once the provider is configured, shared by every resource.
#[derive(Clone, Default)]
pub struct ClientSlot(Arc<RwLock<Option<ConnectorClient>>>);

impl ClientSlot {
    /// Installs the configured client.
    pub fn set(&self, client: ConnectorClient) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(client);
    }

    /// The configured client, or the error that says the provider is not configured.
    pub fn get(&self) -> Result<ConnectorClient, ResourceError> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(ResourceError::NotConfigured)
    }
}
#[cfg(test)]
pub(crate) use state::{IntegrationPrivate, IntegrationState};
