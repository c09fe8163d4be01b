//! The admin API: request log, faults on demand, out-of-band changes, app seeding, state view.

use std::time::{Duration, Instant};

use c1_contract::token_endpoint;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn request_log_records_exactly_the_calls_made() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let created = client
        .create_configured(APP, &twingate_create("super-secret-key", "acme"))
        .await;
    let id = created["id"].as_str().unwrap();
    client.get_connector(APP, id).await;
    // Admin calls are not logged.
    sim.admin(Method::GET, "/_sim/state", None).await;
    client
        .call(
            Method::DELETE,
            &format!("/api/v1/apps/{APP}/connectors/{id}"),
            None,
            Some(&json!({})),
        )
        .await;
    let _ = client
        .call(
            Method::GET,
            &format!("/api/v1/apps/{APP}/connectors?page_size=5"),
            None,
            None,
        )
        .await;

    let log = sim.request_log().await;
    let summary: Vec<(String, String, u64)> = log
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap().to_owned(),
                e["method"].as_str().unwrap().to_owned(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, u64)> = [
        ("Auth.Token", "POST", 200),
        ("ConnectorService.Create", "POST", 200),
        ("ConnectorService.Get", "GET", 200),
        ("ConnectorService.Delete", "DELETE", 200),
        ("ConnectorService.List", "GET", 200),
    ]
    .iter()
    .map(|(o, m, s)| (o.to_string(), m.to_string(), *s))
    .collect();
    assert_eq!(summary, expected);
    for entry in &log {
        assert_eq!(
            entry["client_id"],
            client.creds.client_id.as_str(),
            "{entry}"
        );
    }
    assert_eq!(log[4]["query"], "page_size=5");
    assert_eq!(
        log[1]["path"],
        format!("/api/v1/apps/{APP}/connectors/create")
    );
    let seqs: Vec<u64> = log.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let text = serde_json::to_string(&log).unwrap();
    for secret in [
        "super-secret-key",
        client.token.as_str(),
        client.creds.client_secret.as_str(),
    ] {
        assert!(!text.contains(secret));
    }

    let (status, _) = sim.admin(Method::DELETE, "/_sim/requests", None).await;
    assert_eq!(status, 200);
    assert!(sim.request_log().await.is_empty());
}

#[tokio::test]
async fn faults_429_and_5xx_every_nth_matching_call() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let (status, faults) = sim
        .admin(
            Method::PUT,
            "/_sim/faults",
            Some(json!({
                "fail_429_every": 2,
                "retry_after_secs": 7,
                "path_contains": "/connectors/create",
                "method": "POST",
            })),
        )
        .await;
    assert_eq!(status, 200, "{faults}");
    assert_eq!(faults["fail_status"], 503);
    let create = |n: u32| {
        let body = twingate_create(&format!("k{n}"), "acme");
        let client = &client;
        async move {
            client
                .call(
                    Method::POST,
                    &format!("/api/v1/apps/{APP}/connectors/create"),
                    Some("c1.api.app.v1.ConnectorServiceCreateRequestInput"),
                    Some(&body),
                )
                .await
        }
    };
    assert_eq!(create(1).await.status, 200);
    // A GET does not match the filter and is not counted.
    let list = client
        .call(
            Method::GET,
            &format!("/api/v1/apps/{APP}/connectors"),
            None,
            None,
        )
        .await;
    assert_eq!(list.status, 200);
    let limited = create(2).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["retry-after"], "7");
    assert_eq!(create(3).await.status, 200);
    // The 429'd create did not create anything.
    let (_, state) = sim.admin(Method::GET, "/_sim/state", None).await;
    assert_eq!(state["connectors"].as_array().unwrap().len(), 2);

    sim.admin(
        Method::PUT,
        "/_sim/faults",
        Some(json!({"fail_5xx_every": 1, "fail_status": 502})),
    )
    .await;
    let failed = client
        .call(
            Method::GET,
            &format!("/api/v1/apps/{APP}/connectors"),
            None,
            None,
        )
        .await;
    assert_eq!(failed.status, 502);
    // Faults apply to the token endpoint too, never to the admin API.
    let (status, _) = sim
        .token_request(&[("grant_type", token_endpoint::GRANT_CLIENT_CREDENTIALS)])
        .await;
    assert_eq!(status, 502);
    let (status, _) = sim.admin(Method::GET, "/_sim/faults", None).await;
    assert_eq!(status, 200);

    let (status, cleared) = sim.admin(Method::DELETE, "/_sim/faults", None).await;
    assert_eq!(status, 200);
    assert_eq!(cleared["fail_5xx_every"], 0);
    assert_eq!(
        client
            .call(
                Method::GET,
                &format!("/api/v1/apps/{APP}/connectors"),
                None,
                None
            )
            .await
            .status,
        200
    );
    let (status, body) = sim
        .admin(Method::PUT, "/_sim/faults", Some(json!({"nonsense": 1})))
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn dropped_connections_and_latency() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    sim.admin(
        Method::PUT,
        "/_sim/faults",
        Some(json!({"drop_every": 1, "path_contains": "/connectors"})),
    )
    .await;
    let started = Instant::now();
    let result = sim
        .http
        .get(sim.url(&format!("/api/v1/apps/{APP}/connectors")))
        .bearer_auth(&client.token)
        .send()
        .await;
    let err = result.expect_err("the connection is dropped without an answer");
    assert!(!err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    let log = sim.request_log().await;
    assert_eq!(log.last().unwrap()["status"], 0);

    sim.admin(
        Method::PUT,
        "/_sim/faults",
        Some(json!({"latency_ms": 300})),
    )
    .await;
    let started = Instant::now();
    let answer = client
        .call(
            Method::GET,
            &format!("/api/v1/apps/{APP}/connectors"),
            None,
            None,
        )
        .await;
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn out_of_band_changes_and_deletes() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let created = client
        .create_configured(APP, &twingate_create("key", "acme"))
        .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/_sim/apps/{APP}/connectors/{id}");
    let (status, changed) = sim
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"userIds": ["ui-user"], "displayName": "Renamed in UI", "settings": {"twingate_domain": "changed"}})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["settings"]["twingate_apikey"], "REDACTED");
    let now = client.get_connector(APP, id).await;
    assert_eq!(now["userIds"], json!(["ui-user"]));
    assert_eq!(now["displayName"], "Renamed in UI");
    assert_eq!(
        now["config"]["configuration"]["twingate_domain"]["stringValue"],
        "changed"
    );
    assert!(now["updatedAt"].as_str() > created["updatedAt"].as_str());

    let (status, _) = sim
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"settings": {"bogus": "x"}})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = sim.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(client.get(APP, id).await.status, 404);
    let (status, _) = sim.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_connector_being_deleted_reads_with_deleted_at_and_nothing_else_sees_it() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let created = client
        .create_configured(APP, &twingate_create("key", "acme"))
        .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/_sim/apps/{APP}/connectors/{id}?soft=true");
    let (status, _) = sim.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, 200);

    let read = client.get_connector(APP, id).await;
    assert!(read["deletedAt"].is_string(), "{read}");
    let list = client.list(APP).await;
    assert_eq!(list["list"], json!([]), "{list}");
    let update = json!({"connector": {"id": id, "appId": APP, "config": env_config(&[("twingate_apikey", "k2"), ("twingate_domain", "acme")])}, "updateMask": "config"});
    let answer = client
        .call(
            Method::POST,
            &format!("/api/v1/apps/{APP}/connectors/{id}"),
            Some("c1.api.app.v1.ConnectorServiceUpdateRequestInput"),
            Some(&update),
        )
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    // Deleting it through the API finishes the job.
    let answer = client
        .call(
            Method::DELETE,
            &format!("/api/v1/apps/{APP}/connectors/{id}"),
            Some("c1.api.app.v1.ConnectorServiceDeleteRequestInput"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(client.get(APP, id).await.status, 404);
}

#[tokio::test]
async fn admin_apps_and_state_view() {
    let sim = Sim::start().await;
    let (status, app) = sim
        .admin(
            Method::POST,
            "/_sim/apps",
            Some(json!({"id": "chosen-app", "displayName": "Chosen"})),
        )
        .await;
    assert_eq!(status, 200, "{app}");
    assert_eq!(app["id"], "chosen-app");
    let (status, _) = sim
        .admin(
            Method::POST,
            "/_sim/apps",
            Some(json!({"id": "chosen-app"})),
        )
        .await;
    assert_eq!(status, 409);

    let client = sim.login().await;
    client
        .create_configured(
            "chosen-app",
            &json!({"catalogId": TORQ, "config": env_config(&[("torq_client_id", "id-1"), ("torq_client_secret", "torq-secret")])}),
        )
        .await;
    let (status, state) = sim.admin(Method::GET, "/_sim/state", None).await;
    assert_eq!(status, 200);
    let text = state.to_string();
    assert!(!text.contains("torq-secret"));
    let connector = &state["connectors"][0];
    assert_eq!(
        connector["settings"],
        json!({"torq_client_id": "id-1", "torq_client_secret": "REDACTED"})
    );
    let app_ids: Vec<&str> = state["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(app_ids, vec![APP, "chosen-app"]);
    assert!(state["clients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == client.creds.client_id.as_str()));
    assert!(!text.contains(&client.creds.client_secret));
    let empty: Value = sim.admin(Method::GET, "/_sim/nope", None).await.1;
    assert_error_body(&empty, 404);
}

#[tokio::test]
async fn a_fault_after_handling_loses_the_answer_but_keeps_the_effect() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let (status, _) = sim
        .admin(
            Method::PUT,
            "/_sim/faults",
            Some(json!({"fail_5xx_every": 1, "path_contains": "/connectors/create", "after_handling": true})),
        )
        .await;
    assert_eq!(status, 200);
    let mut body = twingate_create("key", "acme");
    body["description"] = json!("marker-42");
    let answer = client
        .call(
            Method::POST,
            &format!("/api/v1/apps/{APP}/connectors/create"),
            Some("c1.api.app.v1.ConnectorServiceCreateRequestInput"),
            Some(&body),
        )
        .await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    let list = client.list(APP).await;
    let connectors = list["list"].as_array().unwrap();
    assert_eq!(connectors.len(), 1, "the create was carried out: {list}");
    assert_eq!(connectors[0]["connector"]["description"], "marker-42");
}

#[tokio::test]
async fn a_call_can_land_late_after_its_answer_was_lost() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let (status, faults) = sim
        .admin(
            Method::PUT,
            "/_sim/faults",
            Some(json!({
                "fail_5xx_every": 1,
                "fail_statuses": [500, 504],
                "path_contains": "/connectors/create",
                "after_handling": true,
                "land_late_ms": 600,
            })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(faults["land_late_ms"], 600);
    let mut statuses = Vec::new();
    for marker in ["late-1", "late-2"] {
        let mut body = twingate_create("key", "acme");
        body["description"] = json!(marker);
        let answer = client
            .call(
                Method::POST,
                &format!("/api/v1/apps/{APP}/connectors/create"),
                Some("c1.api.app.v1.ConnectorServiceCreateRequestInput"),
                Some(&body),
            )
            .await;
        statuses.push(answer.status);
    }
    assert_eq!(statuses, [500, 504], "the listed statuses in turn");
    let list = client.list(APP).await;
    assert!(
        list["list"].as_array().is_none_or(|l| l.is_empty()),
        "answered before carried out: {list}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let list = client.list(APP).await;
        let landed: Vec<_> = list["list"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|c| c["connector"]["description"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        if landed.len() == 2 {
            assert!(landed.contains(&"late-1".to_string()), "{landed:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never landed: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
