//! Acceptance tests: the real `terraform` CLI drives the freshly built provider against the
//! simulator (`c1-sim`), one working directory and one simulator per test.

mod harness;
mod https;
mod release;

mod apps;
mod auth;
mod combinations;
mod dead_endpoint;
mod delegated;
mod drift;
mod dropin;
mod examples;
mod faults;
mod health;
mod import;
mod install;
mod interrupt;
mod late_create;
mod lifecycle;
mod logging;
mod owners;
mod plugin_connection;
mod provider_config;
mod registry;
mod scale;
mod self_hosted;
mod state_migration;
mod storms;
mod timeouts;
mod validation;
mod workload_identity;
