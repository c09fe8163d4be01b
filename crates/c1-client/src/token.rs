//! Where each call's bearer token comes from: a ready token, or C1's token endpoint, either by
//! the client-credentials flow (a signed client assertion) or by workload identity (a CI
//! system's OIDC token exchanged as RFC 8693 says). Tokens from the endpoint are cached for all
//! clones of the client, renewed shortly before they expire, and forgotten when C1 refuses them.
//! One fetch serves every caller that needs a token meanwhile (single flight): they all get its
//! token or its failure, and a failed fetch is remembered, so later callers fail at once with it
//! instead of each running a retry cycle of its own. A token whose renewal failed still serves
//! until it expires, and a 401 (C1 refusing it) forgets the remembered failure with the token:
//! the next call asks the endpoint anew, so a remembered failure never outlives a new request
//! that could succeed. An OIDC token that has expired (by its own `exp`) is reported as such,
//! naming where it came from, before any remembered failure and without asking C1 again.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use c1_contract::{jws, token_endpoint};
use rand::RngCore as _;
use reqwest::header::HeaderValue;
use reqwest::Method;
use serde_json::{Map, Value};
use tokio::sync::watch;
use url::Url;

use crate::budget::CallBudget;
use crate::config::{endpoint, Credentials, SigningKey};
use crate::error::ClientError;
use crate::model::{decode, WireToken};
use crate::retry::{self, Call, Failure, Idempotency, RetryPolicy};
use crate::send::{Outcome, Payload, Request, Sender};
use crate::subject_token::SubjectToken;

/// What the token request is, in error messages.
const OPERATION: &str = "get access token";
/// Token lifetime assumed when the token endpoint does not say.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

/// The `Authorization` header for one call, and which token it carries.
#[derive(Clone)]
pub(crate) struct Bearer {
    authorization: HeaderValue,
    /// 0 for a ready token; else counts the tokens fetched, so that a refusal forgets only the
    /// token it was seen with.
    generation: u64,
}

impl Bearer {
    pub(crate) fn authorization(&self) -> &HeaderValue {
        &self.authorization
    }
}

/// Where bearer tokens come from.
pub(crate) enum TokenSource {
    /// A ready token: sent as it is, never renewed.
    Ready(HeaderValue),
    /// Tokens from the token endpoint (shared with the fetch under way, if any).
    Endpoint(Arc<Exchange>),
}

/// How the token endpoint is asked for a token, and the cache of its answers.
pub(crate) struct Exchange {
    client_id: String,
    grant: Grant,
    token_url: Url,
    /// Never held across an await: the fetch runs on its own task.
    cache: Mutex<Cache>,
}

/// What the client proves itself with at the token endpoint.
enum Grant {
    /// Client credentials: a client assertion signed with `key`, whose `aud` is `audience` (the
    /// token host without port or brackets).
    ClientAssertion { key: SigningKey, audience: String },
    /// Token exchange (RFC 8693) of a workload's OIDC token.
    SubjectToken(SubjectToken),
}

/// The outcome of one fetch, as every caller waiting for it receives it.
type Fetched = Result<Bearer, ClientError>;

#[derive(Default)]
struct Cache {
    token: Option<CachedToken>,
    fetched: u64,
    /// The fetch under way: its outcome, and the deadline of the budget it runs within.
    pending: Option<(watch::Receiver<Option<Fetched>>, Instant)>,
    /// How the last fetch failed: later callers get it at once (unless the current token still
    /// serves). A new token, or a 401 that forgets the current one, forgets it too.
    failed: Option<ClientError>,
}

struct CachedToken {
    bearer: Bearer,
    renew_at: Instant,
    /// When C1 stops taking it: until then it serves even if its renewal failed.
    expires_at: Instant,
}

impl TokenSource {
    /// The source for `credentials` against the tenant at `base_url`.
    pub(crate) fn new(credentials: Credentials, base_url: &Url) -> Result<Self, ClientError> {
        match credentials {
            Credentials::AccessToken(token) => authorization(token.expose())
                .map(TokenSource::Ready)
                .ok_or(ClientError::AccessTokenNotHeaderSafe),
            Credentials::ClientCredentials { client_id, key } => Exchange::source(
                client_id,
                Grant::ClientAssertion {
                    key,
                    audience: audience_for(base_url),
                },
                base_url,
            ),
            Credentials::TokenExchange { client_id, subject } => {
                Exchange::source(client_id, Grant::SubjectToken(subject), base_url)
            }
        }
    }

    /// The bearer for the next call: the ready token, or a fresh one from the cache (fetched with
    /// `retry` within `budget` when missing or about to expire, or the fetch under way).
    pub(crate) async fn bearer(
        &self,
        sender: &Sender,
        retry: &RetryPolicy,
        budget: &CallBudget,
    ) -> Result<Bearer, ClientError> {
        match self {
            TokenSource::Ready(authorization) => Ok(Bearer {
                authorization: authorization.clone(),
                generation: 0,
            }),
            TokenSource::Endpoint(exchange) => exchange.bearer(sender, retry, budget).await,
        }
    }

    /// C1 refused `bearer` (401): forgets it if it is still the cached one, and any failure
    /// remembered from renewing it (a new request decides anew, e.g. a re-exchange of an OIDC
    /// token that is still valid). True when another token may help, which is never the case
    /// for a ready token.
    pub(crate) fn refused(&self, bearer: &Bearer) -> bool {
        match self {
            TokenSource::Ready(_) => false,
            TokenSource::Endpoint(exchange) => {
                let mut cache = exchange.lock();
                if cache
                    .token
                    .as_ref()
                    .is_some_and(|t| t.bearer.generation == bearer.generation)
                {
                    cache.token = None;
                    cache.failed = None;
                }
                true
            }
        }
    }
}

impl Exchange {
    /// The token source that asks the token endpoint of the tenant at `base_url` with `grant`.
    fn source(client_id: String, grant: Grant, base_url: &Url) -> Result<TokenSource, ClientError> {
        let token_url = endpoint(
            base_url,
            token_endpoint::PATH.trim_start_matches('/').split('/'),
        )
        .map_err(|_| ClientError::UnsafePathSegment {
            operation: OPERATION.to_string(),
        })?;
        Ok(TokenSource::Endpoint(Arc::new(Exchange {
            client_id,
            grant,
            token_url,
            cache: Mutex::default(),
        })))
    }

    /// The error for an OIDC token that has expired by `now` (with what C1 answered, if it was
    /// asked); None while it is valid, and for client credentials.
    fn subject_expired(&self, now: SystemTime, refusal: Option<&str>) -> Option<ClientError> {
        let Grant::SubjectToken(subject) = &self.grant else {
            return None;
        };
        subject
            .expired(now)
            .map(|expired_at| ClientError::SubjectTokenExpired {
                operation: OPERATION.to_string(),
                from: subject.from().to_string(),
                expired_at,
                refusal: refusal.map(str::to_string),
            })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached token; else the outcome of the fetch under way, or of one started now within
    /// `budget` (the first caller's: the fetch is shared, so is its budget). A waiter gives up
    /// when its own budget runs out or it is stopped; the fetch then goes on for the others.
    async fn bearer(
        self: &Arc<Self>,
        sender: &Sender,
        retry: &RetryPolicy,
        budget: &CallBudget,
    ) -> Result<Bearer, ClientError> {
        let (mut outcome, fetch_deadline) = {
            let mut cache = self.lock();
            let now = Instant::now();
            if let Some(token) = cache.token.as_ref().filter(|t| now < t.renew_at) {
                return Ok(token.bearer.clone());
            }
            // When it cannot be renewed, a token that C1 still takes serves until it expires.
            let unexpired = cache
                .token
                .as_ref()
                .filter(|t| now < t.expires_at)
                .map(|t| t.bearer.clone());
            // An expired OIDC token is the reason, whatever failed before: say so, ask nobody.
            if let Some(expired) = self.subject_expired(SystemTime::now(), None) {
                return unexpired.ok_or(expired);
            }
            if let Some(failed) = &cache.failed {
                return unexpired.ok_or_else(|| ClientError::TokenFailedEarlier {
                    operation: OPERATION.to_string(),
                    source: Box::new(failed.clone()),
                });
            }
            match &cache.pending {
                Some(pending) => pending.clone(),
                None => {
                    let (publish, outcome) = watch::channel(None);
                    cache.pending = Some((outcome.clone(), budget.deadline()));
                    let exchange = Arc::clone(self);
                    let (sender, retry, shared) = (sender.clone(), retry.clone(), budget.clone());
                    tokio::spawn(async move {
                        let fetched = exchange.fetch(&sender, &retry, &shared).await;
                        let fetched = exchange.settle(fetched);
                        let _ = publish.send(Some(fetched));
                    });
                    (outcome, budget.deadline())
                }
            }
        };
        // A waiter whose budget outlasts the fetch's waits for its outcome: the fetch ends
        // within its own budget, and its error says more than "budget spent" would.
        let own_deadline_first = budget.deadline() < fetch_deadline;
        let call = Call {
            operation: OPERATION,
            path: self.token_url.path(),
            idempotency: Idempotency::Idempotent,
        };
        tokio::select! {
            biased;
            () = budget.stopped() => Err(call.interrupted(false)),
            () = tokio::time::sleep(budget.remaining()), if own_deadline_first => Err(ClientError::BudgetSpent {
                operation: OPERATION.to_string(),
            }),
            published = outcome.wait_for(Option::is_some) => match published {
                Ok(fetched) => fetched.clone().expect("waited for an outcome"),
                Err(_) => Err(ClientError::Setup(
                    "the token request ended without an outcome".to_string(),
                )),
            },
        }
    }

    /// Records how a fetch ended: a token is cached; a failure is remembered unless the fetch
    /// was merely interrupted. The outcome is returned for everyone waiting.
    fn settle(&self, fetched: Result<(HeaderValue, Duration), ClientError>) -> Fetched {
        let mut cache = self.lock();
        cache.pending = None;
        match fetched {
            Ok((authorization, lifetime)) => {
                // A token supersedes any failure remembered before it.
                cache.failed = None;
                cache.fetched += 1;
                let bearer = Bearer {
                    authorization,
                    generation: cache.fetched,
                };
                let now = Instant::now();
                cache.token = Some(CachedToken {
                    bearer: bearer.clone(),
                    renew_at: now + lifetime.saturating_sub(renewal_margin(lifetime)),
                    expires_at: now + lifetime,
                });
                Ok(bearer)
            }
            Err(error) => {
                if !error.is_interrupted() {
                    tracing::warn!(error = %error, "the C1 token request failed; later calls fail with it at once");
                    cache.failed = Some(error.clone());
                }
                match cache
                    .token
                    .as_ref()
                    .filter(|t| Instant::now() < t.expires_at)
                {
                    Some(current) => {
                        tracing::warn!("renewing the C1 access token failed; the current one serves until it expires");
                        Ok(current.bearer.clone())
                    }
                    None => Err(error),
                }
            }
        }
    }

    /// Exchanges a new client assertion for an access token: its header and lifetime.
    async fn fetch(
        &self,
        sender: &Sender,
        retry: &RetryPolicy,
        budget: &CallBudget,
    ) -> Result<(HeaderValue, Duration), ClientError> {
        let call = Call {
            operation: OPERATION,
            path: self.token_url.path(),
            idempotency: Idempotency::Idempotent,
        };
        let body = retry::run(retry, budget, &call, |attempt, timeout| async move {
            let assertion;
            let form: [(&str, &str); 4] = match &self.grant {
                Grant::ClientAssertion { key, audience } => {
                    assertion = self.assertion(key, audience, SystemTime::now());
                    [
                        ("grant_type", token_endpoint::GRANT_CLIENT_CREDENTIALS),
                        ("client_id", self.client_id.as_str()),
                        (
                            "client_assertion_type",
                            token_endpoint::ASSERTION_TYPE_JWT_BEARER,
                        ),
                        ("client_assertion", assertion.as_str()),
                    ]
                }
                Grant::SubjectToken(subject) => [
                    ("grant_type", token_endpoint::GRANT_TOKEN_EXCHANGE),
                    ("subject_token", subject.expose()),
                    ("subject_token_type", token_endpoint::SUBJECT_TOKEN_TYPE_JWT),
                    ("client_id", self.client_id.as_str()),
                ],
            };
            let request = Request {
                method: &Method::POST,
                url: &self.token_url,
                payload: Payload::Form(&form),
                authorization: None,
            };
            match sender.send_once(request, attempt, timeout).await {
                // How the token endpoint refuses credentials (OAuth `invalid_client` is a 400).
                Outcome::Answered(answer) if matches!(answer.status, 400 | 401 | 403) => {
                    Err(Failure::Final(self.refused_by_endpoint(answer.message)))
                }
                other => other.into_result(OPERATION),
            }
        })
        .await?;
        let answer: WireToken = decode(OPERATION, &body)?;
        let unexpected = |message: &str| ClientError::Decode {
            operation: OPERATION.to_string(),
            message: message.to_string(),
        };
        if answer.access_token.is_empty() {
            return Err(unexpected(
                "the token endpoint answered without an access_token",
            ));
        }
        if let Some(tt) = answer.token_type.as_deref() {
            if !tt.eq_ignore_ascii_case("bearer") {
                tracing::warn!(
                    token_type = tt,
                    "C1 token endpoint answered an unexpected token_type"
                );
            }
        }
        let authorization = authorization(&answer.access_token).ok_or_else(|| {
            unexpected("the access_token contains characters not allowed in an HTTP header")
        })?;
        let lifetime = answer
            .expires_in
            .as_ref()
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_TTL);
        tracing::debug!(
            expires_in_secs = lifetime.as_secs(),
            "obtained a C1 access token"
        );
        Ok((authorization, lifetime))
    }

    /// The error for the token endpoint's refusal, saying `message`: for an OIDC token, which
    /// one (and that it expired, if it has by now).
    fn refused_by_endpoint(&self, message: String) -> ClientError {
        match &self.grant {
            Grant::ClientAssertion { .. } => ClientError::Unauthenticated {
                operation: OPERATION.to_string(),
                message,
            },
            Grant::SubjectToken(subject) => self
                .subject_expired(SystemTime::now(), Some(&message))
                .unwrap_or_else(|| ClientError::SubjectTokenRefused {
                    operation: OPERATION.to_string(),
                    from: subject.from().to_string(),
                    message,
                }),
        }
    }

    /// A client assertion for `audience` made at `now` and signed with `key`, with a fresh
    /// nonce in its header.
    fn assertion(&self, key: &SigningKey, audience: &str, now: SystemTime) -> String {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut nonce = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut header = Map::new();
        header.insert("nonce".into(), Value::String(URL_SAFE_NO_PAD.encode(nonce)));
        let claims = token_endpoint::assertion_claims(&self.client_id, audience, now);
        jws::sign(header, &claims, key.dalek())
    }
}

/// `Bearer <token>`, marked sensitive; None when the token cannot travel in a header.
fn authorization(token: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The token host without port (and without IPv6 brackets), as the assertion's `aud`.
fn audience_for(url: &Url) -> String {
    url.host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// How long before expiry a token is renewed: a quarter of its lifetime, at most 30 s.
fn renewal_margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange_of(credentials: Credentials) -> Arc<Exchange> {
        let base = Url::parse("https://acme.conductor.one:8443/").unwrap();
        let TokenSource::Endpoint(exchange) = TokenSource::new(credentials, &base).unwrap() else {
            panic!("credentials for the token endpoint make an exchange")
        };
        exchange
    }

    fn exchange_for(seed: u8) -> Arc<Exchange> {
        let key = SigningKey::from_dalek(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]));
        exchange_of(Credentials::ClientCredentials {
            client_id: "tf@acme.conductor.one/xyz".into(),
            key,
        })
    }

    fn key_and_audience(exchange: &Exchange) -> (&SigningKey, &str) {
        match &exchange.grant {
            Grant::ClientAssertion { key, audience } => (key, audience),
            Grant::SubjectToken(_) => panic!("not client credentials"),
        }
    }

    #[test]
    fn assertion_is_signed_with_the_contract_claims_and_a_fresh_nonce() {
        let exchange = exchange_for(42);
        assert_eq!(
            exchange.token_url.as_str(),
            "https://acme.conductor.one:8443/auth/v1/token"
        );
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let (key, audience) = key_and_audience(&exchange);
        assert_eq!(audience, "acme.conductor.one");
        let token = exchange.assertion(key, audience, now);
        let parts = jws::parse(&token).unwrap();
        parts
            .verify(&key.dalek().verifying_key())
            .expect("signed with the credential's key");
        assert_eq!(
            Value::Object(parts.claims),
            token_endpoint::assertion_claims(
                "tf@acme.conductor.one/xyz",
                "acme.conductor.one",
                1_700_000_000
            )
        );
        let nonce = parts.header["nonce"].as_str().unwrap().to_string();
        assert!(nonce.len() >= 16, "{nonce}");
        let again = jws::parse(&exchange.assertion(key, audience, now)).unwrap();
        assert_ne!(again.header["nonce"], Value::String(nonce));
        let other = exchange_for(43);
        assert!(jws::parse(&token)
            .unwrap()
            .verify(&key_and_audience(&other).0.dalek().verifying_key())
            .is_err());
    }

    #[test]
    fn audience_drops_port_and_brackets() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            audience_for(&u("https://acme.conductor.one:8443/")),
            "acme.conductor.one"
        );
        assert_eq!(audience_for(&u("http://127.0.0.1:9999/")), "127.0.0.1");
        assert_eq!(audience_for(&u("http://[::1]:9999/")), "::1");
    }

    #[test]
    fn renewal_margin_suits_short_and_long_lifetimes() {
        let secs = Duration::from_secs;
        assert_eq!(renewal_margin(secs(3600)), secs(30));
        assert_eq!(renewal_margin(secs(60)), secs(15));
        assert_eq!(renewal_margin(secs(4)), secs(1));
    }

    #[tokio::test]
    async fn a_ready_token_is_sent_as_is_and_never_renewed() {
        let base = Url::parse("https://acme.conductor.one/").unwrap();
        let ready = TokenSource::new(
            Credentials::AccessToken(crate::SecretString::new("tok-1")),
            &base,
        )
        .unwrap();
        let sender = Sender::new("t", false).unwrap();
        let budget = CallBudget::new(Duration::from_secs(1), Default::default());
        let bearer = ready
            .bearer(&sender, &RetryPolicy::fast(), &budget)
            .await
            .unwrap();
        assert_eq!(bearer.authorization(), "Bearer tok-1");
        assert!(bearer.authorization().is_sensitive());
        assert!(!ready.refused(&bearer), "no other token to try");
        let bad = TokenSource::new(
            Credentials::AccessToken(crate::SecretString::new("tok\n1")),
            &base,
        );
        assert!(matches!(bad, Err(ClientError::AccessTokenNotHeaderSafe)));
    }
}
