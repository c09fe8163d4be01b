//! The token endpoint (`POST /auth/v1/token`): a client-credentials grant with a signed client
//! assertion, answered with an access token or an OAuth error.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use c1_contract::token_endpoint;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, Caller};
use crate::clock;
use crate::extract::LimitedBody;
use crate::state::Simulator;

/// Client id of a token request, attached to the response so the request log can name the caller.
#[derive(Debug, Clone)]
pub struct TokenRequestClient(pub String);

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let body = json!({ "error": error, "error_description": description.into() });
    no_store((status, Json(body)).into_response())
}

fn no_store(mut response: Response) -> Response {
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
    uri: Uri,
    LimitedBody(bytes): LimitedBody,
) -> Response {
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
    let known = sim.lock().control.client(client_id).cloned();
    // A connector credential (a self-hosted connector) is accepted like an API credential.
    let connector_credential = match &known {
        Some(_) => None,
        None => {
            let state = sim.lock();
            state
                .tenant
                .live_credential_by_client_id(client_id)
                .map(|c| {
                    (
                        c.id.clone(),
                        c.client_record(&state.tenant.credential_user(c)),
                    )
                })
        }
    };
    let client = match known.or_else(|| connector_credential.as_ref().map(|(_, c)| c.clone())) {
        Some(client) => client,
        None => {
            if let Err(err) = sim.reload_clients() {
                tracing::warn!(%err, "cannot reload the clients file");
            }
            match sim.lock().control.client(client_id).cloned() {
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
    let access_token = {
        let mut state = sim.lock();
        if let Some((credential_id, _)) = &connector_credential {
            state
                .tenant
                .credential_used(credential_id, sim.config.sync_delay);
            if let Err(err) = sim.persist(&state) {
                tracing::warn!(%err, "cannot write the state file");
            }
        }
        state.control.tokens.issue(caller, ttl)
    };
    no_store(
        Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
        }))
        .into_response(),
    )
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
}
