//! Handlers of the connector-credential calls of the C1 API: rotate (a new credential, its
//! secret answered once), get and revoke.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::Simulator;

/// The routes of the connector-credential calls under `/api/v1`.
pub fn router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route("/api/v1/apps/connectors/credentials", post(rotate))
        .route(
            "/api/v1/apps/:app_id/connectors/:connector_id/credentials/:id",
            post(revoke).get(get),
        )
        .with_state(sim)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RotateBody {
    app_id: Option<String>,
    connector_id: Option<String>,
}

fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::invalid_argument(format!("{name} is required")))
}

async fn rotate(
    State(sim): State<Arc<Simulator>>,
    JsonBody(request): JsonBody<RotateBody>,
) -> Result<Response, ApiError> {
    let app_id = required(request.app_id, "appId")?;
    let connector_id = required(request.connector_id, "connectorId")?;
    let mut state = sim.lock();
    let (credential, secret) = state.tenant.rotate_credential(&app_id, &connector_id)?;
    sim.persist(&state)?;
    Ok(Json(json!({ "credential": credential.to_json(Some(&secret)) })).into_response())
}

async fn get(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, connector_id, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let state = sim.lock();
    let credential = state.tenant.credential(&app_id, &connector_id, &id)?;
    Ok(Json(json!({ "credential": credential.to_json(None) })).into_response())
}

async fn revoke(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, connector_id, id)): Path<(String, String, String)>,
    _object: JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    state
        .tenant
        .revoke_credential(&app_id, &connector_id, &id)?;
    sim.persist(&state)?;
    Ok(Json(json!({})).into_response())
}
