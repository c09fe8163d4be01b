//! Typed client for the ConductorOne (C1) connector API: configuration, auth, retries and HTTP.

pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod retry;

pub use client::ConnectorClient;
pub use config::{
    resolve_config, Auth, ClientConfig, ConfigError, ProviderAttributes, SecretString, SigningKey,
};
pub use error::ClientError;
pub use model::{Connector, ConnectorSettings, ConnectorStatus, CreateConfigured, CreateDelegated};
pub use retry::RetryPolicy;
