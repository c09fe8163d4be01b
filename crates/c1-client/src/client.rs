//! `ConnectorClient`: the C1 connector operations (URLs, bodies, answers), each one logical call
//! made of the token source, the send-once step and the retry loop.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use url::Url;

use crate::budget::CallBudget;
use crate::config::{check_base_url, endpoint, ClientConfig};
use crate::error::ClientError;
use crate::model::{
    decode, decode_error, Connector, ConnectorCredential, ConnectorSettings, CreateConfigured,
    CreateDelegated, WireCreateDelegatedRequest, WireCreateRequest, WireCredentialResponse,
    WireListResponse, WireRotateCredentialRequest, WireViewResponse,
};
use crate::retry::{self, Call, Failure, Idempotency, RetryPolicy};
use crate::send::{Outcome, Payload, Request, Sender};
use crate::token::TokenSource;

/// Page size asked for when listing.
const PAGE_SIZE: &str = "100";
/// Safety net against a server that keeps answering with next-page tokens.
const MAX_PAGES: usize = 10_000;

/// The client for C1 connectors. Cheap to clone; clones share one token cache.
///
/// Each call runs within a time budget: the one given with [`within`](Self::within) (shared by
/// every call of that clone), else the policy's `default_budget` from the call's start.
#[derive(Clone)]
pub struct ConnectorClient {
    inner: Arc<Inner>,
    budget: Option<CallBudget>,
}

struct Inner {
    base_url: Url,
    retry: RetryPolicy,
    sender: Sender,
    tokens: TokenSource,
    /// A call that gave up without ever connecting: later calls fail at once with it.
    unreachable: std::sync::Mutex<Option<ClientError>>,
}

impl fmt::Debug for ConnectorClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("retry", &self.inner.retry)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl ConnectorClient {
    /// Builds the client. Fails when the base URL breaks [`check_base_url`], the access token
    /// cannot travel in a header, or the HTTP/TLS stack cannot be set up. TLS uses the system
    /// trust store, or the certificates in `SSL_CERT_FILE` / `SSL_CERT_DIR` when set.
    pub fn new(cfg: ClientConfig) -> Result<Self, ClientError> {
        check_base_url(&cfg.base_url).map_err(|reason| ClientError::InvalidBaseUrl {
            url: cfg.base_url.to_string(),
            reason,
        })?;
        let tls = cfg.base_url.scheme() == "https";
        let sender = Sender::new(&cfg.user_agent, tls)?;
        let tokens = TokenSource::new(cfg.credentials, &cfg.base_url)?;
        Ok(Self {
            inner: Arc::new(Inner {
                base_url: cfg.base_url,
                retry: cfg.retry,
                sender,
                tokens,
                unreachable: Default::default(),
            }),
            budget: None,
        })
    }

    /// A clone whose calls all run within `budget`: every attempt, wait and token request ends
    /// at its deadline (`GaveUp`, or `BudgetSpent` for a call it leaves no time for) or at once
    /// when it is stopped (`Interrupted`). Clones still share one token cache.
    pub fn within(&self, budget: CallBudget) -> ConnectorClient {
        ConnectorClient {
            inner: Arc::clone(&self.inner),
            budget: Some(budget),
        }
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
        .map_err(|e| decode_error(op, &e))?;
        let url = self.api_url(op, &["apps", app_id, "connectors", "create"])?;
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
        .map_err(|e| decode_error(op, &e))?;
        let url = self.api_url(op, &["apps", app_id, "connectors"])?;
        self.post_for_connector(op, url, &body, Idempotency::Create)
            .await
    }

    /// `GET /api/v1/apps/{app}/connectors/{id}`. None on 404; a connector with `deleted_at`
    /// set is returned as is.
    pub async fn get(&self, app_id: &str, id: &str) -> Result<Option<Connector>, ClientError> {
        let op = "read connector";
        let url = self.api_url(op, &["apps", app_id, "connectors", id])?;
        self.read_json::<WireViewResponse>(op, url)
            .await?
            .map(|resp| view_connector(op, resp))
            .transpose()
    }

    /// `GET /api/v1/apps/{app}/connectors`, following `nextPageToken` to the end.
    pub async fn list(&self, app_id: &str) -> Result<Vec<Connector>, ClientError> {
        let op = "list connectors";
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut url = self.api_url(op, &["apps", app_id, "connectors"])?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("page_size", PAGE_SIZE);
                if let Some(t) = &token {
                    q.append_pair("page_token", t);
                }
            }
            let page: WireListResponse = self
                .call_json(
                    op,
                    Method::GET,
                    url,
                    Payload::Empty,
                    Idempotency::Idempotent,
                )
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
        let url = self.api_url(op, &["apps", app_id, "connectors", id])?;
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
        let url = self.api_url(op, &["apps", app_id, "connectors", id, "delegated"])?;
        self.post_for_connector(op, url, &body, Idempotency::Idempotent)
            .await
    }

    /// `DELETE /api/v1/apps/{app}/connectors/{id}` with body `{}`. Ok on 404.
    pub async fn delete(&self, app_id: &str, id: &str) -> Result<(), ClientError> {
        let op = "delete connector";
        let url = self.api_url(op, &["apps", app_id, "connectors", id])?;
        self.remove(op, Method::DELETE, url).await
    }

    /// `POST /api/v1/apps/connectors/credentials` with `{appId, connectorId}`: a new connector
    /// credential; its `client_secret` is in this answer only. Sent as a create: an answer that
    /// is lost after the request was sent is an ambiguous error, never repeated here (a
    /// credential made by a lost answer has a secret nobody received: it cannot be used).
    pub async fn rotate_credential(
        &self,
        app_id: &str,
        connector_id: &str,
    ) -> Result<ConnectorCredential, ClientError> {
        let op = "rotate connector credential";
        let body = serde_json::to_value(WireRotateCredentialRequest {
            app_id,
            connector_id,
        })
        .map_err(|e| decode_error(op, &e))?;
        let url = self.api_url(op, &["apps", "connectors", "credentials"])?;
        let resp: WireCredentialResponse = self
            .call_json(
                op,
                Method::POST,
                url,
                Payload::Json(&body),
                Idempotency::Create,
            )
            .await?;
        credential_of(op, resp)
    }

    /// `GET /api/v1/apps/{app}/connectors/{connector}/credentials/{id}`. None on 404 (revoked
    /// or never there); a credential with `deleted_at` set is returned as is.
    pub async fn get_credential(
        &self,
        app_id: &str,
        connector_id: &str,
        id: &str,
    ) -> Result<Option<ConnectorCredential>, ClientError> {
        let op = "read connector credential";
        let url = self.api_url(
            op,
            &[
                "apps",
                app_id,
                "connectors",
                connector_id,
                "credentials",
                id,
            ],
        )?;
        self.read_json::<WireCredentialResponse>(op, url)
            .await?
            .map(|resp| credential_of(op, resp))
            .transpose()
    }

    /// `POST /api/v1/apps/{app}/connectors/{connector}/credentials/{id}` with body `{}`: revokes
    /// it. Ok on 404 (already revoked or gone).
    pub async fn revoke_credential(
        &self,
        app_id: &str,
        connector_id: &str,
        id: &str,
    ) -> Result<(), ClientError> {
        let op = "revoke connector credential";
        let url = self.api_url(
            op,
            &[
                "apps",
                app_id,
                "connectors",
                connector_id,
                "credentials",
                id,
            ],
        )?;
        self.remove(op, Method::POST, url).await
    }

    // ---- internals ------------------------------------------------------------------------

    /// The URL of `/api/v1/<segments>`; ids that would address another path are refused.
    pub(crate) fn api_url(&self, op: &str, segments: &[&str]) -> Result<Url, ClientError> {
        endpoint(
            &self.inner.base_url,
            ["api", "v1"].into_iter().chain(segments.iter().copied()),
        )
        .map_err(|_| ClientError::UnsafePathSegment {
            operation: op.to_string(),
        })
    }

    /// POSTs `body` and reads the connector out of the `connectorView` answer.
    async fn post_for_connector(
        &self,
        op: &str,
        url: Url,
        body: &Value,
        idempotency: Idempotency,
    ) -> Result<Connector, ClientError> {
        let resp: WireViewResponse = self
            .call_json(op, Method::POST, url, Payload::Json(body), idempotency)
            .await?;
        view_connector(op, resp)
    }

    /// A `GET` of `url`, decoded; None when C1 answers 404 (gone, or never there).
    pub(crate) async fn read_json<T: DeserializeOwned>(
        &self,
        op: &str,
        url: Url,
    ) -> Result<Option<T>, ClientError> {
        let read = self
            .call_json(
                op,
                Method::GET,
                url,
                Payload::Empty,
                Idempotency::Idempotent,
            )
            .await;
        match read {
            Ok(answer) => Ok(Some(answer)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A delete or revoke (`method` with body `{}`, idempotent) of `url`; a 404 means it is gone
    /// already, which is what was asked.
    pub(crate) async fn remove(
        &self,
        op: &str,
        method: Method,
        url: Url,
    ) -> Result<(), ClientError> {
        let body = json!({});
        let removed = self
            .call(
                op,
                method,
                url,
                Payload::Json(&body),
                Idempotency::Idempotent,
            )
            .await;
        match removed {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        op: &str,
        method: Method,
        url: Url,
        payload: Payload<'_>,
        idempotency: Idempotency,
    ) -> Result<T, ClientError> {
        let body = self.call(op, method, url, payload, idempotency).await?;
        decode(op, &body)
    }

    /// One logical call with retries; the body of its 2xx answer. Once a call has found C1
    /// unreachable for its whole budget, later ones fail at once with `UnreachableEarlier`.
    pub(crate) async fn call(
        &self,
        op: &str,
        method: Method,
        url: Url,
        payload: Payload<'_>,
        idempotency: Idempotency,
    ) -> Result<Vec<u8>, ClientError> {
        let call = Call {
            operation: op,
            path: url.path(),
            idempotency,
        };
        // A refused token is renewed once per logical call, not once per attempt.
        let renewed = AtomicBool::new(false);
        let request = Request {
            method: &method,
            url: &url,
            payload,
            authorization: None,
        };
        let budget = self.budget.clone().unwrap_or_else(|| {
            CallBudget::new(self.inner.retry.default_budget, Default::default())
        });
        let unreachable = || {
            self.inner
                .unreachable
                .lock()
                .unwrap_or_else(|e| e.into_inner())
        };
        if let Some(earlier) = unreachable().clone() {
            return Err(ClientError::UnreachableEarlier {
                operation: op.to_string(),
                source: Box::new(earlier),
            });
        }
        let result = retry::run(&self.inner.retry, &budget, &call, |attempt, timeout| {
            self.attempt(op, request, attempt, timeout, &budget, &renewed)
        })
        .await;
        // (A token request that never connected is remembered by the token source.)
        if let Err(
            gave_up @ ClientError::GaveUp {
                connected: false,
                operation,
                ..
            },
        ) = &result
        {
            if operation != op {
                return result;
            }
            tracing::warn!(error = %gave_up, "C1 was unreachable for a whole call; later calls fail at once");
            unreachable().get_or_insert_with(|| gave_up.clone());
        }
        result
    }

    /// One attempt with a bearer token; when C1 refuses the token (401) and it was not renewed
    /// yet during this call, the attempt is made again with a new one.
    async fn attempt(
        &self,
        op: &str,
        request: Request<'_>,
        attempt: u32,
        timeout: std::time::Duration,
        budget: &CallBudget,
        renewed: &AtomicBool,
    ) -> Result<Vec<u8>, Failure> {
        let Inner {
            sender,
            tokens,
            retry,
            ..
        } = &*self.inner;
        loop {
            let bearer = tokens
                .bearer(sender, retry, budget)
                .await
                .map_err(Failure::Final)?;
            let request = Request {
                authorization: Some(bearer.authorization()),
                ..request
            };
            // The token may have taken part of the budget.
            let timeout = timeout.min(budget.remaining());
            match sender.send_once(request, attempt, timeout).await {
                Outcome::Answered(answer) if answer.status == 401 => {
                    if !renewed.swap(true, Ordering::SeqCst) && tokens.refused(&bearer) {
                        tracing::info!(
                            path = %request.url.path(),
                            attempt,
                            "C1 answered 401; renewing the access token once"
                        );
                        continue;
                    }
                    return Err(Failure::Final(ClientError::Unauthenticated {
                        operation: op.to_string(),
                        message: answer.message,
                    }));
                }
                other => return other.into_result(op),
            }
        }
    }
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

fn credential_of(
    op: &str,
    resp: WireCredentialResponse,
) -> Result<ConnectorCredential, ClientError> {
    resp.credential
        .map(|c| c.into_credential())
        .ok_or_else(|| ClientError::Decode {
            operation: op.to_string(),
            message: "the answer has no credential".to_string(),
        })
}
