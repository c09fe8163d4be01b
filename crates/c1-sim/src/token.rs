//! The token endpoint (`POST /auth/v1/token`): a client-credentials grant with a signed client
//! assertion, or a token exchange (RFC 8693) of a workload's OIDC token from a trusted issuer,
//! answered with an access token or an OAuth error (never quoting a token or an assertion).

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
use crate::credentials::ClientRecord;
use crate::extract::LimitedBody;
use crate::oidc;
use crate::state::Simulator;

/// Client id and grant of a token request, attached to the response so the request log can name
/// the caller and how it authenticated.
#[derive(Debug, Clone)]
pub struct TokenRequestClient {
    pub client_id: Option<String>,
    pub grant: &'static str,
}

/// The request log's name of a client-credentials request.
pub const LOGGED_CLIENT_CREDENTIALS: &str = "client_credentials";
/// The request log's name of a token exchange.
pub const LOGGED_TOKEN_EXCHANGE: &str = "token_exchange";

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
    subject_token: Option<String>,
    subject_token_type: Option<String>,
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
    match form.grant_type.as_deref() {
        Some(token_endpoint::GRANT_CLIENT_CREDENTIALS) => {}
        Some(token_endpoint::GRANT_TOKEN_EXCHANGE) => {
            let (client_id, mut response) = token_exchange(&sim, form);
            response.extensions_mut().insert(TokenRequestClient {
                client_id,
                grant: LOGGED_TOKEN_EXCHANGE,
            });
            return response;
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!(
                    "grant_type must be {} or {}",
                    token_endpoint::GRANT_CLIENT_CREDENTIALS,
                    token_endpoint::GRANT_TOKEN_EXCHANGE
                ),
            )
        }
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
    response.extensions_mut().insert(TokenRequestClient {
        client_id: Some(client_id),
        grant: LOGGED_CLIENT_CREDENTIALS,
    });
    response
}

/// A token exchange: `subject_token` (a JWT, `subject_token_type` jwt) from a trusted issuer,
/// for the client `client_id` names, or the one its issuer's trust maps its subject to. Returns
/// the client the answer is about (when known) and the answer.
fn token_exchange(sim: &Simulator, form: TokenForm) -> (Option<String>, Response) {
    let asked = form.client_id.clone().filter(|c| !c.is_empty());
    match exchange(sim, form) {
        Ok((client_id, client)) => (Some(client_id), access_token_answer(sim, &client)),
        Err(Refusal(status, error, description)) => {
            (asked, oauth_error(status, error, description))
        }
    }
}

/// Why a token exchange was refused: the OAuth error answer's status, code and description.
struct Refusal(StatusCode, &'static str, String);

fn refused(status: StatusCode, error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal(status, error, description.into())
}

fn exchange(sim: &Simulator, form: TokenForm) -> Result<(String, ClientRecord), Refusal> {
    if form.subject_token_type.as_deref() != Some(token_endpoint::SUBJECT_TOKEN_TYPE_JWT) {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!(
                "subject_token_type must be {}",
                token_endpoint::SUBJECT_TOKEN_TYPE_JWT
            ),
        ));
    }
    let Some(subject_token) = form.subject_token.filter(|t| !t.is_empty()) else {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "subject_token is required",
        ));
    };
    let asked = form.client_id.filter(|c| !c.is_empty());
    let mapped = {
        let state = sim.lock();
        oidc::verify(
            &subject_token,
            &state.control.trusted_issuers,
            clock::now_secs(),
        )
        .map(|verified| {
            let trust = verified
                .trusts
                .iter()
                .find(|t| t.admits(&verified.subject, asked.as_deref()));
            let client_id = trust.and_then(|t| asked.clone().or_else(|| t.client_id.clone()));
            (verified.issuer, verified.subject, client_id)
        })
    };
    let (issuer, subject, client_id) = match mapped {
        Ok(mapped) => mapped,
        Err(err) => {
            return Err(refused(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                err.to_string(),
            ))
        }
    };
    let Some(client_id) = client_id else {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            format!(
                "no federation of issuer {issuer} lets subject {subject:?} act as {}",
                asked
                    .as_deref()
                    .map_or("a client (no client_id given)".to_string(), |c| format!(
                        "client {c}"
                    ))
            ),
        ));
    };
    let Some(client) = known_client(sim, &client_id) else {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client",
        ));
    };
    Ok((client_id, client))
}

/// The client `client_id`, re-reading the clients file when it is not known yet.
fn known_client(sim: &Simulator, client_id: &str) -> Option<ClientRecord> {
    if let Some(client) = sim.lock().control.client(client_id).cloned() {
        return Some(client);
    }
    if let Err(err) = sim.reload_clients() {
        tracing::warn!(%err, "cannot reload the clients file");
    }
    sim.lock().control.client(client_id).cloned()
}

/// A new access token for `client`, as the token endpoint answers it.
fn access_token_answer(sim: &Simulator, client: &ClientRecord) -> Response {
    let ttl = sim.config.token_ttl;
    let caller = Caller {
        client_id: client.client_id.clone(),
        user_id: client.user_id.clone(),
    };
    let access_token = sim.lock().control.tokens.issue(caller, ttl);
    no_store(
        Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
        }))
        .into_response(),
    )
}

fn issue_token(
    sim: &Simulator,
    headers: &HeaderMap,
    uri_host: Option<&str>,
    client_id: &str,
    assertion: &str,
) -> Response {
    // A connector credential (a self-hosted connector) is accepted like an API credential.
    let connector_credential = {
        let state = sim.lock();
        match state.control.client(client_id) {
            Some(_) => None,
            None => state
                .tenant
                .live_credential_by_client_id(client_id)
                .map(|c| {
                    (
                        c.id.clone(),
                        c.client_record(&state.tenant.credential_user(c)),
                    )
                }),
        }
    };
    let client = match &connector_credential {
        Some((_, record)) => record.clone(),
        None => match known_client(sim, client_id) {
            Some(client) => client,
            None => {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client")
            }
        },
    };
    let audiences = accepted_audiences(sim, headers, uri_host);
    if let Err(err) = auth::verify_assertion(assertion, &client, &audiences, clock::now_secs()) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", err.to_string());
    }
    if let Some((credential_id, _)) = &connector_credential {
        let mut state = sim.lock();
        state
            .tenant
            .credential_used(credential_id, sim.config.sync_delay);
        if let Err(err) = sim.persist(&state) {
            tracing::warn!(%err, "cannot write the state file");
        }
    }
    access_token_answer(sim, &client)
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
