//! The client against the real simulator (`c1-sim`, in process): the same wire contract a real
//! C1 tenant speaks, including its authentication, paging and error bodies.

use std::time::Duration;

use c1_client::{
    ClientConfig, ClientError, ConnectorClient, ConnectorSettings, CreateConfigured,
    CreateDelegated, Credentials, RetryPolicy, SigningKey,
};
use c1_contract::integrations::{Baton, Integration as _, Segment, Twingate};
use c1_sim::{ServeOptions, Server};

const TWINGATE: &str = Twingate::CATALOG_ID;
const SEGMENT: &str = Segment::CATALOG_ID;

async fn start(options: ServeOptions) -> (Server, ConnectorClient) {
    let server = Server::start(ServeOptions {
        seed_apps: vec!["app1".into()],
        sync_delay: Duration::from_millis(50),
        ..options
    })
    .await
    .expect("simulator starts");
    let creds = server.mint_client("client-tests");
    let client =
        ConnectorClient::new(config(&server, creds.client_id, &creds.client_secret)).unwrap();
    (server, client)
}

/// The configuration for a client of `server` with these credentials.
fn config(server: &Server, client_id: String, client_secret: &str) -> ClientConfig {
    ClientConfig {
        base_url: server.base_url().parse().unwrap(),
        credentials: Credentials::ClientCredentials {
            client_id,
            key: SigningKey::from_client_secret(client_secret)
                .expect("the simulator's secrets are C1 client secrets"),
        },
        retry: RetryPolicy::fast(),
        user_agent: "c1-client-tests/1".to_string(),
    }
}

fn twingate(domain: &str) -> ConnectorSettings {
    ConnectorSettings(
        [
            ("twingate_apikey".to_string(), "tg-SECRET".to_string()),
            ("twingate_domain".to_string(), domain.to_string()),
        ]
        .into(),
    )
}

#[tokio::test]
async fn connector_lifecycle_against_the_simulator() {
    let (server, client) = start(ServeOptions::default()).await;
    let created = client
        .create_configured(
            "app1",
            &CreateConfigured {
                catalog_id: TWINGATE.into(),
                user_ids: Some(vec!["u1".into()]),
                settings: twingate("acme"),
                description: Some("marker".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(created.id.len(), 27);
    assert_eq!(created.catalog_id, TWINGATE);
    assert_eq!(created.user_ids, ["u1"]);
    assert_eq!(created.description, "marker");
    // Secrets are not echoed back; the rest is.
    let read = client.get("app1", &created.id).await.unwrap().unwrap();
    let settings = read.settings.unwrap().0;
    assert_eq!(
        settings.get("twingate_domain").map(String::as_str),
        Some("acme")
    );
    assert!(!settings.contains_key("twingate_apikey"));
    assert!(read.created_at.unwrap().ends_with('Z'));

    let updated = client
        .update_config("app1", &created.id, &twingate("acme-2"))
        .await
        .unwrap();
    assert_eq!(
        updated
            .settings
            .unwrap()
            .0
            .get("twingate_domain")
            .map(String::as_str),
        Some("acme-2")
    );
    assert!(updated.updated_at > created.updated_at, "updatedAt moves");
    let owners = client
        .update_owners(
            "app1",
            &created.id,
            &read.display_name,
            &["u2".into(), "u3".into()],
        )
        .await
        .unwrap();
    assert_eq!(owners.user_ids, ["u2", "u3"]);

    client.delete("app1", &created.id).await.unwrap();
    assert_eq!(client.get("app1", &created.id).await.unwrap(), None);
    client
        .delete("app1", &created.id)
        .await
        .expect("deleting what is gone is not an error");
    server.shutdown().await;
}

#[tokio::test]
async fn list_follows_pages_and_unknown_apps_are_404() {
    let (server, client) = start(ServeOptions::default()).await;
    let mut ids = Vec::new();
    for _ in 0..120 {
        let c = client
            .create_delegated(
                "app1",
                &CreateDelegated {
                    catalog_id: SEGMENT.into(),
                    display_name: "Segment".into(),
                    user_ids: None,
                    description: None,
                },
            )
            .await
            .unwrap();
        ids.push(c.id);
    }
    let mut listed: Vec<String> = client
        .list("app1")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);
    let err = client.list("no-such-app").await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn expired_tokens_are_renewed_and_bad_credentials_are_named() {
    let (server, client) = start(ServeOptions {
        token_ttl: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    client.list("app1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client
        .list("app1")
        .await
        .expect("an expired token is renewed, not reported");

    // A well-formed secret the simulator does not know.
    let stranger = c1_sim::mint_credentials("stranger", "sim").1;
    let err = ConnectorClient::new(config(&server, stranger.client_id, &stranger.client_secret))
        .unwrap()
        .list("app1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Unauthenticated { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("invalid_client"), "{text}");
    assert!(!text.contains(&stranger.client_secret));
    server.shutdown().await;
}

#[tokio::test]
async fn apps_against_the_simulator() {
    use c1_client::{AppSearch, AppUpdate, CreateApp};
    let (server, client) = start(ServeOptions {
        seed_discovered_apps: vec!["Torq".into()],
        ..ServeOptions::default()
    })
    .await;
    let apps = client.apps();
    let created = apps
        .create(&CreateApp {
            display_name: "Payroll".into(),
            description: Some("Pays people".into()),
        })
        .await
        .unwrap();
    assert_eq!(created.id.len(), 27);
    assert!(created.is_manually_managed);
    assert_eq!(
        apps.get(&created.id).await.unwrap().as_ref(),
        Some(&created)
    );

    let renamed = apps
        .update(
            &created.id,
            &AppUpdate {
                display_name: Some("Payroll EU".into()),
                description: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.display_name, "Payroll EU");
    assert_eq!(renamed.description, "Pays people", "not in the mask: kept");
    assert!(renamed.updated_at > created.updated_at);

    // The discovered app: found by name in any case, not manually managed, under its directory.
    let torq = apps
        .search(&AppSearch {
            display_name: Some("TORQ".into()),
            ..AppSearch::default()
        })
        .await
        .unwrap();
    assert_eq!(torq.len(), 1);
    assert!(!torq[0].is_manually_managed);
    let directories = apps
        .search(&AppSearch {
            only_directories: true,
            ..AppSearch::default()
        })
        .await
        .unwrap();
    assert_eq!(directories.len(), 1);
    assert_eq!(torq[0].parent_app_id, directories[0].id);

    // More matches than one page holds: every one, once.
    for i in 0..130 {
        apps.create(&CreateApp {
            display_name: format!("Paged {i:03}"),
            description: None,
        })
        .await
        .unwrap();
    }
    let paged = apps
        .search(&AppSearch {
            query: Some("paged".into()),
            ..AppSearch::default()
        })
        .await
        .unwrap();
    let names: Vec<String> = paged.into_iter().map(|a| a.display_name).collect();
    let want: Vec<String> = (0..130).map(|i| format!("Paged {i:03}")).collect();
    assert_eq!(names, want);
    assert_eq!(apps.list().await.unwrap().len(), 130 + 4);

    apps.delete(&created.id).await.unwrap();
    assert_eq!(apps.get(&created.id).await.unwrap(), None);
    apps.delete(&created.id).await.unwrap();
    drop(server);
}

#[tokio::test]
async fn connector_credentials_rotate_read_authenticate_and_revoke() {
    let (server, client) = start(ServeOptions::default()).await;
    let baton = client
        .create_delegated(
            "app1",
            &CreateDelegated {
                catalog_id: Baton::CATALOG_ID.into(),
                display_name: "Baton".into(),
                user_ids: None,
                description: None,
            },
        )
        .await
        .unwrap();
    let rotated = client.rotate_credential("app1", &baton.id).await.unwrap();
    assert_eq!(rotated.app_id, "app1");
    assert_eq!(rotated.connector_id, baton.id);
    let secret = rotated.client_secret.clone().expect("a secret at rotation");
    assert!(rotated.created_at.is_some() && rotated.deleted_at.is_none());

    let read = client
        .get_credential("app1", &baton.id, &rotated.id)
        .await
        .unwrap()
        .expect("the credential");
    assert_eq!(read.client_id, rotated.client_id);
    assert_eq!(read.client_secret, None, "reads never return the secret");

    // The credential authenticates like an API credential (what a self-hosted connector does).
    let as_connector = |secret: &str| {
        ConnectorClient::new(config(&server, rotated.client_id.clone(), secret)).unwrap()
    };
    as_connector(secret.expose())
        .get("app1", &baton.id)
        .await
        .expect("a token for the connector credential");
    let used = client
        .get_credential("app1", &baton.id, &rotated.id)
        .await
        .unwrap()
        .unwrap();
    assert!(used.last_used_at.is_some());

    client
        .revoke_credential("app1", &baton.id, &rotated.id)
        .await
        .unwrap();
    assert_eq!(
        client
            .get_credential("app1", &baton.id, &rotated.id)
            .await
            .unwrap(),
        None
    );
    // Revoking again is fine (404 is success for a revoke).
    client
        .revoke_credential("app1", &baton.id, &rotated.id)
        .await
        .unwrap();
    let refused = as_connector(secret.expose())
        .get("app1", &baton.id)
        .await
        .unwrap_err();
    assert!(refused.is_unauthenticated(), "{refused}");

    let missing = client
        .rotate_credential("app1", "2NoSuchConnector0000000000")
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
}
