//! The gate in front of every route: for `/api/` and `/auth/` calls it injects the configured
//! faults, checks the bearer token (for `/api/`) and writes the request log; for all calls it
//! gives axum's bare 405 answers a C1 error body.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

use crate::auth::TokenCheck;
use crate::connection::ConnectionInfo;
use crate::error::ApiError;
use crate::faults::FaultAction;
use crate::request_log::{operation_name, RequestLogEntry};
use crate::state::Simulator;
use crate::token::TokenRequestClient;

/// How long a request whose connection is being dropped waits before answering anyway
/// (only reached if the connection could not be closed, e.g. another HTTP/2 stream holds it).
const DROP_GRACE: Duration = Duration::from_secs(5);

fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// In front of everything: for `/api/` and `/auth/` calls applies faults, checks the bearer
/// token (for `/api/`) and writes the request log; for all calls turns bare 405s into JSON.
pub async fn gate(State(sim): State<Arc<Simulator>>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let is_api = path.starts_with("/api/");
    if !is_api && !path.starts_with("/auth/") {
        return json_error_bodies(next.run(request).await);
    }
    let too_large = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|len| len > sim.config.max_body_bytes as u64);
    let method = request.method().as_str().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let operation = operation_name(&method, &path);
    let (token_check, decision) = {
        let mut state = sim.lock();
        let check = bearer_token(&request).map(|t| state.control.tokens.check(t));
        (check, state.control.faults.decide(&method, &path))
    };
    let mut client_id = match &token_check {
        Some(TokenCheck::Valid(caller)) | Some(TokenCheck::Expired(caller)) => {
            Some(caller.client_id.clone())
        }
        _ => None,
    };
    let mut grant: Option<&'static str> = None;
    let log = |status: u16, client_id: Option<String>, grant: Option<&'static str>| {
        sim.lock().control.log.push(RequestLogEntry {
            seq: 0,
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            status,
            client_id,
            operation: operation.to_owned(),
            grant: grant.map(str::to_owned),
        });
    };
    if decision.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.latency_ms)).await;
    }
    // A fault that strikes after handling lets the call through first.
    let (before, after) = if decision.after_handling {
        (None, decision.action)
    } else {
        (decision.action, None)
    };
    let kill = request
        .extensions()
        .get::<ConnectionInfo>()
        .map(|i| i.kill.clone());
    if let (Some(fault), true) = (after, decision.land_late_ms > 0) {
        // The answer is lost at once; the call is carried out later, in the background.
        return land_late(
            request,
            next,
            token_check,
            decision.land_late_ms,
            fault,
            kill,
            || log(fault_status(fault), client_id.clone(), None),
        )
        .await;
    }
    let response = match before {
        Some(FaultAction::Drop) => {
            log(0, client_id, grant);
            return drop_connection(kill).await;
        }
        Some(FaultAction::TooManyRequests { retry_after_secs }) => {
            ApiError::too_many_requests(retry_after_secs).into_response()
        }
        Some(FaultAction::ServerError { status }) => server_fault(status),
        None if too_large => ApiError::payload_too_large(sim.config.max_body_bytes).into_response(),
        None if is_api => match token_check {
            Some(TokenCheck::Valid(caller)) => {
                request.extensions_mut().insert(caller);
                json_error_bodies(next.run(request).await)
            }
            Some(TokenCheck::Expired(_)) => {
                ApiError::unauthenticated("access token expired").into_response()
            }
            Some(TokenCheck::Unknown) => {
                ApiError::unauthenticated("invalid access token").into_response()
            }
            None => ApiError::unauthenticated("missing bearer token").into_response(),
        },
        None => json_error_bodies(next.run(request).await),
    };
    if let Some(request) = response.extensions().get::<TokenRequestClient>() {
        client_id = request.client_id.clone().or(client_id);
        grant = Some(request.grant);
    }
    let response = match after {
        Some(FaultAction::Drop) if response.status().is_success() => {
            log(0, client_id, grant);
            return drop_connection(kill).await;
        }
        Some(FaultAction::ServerError { status }) if response.status().is_success() => {
            server_fault(status)
        }
        _ => response,
    };
    log(response.status().as_u16(), client_id, grant);
    response
}

/// Answers `fault` now and carries `request` out `late_ms` later (after its token check), as a
/// request that C1 acts on after its client has given up.
async fn land_late(
    mut request: Request,
    next: Next,
    token_check: Option<TokenCheck>,
    late_ms: u64,
    fault: FaultAction,
    kill: Option<Arc<Notify>>,
    log: impl FnOnce(),
) -> Response {
    if let Some(TokenCheck::Valid(caller)) = token_check {
        request.extensions_mut().insert(caller);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(late_ms)).await;
            let landed = next.run(request).await;
            tracing::info!(status = %landed.status(), "a call answered earlier was carried out late");
        });
    }
    log();
    match fault {
        FaultAction::Drop => drop_connection(kill).await,
        FaultAction::ServerError { status } => server_fault(status),
        FaultAction::TooManyRequests { .. } => server_fault(503),
    }
}

/// The status the request log shows for a fault: 0 for a dropped connection.
fn fault_status(fault: FaultAction) -> u16 {
    match fault {
        FaultAction::Drop => 0,
        FaultAction::TooManyRequests { .. } => 429,
        FaultAction::ServerError { status } => StatusCode::from_u16(status)
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            .as_u16(),
    }
}

/// Closes the connection without an answer. Should that not be possible (another HTTP/2 stream
/// holds it), answers 503 after [`DROP_GRACE`].
async fn drop_connection(kill: Option<Arc<Notify>>) -> Response {
    if let Some(kill) = kill {
        kill.notify_one();
    }
    tokio::time::sleep(DROP_GRACE).await;
    server_fault(StatusCode::SERVICE_UNAVAILABLE.as_u16())
}

/// The answer of an injected server error with HTTP status `status` (503 if it is not one).
fn server_fault(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    ApiError::injected_server_fault(status).into_response()
}

/// Gives axum's bare 405 answers a C1-style JSON body (keeping their `Allow`).
fn json_error_bodies(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut replaced = ApiError::method_not_allowed().into_response();
    if let Some(allow) = allow {
        replaced.headers_mut().insert(header::ALLOW, allow);
    }
    replaced
}
