//! Authentication: the token endpoint's checks of the signed assertion, and bearer tokens.

use std::time::Duration;

use c1_contract::token_endpoint;
use ed25519_dalek::SigningKey;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

fn assert_oauth_error(status: u16, body: &Value, expected_status: u16, error: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

#[tokio::test]
async fn valid_assertion_gets_a_token_that_works() {
    let sim = Sim::start().await;
    let creds = sim.mint().await;
    assert!(creds
        .client_secret
        .starts_with(c1_contract::client_secret::PREFIX));
    let token = sim.token_for(&creds).await;
    let response = sim
        .http
        .get(sim.url(&format!("/api/v1/apps/{APP}/connectors")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // `localhost` is accepted as audience on loopback too, and aud may be an array.
    let key = signing_key_from_secret(&creds.client_secret);
    for aud in [json!("localhost"), json!(["other", "127.0.0.1"])] {
        let mut claims = standard_claims(&creds.client_id, "x");
        claims["aud"] = aud;
        let (status, body) = sim
            .token_with_assertion(&creds.client_id, &sign_assertion(&key, &claims))
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn assertion_failures_are_invalid_client() {
    let sim = Sim::start().await;
    let creds = sim.mint().await;
    let key = signing_key_from_secret(&creds.client_secret);
    let host = sim.host();
    let now = unix_now();

    // Bad signature: signed by another key.
    let other = SigningKey::from_bytes(&[7u8; 32]);
    let assertion = sign_assertion(&other, &standard_claims(&creds.client_id, &host));
    let (status, body) = sim.token_with_assertion(&creds.client_id, &assertion).await;
    assert_oauth_error(status, &body, 401, "invalid_client");

    // Tampered claims after signing.
    let good = sign_assertion(&key, &standard_claims(&creds.client_id, &host));
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut forged = standard_claims(&creds.client_id, &host);
    forged["exp"] = json!(now + 999_999);
    parts[1] = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string())
    };
    let (status, body) = sim
        .token_with_assertion(&creds.client_id, &parts.join("."))
        .await;
    assert_oauth_error(status, &body, 401, "invalid_client");

    // Expired assertion.
    let mut claims = standard_claims(&creds.client_id, &host);
    claims["exp"] = json!(now - 60);
    claims["nbf"] = json!(now - 300);
    let (status, body) = sim
        .token_with_assertion(&creds.client_id, &sign_assertion(&key, &claims))
        .await;
    assert_oauth_error(status, &body, 401, "invalid_client");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));

    // Not valid yet.
    let mut claims = standard_claims(&creds.client_id, &host);
    claims["nbf"] = json!(now + 600);
    claims["exp"] = json!(now + 900);
    let (status, body) = sim
        .token_with_assertion(&creds.client_id, &sign_assertion(&key, &claims))
        .await;
    assert_oauth_error(status, &body, 401, "invalid_client");

    // Wrong audience.
    let claims = standard_claims(&creds.client_id, "acme.conductor.one");
    let (status, body) = sim
        .token_with_assertion(&creds.client_id, &sign_assertion(&key, &claims))
        .await;
    assert_oauth_error(status, &body, 401, "invalid_client");

    // iss / sub not the client.
    for field in ["iss", "sub"] {
        let mut claims = standard_claims(&creds.client_id, &host);
        claims[field] = json!("someone-else@sim.conductor.one/pcc");
        let (status, body) = sim
            .token_with_assertion(&creds.client_id, &sign_assertion(&key, &claims))
            .await;
        assert_oauth_error(status, &body, 401, "invalid_client");
    }

    // Unknown client (signed correctly by a key the simulator never saw).
    let stranger = "stranger@sim.conductor.one/pcc";
    let (status, body) = sim
        .token_with_assertion(
            stranger,
            &sign_assertion(&other, &standard_claims(stranger, &host)),
        )
        .await;
    assert_oauth_error(status, &body, 401, "invalid_client");

    // Garbage assertion and missing exp.
    let (status, body) = sim
        .token_with_assertion(&creds.client_id, "not-a-jws")
        .await;
    assert_oauth_error(status, &body, 401, "invalid_client");
    let mut claims = standard_claims(&creds.client_id, &host);
    claims.as_object_mut().unwrap().remove("exp");
    let (status, body) = sim
        .token_with_assertion(&creds.client_id, &sign_assertion(&key, &claims))
        .await;
    assert_oauth_error(status, &body, 401, "invalid_client");
}

#[tokio::test]
async fn malformed_token_requests_are_400() {
    let sim = Sim::start().await;
    let (status, body) = sim
        .token_request(&[("grant_type", "password"), ("client_id", "x")])
        .await;
    assert_oauth_error(status, &body, 400, "unsupported_grant_type");
    let (status, body) = sim
        .token_request(&[
            ("grant_type", token_endpoint::GRANT_CLIENT_CREDENTIALS),
            ("client_id", "x"),
            ("client_assertion_type", "urn:something-else"),
            ("client_assertion", "a.b.c"),
        ])
        .await;
    assert_oauth_error(status, &body, 400, "invalid_request");
    let (status, body) = sim
        .token_request(&[
            ("grant_type", token_endpoint::GRANT_CLIENT_CREDENTIALS),
            (
                "client_assertion_type",
                token_endpoint::ASSERTION_TYPE_JWT_BEARER,
            ),
        ])
        .await;
    assert_oauth_error(status, &body, 400, "invalid_request");
}

#[tokio::test]
async fn api_calls_need_a_live_bearer_token() {
    let sim = Sim::start_with(options_with_token_ttl(2)).await;
    let path = format!("/api/v1/apps/{APP}/connectors");
    let client = sim.login().await;

    // Missing and unknown tokens.
    let response = sim.http.get(sim.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_error_body(&response.json().await.unwrap(), 401);
    let response = sim
        .http
        .get(sim.url(&path))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // Live token works, then expires by its ttl.
    assert_eq!(
        client.call(Method::GET, &path, None, None).await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = client.call(Method::GET, &path, None, None).await;
    assert_eq!(expired.status, 401);
    assert!(expired.body["message"]
        .as_str()
        .unwrap()
        .contains("expired"));

    // The admin call expires tokens at once.
    let fresh = sim.login().await;
    assert_eq!(fresh.call(Method::GET, &path, None, None).await.status, 200);
    let (status, _) = sim.admin(Method::POST, "/_sim/tokens/expire", None).await;
    assert_eq!(status, 200);
    assert_eq!(fresh.call(Method::GET, &path, None, None).await.status, 401);

    // The log names the caller even for the expired call, and never holds tokens.
    let log = sim.request_log().await;
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(&fresh.token));
    assert!(!text.contains(&client.token));
    assert!(log
        .iter()
        .any(|e| e["status"] == 401 && e["client_id"] == client.creds.client_id.as_str()));
}

fn options_with_token_ttl(secs: u64) -> c1_sim::ServeOptions {
    let mut options = fast_options();
    options.token_ttl = Duration::from_secs(secs);
    options
}

#[tokio::test]
async fn static_token_when_allowed() {
    let mut options = fast_options();
    options.static_token = Some("let-me-in".to_owned());
    let sim = Sim::start_with(options).await;
    let response = sim
        .http
        .post(sim.url(&format!("/api/v1/apps/{APP}/connectors")))
        .bearer_auth("let-me-in")
        .json(&json!({"catalogId": TWINGATE, "displayName": "manual"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_schema("c1.api.app.v1.ConnectorServiceCreateResponse", &body);
    let log = sim.request_log().await;
    assert_eq!(log[0]["client_id"], "static-token");
}

#[tokio::test]
async fn clients_file_is_reread_for_unknown_clients() {
    let dir = std::env::temp_dir().join(format!("c1-sim-clients-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let clients = dir.join("clients.json");
    let mut options = fast_options();
    options.clients_file = Some(clients.clone());
    let sim = Sim::start_with(options).await;
    // Minted after start, as `c1-sim credentials --clients FILE` does.
    let (record, minted) = c1_sim::mint_credentials("late", "sim");
    c1_sim::append_to_clients_file(&clients, &record).unwrap();
    let token = sim.token_for(&minted).await;
    assert!(!token.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
