//! The C1 API simulator as a library, so tests can start it in-process with [`Server::start`].

pub mod admin;
pub mod api;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod faults;
pub mod ids;
pub mod request_log;
pub mod server;
pub mod store;

pub use catalog::Catalog;
pub use credentials::MintedCredentials;
pub use faults::FaultConfig;
pub use server::{ServeOptions, Server, ServerError};
