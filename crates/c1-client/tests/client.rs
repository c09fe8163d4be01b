//! The client against an in-process fake C1 (axum): tokens, retries, paging, errors, logging.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use c1_client::{
    CallBudget, CancellationToken, ClientConfig, ClientError, ConnectorClient, ConnectorSettings,
    CreateConfigured, CreateDelegated, Credentials, RetryPolicy, SecretString, SigningKey,
};
use c1_contract::integrations::{Integration as _, Twingate};
use c1_contract::jws;
use c1_contract::token_endpoint;
use serde_json::{json, Value};

const CLIENT_ID: &str = "tf@acme.conductor.one/test";
const USER_AGENT: &str = "c1-client-tests/1";
const SETTING_SECRET: &str = "sekrit-api-key-value";

/// A canned answer for the next API request(s) (token requests are never scripted).
#[derive(Clone, Copy)]
enum Scripted {
    Status(u16),
    RetryAfter(u16, &'static str),
    /// Forget every issued token, so the request gets 401.
    RevokeTokens,
}

#[derive(Default)]
struct Fake {
    key: Option<ed25519_dalek::VerifyingKey>,
    token_ttl: u64,
    token_delay_ms: u64,
    /// Every token request is answered with this status (a C1 error body), when set.
    token_status: Option<u16>,
    reject_all_tokens: bool,
    token_requests: AtomicUsize,
    issued: Mutex<Vec<String>>,
    valid: Mutex<HashSet<String>>,
    script: Mutex<VecDeque<Scripted>>,
    /// (method, path?query, body)
    seen: Mutex<Vec<(String, String, Value)>>,
    user_agents: Mutex<HashSet<String>>,
    assertion_errors: Mutex<Vec<String>>,
}

impl Fake {
    fn api_calls(&self, method: &str, path_contains: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p, _)| m == method && p.contains(path_contains))
            .count()
    }
}

fn connector(app: &str, id: &str) -> Value {
    json!({
        "id": id, "appId": app, "catalogId": Twingate::CATALOG_ID, "displayName": "Twingate",
        "userIds": ["u1"], "createdAt": "2026-11-23T21:54:00.123Z", "updatedAt": "2026-11-23T21:54:01Z",
        "deletedAt": null,
        "config": {"@type": c1_contract::ENV_CONFIG_TYPE,
                   "configuration": {"twingate_domain": {"stringValue": "acme"}}},
        "status": {"status": "SYNC_STATUS_RUNNING"}
    })
}

fn error(status: u16, code: i32, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        json!({"code": code, "message": message, "details": []}).to_string(),
    )
        .into_response()
}

fn ok(v: Value) -> Response {
    ([("content-type", "application/json")], v.to_string()).into_response()
}

fn check_assertion(fake: &Fake, form: &[(String, String)]) -> Result<(), String> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .ok_or(format!("missing {k}"))
    };
    if get("grant_type")? != token_endpoint::GRANT_CLIENT_CREDENTIALS
        || get("client_id")? != CLIENT_ID
    {
        return Err("bad grant_type/client_id".into());
    }
    if get("client_assertion_type")? != token_endpoint::ASSERTION_TYPE_JWT_BEARER {
        return Err("bad assertion type".into());
    }
    let assertion = jws::parse(&get("client_assertion")?).map_err(|e| e.to_string())?;
    assertion
        .verify(&fake.key.unwrap())
        .map_err(|e| e.to_string())?;
    let claims = &assertion.claims;
    if claims["aud"] != "127.0.0.1" || claims["sub"] != CLIENT_ID {
        return Err(format!("bad claims {claims:?}"));
    }
    Ok(())
}

async fn handle(
    State(fake): State<Arc<Fake>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(ua) = headers.get("user-agent").and_then(|v| v.to_str().ok()) {
        fake.user_agents.lock().unwrap().insert(ua.to_string());
    }
    let path = uri.path().to_string();
    if path == "/auth/v1/token" {
        fake.token_requests.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(fake.token_delay_ms)).await;
        if let Some(status) = fake.token_status {
            return error(status, 14, "token service unavailable");
        }
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
        if let Err(e) = check_assertion(&fake, &form) {
            fake.assertion_errors.lock().unwrap().push(e);
            return error(401, 16, "invalid client assertion");
        }
        let n = fake.token_requests.load(Ordering::SeqCst);
        let tok = format!("tok-{n}-opaque");
        fake.issued.lock().unwrap().push(tok.clone());
        if !fake.reject_all_tokens {
            fake.valid.lock().unwrap().insert(tok.clone());
        }
        return ok(
            json!({"access_token": tok, "token_type": "Bearer", "expires_in": fake.token_ttl}),
        );
    }
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let full = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    fake.seen
        .lock()
        .unwrap()
        .push((method.to_string(), full, body_json.clone()));

    let scripted = fake.script.lock().unwrap().pop_front();
    match scripted {
        Some(Scripted::Status(s)) => return error(s, 14, "unavailable"),
        Some(Scripted::RetryAfter(s, after)) => {
            let mut r = error(s, 8, "slow down");
            r.headers_mut()
                .insert("retry-after", after.parse().unwrap());
            return r;
        }
        Some(Scripted::RevokeTokens) => fake.valid.lock().unwrap().clear(),
        None => {}
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !fake.valid.lock().unwrap().contains(bearer) {
        return error(401, 16, "invalid or expired token");
    }

    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["api", "v1", "apps", app, "connectors"]) => {
            let token = uri
                .query()
                .and_then(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "page_token")
                        .map(|(_, v)| v.into_owned())
                })
                .unwrap_or_default();
            let (ids, next) = match token.as_str() {
                "" => (vec!["c1", "c2"], "p/2"),
                "p/2" => (vec!["c3", "c4"], "p=3"),
                "p=3" => (vec!["c5"], ""),
                _ => return error(400, 3, "bad page token"),
            };
            let list: Vec<Value> = ids
                .iter()
                .map(|id| json!({"connector": connector(app, id), "appPath": "/x"}))
                .collect();
            ok(json!({"list": list, "nextPageToken": next}))
        }
        ("POST", ["api", "v1", "apps", app, "connectors", "create"]) => {
            if body_json["catalogId"] == "bad" {
                return error(400, 3, "unknown catalog");
            }
            ok(json!({"connectorView": {"connector": connector(app, "new1")}}))
        }
        ("POST", ["api", "v1", "apps", app, "connectors"]) => {
            ok(json!({"connectorView": {"connector": connector(app, "new2")}}))
        }
        ("GET", ["api", "v1", "apps", _, "connectors", "missing"]) => {
            error(404, 5, "connector not found")
        }
        ("GET", ["api", "v1", "apps", _, "connectors", "garbled"]) => {
            ok(json!({"connectorView": 7}))
        }
        ("GET", ["api", "v1", "apps", app, "connectors", "deleting"]) => {
            let mut c = connector(app, "deleting");
            c["deletedAt"] = json!("2026-11-24T10:00:00.999999Z");
            ok(json!({"connectorView": {"connector": c}}))
        }
        ("GET", ["api", "v1", "apps", app, "connectors", id]) => {
            ok(json!({"connectorView": {"connector": connector(app, id)}}))
        }
        ("POST", ["api", "v1", "apps", app, "connectors", id])
        | ("POST", ["api", "v1", "apps", app, "connectors", id, "delegated"]) => {
            ok(json!({"connectorView": {"connector": connector(app, id)}}))
        }
        ("DELETE", ["api", "v1", "apps", _, "connectors", "missing"]) => {
            error(404, 5, "connector not found")
        }
        ("DELETE", ["api", "v1", "apps", _, "connectors", _]) => ok(json!({})),
        _ => error(404, 5, "no such route"),
    }
}

struct Harness {
    fake: Arc<Fake>,
    client: ConnectorClient,
    secret: String,
    addr: SocketAddr,
}

async fn start(configure: impl FnOnce(&mut Fake)) -> Harness {
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let mut fake = Fake {
        key: Some(key.verifying_key()),
        token_ttl: 3600,
        ..Default::default()
    };
    configure(&mut fake);
    let fake = Arc::new(fake);
    let app = Router::new().fallback(handle).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let key = SigningKey::from_dalek(key);
    let secret = key.to_client_secret();
    let client = ConnectorClient::new(config(
        addr,
        Credentials::ClientCredentials {
            client_id: CLIENT_ID.to_string(),
            key,
        },
    ))
    .unwrap();
    Harness {
        fake,
        client,
        secret,
        addr,
    }
}

/// A client configuration for the server at `addr`, with short retries.
fn config(addr: SocketAddr, credentials: Credentials) -> ClientConfig {
    ClientConfig {
        base_url: format!("http://{addr}/").parse().unwrap(),
        credentials,
        retry: RetryPolicy::fast(),
        user_agent: USER_AGENT.to_string(),
    }
}

fn script(h: &Harness, items: &[Scripted]) {
    h.fake.script.lock().unwrap().extend(items.iter().cloned());
}

fn settings() -> ConnectorSettings {
    ConnectorSettings(
        [
            ("twingate_domain".to_string(), "acme".to_string()),
            ("twingate_apikey".to_string(), SETTING_SECRET.to_string()),
        ]
        .into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_for_a_hundred_concurrent_calls() {
    let h = start(|f| f.token_delay_ms = 100).await;
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let c = h.client.clone();
            tokio::spawn(async move { c.get("app1", &format!("c{i}")).await })
        })
        .collect();
    for t in tasks {
        let got = t.await.unwrap().unwrap().unwrap();
        assert!(got.id.starts_with('c'));
    }
    assert_eq!(h.fake.token_requests.load(Ordering::SeqCst), 1);
    assert!(h.fake.assertion_errors.lock().unwrap().is_empty());
    assert_eq!(
        h.fake
            .user_agents
            .lock()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        [USER_AGENT]
    );
}

/// Fifty callers that need a token while the token endpoint is down share one token request
/// and its failure: one retry cycle (one budget), not fifty; a caller after that fails at once
/// with the remembered failure, without another request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_failed_token_request() {
    let h = start(|f| f.token_status = Some(503)).await;
    let budget = CallBudget::new(Duration::from_millis(600), CancellationToken::new());
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let c = h.client.within(budget.clone());
            tokio::spawn(async move { c.get("app1", &format!("c{i}")).await })
        })
        .collect();
    let mut errors = HashSet::new();
    for t in tasks {
        errors.insert(t.await.unwrap().unwrap_err().to_string());
    }
    assert_eq!(errors.len(), 1, "one shared failure: {errors:?}");
    let shared = errors.into_iter().next().unwrap();
    assert!(
        shared.starts_with("get access token: gave up after "),
        "{shared}"
    );
    // The requests made are exactly the attempts of the one shared cycle.
    let attempts: usize = shared
        .trim_start_matches("get access token: gave up after ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(h.fake.token_requests.load(Ordering::SeqCst), attempts);
    assert!(attempts >= 2, "retried within the budget: {shared}");
    assert_eq!(h.fake.api_calls("GET", "/connectors/"), 0);

    // Later callers, whatever their budget, fail at once with the remembered failure.
    let later = h.client.get("app1", "c1").await.unwrap_err();
    assert!(
        matches!(later, ClientError::TokenFailedEarlier { .. }),
        "{later:?}"
    );
    assert_eq!(
        later.to_string(),
        format!(
            "get access token: the token request already failed: {}",
            shared.trim_start_matches("get access token: ")
        )
    );
    assert_eq!(h.fake.token_requests.load(Ordering::SeqCst), attempts);
}

/// A refused credential is remembered as well: later calls are refused without asking again,
/// and still read as refused credentials.
#[tokio::test]
async fn a_refused_token_request_is_remembered() {
    let h = start(|f| f.token_status = Some(401)).await;
    let first = h.client.list("app1").await.unwrap_err();
    assert!(first.is_unauthenticated(), "{first:?}");
    let second = h.client.list("app1").await.unwrap_err();
    assert!(second.is_unauthenticated(), "{second:?}");
    assert!(
        second
            .to_string()
            .contains("the token request already failed"),
        "{second}"
    );
    assert_eq!(h.fake.token_requests.load(Ordering::SeqCst), 1);
}

/// A stop ends the wait for a token request under way at once, and is not remembered: the
/// next caller tries again.
#[tokio::test]
async fn a_stopped_caller_does_not_poison_the_token_cache() {
    let h = start(|f| f.token_delay_ms = 300).await;
    let stop = CancellationToken::new();
    let stopped = h
        .client
        .within(CallBudget::new(Duration::from_secs(60), stop.clone()));
    let waiting = tokio::spawn(async move { stopped.get("app1", "c1").await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.cancel();
    let err = waiting.await.unwrap().unwrap_err();
    assert!(err.is_interrupted(), "{err:?}");
    h.client.get("app1", "c1").await.unwrap().unwrap();
}

#[tokio::test]
async fn short_lived_tokens_are_renewed_before_expiry() {
    let h = start(|f| f.token_ttl = 1).await;
    h.client.get("app1", "c1").await.unwrap();
    h.client.get("app1", "c1").await.unwrap();
    assert_eq!(h.fake.token_requests.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(800)).await; // past 3/4 of the lifetime
    h.client.get("app1", "c1").await.unwrap();
    assert_eq!(h.fake.token_requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn renews_once_after_401() {
    let h = start(|_| {}).await;
    h.client.get("app1", "c1").await.unwrap();
    script(&h, &[Scripted::RevokeTokens]);
    let c = h.client.get("app1", "c1").await.unwrap().unwrap();
    assert_eq!(c.id, "c1");
    assert_eq!(h.fake.token_requests.load(Ordering::SeqCst), 2);
    assert_eq!(h.fake.api_calls("GET", "/connectors/c1"), 3);
}

#[tokio::test]
async fn persistent_401_is_unauthenticated_in_c1_terms() {
    let h = start(|f| f.reject_all_tokens = true).await;
    let err = h.client.get("app1", "c1").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Unauthenticated { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert_eq!(
        text,
        "read connector: C1 rejected the credentials: invalid or expired token"
    );
    assert_eq!(
        h.fake.token_requests.load(Ordering::SeqCst),
        2,
        "one renewal only"
    );
    for tok in h.fake.issued.lock().unwrap().iter() {
        assert!(!text.contains(tok.as_str()));
    }
}

#[tokio::test]
async fn token_endpoint_rejection_is_unauthenticated() {
    let h = start(|_| {}).await;
    // A client whose key does not match the registered public key.
    let cfg = config(
        h.addr,
        Credentials::ClientCredentials {
            client_id: CLIENT_ID.to_string(),
            key: SigningKey::from_dalek(ed25519_dalek::SigningKey::from_bytes(&[1u8; 32])),
        },
    );
    let err = ConnectorClient::new(cfg)
        .unwrap()
        .list("app1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Unauthenticated { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("invalid client assertion"),
        "{err}"
    );
}

#[tokio::test]
async fn access_token_auth_sends_the_token_and_never_mints() {
    let h = start(|_| {}).await;
    h.fake.valid.lock().unwrap().insert("ready-token".into());
    let cfg = config(
        h.addr,
        Credentials::AccessToken(SecretString::new("ready-token")),
    );
    let c = ConnectorClient::new(cfg).unwrap();
    c.get("app1", "c1").await.unwrap().unwrap();
    h.fake.valid.lock().unwrap().clear();
    let err = c.get("app1", "c1").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Unauthenticated { .. }),
        "{err:?}"
    );
    assert_eq!(h.fake.token_requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let h = start(|_| {}).await;
    script(&h, &[Scripted::RetryAfter(429, "1")]);
    let t0 = Instant::now();
    h.client.get("app1", "c1").await.unwrap().unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(h.fake.api_calls("GET", "/connectors/c1"), 2);
}

#[tokio::test]
async fn create_is_retried_after_429() {
    let h = start(|_| {}).await;
    script(&h, &[Scripted::RetryAfter(429, "0")]);
    let req = CreateConfigured {
        catalog_id: "cat".into(),
        user_ids: None,
        settings: settings(),
        description: None,
    };
    let c = h.client.create_configured("app1", &req).await.unwrap();
    assert_eq!(c.id, "new1");
    assert_eq!(h.fake.api_calls("POST", "/connectors/create"), 2);
}

#[tokio::test]
async fn retries_503_then_succeeds() {
    let h = start(|_| {}).await;
    script(&h, &[Scripted::Status(503), Scripted::Status(502)]);
    h.client.get("app1", "c1").await.unwrap().unwrap();
    assert_eq!(h.fake.api_calls("GET", "/connectors/c1"), 3);
    script(&h, &[Scripted::Status(504)]);
    h.client.delete("app1", "c1").await.unwrap();
    assert_eq!(h.fake.api_calls("DELETE", "/connectors/c1"), 2);
    script(&h, &[Scripted::Status(503)]);
    h.client
        .update_config("app1", "c1", &settings())
        .await
        .unwrap();
    assert_eq!(h.fake.api_calls("POST", "/connectors/c1"), 2);
}

#[tokio::test]
async fn gives_up_with_a_summary() {
    let h = start(|_| {}).await;
    script(&h, &[Scripted::Status(503); 10_000]);
    let err = h.client.get("app1", "c1").await.unwrap_err();
    let ClientError::GaveUp { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "read connector: gave up after {attempts} attempts over"
        )),
        "{text}"
    );
    assert!(
        text.contains("503") && text.contains("unavailable"),
        "{text}"
    );
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        h.fake.api_calls("GET", "/connectors/c1"),
        *attempts as usize
    );
}

#[tokio::test]
async fn create_is_not_retried_on_503() {
    let h = start(|_| {}).await;
    script(&h, &[Scripted::Status(503)]);
    let req = CreateConfigured {
        catalog_id: "cat".into(),
        user_ids: Some(vec!["u1".into()]),
        settings: settings(),
        description: None,
    };
    let err = h.client.create_configured("app1", &req).await.unwrap_err();
    assert!(matches!(err, ClientError::Ambiguous { .. }), "{err:?}");
    assert!(err.is_ambiguous());
    assert_eq!(h.fake.api_calls("POST", "/connectors/create"), 1);

    script(&h, &[Scripted::Status(502)]);
    let d = CreateDelegated {
        catalog_id: "cat".into(),
        display_name: "Twingate".into(),
        user_ids: None,
        description: None,
    };
    let err = h.client.create_delegated("app1", &d).await.unwrap_err();
    assert!(err.is_ambiguous(), "{err:?}");
}

#[tokio::test]
async fn create_against_a_closed_port_is_retried_not_ambiguous() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let cfg = config(addr, Credentials::AccessToken(SecretString::new("t")));
    let req = CreateConfigured {
        catalog_id: "cat".into(),
        user_ids: None,
        settings: settings(),
        description: None,
    };
    let client = ConnectorClient::new(cfg).unwrap();
    let err = client.create_configured("app1", &req).await.unwrap_err();
    assert!(!err.is_ambiguous(), "{err:?}");
    assert!(err.is_out_of_time(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("gave up after"), "{text}");
    assert!(text.contains("could not reach C1"), "{text}");
    // Unreachable for a whole budget: later calls (with a ready token, no token request to
    // share) fail at once with that failure instead of each retrying for a budget of its own.
    let later = client.get("app1", "c1").await.unwrap_err();
    assert!(
        matches!(later, ClientError::UnreachableEarlier { .. }),
        "{later:?}"
    );
    assert_eq!(
        later.to_string(),
        format!(
            "read connector: not sent: C1 was already unreachable for a whole call: {}",
            text.trim_start_matches("create connector: ")
        )
    );
}

#[tokio::test]
async fn not_found_and_deleted() {
    let h = start(|_| {}).await;
    assert_eq!(h.client.get("app1", "missing").await.unwrap(), None);
    h.client.delete("app1", "missing").await.unwrap();
    let c = h.client.get("app1", "deleting").await.unwrap().unwrap();
    assert_eq!(c.deleted_at.as_deref(), Some("2026-11-24T10:00:00Z"));
    assert_eq!(c.created_at.as_deref(), Some("2026-11-23T21:54:00Z"));
    assert_eq!(c.sync_status(), c1_client::SyncStatus::Running);
    assert_eq!(
        c.settings
            .unwrap()
            .0
            .get("twingate_domain")
            .map(String::as_str),
        Some("acme")
    );
}

/// An id that is empty, `.` or `..` would address another endpoint (`apps/app1/connectors/..`
/// is the app): every operation refuses it before anything is sent, the token included.
#[tokio::test]
async fn ids_that_address_another_path_are_refused_before_sending() {
    let h = start(|_| {}).await;
    let c = &h.client;
    let unsafe_path = |r: Result<(), ClientError>| {
        assert!(
            matches!(r, Err(ClientError::UnsafePathSegment { .. })),
            "{r:?}"
        )
    };
    let req = CreateDelegated {
        catalog_id: Twingate::CATALOG_ID.into(),
        display_name: "Twingate".into(),
        user_ids: None,
        description: None,
    };
    for bad in ["", ".", ".."] {
        unsafe_path(c.get("app1", bad).await.map(drop));
        unsafe_path(c.get(bad, "c1").await.map(drop));
        unsafe_path(c.list(bad).await.map(drop));
        unsafe_path(c.delete("app1", bad).await);
        unsafe_path(c.update_config("app1", bad, &settings()).await.map(drop));
        unsafe_path(c.update_owners(bad, "c1", "Twingate", &[]).await.map(drop));
        unsafe_path(c.create_delegated(bad, &req).await.map(drop));
    }
    assert_eq!(h.fake.seen.lock().unwrap().len(), 0);
    assert_eq!(h.fake.token_requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn list_follows_pages() {
    let h = start(|_| {}).await;
    let all = h.client.list("app1").await.unwrap();
    let ids: Vec<_> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2", "c3", "c4", "c5"]);
    let seen = h.fake.seen.lock().unwrap();
    let queries: Vec<_> = seen.iter().map(|(_, p, _)| p.clone()).collect();
    assert_eq!(queries.len(), 3);
    assert!(queries[1].contains("page_token=p%2F2"), "{queries:?}");
    assert!(queries[2].contains("page_token=p%3D3"), "{queries:?}");
    assert!(queries.iter().all(|q| q.contains("page_size=")));
}

#[tokio::test]
async fn errors_and_bodies() {
    let h = start(|_| {}).await;
    let req = CreateConfigured {
        catalog_id: "bad".into(),
        user_ids: None,
        settings: settings(),
        description: None,
    };
    match h.client.create_configured("app1", &req).await.unwrap_err() {
        ClientError::Api {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(
                (status, code, message.as_str()),
                (400, Some(3), "unknown catalog")
            );
        }
        other => panic!("{other:?}"),
    }
    let err = h.client.get("app1", "garbled").await.unwrap_err();
    assert!(matches!(err, ClientError::Decode { .. }), "{err:?}");

    h.client
        .update_config("app 1", "c/1", &settings())
        .await
        .unwrap();
    h.client
        .update_owners("app1", "c2", "Twingate", &["u1".into(), "u2".into()])
        .await
        .unwrap();
    h.client.delete("app1", "c3").await.unwrap();
    let seen = h.fake.seen.lock().unwrap();
    let find = |m: &str, p: &str| {
        seen.iter()
            .find(|(mm, pp, _)| mm == m && pp == p)
            .unwrap_or_else(|| {
                panic!(
                    "no {m} {p} in {seen:?}",
                    seen = seen.iter().map(|s| &s.1).collect::<Vec<_>>()
                )
            })
            .2
            .clone()
    };
    assert_eq!(
        find("POST", "/api/v1/apps/app1/connectors/create"),
        json!({"catalogId": "bad", "config": settings().to_envelope()})
    );
    assert_eq!(
        find("POST", "/api/v1/apps/app%201/connectors/c%2F1"),
        json!({"connector": {"id": "c/1", "appId": "app 1", "config": settings().to_envelope()},
               "updateMask": "config"})
    );
    assert_eq!(
        find("POST", "/api/v1/apps/app1/connectors/c2/delegated"),
        json!({"connector": {"id": "c2", "appId": "app1", "displayName": "Twingate", "userIds": ["u1", "u2"]},
               "updateMask": "displayName,userIds"})
    );
    assert_eq!(find("DELETE", "/api/v1/apps/app1/connectors/c3"), json!({}));
}

/// A `MakeWriter` into a shared buffer.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let buf = Buf::default();
    let sub = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(buf.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(sub);
    // The other tests of this binary run at the same time, without a subscriber. While only one
    // dispatcher exists, tracing-core caches the interest of a callsite from the dispatcher of
    // the thread that hits it first: a callsite another test hits first is cached "never" and
    // the events asserted below are lost. With a second dispatcher alive, every callsite's
    // interest is asked of all of them; the rebuild (after the first hits already under way are
    // over) fixes what was cached before.
    let _second = tracing::Dispatch::new(tracing_subscriber::registry());
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    tracing::callsite::rebuild_interest_cache();

    let h = start(|_| {}).await;
    script(&h, &[Scripted::Status(503), Scripted::RevokeTokens]);
    let req = CreateConfigured {
        catalog_id: "cat".into(),
        user_ids: None,
        settings: settings(),
        description: None,
    };
    let _ = h.client.create_configured("app1", &req).await; // 503: ambiguous
    h.client.create_configured("app1", &req).await.unwrap(); // 401, renew, retry
    h.client
        .update_config("app1", "c1", &settings())
        .await
        .unwrap();
    let err = h.client.get("app1", "missing").await.unwrap();
    assert!(err.is_none());
    tracing::info!(settings = ?settings(), "debug of settings");

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("C1 API call"), "{logs}");
    assert!(
        logs.contains("status=503") && logs.contains("attempt=1"),
        "{logs}"
    );
    assert!(logs.contains("duration_ms="), "{logs}");
    assert!(
        logs.contains("path=/api/v1/apps/app1/connectors/create"),
        "{logs}"
    );
    let payload = &h.secret[c1_contract::client_secret::PREFIX.len()..];
    let mut forbidden = vec![SETTING_SECRET.to_string(), payload.to_string()];
    forbidden.extend(h.fake.issued.lock().unwrap().iter().cloned());
    for f in &forbidden {
        assert!(!logs.contains(f.as_str()), "leaked {f} in logs:\n{logs}");
    }
    assert!(!logs.to_ascii_lowercase().contains("bearer "), "{logs}");
    assert!(!logs.contains("client_assertion="), "{logs}");
}
