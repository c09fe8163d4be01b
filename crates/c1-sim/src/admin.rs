//! The admin API under `/_sim` (loopback only, no auth, never in the request log): minting
//! clients, trusted OIDC issuers, the request log, faults, token expiry, bad credentials, state
//! and out-of-band changes (edits, deletes, and syncs run or disabled as C1's schedule and UI do).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::connection::ConnectionInfo;
use crate::credentials;
use crate::domain::{AppChanges, AppDetails, ConnectorChanges};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::faults::FaultConfig;
use crate::oidc::TrustSpec;
use crate::state::Simulator;
use crate::wire;

/// Reserved path prefix of the admin API.
pub const ADMIN_PREFIX: &str = "/_sim";

pub fn router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route("/clients", post(mint_client))
        .route("/oidc/issuers", post(trust_issuer).get(get_trusted_issuers))
        .route("/requests", get(get_requests).delete(clear_requests))
        .route(
            "/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route("/tokens/expire", post(expire_tokens))
        .route(
            "/bad-credentials",
            post(set_bad_credentials).get(get_bad_credentials),
        )
        .route("/state", get(get_state))
        .route("/apps", post(create_app))
        .route("/apps/:app_id", delete(delete_app).patch(patch_app))
        .route(
            "/apps/:app_id/connectors/:id",
            delete(delete_connector).patch(patch_connector),
        )
        .route("/apps/:app_id/connectors/:id/sync", post(sync_connector))
        .route(
            "/apps/:app_id/connectors/:connector_id/credentials/:id",
            delete(revoke_credential),
        )
        .route(
            "/apps/:app_id/connectors/:connector_id/credentials/:id/expire",
            post(expire_credential),
        )
        .route_layer(axum::middleware::from_fn(loopback_only))
        .with_state(sim)
}

async fn loopback_only(request: Request, next: Next) -> Response {
    let info = request.extensions().get::<ConnectionInfo>();
    if !info.is_some_and(ConnectionInfo::is_loopback) {
        return ApiError::permission_denied("the admin API answers loopback clients only")
            .into_response();
    }
    next.run(request).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MintBody {
    name: Option<String>,
    tenant: Option<String>,
}

async fn mint_client(
    State(sim): State<Arc<Simulator>>,
    JsonBody(request): JsonBody<MintBody>,
) -> Result<Response, ApiError> {
    let (record, minted) = credentials::mint(
        request.name.as_deref().unwrap_or("sim-client"),
        request.tenant.as_deref().unwrap_or("sim"),
    );
    if let Some(path) = &sim.config.clients_file {
        credentials::append_to_clients_file(path, &record)
            .map_err(|err| ApiError::internal(err.to_string()))?;
    }
    let mut state = sim.lock();
    state.control.merge_clients(vec![record]);
    sim.persist(&state)?;
    Ok(Json(minted).into_response())
}

/// Trusts an OIDC issuer for token exchange (a `TrustSpec`: without `jwks` or `jwks_file`, its
/// test key); answers the trust as stored.
async fn trust_issuer(
    State(sim): State<Arc<Simulator>>,
    JsonBody(spec): JsonBody<TrustSpec>,
) -> Result<Response, ApiError> {
    let trust = spec
        .resolve()
        .map_err(|err| ApiError::invalid_argument(err.to_string()))?;
    let mut state = sim.lock();
    state.control.trust_issuer(trust.clone());
    sim.persist(&state)?;
    Ok(Json(trust).into_response())
}

async fn get_trusted_issuers(State(sim): State<Arc<Simulator>>) -> Response {
    Json(sim.lock().control.trusted_issuers.clone()).into_response()
}

async fn get_requests(State(sim): State<Arc<Simulator>>) -> Response {
    Json(sim.lock().control.log.entries().to_vec()).into_response()
}

async fn clear_requests(State(sim): State<Arc<Simulator>>) -> Response {
    sim.lock().control.log.clear();
    Json(json!({})).into_response()
}

async fn get_faults(State(sim): State<Arc<Simulator>>) -> Response {
    Json(sim.lock().control.faults.config().clone()).into_response()
}

async fn put_faults(
    State(sim): State<Arc<Simulator>>,
    JsonBody(config): JsonBody<FaultConfig>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    state.control.faults.set(config);
    Ok(Json(state.control.faults.config().clone()).into_response())
}

async fn clear_faults(State(sim): State<Arc<Simulator>>) -> Response {
    let mut state = sim.lock();
    state.control.faults.set(FaultConfig::default());
    Json(state.control.faults.config().clone()).into_response()
}

async fn expire_tokens(State(sim): State<Arc<Simulator>>) -> Response {
    let expired = sim.lock().control.tokens.expire_all();
    Json(json!({ "expired": expired })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BadCredentialsBody {
    values: Vec<String>,
}

/// Replaces the set of setting values that make a sync fail.
async fn set_bad_credentials(
    State(sim): State<Arc<Simulator>>,
    JsonBody(request): JsonBody<BadCredentialsBody>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    state.tenant.bad_credentials = request.values.into_iter().collect();
    Ok(Json(json!({ "count": state.tenant.bad_credentials.len() })).into_response())
}

async fn get_bad_credentials(State(sim): State<Arc<Simulator>>) -> Response {
    Json(json!({ "count": sim.lock().tenant.bad_credentials.len() })).into_response()
}

async fn get_state(State(sim): State<Arc<Simulator>>) -> Response {
    let state = sim.lock();
    let apps: Vec<Value> = state.tenant.apps.iter().map(wire::app_json).collect();
    let connectors: Vec<Value> = state
        .tenant
        .connectors
        .iter()
        .map(|c| wire::admin_connector_json(c, &sim.config.catalog))
        .collect();
    let clients: Vec<Value> = state
        .control
        .clients
        .iter()
        .map(|c| json!({ "client_id": c.client_id, "user_id": c.user_id, "name": c.name }))
        .collect();
    // Connector credentials, revoked ones with `deletedAt` (never a secret: C1 keeps none).
    let credentials: Vec<Value> = state
        .tenant
        .credentials
        .iter()
        .map(|c| c.to_json(None))
        .collect();
    Json(json!({ "apps": apps, "connectors": connectors, "clients": clients, "credentials": credentials }))
        .into_response()
}

/// Revokes a connector credential out of band, as a person would in the C1 UI.
async fn revoke_credential(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, connector_id, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    state
        .tenant
        .revoke_credential(&app_id, &connector_id, &id)?;
    sim.persist(&state)?;
    Ok(Json(json!({})).into_response())
}

/// Lets a connector credential expire now, as its expiry time passing would.
async fn expire_credential(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, connector_id, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    state
        .tenant
        .expire_credential(&app_id, &connector_id, &id)?;
    sim.persist(&state)?;
    Ok(Json(json!({})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateAppBody {
    id: Option<String>,
    display_name: Option<String>,
    description: Option<String>,
    /// A directory (identity provider) app.
    is_directory: Option<bool>,
    /// `false`: an app C1 discovered (through SSO) rather than one made by hand.
    is_manually_managed: Option<bool>,
    parent_app_id: Option<String>,
    app_account_id: Option<String>,
    app_account_name: Option<String>,
    user_count: Option<i64>,
}

/// Creates an app as C1 would have it: by hand, or discovered through a directory.
async fn create_app(
    State(sim): State<Arc<Simulator>>,
    JsonBody(request): JsonBody<CreateAppBody>,
) -> Result<Response, ApiError> {
    let display_name = request
        .display_name
        .or_else(|| request.id.clone())
        .unwrap_or_else(|| "Simulated app".to_owned());
    let defaults = AppDetails::default();
    let details = AppDetails {
        is_directory: request.is_directory.unwrap_or(defaults.is_directory),
        is_manually_managed: request
            .is_manually_managed
            .unwrap_or(defaults.is_manually_managed),
        parent_app_id: request.parent_app_id.unwrap_or_default(),
        app_account_id: request.app_account_id.unwrap_or_default(),
        app_account_name: request.app_account_name.unwrap_or_default(),
        user_count: request.user_count.unwrap_or_default(),
        ..defaults
    };
    let mut state = sim.lock();
    let app = state.tenant.create_app_with(
        request.id,
        display_name,
        request.description.unwrap_or_default(),
        details,
    )?;
    sim.persist(&state)?;
    Ok(Json(wire::app_json(&app)).into_response())
}

/// An out-of-band delete of an app and its connectors (as in the C1 UI).
async fn delete_app(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    state.tenant.delete_app(&app_id)?;
    sim.persist(&state)?;
    Ok(Json(json!({})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PatchAppBody {
    display_name: Option<String>,
    description: Option<String>,
}

/// An out-of-band change of an app's name or description.
async fn patch_app(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    JsonBody(request): JsonBody<PatchAppBody>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    let app = state.tenant.update_app(
        &app_id,
        AppChanges {
            display_name: request.display_name,
            description: request.description,
            ..AppChanges::default()
        },
    )?;
    sim.persist(&state)?;
    Ok(Json(wire::app_json(&app)).into_response())
}

#[derive(Deserialize, Default)]
struct DeleteQuery {
    /// `soft=true`: leave the connector readable with `deletedAt` set, as while C1 deletes it.
    #[serde(default)]
    soft: bool,
}

async fn delete_connector(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
    Query(query): Query<DeleteQuery>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    if query.soft {
        state.tenant.begin_deleting_connector(&app_id, &id)?;
    } else {
        state.tenant.delete_connector(&app_id, &id)?;
    }
    sim.persist(&state)?;
    Ok(Json(json!({})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PatchConnectorBody {
    user_ids: Option<Vec<String>>,
    display_name: Option<String>,
    /// Settings to set (merged into the existing ones); a `null` value removes a key.
    settings: Option<BTreeMap<String, Option<String>>>,
}

/// An out-of-band change, as a person would make it in the C1 UI.
async fn patch_connector(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
    JsonBody(request): JsonBody<PatchConnectorBody>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    let current = state.tenant.connector(&app_id, &id)?.clone();
    let mut changes = ConnectorChanges {
        display_name: request.display_name,
        user_ids: request.user_ids.map(Some),
        ..ConnectorChanges::default()
    };
    if let Some(patch) = request.settings {
        let entry = sim
            .config
            .catalog
            .lookup(&current.catalog_id)
            .ok_or_else(|| ApiError::internal("connector of an unknown catalog entry"))?;
        let mut settings = current.settings.clone().unwrap_or_default();
        for (key, value) in patch {
            match value {
                Some(value) => settings.insert(key, value),
                None => settings.remove(&key),
            };
        }
        let unknown = entry.unknown_keys(&settings);
        if !unknown.is_empty() {
            return Err(ApiError::invalid_argument(format!(
                "unknown settings: {}",
                unknown.join(", ")
            )));
        }
        changes.settings = Some(Some(settings));
    }
    // A person in the C1 UI who clears the owners leaves the first current one.
    let owner = current.user_ids.first().cloned().unwrap_or_default();
    let connector = state.tenant.update_connector(
        &app_id,
        &id,
        changes,
        &owner,
        &sim.config.catalog,
        sim.config.sync_delay,
    )?;
    sim.persist(&state)?;
    Ok(Json(wire::admin_connector_json(&connector, &sim.config.catalog)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SyncBody {
    /// Make this sync end in `SYNC_STATUS_ERROR` with this `lastError`.
    error: Option<String>,
    /// Disable the connector's syncs (`SYNC_STATUS_DISABLED`) instead of running one.
    #[serde(default)]
    disabled: bool,
}

/// A sync run outside Terraform, as C1's schedule starts them: what a revoked key or a removed
/// permission looks like in C1 (with a bad-credential value or a forced `error`).
async fn sync_connector(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
    JsonBody(request): JsonBody<SyncBody>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    let connector = state.tenant.sync_connector(
        &app_id,
        &id,
        &sim.config.catalog,
        sim.config.sync_delay,
        request.error,
        request.disabled,
    )?;
    sim.persist(&state)?;
    Ok(Json(wire::admin_connector_json(&connector, &sim.config.catalog)).into_response())
}
