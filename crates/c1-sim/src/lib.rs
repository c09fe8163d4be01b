//! The C1 API simulator as a library, so tests can start it in-process with [`Server::start`].
//!
//! Modules depend downwards only: `server` builds the router from `gate`, `token`, `api` and
//! `admin`; those work on `state` (the `domain` tenant and the `control` plane behind one lock),
//! read bodies through `extract`, write C1 JSON through `wire` and answer errors as `error`'s
//! `ApiError`. Nothing depends on `server`.

mod admin;
mod api;
mod auth;
mod catalog;
mod cli;
mod clock;
mod connection;
mod connector_credentials;
mod control;
mod credential_api;
mod credentials;
mod domain;
mod error;
mod extract;
mod faults;
mod files;
mod gate;
mod ids;
mod oidc;
mod request_log;
mod server;
mod state;
mod token;
mod wire;

pub use catalog::Catalog;
pub use cli::{Cli, Command, ServeArgs};
pub use credentials::{
    append_to_clients_file, mint as mint_credentials, ClientRecord, MintedCredentials,
};
pub use faults::FaultConfig;
pub use files::write_atomically;
pub use oidc::{
    key_file as oidc_key_file, mint as mint_oidc_token, public_jwk as oidc_public_jwk,
    test_key as oidc_test_key, Jwks, TokenClaims as OidcTokenClaims, TrustSpec, TrustedIssuer,
    DEFAULT_LIFETIME_SECS as OIDC_DEFAULT_LIFETIME_SECS,
};
pub use server::{ServeOptions, Server, ServerError, TlsFiles, SEED_DIRECTORY};
