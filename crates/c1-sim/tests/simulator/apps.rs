//! Apps as a client sees them: create, read, update with a mask, search with paging, apps
//! discovered through the identity provider, and out-of-band changes; every body schema-checked.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

const APP_SCHEMA_CREATE: &str = "c1.api.app.v1.CreateAppRequest";
const SEARCH_REQUEST: &str = "c1.api.app.v1.SearchAppsRequest";
const SEARCH_RESPONSE: &str = "c1.api.app.v1.SearchAppsResponse";

async fn create_app(client: &Client<'_>, body: Value) -> Value {
    client
        .ok(
            Method::POST,
            "/api/v1/apps",
            Some(APP_SCHEMA_CREATE),
            Some(&body),
            "c1.api.app.v1.CreateAppResponse",
        )
        .await["app"]
        .clone()
}

async fn search(client: &Client<'_>, body: Value) -> Value {
    client
        .ok(
            Method::POST,
            "/api/v1/search/apps",
            Some(SEARCH_REQUEST),
            Some(&body),
            SEARCH_RESPONSE,
        )
        .await
}

/// Every page of a search, following `nextPageToken`: (display names, pages).
async fn search_all(client: &Client<'_>, mut body: Value) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let page = search(client, body.clone()).await;
        pages += 1;
        names.extend(
            page["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["displayName"].as_str().unwrap().to_owned()),
        );
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            None => return (names, pages),
            Some(token) => body["pageToken"] = json!(token),
        }
        assert!(pages < 50, "paging never ends");
    }
}

#[tokio::test]
async fn a_created_app_is_manually_managed_and_reads_back_whole() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let app = create_app(
        &client,
        json!({"displayName": "Payroll", "description": "Pays people", "monthlyCostUsd": 12}),
    )
    .await;
    assert_eq!(app["displayName"], "Payroll");
    assert_eq!(app["description"], "Pays people");
    assert_eq!(app["isManuallyManaged"], true);
    assert_eq!(app["isDirectory"], false);
    assert_eq!(app["parentAppId"], "");
    assert_eq!(app["monthlyCostUsd"], 12);
    assert_eq!(app["userCount"], "0", "an int64 travels as a string");
    assert_eq!(app["identityMatching"], "APP_USER_IDENTITY_MATCHING_STRICT");
    let id = app["id"].as_str().unwrap();
    let got = client
        .ok(
            Method::GET,
            &format!("/api/v1/apps/{id}"),
            None,
            None,
            "c1.api.app.v1.GetAppResponse",
        )
        .await;
    assert_eq!(got["app"], app);
}

#[tokio::test]
async fn update_changes_only_what_the_mask_names() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let app = create_app(
        &client,
        json!({"displayName": "Old", "description": "kept"}),
    )
    .await;
    let id = app["id"].as_str().unwrap();
    let path = format!("/api/v1/apps/{id}");
    let body = json!({
        "app": {"id": id, "displayName": "New", "description": "ignored: not in the mask"},
        "updateMask": "displayName",
    });
    let updated = client
        .ok(
            Method::POST,
            &path,
            Some("c1.api.app.v1.UpdateAppRequestInput"),
            Some(&body),
            "c1.api.app.v1.UpdateAppResponse",
        )
        .await["app"]
        .clone();
    assert_eq!(updated["displayName"], "New");
    assert_eq!(updated["description"], "kept");
    assert_eq!(updated["createdAt"], app["createdAt"]);
    assert!(updated["updatedAt"].as_str() > app["updatedAt"].as_str());

    let both = json!({
        "app": {"displayName": "Newer", "description": ""},
        "updateMask": "displayName,description",
    });
    let updated = client
        .ok(
            Method::POST,
            &path,
            Some("c1.api.app.v1.UpdateAppRequestInput"),
            Some(&both),
            "c1.api.app.v1.UpdateAppResponse",
        )
        .await["app"]
        .clone();
    assert_eq!(
        (
            updated["displayName"].clone(),
            updated["description"].clone()
        ),
        (json!("Newer"), json!(""))
    );

    for (body, status) in [
        (json!({"app": {"displayName": "x"}}), 400),
        (
            json!({"app": {"displayName": "x"}, "updateMask": "isDirectory"}),
            400,
        ),
        (
            json!({"app": {"displayName": ""}, "updateMask": "displayName"}),
            400,
        ),
        (
            json!({"app": {"id": "other", "displayName": "x"}, "updateMask": "displayName"}),
            400,
        ),
    ] {
        let answer = client.call(Method::POST, &path, None, Some(&body)).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
    }
    let missing = client
        .call(
            Method::POST,
            "/api/v1/apps/nope",
            None,
            Some(&json!({"app": {"displayName": "x"}, "updateMask": "displayName"})),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn search_filters_by_name_query_ids_and_directories() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let a = create_app(
        &client,
        json!({"displayName": "Torq", "description": "automation"}),
    )
    .await;
    let b = create_app(
        &client,
        json!({"displayName": "TORQ", "description": "second"}),
    )
    .await;
    create_app(
        &client,
        json!({"displayName": "Torque wrench", "description": "tools"}),
    )
    .await;
    create_app(
        &client,
        json!({"displayName": "Segment", "description": "Analytics events"}),
    )
    .await;
    let (status, okta) = sim
        .admin(
            Method::POST,
            "/_sim/apps",
            Some(json!({"displayName": "Okta", "isDirectory": true, "isManuallyManaged": false})),
        )
        .await;
    assert_eq!(status, 200, "{okta}");
    assert_schema("c1.api.app.v1.App", &okta);

    let names = |v: &Value| -> Vec<String> {
        v["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["displayName"].as_str().unwrap().to_owned())
            .collect()
    };
    // displayName: case-insensitive, the whole name.
    let found = search(&client, json!({"displayName": "torq"})).await;
    assert_eq!(names(&found), ["Torq", "TORQ"]);
    assert_eq!(found["nextPageToken"], "");
    // query: every word, in the name or the description.
    assert_eq!(
        names(&search(&client, json!({"query": "torq"})).await),
        ["Torq", "TORQ", "Torque wrench"]
    );
    assert_eq!(
        names(&search(&client, json!({"query": "analytics EVENTS"})).await),
        ["Segment"]
    );
    // appIds narrows, excludeAppIds removes.
    assert_eq!(
        names(&search(&client, json!({"displayName": "Torq", "appIds": [b["id"]]})).await),
        ["TORQ"]
    );
    assert_eq!(
        names(
            &search(
                &client,
                json!({"displayName": "Torq", "excludeAppIds": [a["id"]]})
            )
            .await
        ),
        ["TORQ"]
    );
    assert_eq!(
        names(&search(&client, json!({"onlyDirectories": true})).await),
        ["Okta"]
    );
    // Policies are not modelled: a policy filter matches nothing.
    assert!(names(&search(&client, json!({"policyRefs": [{"id": "p1"}]})).await).is_empty());
    assert!(names(&search(&client, json!({"displayName": "nothing"})).await).is_empty());
    let log = sim.request_log().await;
    assert!(log
        .iter()
        .any(|e| e["operation"] == "AppSearch.Search" && e["path"] == "/api/v1/search/apps"));
}

#[tokio::test]
async fn search_pages_follow_next_page_tokens_to_the_end() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    for i in 0..23 {
        create_app(&client, json!({"displayName": format!("Paged {i:02}")})).await;
    }
    // A page size below 10 is taken as 10: 23 apps in 3 pages, each app once, in order.
    let (names, pages) = search_all(&client, json!({"query": "paged", "pageSize": 3})).await;
    assert_eq!(pages, 3);
    let want: Vec<String> = (0..23).map(|i| format!("Paged {i:02}")).collect();
    assert_eq!(names, want);
    // No page size: 25 per page.
    let (names, pages) = search_all(&client, json!({"query": "paged"})).await;
    assert_eq!((names.len(), pages), (23, 1));
    let bad = client
        .call(
            Method::POST,
            "/api/v1/search/apps",
            None,
            Some(&json!({"pageToken": "garbage!"})),
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn discovered_apps_are_seeded_unmanaged_under_their_directory() {
    let mut options = fast_options();
    options.seed_discovered_apps = vec!["Torq".into(), "Segment".into()];
    options.seed_apps.push("analytics=Analytics".into());
    let sim = Sim::start_with(options).await;
    let client = sim.login().await;
    let torq = search(&client, json!({"displayName": "Torq"})).await["list"][0].clone();
    assert_eq!(torq["isManuallyManaged"], false);
    let directory = search(&client, json!({"onlyDirectories": true})).await["list"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(directory.len(), 1, "one identity provider for all of them");
    assert_eq!(directory[0]["displayName"], c1_sim::SEED_DIRECTORY);
    assert_eq!(torq["parentAppId"], directory[0]["id"]);
    // Listing shows the seeded apps next to the plain ones.
    let listed = client
        .ok(
            Method::GET,
            "/api/v1/apps?page_size=100",
            None,
            None,
            "c1.api.app.v1.ListAppsResponse",
        )
        .await;
    assert_eq!(listed["list"].as_array().unwrap().len(), 5);
    // A seeded app named apart from its id: made by hand.
    let analytics = search(&client, json!({"displayName": "analytics"})).await["list"][0].clone();
    assert_eq!(analytics["id"], "analytics");
    assert_eq!(analytics["isManuallyManaged"], true);
}

#[tokio::test]
async fn apps_change_and_go_out_of_band_through_the_admin_api() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let app = create_app(&client, json!({"displayName": "Before"})).await;
    let id = app["id"].as_str().unwrap();
    let connector = client
        .create_configured(id, &twingate_create("k", "acme"))
        .await;
    let (status, patched) = sim
        .admin(
            Method::PATCH,
            &format!("/_sim/apps/{id}"),
            Some(json!({"displayName": "After"})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["displayName"], "After");
    let (status, _) = sim
        .admin(Method::DELETE, &format!("/_sim/apps/{id}"), None)
        .await;
    assert_eq!(status, 200);
    let gone = client
        .call(Method::GET, &format!("/api/v1/apps/{id}"), None, None)
        .await;
    assert_eq!(gone.status, 404);
    let connector_gone = client.get(id, connector["id"].as_str().unwrap()).await;
    assert_eq!(connector_gone.status, 404, "its connectors went with it");
}
