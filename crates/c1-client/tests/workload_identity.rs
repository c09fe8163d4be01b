//! Workload identity against the real simulator (in process): a CI system's OIDC token is
//! exchanged (RFC 8693) for access tokens, again after C1 answers 401 while the OIDC token is
//! valid; once it has expired the error says so and names where it came from; a refused token
//! names its source too; a remembered failure never outlives a new exchange that could succeed.

use std::time::Duration;

use c1_client::{
    CallBudget, CancellationToken, ClientConfig, ClientError, ConnectorClient, Credentials,
    RetryPolicy, SubjectToken,
};
use c1_sim::{OidcTokenClaims, ServeOptions, Server, TrustSpec};
use serde_json::{json, Value};

const ISSUER: &str = "https://app.terraform.io";
const AUDIENCE: &str = "c1.workload.identity";
const SOURCE: &str = "TFC_WORKLOAD_IDENTITY_TOKEN";

struct Setup {
    server: Server,
    client: ConnectorClient,
    client_id: String,
    http: reqwest::Client,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn oidc_token(audience: &str, expires_in: i64) -> String {
    let claims = OidcTokenClaims {
        issuer: ISSUER.into(),
        audience: audience.into(),
        subject: "organization:acme:project:infra:workspace:c1:run_phase:apply".into(),
        expires_in,
    };
    c1_sim::mint_oidc_token(&claims, &c1_sim::oidc_test_key(ISSUER), now())
}

/// A simulator trusting ISSUER for AUDIENCE, and a client exchanging `token` (from SOURCE).
async fn start(token_ttl: Duration, token: &str) -> Setup {
    let server = Server::start(ServeOptions {
        seed_apps: vec!["app1".into()],
        token_ttl,
        ..ServeOptions::default()
    })
    .await
    .expect("simulator starts");
    server.trust_issuer(
        TrustSpec {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            jwks: None,
            jwks_file: None,
            client_id: None,
            subject: Some("organization:acme:*".into()),
        }
        .resolve()
        .unwrap(),
    );
    let client_id = server.mint_client("pipeline").client_id;
    let client = ConnectorClient::new(ClientConfig {
        base_url: server.base_url().parse().unwrap(),
        credentials: Credentials::TokenExchange {
            client_id: client_id.clone(),
            subject: SubjectToken::new(token, SOURCE).unwrap(),
        },
        retry: RetryPolicy::fast(),
        user_agent: "c1-client-tests/1".to_string(),
    })
    .unwrap();
    Setup {
        server,
        client,
        client_id,
        http: reqwest::Client::new(),
    }
}

impl Setup {
    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_sim/{path}", self.server.base_url());
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{path}");
        response.json().await.unwrap_or(Value::Null)
    }

    /// (grant, status) of each token request so far, and the number of 401s from the API.
    async fn token_requests(&self) -> (Vec<(String, u64)>, usize) {
        let log = self.admin(reqwest::Method::GET, "requests", None).await;
        let log = log.as_array().unwrap();
        let tokens = log
            .iter()
            .filter(|e| e["operation"] == "Auth.Token")
            .map(|e| {
                (
                    e["grant"].as_str().unwrap_or_default().to_string(),
                    e["status"].as_u64().unwrap(),
                )
            })
            .collect();
        let refused = log
            .iter()
            .filter(|e| e["operation"] != "Auth.Token" && e["status"] == 401)
            .count();
        (tokens, refused)
    }

    async fn expire_access_tokens(&self) {
        self.admin(reqwest::Method::POST, "tokens/expire", None)
            .await;
    }
}

fn exchanged(n: usize) -> Vec<(String, u64)> {
    vec![("token_exchange".to_string(), 200); n]
}

#[tokio::test]
async fn a_401_mid_run_exchanges_the_oidc_token_again_while_it_is_valid() {
    let token = oidc_token(AUDIENCE, 300);
    let s = start(Duration::from_secs(3600), &token).await;
    s.client.list("app1").await.unwrap();
    s.client.list("app1").await.unwrap();
    assert_eq!(s.token_requests().await, (exchanged(1), 0));
    // C1 stops taking the access token mid-run: the next call is refused once, the OIDC token
    // is exchanged again and the call goes through.
    s.expire_access_tokens().await;
    s.client.list("app1").await.unwrap();
    assert_eq!(s.token_requests().await, (exchanged(2), 1));
    let log = s.admin(reqwest::Method::GET, "requests", None).await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|e| e["client_id"] == s.client_id.as_str()),
        "every call acts as the client: {log}"
    );
    assert!(!log.to_string().contains(&token));
}

/// The access token lives 3 s (renewed from 2.25 s on), the OIDC token at most 2 s: past that
/// the OIDC token cannot be exchanged again, but the access token serves until C1 refuses it;
/// then the error says the OIDC token expired and names where it came from, and C1 is not
/// asked to exchange it again.
#[tokio::test]
async fn once_the_oidc_token_has_expired_the_error_says_so_and_names_its_source() {
    let s = start(Duration::from_secs(3), &oidc_token(AUDIENCE, 2)).await;
    let started = std::time::Instant::now();
    s.client.list("app1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(2400).saturating_sub(started.elapsed())).await;
    s.client
        .list("app1")
        .await
        .expect("the access token serves until it expires");
    assert_eq!(s.token_requests().await, (exchanged(1), 0));
    s.expire_access_tokens().await;
    for _ in 0..2 {
        let err = s.client.list("app1").await.unwrap_err();
        let ClientError::SubjectTokenExpired { from, refusal, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!((from.as_str(), refusal), (SOURCE, &None));
        let text = err.to_string();
        assert!(
            text.starts_with(
                "get access token: the OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN expired at "
            ) && text.ends_with("so it cannot be exchanged for an access token"),
            "{text}"
        );
        assert!(err.is_unauthenticated());
        assert_eq!(err.subject_token_problem(), Some((SOURCE, true)));
    }
    assert_eq!(
        s.token_requests().await,
        (exchanged(1), 1),
        "C1 not asked again"
    );
}

#[tokio::test]
async fn a_refused_oidc_token_names_its_source_and_is_remembered() {
    let s = start(
        Duration::from_secs(3600),
        &oidc_token("sts.amazonaws.com", 300),
    )
    .await;
    let err = s.client.list("app1").await.unwrap_err();
    let ClientError::SubjectTokenRefused { from, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(from, SOURCE);
    assert!(
        message.starts_with("invalid_grant: subject_token audience"),
        "{message}"
    );
    assert_eq!(
        err.to_string(),
        format!("get access token: C1 refused the OIDC token from {SOURCE}: {message}")
    );
    let again = s.client.list("app1").await.unwrap_err();
    assert!(
        again.to_string().contains("the token request already failed: C1 refused the OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN"),
        "{again}"
    );
    assert_eq!(again.subject_token_problem(), Some((SOURCE, false)));
    assert_eq!(
        s.token_requests().await,
        (vec![("token_exchange".to_string(), 400)], 0)
    );
}

/// A renewal that fails (the token endpoint answers 503 for the whole budget) leaves the current
/// access token serving; when C1 then refuses that token (401), the remembered failure goes with
/// it and the OIDC token is exchanged again, now successfully.
#[tokio::test]
async fn a_remembered_failure_does_not_outlive_a_re_exchange_that_can_succeed() {
    let s = start(Duration::from_secs(3), &oidc_token(AUDIENCE, 300)).await;
    s.client.list("app1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(2300)).await; // past the renewal point (2.25 s)
    s.admin(
        reqwest::Method::PUT,
        "faults",
        Some(json!({"fail_5xx_every": 1, "path_contains": "/auth/"})),
    )
    .await;
    let budget = CallBudget::new(Duration::from_millis(200), CancellationToken::new());
    s.client
        .within(budget)
        .list("app1")
        .await
        .expect("the renewal failed; the current token still serves");
    let (tokens, _) = s.token_requests().await;
    assert!(
        tokens.len() >= 2 && tokens[1..].iter().all(|(_, status)| *status == 503),
        "{tokens:?}"
    );
    s.admin(reqwest::Method::DELETE, "faults", None).await;
    s.expire_access_tokens().await;
    s.client
        .list("app1")
        .await
        .expect("after the 401 the OIDC token is exchanged again");
    let (tokens, refused) = s.token_requests().await;
    assert_eq!(
        tokens.last(),
        Some(&("token_exchange".to_string(), 200)),
        "{tokens:?}"
    );
    assert_eq!(refused, 1);
}
