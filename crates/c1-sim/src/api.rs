//! Handlers of the C1 API the simulator serves: the token endpoint, apps and connectors.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use c1_contract::token_endpoint;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{self, Caller};
use crate::catalog::{Catalog, CatalogEntry};
use crate::clock;
use crate::error::ApiError;
use crate::server::ConnectionInfo;
use crate::store::{self, ConnectorChanges, ConnectorRecord, Simulator};

/// Default and largest page sizes of list calls.
pub const DEFAULT_PAGE_SIZE: usize = 25;
pub const MAX_PAGE_SIZE: usize = 100;

/// Client id of a token request, attached to the response so the request log can name the caller.
#[derive(Debug, Clone)]
pub struct TokenRequestClient(pub String);

/// Reads a request body of at most `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::payload_too_large(limit))
}

/// Parses a JSON object body into `T` (an empty body is `{}`); errors are 400 with the reason.
pub fn parse_json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(bytes)
            .map_err(|err| ApiError::invalid_argument(format!("invalid JSON body: {err}")))?
    };
    if !value.is_object() {
        return Err(ApiError::invalid_argument(
            "request body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|err| ApiError::invalid_argument(format!("invalid request: {err}")))
}

fn connector_view(connector: &ConnectorRecord, catalog: &Catalog) -> Value {
    json!({ "connectorView": { "connector": connector.to_api_json(catalog) }, "expanded": [] })
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

// ----- token endpoint -----

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let body = json!({ "error": error, "error_description": description.into() });
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("static header"),
    );
    response
}

/// Host names an assertion's `aud` may carry for this request: the host it was sent to
/// (without port), the bind address, and on loopback `localhost` and `127.0.0.1`.
fn accepted_audiences(sim: &Simulator, headers: &HeaderMap, uri_host: Option<&str>) -> Vec<String> {
    let mut audiences = Vec::new();
    let mut add = |host: &str| {
        let host = host.trim();
        if !host.is_empty() && !audiences.iter().any(|a| a == host) {
            audiences.push(host.to_owned());
        }
    };
    let host_header = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    for host in host_header.into_iter().chain(uri_host) {
        let without_port = strip_port(host);
        add(without_port);
        add(without_port.trim_start_matches('[').trim_end_matches(']'));
    }
    add(&sim.config.bind_host);
    let loopback = sim
        .config
        .bind_host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        add("localhost");
        add("127.0.0.1");
    }
    audiences
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

pub async fn token(
    State(sim): State<Arc<Simulator>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Body,
) -> Response {
    let bytes = match read_body(body, sim.config.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(err) => return err.into_response(),
    };
    let form: TokenForm = match serde_urlencoded::from_bytes(&bytes) {
        Ok(form) => form,
        Err(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "body must be application/x-www-form-urlencoded",
            )
        }
    };
    if form.grant_type.as_deref() != Some(token_endpoint::GRANT_CLIENT_CREDENTIALS) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    if form.client_assertion_type.as_deref() != Some(token_endpoint::ASSERTION_TYPE_JWT_BEARER) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!(
                "client_assertion_type must be {}",
                token_endpoint::ASSERTION_TYPE_JWT_BEARER
            ),
        );
    }
    let (Some(client_id), Some(assertion)) = (
        form.client_id.filter(|c| !c.is_empty()),
        form.client_assertion.filter(|a| !a.is_empty()),
    ) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and client_assertion are required",
        );
    };
    let mut response = issue_token(&sim, &headers, uri.host(), &client_id, &assertion);
    response
        .extensions_mut()
        .insert(TokenRequestClient(client_id));
    response
}

fn issue_token(
    sim: &Simulator,
    headers: &HeaderMap,
    uri_host: Option<&str>,
    client_id: &str,
    assertion: &str,
) -> Response {
    let known = sim.lock().client(client_id).cloned();
    let client = match known {
        Some(client) => client,
        None => {
            if let Err(err) = store::reload_clients(sim) {
                tracing::warn!(%err, "cannot reload the clients file");
            }
            match sim.lock().client(client_id).cloned() {
                Some(client) => client,
                None => {
                    return oauth_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        "unknown client",
                    )
                }
            }
        }
    };
    let audiences = accepted_audiences(sim, headers, uri_host);
    if let Err(err) = auth::verify_assertion(assertion, &client, &audiences, clock::now_secs()) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", err.to_string());
    }
    let ttl = sim.config.token_ttl;
    let caller = Caller {
        client_id: client.client_id.clone(),
        user_id: client.user_id.clone(),
    };
    let access_token = sim.lock().tokens.issue(caller, ttl);
    let mut response = Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl.as_secs(),
    }))
    .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("static header"),
    );
    response
}

// ----- apps -----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAppBody {
    display_name: Option<String>,
    description: Option<String>,
}

pub async fn create_app(
    State(sim): State<Arc<Simulator>>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, sim.config.max_body_bytes).await?;
    let request: CreateAppBody = parse_json_object(&bytes)?;
    let display_name = request
        .display_name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::invalid_argument("displayName is required"))?;
    let mut state = sim.lock();
    let app = state.create_app(None, display_name, request.description.unwrap_or_default())?;
    sim.persist(&state)?;
    Ok(Json(json!({ "app": app.to_api_json() })).into_response())
}

pub async fn get_app(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
) -> Result<Response, ApiError> {
    let state = sim.lock();
    let app = state.app(&app_id)?;
    Ok(Json(json!({ "app": app.to_api_json() })).into_response())
}

pub async fn list_apps(
    State(sim): State<Arc<Simulator>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let paging = Paging::parse(query.as_deref())?;
    let state = sim.lock();
    let mut apps = state.apps.iter().skip(paging.after as usize);
    let page: Vec<Value> = apps
        .by_ref()
        .take(paging.size)
        .map(|a| a.to_api_json())
        .collect();
    let next = if apps.next().is_some() {
        encode_page_token(paging.after + page.len() as u64)
    } else {
        String::new()
    };
    Ok(Json(json!({ "list": page, "nextPageToken": next })).into_response())
}

pub async fn delete_app(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, sim.config.max_body_bytes).await?;
    let _: serde_json::Map<String, Value> = parse_json_object(&bytes)?;
    let mut state = sim.lock();
    state.delete_app(&app_id)?;
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

pub async fn create_configured(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    Extension(caller): Extension<Caller>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, sim.config.max_body_bytes).await?;
    let request: CreateConfiguredBody = parse_json_object(&bytes)?;
    let entry = catalog_entry(&sim.config.catalog, request.catalog_id.as_deref())?;
    check_user_ids(&request.user_ids)?;
    let config = request
        .config
        .filter(|c| !c.is_null())
        .ok_or_else(|| ApiError::invalid_argument("config is required"))?;
    let settings = store::parse_env_config(&config, entry)?;
    let mut state = sim.lock();
    let connector = state.create_connector(
        &app_id,
        entry,
        None,
        request.description.unwrap_or_default(),
        request.user_ids,
        Some(settings),
        &caller,
        sim.config.sync_delay,
    )?;
    sim.persist(&state)?;
    Ok(Json(connector_view(&connector, &sim.config.catalog)).into_response())
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

pub async fn create_delegated(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    Extension(caller): Extension<Caller>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, sim.config.max_body_bytes).await?;
    let request: CreateDelegatedBody = parse_json_object(&bytes)?;
    let entry = catalog_entry(&sim.config.catalog, request.catalog_id.as_deref())?;
    check_user_ids(&request.user_ids)?;
    let mut state = sim.lock();
    let connector = state.create_connector(
        &app_id,
        entry,
        request.display_name,
        request.description.unwrap_or_default(),
        request.user_ids,
        None,
        &caller,
        sim.config.sync_delay,
    )?;
    sim.persist(&state)?;
    Ok(Json(connector_view(&connector, &sim.config.catalog)).into_response())
}

pub async fn get_connector(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let state = sim.lock();
    let connector = state.connector(&app_id, &id)?;
    Ok(Json(connector_view(connector, &sim.config.catalog)).into_response())
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

pub async fn list_connectors(
    State(sim): State<Arc<Simulator>>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let paging = Paging::parse(query.as_deref())?;
    let state = sim.lock();
    let (page, more) = state.list_connectors(&app_id, paging.after, paging.size)?;
    let next = match (more, page.last()) {
        (true, Some(last)) => encode_page_token(last.seq),
        _ => String::new(),
    };
    let list: Vec<Value> = page
        .iter()
        .map(|c| json!({ "connector": c.to_api_json(&sim.config.catalog) }))
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

async fn update(
    sim: Arc<Simulator>,
    app_id: String,
    id: String,
    caller: Caller,
    body: Body,
    allowed: &[MaskPath],
) -> Result<Response, ApiError> {
    let bytes = read_body(body, sim.config.max_body_bytes).await?;
    let request: UpdateBody = parse_json_object(&bytes)?;
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
    let catalog_id = sim.lock().connector(&app_id, &id)?.catalog_id.clone();
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
                    Some(config) => Some(store::parse_env_config(config, entry)?),
                })
            }
        }
    }
    let mut state = sim.lock();
    let connector = state.update_connector(
        &app_id,
        &id,
        changes,
        &caller,
        &sim.config.catalog,
        sim.config.sync_delay,
    )?;
    sim.persist(&state)?;
    Ok(Json(connector_view(&connector, &sim.config.catalog)).into_response())
}

pub async fn update_connector(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    body: Body,
) -> Result<Response, ApiError> {
    let allowed = [
        MaskPath::DisplayName,
        MaskPath::Description,
        MaskPath::UserIds,
        MaskPath::Config,
    ];
    update(sim, app_id, id, caller, body, &allowed).await
}

pub async fn update_delegated(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    body: Body,
) -> Result<Response, ApiError> {
    let allowed = [
        MaskPath::DisplayName,
        MaskPath::Description,
        MaskPath::UserIds,
    ];
    update(sim, app_id, id, caller, body, &allowed).await
}

pub async fn delete_connector(
    State(sim): State<Arc<Simulator>>,
    Path((app_id, id)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, sim.config.max_body_bytes).await?;
    let _: serde_json::Map<String, Value> = parse_json_object(&bytes)?;
    let mut state = sim.lock();
    state.delete_connector(&app_id, &id)?;
    sim.persist(&state)?;
    Ok(Json(json!({})).into_response())
}

/// Answer for paths the simulator does not serve.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

/// The peer of a connection must be on loopback to use the admin API.
pub fn is_loopback_peer(info: Option<&ConnectionInfo>) -> bool {
    info.is_some_and(|i| i.peer.ip().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ports() {
        assert_eq!(strip_port("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(strip_port("localhost"), "localhost");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }

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
    fn page_tokens_round_trip() {
        assert_eq!(decode_page_token(&encode_page_token(42)), Some(42));
        assert_eq!(decode_page_token("garbage!"), None);
    }
}
