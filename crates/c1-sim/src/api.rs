//! Handlers of the C1 API the simulator serves under `/api/v1`: apps and connectors.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::catalog::{Catalog, CatalogEntry};
use crate::domain::{AppChanges, AppDetails, AppSearch, ConnectorChanges, NewConnector};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::Simulator;
use crate::wire;

/// Page size of list calls that do not ask for one.
const DEFAULT_PAGE_SIZE: usize = 25;
/// Largest page size of list calls (larger requests get this many).
const MAX_PAGE_SIZE: usize = 100;

/// The routes of the C1 API under `/api/v1`.
pub fn router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route("/api/v1/apps", get(list_apps).post(create_app))
        .route(
            "/api/v1/apps/:app_id",
            get(get_app).post(update_app).delete(delete_app),
        )
        .route("/api/v1/search/apps", post(search_apps))
        .route(
            "/api/v1/apps/:app_id/connectors",
            get(list_connectors).post(create_delegated),
        )
        .route(
            "/api/v1/apps/:app_id/connectors/create",
            post(create_configured),
        )
        .route(
            "/api/v1/apps/:app_id/connectors/:id",
            get(get_connector)
                .post(update_connector)
                .delete(delete_connector),
        )
        .route(
            "/api/v1/apps/:app_id/connectors/:id/delegated",
            post(update_delegated),
        )
        .with_state(sim)
}

fn catalog_entry<'c>(
    catalog: &'c Catalog,
    catalog_id: Option<&str>,
) -> Result<&'c CatalogEntry, ApiError> {
    let catalog_id = catalog_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::invalid_argument("catalogId is required"))?;
    catalog
        .lookup(catalog_id)
        .ok_or_else(|| ApiError::invalid_argument(format!("unknown catalogId {catalog_id:?}")))
}

fn check_user_ids(user_ids: &Option<Vec<String>>) -> Result<(), ApiError> {
    if user_ids.iter().flatten().any(|id| id.trim().is_empty()) {
        return Err(ApiError::invalid_argument(
            "userIds must not contain empty ids",
        ));
    }
    Ok(())
}

// ----- apps -----

/// A `CreateAppRequest`: the fields the simulator keeps (others are accepted and ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAppBody {
    display_name: Option<String>,
    description: Option<String>,
    monthly_cost_usd: Option<i32>,
    identity_matching: Option<String>,
    instructions: Option<String>,
}

/// `POST /api/v1/apps`: a new manually managed app, without connectors.
async fn create_app(
    State(sim): State<Arc<Simulator>>,
    JsonBody(request): JsonBody<CreateAppBody>,
) -> Result<Response, ApiError> {
    let display_name = request
        .display_name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::invalid_argument("displayName is required"))?;
    let mut details = AppDetails {
        monthly_cost_usd: request.monthly_cost_usd.unwrap_or_default(),
        instructions: request.instructions.unwrap_or_default(),
        ..AppDetails::default()
    };
    if let Some(matching) = request
        .identity_matching
        .filter(|m| m != "APP_USER_IDENTITY_MATCHING_UNSPECIFIED")
    {
        details.identity_matching = matching;
    }
    let mut state = sim.lock();
    let app = state.tenant.create_app_with(
        None,
        display_name,
        request.description.unwrap_or_default(),
        details,
    )?;
    sim.persist(&state)?;
    Ok(Json(json!({ "app": wire::app_json(&app) })).into_response())
}

/// An `UpdateAppRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateAppBody {
    app: Option<AppPatch>,
    update_mask: Option<String>,
}

/// The writable fields of an `App` in an update body (others are accepted and ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppPatch {
    id: Option<String>,
    display_name: Option<String>,
    description: Option<String>,
    instructions: Option<String>,
    monthly_cost_usd: Option<i32>,
}

/// `POST /api/v1/apps/{id}`: changes the fields the update mask names, and only those.
async fn update_app(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    JsonBody(request): JsonBody<UpdateAppBody>,
) -> Result<Response, ApiError> {
    let mask = request
        .update_mask
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::invalid_argument("updateMask is required"))?;
    let patch = request
        .app
        .ok_or_else(|| ApiError::invalid_argument("app is required"))?;
    if patch
        .id
        .as_deref()
        .is_some_and(|id| !id.is_empty() && id != app_id)
    {
        return Err(ApiError::invalid_argument("app.id does not match the path"));
    }
    let mut changes = AppChanges::default();
    for path in mask.split(',').map(str::trim) {
        match path {
            "displayName" | "display_name" => {
                changes.display_name = Some(patch.display_name.clone().unwrap_or_default())
            }
            "description" => {
                changes.description = Some(patch.description.clone().unwrap_or_default())
            }
            "instructions" => {
                changes.instructions = Some(patch.instructions.clone().unwrap_or_default())
            }
            "monthlyCostUsd" | "monthly_cost_usd" => {
                changes.monthly_cost_usd = Some(patch.monthly_cost_usd.unwrap_or_default())
            }
            other => {
                return Err(ApiError::invalid_argument(format!(
                    "updateMask: unknown or unsupported path {other:?}"
                )))
            }
        }
    }
    let mut state = sim.lock();
    let app = state.tenant.update_app(&app_id, changes)?;
    sim.persist(&state)?;
    Ok(Json(json!({ "app": wire::app_json(&app) })).into_response())
}

/// A `SearchAppsRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchAppsBody {
    display_name: Option<String>,
    query: Option<String>,
    app_ids: Option<Vec<String>>,
    exclude_app_ids: Option<Vec<String>>,
    only_directories: Option<bool>,
    page_size: Option<i64>,
    page_token: Option<String>,
    policy_refs: Option<Vec<PolicyRef>>,
}

#[derive(Deserialize)]
struct PolicyRef {
    id: Option<String>,
}

/// The page size of an app search: 0 (or none) is 25, below 10 is 10, above 100 is 100.
fn search_page_size(requested: Option<i64>) -> Result<usize, ApiError> {
    match requested.unwrap_or(0) {
        n if n < 0 => Err(ApiError::invalid_argument("pageSize must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as usize).clamp(10, MAX_PAGE_SIZE)),
    }
}

/// `POST /api/v1/search/apps`: the matching apps in creation order, a page at a time.
async fn search_apps(
    State(sim): State<Arc<Simulator>>,
    JsonBody(request): JsonBody<SearchAppsBody>,
) -> Result<Response, ApiError> {
    let size = search_page_size(request.page_size)?;
    let after = match request.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => decode_page_token(token)
            .ok_or_else(|| ApiError::invalid_argument("invalid pageToken"))?,
    };
    let search = AppSearch {
        display_name: request.display_name,
        query: request.query.filter(|q| !q.trim().is_empty()),
        app_ids: request.app_ids.unwrap_or_default(),
        exclude_app_ids: request.exclude_app_ids.unwrap_or_default(),
        only_directories: request.only_directories.unwrap_or(false),
        policy_ids: request
            .policy_refs
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.id)
            .collect(),
    };
    let state = sim.lock();
    let mut matching = state.tenant.search_apps(&search).skip(after as usize);
    let page: Vec<Value> = matching.by_ref().take(size).map(wire::app_json).collect();
    let next = if matching.next().is_some() {
        encode_page_token(after + page.len() as u64)
    } else {
        String::new()
    };
    Ok(Json(json!({ "list": page, "nextPageToken": next })).into_response())
}

async fn get_app(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
) -> Result<Response, ApiError> {
    let state = sim.lock();
    let app = state.tenant.app(&app_id)?;
    Ok(Json(json!({ "app": wire::app_json(app) })).into_response())
}

async fn list_apps(
    State(sim): State<Arc<Simulator>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let paging = Paging::parse(query.as_deref())?;
    let state = sim.lock();
    let mut apps = state.tenant.apps.iter().skip(paging.after as usize);
    let page: Vec<Value> = apps
        .by_ref()
        .take(paging.size)
        .map(wire::app_json)
        .collect();
    let next = if apps.next().is_some() {
        encode_page_token(paging.after + page.len() as u64)
    } else {
        String::new()
    };
    Ok(Json(json!({ "list": page, "nextPageToken": next })).into_response())
}

async fn delete_app(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    _object: JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    state.tenant.delete_app(&app_id)?;
    sim.persist(&state)?;
    Ok(Json(json!({})).into_response())
}

// ----- connectors -----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateConfiguredBody {
    catalog_id: Option<String>,
    user_ids: Option<Vec<String>>,
    config: Option<Value>,
    description: Option<String>,
    #[allow(dead_code)]
    expand_mask: Option<Value>,
}

async fn create_configured(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    Extension(caller): Extension<Caller>,
    JsonBody(request): JsonBody<CreateConfiguredBody>,
) -> Result<Response, ApiError> {
    let entry = catalog_entry(&sim.config.catalog, request.catalog_id.as_deref())?;
    check_user_ids(&request.user_ids)?;
    let config = request
        .config
        .filter(|c| !c.is_null())
        .ok_or_else(|| ApiError::invalid_argument("config is required"))?;
    let new = NewConnector {
        display_name: None,
        description: request.description.unwrap_or_default(),
        user_ids: request.user_ids,
        settings: Some(wire::parse_env_config(&config, entry)?),
    };
    create(&sim, &app_id, entry, new, &caller)
}

fn create(
    sim: &Simulator,
    app_id: &str,
    entry: &CatalogEntry,
    new: NewConnector,
    caller: &Caller,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    let connector = state.tenant.create_connector(
        app_id,
        entry,
        new,
        &caller.user_id,
        sim.config.sync_delay,
    )?;
    sim.persist(&state)?;
    Ok(Json(wire::connector_view(&connector, &sim.config.catalog)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDelegatedBody {
    catalog_id: Option<String>,
    display_name: Option<String>,
    description: Option<String>,
    user_ids: Option<Vec<String>>,
    #[allow(dead_code)]
    expand_mask: Option<Value>,
    #[allow(dead_code)]
    app_entitlement_owner_refs: Option<Vec<Value>>,
    #[allow(dead_code)]
    app_managed_state_binding_ref: Option<Value>,
}

async fn create_delegated(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    Extension(caller): Extension<Caller>,
    JsonBody(request): JsonBody<CreateDelegatedBody>,
) -> Result<Response, ApiError> {
    let entry = catalog_entry(&sim.config.catalog, request.catalog_id.as_deref())?;
    check_user_ids(&request.user_ids)?;
    let new = NewConnector {
        display_name: request.display_name,
        description: request.description.unwrap_or_default(),
        user_ids: request.user_ids,
        settings: None,
    };
    create(&sim, &app_id, entry, new, &caller)
}

async fn get_connector(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let state = sim.lock();
    let connector = state.tenant.connector(&app_id, &id)?;
    Ok(Json(wire::connector_view(connector, &sim.config.catalog)).into_response())
}

/// Paging parameters of list calls (`page_size`/`pageSize`, `page_token`/`pageToken`).
struct Paging {
    size: usize,
    /// Sequence number (or offset) the page starts after.
    after: u64,
}

#[derive(Deserialize)]
struct PagingQuery {
    page_size: Option<String>,
    #[serde(rename = "pageSize")]
    page_size_camel: Option<String>,
    page_token: Option<String>,
    #[serde(rename = "pageToken")]
    page_token_camel: Option<String>,
}

impl Paging {
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let query: PagingQuery = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|err| ApiError::invalid_argument(format!("invalid query: {err}")))?;
        let size = match query.page_size.or(query.page_size_camel) {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => {
                let n: i64 = raw.trim().parse().map_err(|_| {
                    ApiError::invalid_argument(format!("page_size {raw:?} is not an integer"))
                })?;
                if n < 0 {
                    return Err(ApiError::invalid_argument("page_size must not be negative"));
                }
                if n == 0 {
                    DEFAULT_PAGE_SIZE
                } else {
                    (n as usize).min(MAX_PAGE_SIZE)
                }
            }
        };
        let after = match query.page_token.or(query.page_token_camel) {
            None => 0,
            Some(token) if token.is_empty() => 0,
            Some(token) => decode_page_token(&token)
                .ok_or_else(|| ApiError::invalid_argument("invalid page_token"))?,
        };
        Ok(Self { size, after })
    }
}

fn encode_page_token(after: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{after}"))
}

fn decode_page_token(token: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("after:")?
        .parse()
        .ok()
}

async fn list_connectors(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let paging = Paging::parse(query.as_deref())?;
    let state = sim.lock();
    let (page, more) = state
        .tenant
        .list_connectors(&app_id, paging.after, paging.size)?;
    let next = match (more, page.last()) {
        (true, Some(last)) => encode_page_token(last.seq),
        _ => String::new(),
    };
    let list: Vec<Value> = page
        .iter()
        .map(|c| json!({ "connector": wire::connector_json(c, &sim.config.catalog) }))
        .collect();
    Ok(Json(json!({ "list": list, "nextPageToken": next, "expanded": [] })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateBody {
    connector: Option<ConnectorPatch>,
    update_mask: Option<String>,
    #[allow(dead_code)]
    expand_mask: Option<Value>,
}

/// The writable fields of a `Connector` in an update body (others are accepted and ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectorPatch {
    id: Option<String>,
    app_id: Option<String>,
    display_name: Option<String>,
    description: Option<String>,
    user_ids: Option<Vec<String>>,
    config: Option<Value>,
}

/// Update-mask paths, as lowerCamelCase names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MaskPath {
    DisplayName,
    Description,
    UserIds,
    Config,
}

fn parse_update_mask(mask: Option<&str>, allowed: &[MaskPath]) -> Result<Vec<MaskPath>, ApiError> {
    let mask = mask
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::invalid_argument("updateMask is required"))?;
    let mut paths = Vec::new();
    for raw in mask.split(',').map(str::trim) {
        let path = match raw {
            "displayName" | "display_name" => MaskPath::DisplayName,
            "description" => MaskPath::Description,
            "userIds" | "user_ids" => MaskPath::UserIds,
            "config" => MaskPath::Config,
            _ => {
                return Err(ApiError::invalid_argument(format!(
                    "updateMask: unknown or unsupported path {raw:?}"
                )))
            }
        };
        if !allowed.contains(&path) {
            return Err(ApiError::invalid_argument(format!(
                "updateMask: path {raw:?} cannot be updated by this call"
            )));
        }
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    Ok(paths)
}

fn update(
    sim: &Simulator,
    app_id: &str,
    id: &str,
    caller: &Caller,
    request: UpdateBody,
    allowed: &[MaskPath],
) -> Result<Response, ApiError> {
    let paths = parse_update_mask(request.update_mask.as_deref(), allowed)?;
    let patch = request
        .connector
        .ok_or_else(|| ApiError::invalid_argument("connector is required"))?;
    if patch
        .id
        .as_deref()
        .is_some_and(|c| !c.is_empty() && c != id)
    {
        return Err(ApiError::invalid_argument(
            "connector.id does not match the path",
        ));
    }
    if patch
        .app_id
        .as_deref()
        .is_some_and(|a| !a.is_empty() && a != app_id)
    {
        return Err(ApiError::invalid_argument(
            "connector.appId does not match the path",
        ));
    }
    check_user_ids(&patch.user_ids)?;
    let catalog_id = sim.lock().tenant.connector(app_id, id)?.catalog_id.clone();
    let entry = catalog_entry(&sim.config.catalog, Some(&catalog_id))?;
    let mut changes = ConnectorChanges::default();
    for path in paths {
        match path {
            MaskPath::DisplayName => {
                changes.display_name = Some(patch.display_name.clone().unwrap_or_default())
            }
            MaskPath::Description => {
                changes.description = Some(patch.description.clone().unwrap_or_default())
            }
            MaskPath::UserIds => changes.user_ids = Some(patch.user_ids.clone()),
            MaskPath::Config => {
                changes.settings = Some(match patch.config.as_ref().filter(|c| !c.is_null()) {
                    None => None,
                    Some(config) => Some(wire::parse_env_config(config, entry)?),
                })
            }
        }
    }
    let mut state = sim.lock();
    let connector = state.tenant.update_connector(
        app_id,
        id,
        changes,
        &caller.user_id,
        &sim.config.catalog,
        sim.config.sync_delay,
    )?;
    sim.persist(&state)?;
    Ok(Json(wire::connector_view(&connector, &sim.config.catalog)).into_response())
}

async fn update_connector(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    JsonBody(request): JsonBody<UpdateBody>,
) -> Result<Response, ApiError> {
    let allowed = [
        MaskPath::DisplayName,
        MaskPath::Description,
        MaskPath::UserIds,
        MaskPath::Config,
    ];
    update(&sim, &app_id, &id, &caller, request, &allowed)
}

async fn update_delegated(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    JsonBody(request): JsonBody<UpdateBody>,
) -> Result<Response, ApiError> {
    let allowed = [
        MaskPath::DisplayName,
        MaskPath::Description,
        MaskPath::UserIds,
    ];
    update(&sim, &app_id, &id, &caller, request, &allowed)
}

async fn delete_connector(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
    _object: JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    state.tenant.delete_connector(&app_id, &id)?;
    sim.persist(&state)?;
    Ok(Json(json!({})).into_response())
}

/// Answer for paths the simulator does not serve.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_checked() {
        let all = [MaskPath::DisplayName, MaskPath::UserIds];
        assert_eq!(
            parse_update_mask(Some("displayName,userIds"), &all).unwrap(),
            vec![MaskPath::DisplayName, MaskPath::UserIds]
        );
        assert!(parse_update_mask(Some("config"), &all).is_err());
        assert!(parse_update_mask(Some("bogus"), &all).is_err());
        assert!(parse_update_mask(None, &all).is_err());
    }

    #[test]
    fn search_page_sizes_follow_the_contract() {
        assert_eq!(search_page_size(None).unwrap(), 25);
        assert_eq!(search_page_size(Some(0)).unwrap(), 25);
        assert_eq!(search_page_size(Some(3)).unwrap(), 10);
        assert_eq!(search_page_size(Some(40)).unwrap(), 40);
        assert_eq!(search_page_size(Some(1000)).unwrap(), 100);
        assert!(search_page_size(Some(-1)).is_err());
    }

    #[test]
    fn page_tokens_round_trip() {
        assert_eq!(decode_page_token(&encode_page_token(42)), Some(42));
        assert_eq!(decode_page_token("garbage!"), None);
    }
}
