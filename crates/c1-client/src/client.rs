//! The HTTP client: request building, bearer tokens (single-flight), retries and call logging.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use c1_contract::token_endpoint;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use url::Url;

use crate::auth::{audience_for, mint_assertion, CachedToken};
use crate::config::{is_loopback, Auth, ClientConfig, ConfigError, SecretString};
use crate::error::ClientError;
use crate::model::{
    Connector, ConnectorSettings, CreateConfigured, CreateDelegated, WireCreateDelegatedRequest,
    WireCreateRequest, WireError, WireListResponse, WireToken, WireViewResponse,
};
use crate::retry::{decide, parse_retry_after, AttemptFailure, Decision, Idempotency, RetryPolicy};

/// Page size asked for when listing.
const PAGE_SIZE: &str = "100";
/// Safety net against a server that keeps answering with next-page tokens.
const MAX_PAGES: usize = 10_000;
/// Token lifetime assumed when the token endpoint does not say.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

/// The client for C1 connectors. Cheap to clone; clones share one token cache.
#[derive(Clone)]
pub struct ConnectorClient {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    http: reqwest::Client,
    base_url: Url,
    retry: RetryPolicy,
    auth: Arc<AuthState>,
}

struct AuthState {
    auth: Auth,
    token_url: Url,
    audience: String,
    /// Held across a token request, so concurrent callers wait for one refresh.
    cache: tokio::sync::Mutex<Option<CachedToken>>,
    generation: AtomicU64,
}

impl fmt::Debug for ConnectorClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

enum Body<'a> {
    None,
    Json(&'a Value),
    TokenForm { client_id: &'a str },
}

impl ConnectorClient {
    /// Builds the client. Fails when the base URL is not https (or http on loopback) or the
    /// HTTP/TLS stack cannot be set up. TLS uses the system trust store, or the certificates
    /// in `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (rustls-native-certs).
    pub fn new(cfg: ClientConfig) -> Result<Self, ClientError> {
        match cfg.base_url.scheme() {
            "https" => {}
            "http" if is_loopback(&cfg.base_url) => {}
            _ => {
                return Err(ClientError::Config(ConfigError::InvalidAttribute {
                    attribute: "server_url",
                    env: crate::config::ENV_SERVER_URL,
                    message: format!(
                        "`{}`: only https:// is accepted (http:// only for loopback hosts)",
                        cfg.base_url
                    ),
                }))
            }
        }
        if cfg.base_url.cannot_be_a_base() {
            return Err(ClientError::Setup(format!(
                "`{}` cannot be used as a base URL",
                cfg.base_url
            )));
        }
        if cfg.base_url.scheme() == "https" {
            check_custom_ca_env()?;
        }
        let http = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ClientError::Setup(error_chain(&e)))?;
        let token_path: Vec<&str> = token_endpoint::PATH
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let token_url = join(&cfg.base_url, &token_path);
        let audience = audience_for(&cfg.base_url);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: cfg.base_url,
                retry: cfg.retry,
                auth: Arc::new(AuthState {
                    auth: cfg.auth,
                    token_url,
                    audience,
                    cache: tokio::sync::Mutex::new(None),
                    generation: AtomicU64::new(0),
                }),
            }),
        })
    }

    /// The same client (sharing the token cache) with another retry policy; for tests.
    pub fn with_retry_policy(&self, retry: RetryPolicy) -> Self {
        let mut inner = (*self.inner).clone();
        inner.retry = retry;
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The tenant base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// `POST /api/v1/apps/{app}/connectors/create` with the settings envelope.
    pub async fn create_configured(
        &self,
        app_id: &str,
        req: &CreateConfigured,
    ) -> Result<Connector, ClientError> {
        let op = "create connector";
        let body = serde_json::to_value(WireCreateRequest {
            catalog_id: &req.catalog_id,
            user_ids: req.user_ids.as_deref(),
            config: req.settings.to_envelope(),
            description: req.description.as_deref(),
        })
        .map_err(|e| decode_err(op, &e))?;
        let url = self.api_url(&["apps", app_id, "connectors", "create"]);
        self.post_for_connector(op, url, &body, Idempotency::Create)
            .await
    }

    /// `POST /api/v1/apps/{app}/connectors` (delegated: no credentials yet).
    pub async fn create_delegated(
        &self,
        app_id: &str,
        req: &CreateDelegated,
    ) -> Result<Connector, ClientError> {
        let op = "create delegated connector";
        let body = serde_json::to_value(WireCreateDelegatedRequest {
            catalog_id: &req.catalog_id,
            display_name: &req.display_name,
            user_ids: req.user_ids.as_deref(),
            description: req.description.as_deref(),
        })
        .map_err(|e| decode_err(op, &e))?;
        let url = self.api_url(&["apps", app_id, "connectors"]);
        self.post_for_connector(op, url, &body, Idempotency::Create)
            .await
    }

    /// `GET /api/v1/apps/{app}/connectors/{id}`. None on 404; a connector with `deleted_at`
    /// set is returned as is.
    pub async fn get(&self, app_id: &str, id: &str) -> Result<Option<Connector>, ClientError> {
        let op = "read connector";
        let url = self.api_url(&["apps", app_id, "connectors", id]);
        match self
            .call_json::<WireViewResponse>(
                op,
                Method::GET,
                url,
                Body::None,
                Idempotency::Idempotent,
            )
            .await
        {
            Ok(resp) => view_connector(op, resp).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /api/v1/apps/{app}/connectors`, following `nextPageToken` to the end.
    pub async fn list(&self, app_id: &str) -> Result<Vec<Connector>, ClientError> {
        let op = "list connectors";
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut url = self.api_url(&["apps", app_id, "connectors"]);
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("page_size", PAGE_SIZE);
                if let Some(t) = &token {
                    q.append_pair("page_token", t);
                }
            }
            let page: WireListResponse = self
                .call_json(op, Method::GET, url, Body::None, Idempotency::Idempotent)
                .await?;
            out.extend(
                page.list
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|v| v.connector)
                    .map(|c| c.into_connector()),
            );
            match page.next_page_token.filter(|t| !t.is_empty()) {
                None => return Ok(out),
                Some(t) => {
                    if !seen.insert(t.clone()) {
                        return Err(ClientError::Decode {
                            operation: op.to_string(),
                            message: "C1 repeated a page token while listing".to_string(),
                        });
                    }
                    token = Some(t);
                }
            }
        }
        Err(ClientError::Decode {
            operation: op.to_string(),
            message: format!("more than {MAX_PAGES} pages of connectors"),
        })
    }

    /// `POST /api/v1/apps/{app}/connectors/{id}` with `updateMask: "config"`.
    pub async fn update_config(
        &self,
        app_id: &str,
        id: &str,
        settings: &ConnectorSettings,
    ) -> Result<Connector, ClientError> {
        let op = "update connector settings";
        let body = json!({
            "connector": { "id": id, "appId": app_id, "config": settings.to_envelope() },
            "updateMask": "config",
        });
        let url = self.api_url(&["apps", app_id, "connectors", id]);
        self.post_for_connector(op, url, &body, Idempotency::Idempotent)
            .await
    }

    /// `POST /api/v1/apps/{app}/connectors/{id}/delegated` with
    /// `updateMask: "displayName,userIds"`.
    pub async fn update_owners(
        &self,
        app_id: &str,
        id: &str,
        display_name: &str,
        user_ids: &[String],
    ) -> Result<Connector, ClientError> {
        let op = "update connector owners";
        let body = json!({
            "connector": { "id": id, "appId": app_id, "displayName": display_name, "userIds": user_ids },
            "updateMask": "displayName,userIds",
        });
        let url = self.api_url(&["apps", app_id, "connectors", id, "delegated"]);
        self.post_for_connector(op, url, &body, Idempotency::Idempotent)
            .await
    }

    /// `DELETE /api/v1/apps/{app}/connectors/{id}` with body `{}`. Ok on 404.
    pub async fn delete(&self, app_id: &str, id: &str) -> Result<(), ClientError> {
        let op = "delete connector";
        let url = self.api_url(&["apps", app_id, "connectors", id]);
        let body = json!({});
        match self
            .call(
                op,
                Method::DELETE,
                url,
                Body::Json(&body),
                Idempotency::Idempotent,
                true,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    // ---- internals ------------------------------------------------------------------------

    fn api_url(&self, segs: &[&str]) -> Url {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segs);
        join(&self.inner.base_url, &all)
    }

    /// POSTs `body` and reads the connector out of the `connectorView` answer.
    async fn post_for_connector(
        &self,
        op: &str,
        url: Url,
        body: &Value,
        kind: Idempotency,
    ) -> Result<Connector, ClientError> {
        let resp: WireViewResponse = self
            .call_json(op, Method::POST, url, Body::Json(body), kind)
            .await?;
        view_connector(op, resp)
    }

    async fn call_json<T: DeserializeOwned>(
        &self,
        op: &str,
        method: Method,
        url: Url,
        body: Body<'_>,
        kind: Idempotency,
    ) -> Result<T, ClientError> {
        let bytes = self.call(op, method, url, body, kind, true).await?;
        decode(op, &bytes)
    }

    /// A bearer token: the configured one, or the cached one (fetched once for all concurrent
    /// callers when missing or close to expiry). Returns the token and its generation.
    async fn token(&self) -> Result<(SecretString, u64), ClientError> {
        let state = &self.inner.auth;
        let client_id = match &state.auth {
            Auth::AccessToken(t) => return Ok((t.clone(), 0)),
            Auth::ClientCredentials { client_id, .. } => client_id,
        };
        let mut cache = state.cache.lock().await;
        if let Some(t) = cache.as_ref().filter(|t| t.is_fresh()) {
            return Ok((t.token.clone(), t.generation));
        }
        let op = "get access token";
        let bytes = Box::pin(self.call(
            op,
            Method::POST,
            state.token_url.clone(),
            Body::TokenForm { client_id },
            Idempotency::Idempotent,
            false,
        ))
        .await?;
        let tok: WireToken = decode(op, &bytes)?;
        if tok.access_token.is_empty() {
            return Err(ClientError::Decode {
                operation: op.to_string(),
                message: "the token endpoint answered without an access_token".to_string(),
            });
        }
        if let Some(tt) = tok.token_type.as_deref() {
            if !tt.eq_ignore_ascii_case("bearer") {
                tracing::warn!(
                    token_type = tt,
                    "C1 token endpoint answered an unexpected token_type"
                );
            }
        }
        let ttl = tok
            .expires_in
            .as_ref()
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_TTL);
        let generation = state.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let cached = CachedToken::new(SecretString::new(tok.access_token), ttl, generation);
        tracing::debug!(
            expires_in_secs = ttl.as_secs(),
            "obtained a C1 access token"
        );
        let out = (cached.token.clone(), generation);
        *cache = Some(cached);
        Ok(out)
    }

    /// Drops the cached token if it is still the one a 401 was seen with.
    async fn invalidate(&self, generation: u64) {
        let mut cache = self.inner.auth.cache.lock().await;
        if cache.as_ref().is_some_and(|t| t.generation == generation) {
            *cache = None;
        }
    }

    /// Sends one logical request with retries; returns the body of a 2xx answer.
    async fn call(
        &self,
        op: &str,
        method: Method,
        url: Url,
        body: Body<'_>,
        kind: Idempotency,
        authed: bool,
    ) -> Result<bytes_like::Bytes, ClientError> {
        let policy = &self.inner.retry;
        let start = Instant::now();
        let path = url.path().to_string();
        let mut attempt: u32 = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            let bearer = if authed {
                Some(self.token().await?)
            } else {
                None
            };
            let mut rb = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .timeout(policy.attempt_timeout);
            if let Some((tok, _)) = &bearer {
                let mut v =
                    reqwest::header::HeaderValue::from_str(&format!("Bearer {}", tok.expose()))
                        .map_err(|_| {
                            ClientError::Config(ConfigError::InvalidAttribute {
                                attribute: "access token",
                                env: crate::config::ENV_ACCESS_TOKEN,
                                message:
                                    "the token contains characters not allowed in an HTTP header"
                                        .to_string(),
                            })
                        })?;
                v.set_sensitive(true);
                rb = rb.header(AUTHORIZATION, v);
            }
            rb = match &body {
                Body::None => rb,
                Body::Json(v) => rb.json(v),
                Body::TokenForm { client_id } => {
                    let Auth::ClientCredentials { key, .. } = &self.inner.auth.auth else {
                        unreachable!("token form only with client credentials")
                    };
                    let assertion = mint_assertion(
                        client_id,
                        &self.inner.auth.audience,
                        key,
                        SystemTime::now(),
                    );
                    rb.form(&[
                        ("grant_type", token_endpoint::GRANT_CLIENT_CREDENTIALS),
                        ("client_id", client_id),
                        (
                            "client_assertion_type",
                            token_endpoint::ASSERTION_TYPE_JWT_BEARER,
                        ),
                        ("client_assertion", assertion.as_str()),
                    ])
                }
            };
            let t0 = Instant::now();
            let sent = rb.send().await;
            let (failure, err, retry_after) = match sent {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let read = resp.bytes().await;
                    let duration_ms = t0.elapsed().as_millis() as u64;
                    tracing::debug!(
                        method = %method,
                        path = %path,
                        status = status.as_u16(),
                        attempt,
                        duration_ms,
                        "C1 API call"
                    );
                    let bytes = match read {
                        Ok(b) => b,
                        Err(e) => {
                            let err = self.transport_err(op, &url, &e);
                            let decision = decide(kind, AttemptFailure::AfterSend);
                            self.after_failure(
                                op,
                                &path,
                                decision,
                                attempt,
                                start,
                                None,
                                err,
                                "reading the answer failed",
                            )
                            .await?;
                            continue;
                        }
                    };
                    if status.is_success() {
                        return Ok(bytes_like::Bytes(bytes.to_vec()));
                    }
                    if status == StatusCode::UNAUTHORIZED {
                        if let (Some((_, generation)), false) = (&bearer, renewed) {
                            if matches!(self.inner.auth.auth, Auth::ClientCredentials { .. }) {
                                renewed = true;
                                tracing::info!(path = %path, attempt, "C1 answered 401; renewing the access token once");
                                self.invalidate(*generation).await;
                                continue;
                            }
                        }
                        return Err(ClientError::Unauthenticated {
                            operation: op.to_string(),
                            message: api_message(status, &headers, &bytes),
                        });
                    }
                    if !authed
                        && (status == StatusCode::BAD_REQUEST || status == StatusCode::FORBIDDEN)
                    {
                        return Err(ClientError::Unauthenticated {
                            operation: op.to_string(),
                            message: api_message(status, &headers, &bytes),
                        });
                    }
                    let err = api_error(op, status, &headers, &bytes);
                    let retry_after = headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    (AttemptFailure::Status(status.as_u16()), err, retry_after)
                }
                Err(e) => {
                    let duration_ms = t0.elapsed().as_millis() as u64;
                    let failure = if is_certificate_error(&e) {
                        AttemptFailure::Certificate
                    } else if e.is_connect() {
                        AttemptFailure::Connect
                    } else {
                        AttemptFailure::AfterSend
                    };
                    tracing::debug!(
                        method = %method,
                        path = %path,
                        attempt,
                        duration_ms,
                        error = %error_chain(&e),
                        "C1 API call failed"
                    );
                    (failure, self.transport_err(op, &url, &e), None)
                }
            };
            let reason = match failure {
                AttemptFailure::Connect => "connection failed".to_string(),
                AttemptFailure::AfterSend => "connection broken or timed out".to_string(),
                AttemptFailure::Certificate => "certificate not trusted".to_string(),
                AttemptFailure::Status(s) => format!("HTTP {s}"),
            };
            let decision = decide(kind, failure);
            self.after_failure(
                op,
                &path,
                decision,
                attempt,
                start,
                retry_after,
                err,
                &reason,
            )
            .await?;
        }
    }

    /// Applies a retry decision: Ok(()) after sleeping when the caller should try again.
    #[allow(clippy::too_many_arguments)]
    async fn after_failure(
        &self,
        op: &str,
        path: &str,
        decision: Decision,
        attempt: u32,
        start: Instant,
        retry_after: Option<Duration>,
        err: ClientError,
        reason: &str,
    ) -> Result<(), ClientError> {
        let policy = &self.inner.retry;
        match decision {
            Decision::Fail => Err(err),
            Decision::Ambiguous => Err(ClientError::Ambiguous {
                operation: op.to_string(),
                message: format!("{reason} after the request was sent: {}", inner_text(&err)),
            }),
            Decision::Retry => {
                let wait = retry_after.unwrap_or_else(|| policy.backoff(attempt));
                let elapsed = start.elapsed();
                if attempt >= policy.max_attempts || elapsed + wait > policy.deadline {
                    return Err(ClientError::GaveUp {
                        operation: op.to_string(),
                        attempts: attempt,
                        elapsed_secs: elapsed.as_secs_f64(),
                        last: Box::new(err),
                    });
                }
                tracing::warn!(
                    path = %path,
                    attempt,
                    reason,
                    wait_ms = wait.as_millis() as u64,
                    "C1 call failed transiently; retrying"
                );
                tokio::time::sleep(wait).await;
                Ok(())
            }
        }
    }

    fn transport_err(&self, op: &str, url: &Url, e: &reqwest::Error) -> ClientError {
        let mut shown = url.clone();
        shown.set_query(None);
        let mut message = error_chain(e);
        if is_certificate_error(e) {
            message.push_str(
                ". The server's TLS certificate is not trusted: if your organisation uses its own \
                 certificate authority, point SSL_CERT_FILE (a PEM bundle) or SSL_CERT_DIR at it",
            );
        }
        ClientError::Transport {
            operation: op.to_string(),
            url: shown.to_string(),
            message,
        }
    }
}

mod bytes_like {
    //! A plain owned body buffer (keeps `bytes` out of the public surface).
    pub struct Bytes(pub Vec<u8>);
    impl std::ops::Deref for Bytes {
        type Target = [u8];
        fn deref(&self) -> &[u8] {
            &self.0
        }
    }
}

/// reqwest (rustls-native-certs) uses only the certificates named by `SSL_CERT_FILE` /
/// `SSL_CERT_DIR` when either is set; if none load, every TLS handshake would fail with an
/// obscure "unknown issuer". Say what is wrong instead.
fn check_custom_ca_env() -> Result<(), ClientError> {
    let named: Vec<String> = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .filter_map(|k| std::env::var_os(k).map(|v| format!("{k}={}", v.to_string_lossy())))
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    let loaded = rustls_native_certs::load_native_certs();
    let errors: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
    if loaded.certs.is_empty() {
        return Err(ClientError::Setup(format!(
            "no CA certificates could be loaded from {} (these replace the system trust store; \
             point them at PEM files with your CA certificates or unset them){}",
            named.join(" and "),
            if errors.is_empty() {
                String::new()
            } else {
                format!(": {}", errors.join("; "))
            }
        )));
    }
    if !errors.is_empty() {
        tracing::warn!(
            sources = %named.join(" "),
            loaded = loaded.certs.len(),
            errors = %errors.join("; "),
            "some CA certificates could not be loaded"
        );
    }
    Ok(())
}

fn join(base: &Url, segs: &[&str]) -> Url {
    let mut u = base.clone();
    u.set_query(None);
    u.set_fragment(None);
    let prefix: Vec<String> = base
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    if let Ok(mut p) = u.path_segments_mut() {
        p.clear();
        p.extend(prefix.iter().map(String::as_str));
        p.extend(segs);
    }
    u
}

fn view_connector(op: &str, resp: WireViewResponse) -> Result<Connector, ClientError> {
    resp.connector_view
        .and_then(|v| v.connector)
        .map(|c| c.into_connector())
        .ok_or_else(|| ClientError::Decode {
            operation: op.to_string(),
            message: "the answer has no connectorView.connector".to_string(),
        })
}

fn decode<T: DeserializeOwned>(op: &str, bytes: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(bytes).map_err(|e| decode_err(op, &e))
}

/// A serde error without the offending value (it could be a setting).
fn decode_err(op: &str, e: &serde_json::Error) -> ClientError {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    ClientError::Decode {
        operation: op.to_string(),
        message: format!("{kind} at line {} column {}", e.line(), e.column()),
    }
}

fn api_message(status: StatusCode, headers: &HeaderMap, bytes: &[u8]) -> String {
    parse_error_body(headers, bytes)
        .and_then(WireError::text)
        .unwrap_or_else(|| {
            format!(
                "{} (the answer was not a C1 error body; is a proxy in the way?)",
                status.canonical_reason().unwrap_or("error")
            )
        })
}

fn parse_error_body(headers: &HeaderMap, bytes: &[u8]) -> Option<WireError> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.contains("json"));
    if !is_json {
        return None;
    }
    serde_json::from_slice::<WireError>(bytes).ok()
}

fn api_error(op: &str, status: StatusCode, headers: &HeaderMap, bytes: &[u8]) -> ClientError {
    let parsed = parse_error_body(headers, bytes);
    let code = parsed.as_ref().and_then(|e| {
        e.code.as_ref().and_then(|c| {
            c.as_i64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        })
    });
    ClientError::Api {
        operation: op.to_string(),
        status: status.as_u16(),
        code,
        message: api_message(status, headers, bytes),
    }
}

/// The error text without its operation prefix.
fn inner_text(err: &ClientError) -> String {
    match err {
        ClientError::Api {
            status, message, ..
        } => format!("HTTP {status}: {message}"),
        ClientError::Transport { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// An error and its sources, joined: reqwest hides the useful part (e.g. "connection refused").
/// True when the TLS handshake rejected the server's certificate (unknown issuer, expired,
/// wrong name, ...): a configuration problem, not a transient one.
fn is_certificate_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(rustls::Error::InvalidCertificate(_)) = err.downcast_ref::<rustls::Error>() {
            return true;
        }
        // io::Error's `source` skips the error it wraps (tokio-rustls wraps rustls errors, and
        // the connector wraps those again): step into it instead.
        next = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    false
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untrusted_certificate_is_recognised_through_the_connector_wrapping() {
        // The shape reqwest produces: io::Error(Other) around io::Error(InvalidData) around rustls.
        let rustls_err = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let wrapped = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls_err,
        ));
        assert!(is_certificate_error(&wrapped));
        let other = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(!is_certificate_error(&other));
        assert_eq!(
            crate::retry::decide(
                crate::retry::Idempotency::Idempotent,
                AttemptFailure::Certificate
            ),
            Decision::Fail,
            "retrying cannot fix a certificate"
        );
    }
}
