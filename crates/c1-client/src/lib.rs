//! Typed client for the ConductorOne (C1) connector API: auth, retries and HTTP. It knows C1 and
//! HTTP, not Terraform: it is given a [`ClientConfig`] and answers in [`ClientError`]s; the
//! provider resolves its own configuration and phrases errors for its users.
//!
//! Inside, a call is three pieces: the token source (`token`), the send-once step (`send`) and
//! the retry loop (`retry`), put together per operation by [`ConnectorClient`] (connectors) and
//! [`AppClient`] (apps, `ConnectorClient::apps`), all within the caller's [`CallBudget`]
//! (`budget`): a deadline and a stop signal.

mod apps;
mod budget;
mod client;
mod config;
mod error;
mod model;
mod retry;
mod send;
mod subject_token;
mod token;

pub use apps::{App, AppClient, AppSearch, AppUpdate, CreateApp};
pub use budget::CallBudget;
pub use c1_contract::client_secret::SecretFormatError;
pub use client::ConnectorClient;
pub use config::{
    check_base_url, BaseUrlError, ClientConfig, Credentials, SecretString, SigningKey,
};
pub use error::{ClientError, EndpointProblem};
pub use model::{
    Connector, ConnectorCredential, ConnectorSettings, ConnectorStatus, CreateConfigured,
    CreateDelegated, SyncProgress, SyncStatus,
};
pub use retry::RetryPolicy;
pub use subject_token::{SubjectToken, SubjectTokenError};
/// The stop signal of a [`CallBudget`].
pub use tokio_util::sync::CancellationToken;
