//! Connector and app semantics a client can observe, with every body schema-checked.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

fn is_c1_id(id: &Value) -> bool {
    let id = id.as_str().unwrap_or_default();
    id.len() == 27 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_second_precision_utc(ts: &Value) -> bool {
    let ts = ts.as_str().unwrap_or_default();
    ts.len() == 20 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T'
}

#[tokio::test]
async fn configured_connector_lifecycle() {
    let sim = Sim::start().await;
    let client = sim.login().await;

    let created = client
        .create_configured(APP, &twingate_create("tg-key-1", "acme"))
        .await;
    assert!(is_c1_id(&created["id"]), "{created}");
    assert_eq!(created["appId"], APP);
    assert_eq!(created["catalogId"], TWINGATE);
    assert_eq!(created["displayName"], "Twingate");
    assert_eq!(created["userIds"], json!([client.creds.user_id]));
    assert!(is_second_precision_utc(&created["createdAt"]));
    assert!(is_second_precision_utc(&created["updatedAt"]));
    assert_eq!(created["status"]["status"], "SYNC_STATUS_RUNNING");
    // Secrets are never echoed back: only the domain is readable.
    assert_eq!(
        created["config"],
        json!({"@type": ENV_CONFIG, "configuration": {"twingate_domain": {"stringValue": "acme"}}})
    );
    assert!(!created.to_string().contains("tg-key-1"));

    let id = created["id"].as_str().unwrap();
    let synced = wait_for_sync(&client, APP, id).await;
    assert_eq!(synced["status"]["status"], "SYNC_STATUS_DONE");
    assert!(is_second_precision_utc(&synced["status"]["completedAt"]));

    // Update settings with updateMask "config": updatedAt moves, a new sync starts.
    let update = json!({
        "connector": {"id": id, "appId": APP, "config": env_config(&[("twingate_apikey", "tg-key-2"), ("twingate_domain", "other")])},
        "updateMask": "config",
    });
    let updated = client.update(APP, id, false, &update).await;
    assert_eq!(
        updated["config"]["configuration"]["twingate_domain"]["stringValue"],
        "other"
    );
    assert!(updated["updatedAt"].as_str() > created["updatedAt"].as_str());
    assert_eq!(updated["createdAt"], created["createdAt"]);
    assert_eq!(updated["status"]["status"], "SYNC_STATUS_RUNNING");
    assert!(!updated.to_string().contains("tg-key-2"));

    // Delete, then it is gone.
    let deleted = client
        .ok(
            Method::DELETE,
            &format!("/api/v1/apps/{APP}/connectors/{id}"),
            Some("c1.api.app.v1.ConnectorServiceDeleteRequestInput"),
            Some(&json!({})),
            "c1.api.app.v1.ConnectorServiceDeleteResponse",
        )
        .await;
    assert_eq!(deleted, json!({}));
    assert_eq!(client.get(APP, id).await.status, 404);
    let again = client
        .call(
            Method::DELETE,
            &format!("/api/v1/apps/{APP}/connectors/{id}"),
            None,
            Some(&json!({})),
        )
        .await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn delegated_connector_then_configured() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let created = client
        .create_delegated(
            APP,
            &json!({"catalogId": TORQ, "displayName": "Torq (delegated)", "userIds": ["u1", "u2"]}),
        )
        .await;
    assert_eq!(created["displayName"], "Torq (delegated)");
    assert_eq!(created["userIds"], json!(["u1", "u2"]));
    assert_eq!(created["config"], Value::Null);
    assert_eq!(created["status"]["status"], "SYNC_STATUS_UNSPECIFIED");
    let id = created["id"].as_str().unwrap();

    // Owners and name via the delegated update.
    let update = json!({
        "connector": {"id": id, "displayName": "Torq renamed", "userIds": ["u3"]},
        "updateMask": "displayName,userIds",
    });
    let updated = client.update(APP, id, true, &update).await;
    assert_eq!(updated["displayName"], "Torq renamed");
    assert_eq!(updated["userIds"], json!(["u3"]));
    assert!(updated["updatedAt"].as_str() > created["updatedAt"].as_str());

    // Masks are honoured field by field: only userIds changes here.
    let update = json!({
        "connector": {"displayName": "ignored", "userIds": ["u4"]},
        "updateMask": "userIds",
    });
    let answer = client.update(APP, id, true, &update).await;
    assert_eq!(answer["displayName"], "Torq renamed");
    assert_eq!(answer["userIds"], json!(["u4"]));

    // Setting the config later starts a sync.
    let update = json!({
        "connector": {"config": env_config(&[("torq_client_id", "cid"), ("torq_client_secret", "csecret")])},
        "updateMask": "config",
    });
    let configured = client.update(APP, id, false, &update).await;
    assert_eq!(configured["status"]["status"], "SYNC_STATUS_RUNNING");
    assert_eq!(
        configured["config"]["configuration"],
        json!({"torq_client_id": {"stringValue": "cid"}})
    );
    assert_eq!(configured["displayName"], "Torq renamed");
    let done = wait_for_sync(&client, APP, id).await;
    assert_eq!(done["status"]["status"], "SYNC_STATUS_DONE");
}

#[tokio::test]
async fn update_masks_are_checked() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let created = client
        .create_configured(
            APP,
            &json!({"catalogId": SEGMENT, "config": env_config(&[("segment_access_token", "s")])}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/apps/{APP}/connectors/{id}");
    for mask in ["bogus", "config,nope", ""] {
        let body = json!({"connector": {"displayName": "x"}, "updateMask": mask});
        let answer = client
            .call(
                Method::POST,
                &path,
                Some("c1.api.app.v1.ConnectorServiceUpdateRequestInput"),
                Some(&body),
            )
            .await;
        assert_eq!(answer.status, 400, "mask {mask:?}: {}", answer.body);
    }
    // The delegated update does not take config.
    let body = json!({"connector": {"config": env_config(&[])}, "updateMask": "config"});
    let answer = client
        .call(
            Method::POST,
            &format!("{path}/delegated"),
            Some("c1.api.app.v1.ConnectorServiceUpdateDelegatedRequestInput"),
            Some(&body),
        )
        .await;
    assert_eq!(answer.status, 400);
    // Nothing changed.
    let now = client.get_connector(APP, id).await;
    assert_eq!(now["displayName"], "Segment");
    assert_eq!(now["updatedAt"], created["updatedAt"]);
}

#[tokio::test]
async fn invalid_input_answers_400() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let path = format!("/api/v1/apps/{APP}/connectors/create");
    let cases: Vec<(&str, Value)> = vec![
        (
            "unknown catalog",
            json!({"catalogId": "nope", "config": env_config(&[])}),
        ),
        ("missing catalog", json!({"config": env_config(&[])})),
        (
            "unknown setting",
            json!({"catalogId": TWINGATE, "config": env_config(&[("twingate_color", "x")])}),
        ),
        (
            "other catalog's setting",
            json!({"catalogId": SEGMENT, "config": env_config(&[("twingate_domain", "x")])}),
        ),
        (
            "wrong @type",
            json!({"catalogId": SEGMENT, "config": {"@type": "type.googleapis.com/x", "configuration": {}}}),
        ),
        (
            "value not a stringValue",
            json!({"catalogId": SEGMENT, "config": {"@type": ENV_CONFIG, "configuration": {"segment_access_token": "raw"}}}),
        ),
        ("missing config", json!({"catalogId": SEGMENT})),
    ];
    for (what, body) in cases {
        // These are all well-formed per the OpenAPI schema: the server rejects them on content.
        let answer = client
            .call(
                Method::POST,
                &path,
                Some("c1.api.app.v1.ConnectorServiceCreateRequestInput"),
                Some(&body),
            )
            .await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
    }
    // Wrong types and malformed JSON (not schema-valid, so sent raw).
    for raw in [
        r#"{"catalogId": 42}"#.to_owned(),
        format!(r#"{{"catalogId": "{SEGMENT}", "userIds": "me"}}"#),
        r#"{"catalogId": "#.to_owned(),
        r#"["not", "an", "object"]"#.to_owned(),
        "\u{0}\u{1}binary".to_owned(),
    ] {
        let response = sim
            .http
            .post(sim.url(&path))
            .bearer_auth(&client.token)
            .header("content-type", "application/json")
            .body(raw.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{raw}");
        let body: Value = response.json().await.unwrap();
        assert_error_body(&body, 400);
    }
    assert!(
        sim.admin(Method::GET, "/_sim/state", None).await.1["connectors"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn list_pages_through_all_connectors() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let created = client
            .create_delegated(
                APP,
                &json!({"catalogId": SEGMENT, "displayName": format!("seg {i}")}),
            )
            .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let body = client
            .ok(
                Method::GET,
                &format!("/api/v1/apps/{APP}/connectors?page_size=3&page_token={token}"),
                None,
                None,
                "c1.api.app.v1.ConnectorServiceListResponse",
            )
            .await;
        pages += 1;
        for view in body["list"].as_array().unwrap() {
            seen.push(view["connector"]["id"].as_str().unwrap().to_owned());
        }
        token = body["nextPageToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
    let bad = client
        .call(
            Method::GET,
            &format!("/api/v1/apps/{APP}/connectors?page_token=garbage"),
            None,
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
    let bad = client
        .call(
            Method::GET,
            &format!("/api/v1/apps/{APP}/connectors?page_size=many"),
            None,
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn apps_create_get_delete_and_missing_app_is_404() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let body = json!({"displayName": "My app"});
    let created = client
        .ok(
            Method::POST,
            "/api/v1/apps",
            Some("c1.api.app.v1.CreateAppRequest"),
            Some(&body),
            "c1.api.app.v1.CreateAppResponse",
        )
        .await;
    let app_id = created["app"]["id"].as_str().unwrap().to_owned();
    assert!(is_c1_id(&created["app"]["id"]));
    let got = client
        .ok(
            Method::GET,
            &format!("/api/v1/apps/{app_id}"),
            None,
            None,
            "c1.api.app.v1.GetAppResponse",
        )
        .await;
    assert_eq!(got["app"]["displayName"], "My app");
    let listed = client
        .ok(
            Method::GET,
            "/api/v1/apps",
            None,
            None,
            "c1.api.app.v1.ListAppsResponse",
        )
        .await;
    assert_eq!(listed["list"].as_array().unwrap().len(), 2);

    let connector = client
        .create_configured(&app_id, &twingate_create("k", "acme"))
        .await;
    client
        .ok(
            Method::DELETE,
            &format!("/api/v1/apps/{app_id}"),
            Some("c1.api.app.v1.DeleteAppRequestInput"),
            Some(&json!({})),
            "c1.api.app.v1.DeleteAppResponse",
        )
        .await;
    let gone = client
        .call(Method::GET, &format!("/api/v1/apps/{app_id}"), None, None)
        .await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        client
            .get(&app_id, connector["id"].as_str().unwrap())
            .await
            .status,
        404
    );
    for (method, path, body) in [
        (Method::GET, "/api/v1/apps/nope/connectors".to_owned(), None),
        (
            Method::POST,
            "/api/v1/apps/nope/connectors/create".to_owned(),
            Some(twingate_create("k", "acme")),
        ),
        (
            Method::POST,
            "/api/v1/apps/nope/connectors".to_owned(),
            Some(json!({"catalogId": TWINGATE, "displayName": "x"})),
        ),
    ] {
        let answer = client.call(method, &path, None, body.as_ref()).await;
        assert_eq!(answer.status, 404, "{path}");
    }
    let missing = client
        .call(Method::POST, "/api/v1/apps", None, Some(&json!({})))
        .await;
    assert_eq!(missing.status, 400);
}

#[tokio::test]
async fn bad_credentials_end_in_sync_error() {
    let mut options = fast_options();
    options.bad_credentials = vec!["revoked-key".to_owned()];
    let sim = Sim::start_with(options).await;
    let client = sim.login().await;
    let bad = client
        .create_configured(APP, &twingate_create("revoked-key", "acme"))
        .await;
    let bad = wait_for_sync(&client, APP, bad["id"].as_str().unwrap()).await;
    assert_eq!(bad["status"]["status"], "SYNC_STATUS_ERROR");
    assert!(bad["status"]["lastError"]
        .as_str()
        .unwrap()
        .contains("authentication"));
    assert!(!bad.to_string().contains("revoked-key"));

    // Told at runtime.
    let (status, _) = sim
        .admin(
            Method::POST,
            "/_sim/bad-credentials",
            Some(json!({"values": ["seg-bad"]})),
        )
        .await;
    assert_eq!(status, 200);
    let seg = client
        .create_configured(
            APP,
            &json!({"catalogId": SEGMENT, "config": env_config(&[("segment_access_token", "seg-bad")])}),
        )
        .await;
    let seg = wait_for_sync(&client, APP, seg["id"].as_str().unwrap()).await;
    assert_eq!(seg["status"]["status"], "SYNC_STATUS_ERROR");

    // Incomplete settings cannot sync either; the official connectors need every field.
    let partial = client
        .create_configured(
            APP,
            &json!({"catalogId": TWINGATE, "config": env_config(&[("twingate_domain", "acme")])}),
        )
        .await;
    let partial = wait_for_sync(&client, APP, partial["id"].as_str().unwrap()).await;
    assert_eq!(partial["status"]["status"], "SYNC_STATUS_ERROR");
    assert!(partial["status"]["lastError"]
        .as_str()
        .unwrap()
        .contains("twingate_apikey"));
}

/// The sync a settings change starts begins when the change takes effect (`startedAt` equals
/// `configUpdatedAt`), so a client can tell it from the one before; a sync the admin API runs
/// (as C1's schedule does) can end in error or leave syncs disabled, settings untouched.
#[tokio::test]
async fn a_settings_change_starts_its_sync_and_scheduled_syncs_can_fail_or_be_disabled() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let created = client
        .create_configured(APP, &twingate_create("tg-key-1", "acme"))
        .await;
    assert_eq!(created["status"]["startedAt"], created["configUpdatedAt"]);
    assert!(created["status"]["completedAt"].is_null());
    let id = created["id"].as_str().unwrap();
    let done = wait_for_sync(&client, APP, id).await;
    assert_eq!(done["status"]["status"], "SYNC_STATUS_DONE");
    assert!(done["status"].get("lastError").is_none());
    let update = json!({
        "connector": {"id": id, "appId": APP, "config": env_config(&[("twingate_apikey", "tg-key-2"), ("twingate_domain", "acme")])},
        "updateMask": "config",
    });
    let updated = client.update(APP, id, false, &update).await;
    assert_eq!(updated["status"]["status"], "SYNC_STATUS_RUNNING");
    assert_eq!(updated["status"]["startedAt"], updated["configUpdatedAt"]);
    assert!(updated["status"]["startedAt"].as_str() > created["status"]["startedAt"].as_str());
    wait_for_sync(&client, APP, id).await;

    let path = format!("/_sim/apps/{APP}/connectors/{id}/sync");
    let (status, body) = sim
        .admin(
            Method::POST,
            &path,
            Some(json!({"error": "twingate: API key revoked"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let failed = wait_for_sync(&client, APP, id).await;
    assert_eq!(failed["status"]["status"], "SYNC_STATUS_ERROR");
    assert_eq!(failed["status"]["lastError"], "twingate: API key revoked");
    assert_eq!(failed["configUpdatedAt"], updated["configUpdatedAt"]);
    assert_eq!(failed["updatedAt"], updated["updatedAt"]);

    // A plain run decides by the bad-credential values, like any sync.
    sim.admin(Method::POST, &path, Some(json!({}))).await;
    let ok = wait_for_sync(&client, APP, id).await;
    assert_eq!(ok["status"]["status"], "SYNC_STATUS_DONE");
    let (status, _) = sim
        .admin(Method::POST, &path, Some(json!({"disabled": true})))
        .await;
    assert_eq!(status, 200);
    let disabled = client.get_connector(APP, id).await;
    assert_eq!(disabled["status"]["status"], "SYNC_STATUS_DISABLED");

    let delegated = client
        .create_delegated(
            APP,
            &json!({"catalogId": SEGMENT, "displayName": "Segment"}),
        )
        .await;
    let (status, body) = sim
        .admin(
            Method::POST,
            &format!(
                "/_sim/apps/{APP}/connectors/{}/sync",
                delegated["id"].as_str().unwrap()
            ),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        status, 400,
        "a delegated connector has nothing to sync: {body}"
    );
}
