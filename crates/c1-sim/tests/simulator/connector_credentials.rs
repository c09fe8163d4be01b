//! Connector credentials of a self-hosted (Baton) connector: rotate, get, revoke, and their use
//! at the token endpoint, every body checked against the OpenAPI subset.

use c1_contract::integrations::{Baton, Integration as _};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

const ROTATE: &str = "/api/v1/apps/connectors/credentials";

fn credential_path(app: &str, connector: &str, id: &str) -> String {
    format!("/api/v1/apps/{app}/connectors/{connector}/credentials/{id}")
}

async fn rotate(client: &Client<'_>, app: &str, connector: &str) -> Value {
    let answer = client
        .ok(
            Method::POST,
            ROTATE,
            Some("c1.api.app.v1.ConnectorServiceRotateCredentialRequest"),
            Some(&json!({"appId": app, "connectorId": connector})),
            "c1.api.app.v1.ConnectorServiceRotateCredentialResponse",
        )
        .await;
    answer["credential"].clone()
}

async fn get(client: &Client<'_>, app: &str, connector: &str, id: &str) -> Answer {
    let answer = client
        .call(
            Method::GET,
            &credential_path(app, connector, id),
            None,
            None,
        )
        .await;
    if answer.status == 200 {
        assert_schema(
            "c1.api.app.v1.ConnectorServiceGetCredentialsResponse",
            &answer.body,
        );
    }
    answer
}

/// A token request signed with the credential's secret, as a self-hosted connector makes it.
async fn token_status(sim: &Sim, credential: &Value, secret: &str) -> (u16, Value) {
    let client_id = credential["clientId"].as_str().unwrap();
    let key = signing_key_from_secret(secret);
    let assertion = sign_assertion(&key, &standard_claims(client_id, &sim.host()));
    sim.token_with_assertion(client_id, &assertion).await
}

#[tokio::test]
async fn rotate_use_and_revoke_a_baton_connectors_credentials() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let connector = client
        .create_delegated(
            APP,
            &json!({"catalogId": Baton::CATALOG_ID, "displayName": "Baton"}),
        )
        .await;
    assert_eq!(connector["status"]["status"], "SYNC_STATUS_UNSPECIFIED");
    let connector_id = connector["id"].as_str().unwrap();

    let first = rotate(&client, APP, connector_id).await;
    let secret = first["clientSecret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("secret-token:conductorone.com:v1:"));
    assert!(first["clientId"]
        .as_str()
        .unwrap()
        .ends_with(".conductor.one/pcc"));
    assert_eq!(first["appId"], APP);
    assert_eq!(first["connectorId"], connector_id);
    assert_eq!(first["lastUsedAt"], Value::Null);
    assert_eq!(first["deletedAt"], Value::Null);
    let id = first["id"].as_str().unwrap();

    // Reads never return the secret.
    let read = get(&client, APP, connector_id, id).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["credential"]["clientId"], first["clientId"]);
    assert!(read.body["credential"].get("clientSecret").is_none());
    assert!(!read.body.to_string().contains(&secret));

    // The connector authenticates with it: a token, lastUsedAt, and its first sync finishes.
    let (status, body) = token_status(&sim, &first, &secret).await;
    assert_eq!(status, 200, "{body}");
    let used = get(&client, APP, connector_id, id).await.body["credential"].clone();
    assert!(used["lastUsedAt"].is_string(), "{used}");
    let synced = wait_for_sync(&client, APP, connector_id).await;
    assert_eq!(synced["status"]["status"], "SYNC_STATUS_DONE");

    // A second one: both are valid until one is revoked.
    let second = rotate(&client, APP, connector_id).await;
    let second_secret = second["clientSecret"].as_str().unwrap().to_owned();
    assert_ne!(second["clientId"], first["clientId"]);
    assert_eq!(token_status(&sim, &first, &secret).await.0, 200);
    let revoked = client
        .ok(
            Method::POST,
            &credential_path(APP, connector_id, id),
            Some("c1.api.app.v1.ConnectorServiceRevokeCredentialRequestInput"),
            Some(&json!({})),
            "c1.api.app.v1.ConnectorServiceRevokeCredentialResponse",
        )
        .await;
    assert_eq!(revoked, json!({}));
    assert_eq!(get(&client, APP, connector_id, id).await.status, 404);
    let (status, body) = token_status(&sim, &first, &secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(token_status(&sim, &second, &second_secret).await.0, 200);
    let again = client
        .call(
            Method::POST,
            &credential_path(APP, connector_id, id),
            None,
            Some(&json!({})),
        )
        .await;
    assert_eq!(again.status, 404);

    // An expired credential is refused but still readable, with its expiry.
    let second_id = second["id"].as_str().unwrap();
    let (status, _) = sim
        .admin(
            Method::POST,
            &format!("/_sim/apps/{APP}/connectors/{connector_id}/credentials/{second_id}/expire"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(token_status(&sim, &second, &second_secret).await.0, 401);
    let expired = get(&client, APP, connector_id, second_id).await;
    assert_eq!(expired.status, 200);
    assert!(expired.body["credential"]["expiresTime"].is_string());

    // The admin state lists them without secrets; the request log names the operations.
    let (_, state) = sim.admin(Method::GET, "/_sim/state", None).await;
    assert_eq!(state["credentials"].as_array().unwrap().len(), 2);
    assert!(state["credentials"][0]["deletedAt"].is_string());
    assert!(!state.to_string().contains(&second_secret));
    let operations: Vec<String> = sim
        .request_log()
        .await
        .iter()
        .map(|e| e["operation"].as_str().unwrap().to_owned())
        .collect();
    for op in [
        "ConnectorService.RotateCredential",
        "ConnectorService.GetCredentials",
        "ConnectorService.RevokeCredential",
    ] {
        assert!(operations.iter().any(|o| o == op), "{op}: {operations:?}");
    }
    let log = sim.request_log().await.to_vec();
    assert!(!serde_json::to_string(&log).unwrap().contains(&secret));
}

#[tokio::test]
async fn rotate_needs_a_live_connector_and_both_ids() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    for body in [
        json!({"appId": APP}),
        json!({"connectorId": "x"}),
        json!({}),
    ] {
        let answer = client.call(Method::POST, ROTATE, None, Some(&body)).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        assert_eq!(answer.body["code"], 3);
    }
    let answer = client
        .call(
            Method::POST,
            ROTATE,
            None,
            Some(&json!({"appId": APP, "connectorId": "2NoSuchConnector0000000000"})),
        )
        .await;
    assert_eq!(answer.status, 404);

    // Deleting the connector ends its credentials.
    let connector = client
        .create_delegated(APP, &json!({"catalogId": Baton::CATALOG_ID}))
        .await;
    let connector_id = connector["id"].as_str().unwrap();
    let credential = rotate(&client, APP, connector_id).await;
    let secret = credential["clientSecret"].as_str().unwrap().to_owned();
    let deleted = client
        .call(
            Method::DELETE,
            &format!("/api/v1/apps/{APP}/connectors/{connector_id}"),
            None,
            Some(&json!({})),
        )
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(token_status(&sim, &credential, &secret).await.0, 401);
    let id = credential["id"].as_str().unwrap();
    assert_eq!(get(&client, APP, connector_id, id).await.status, 404);
}
