//! Proof that a fourth integration is one declaration: `Example` below is declared once (catalog
//! id, display name, settings type) and is never registered anywhere; the schema export, the
//! provider's generic resource and the simulator each take it from the declaration alone.

use std::time::Duration;

use c1_contract::integrations::{Integration, TRIMMED_PATTERN};
use c1_sim::{Catalog, ServeOptions, Server};
use serde_json::{json, Value as Json};
use tf_provider::value::Value;
use tf_provider::{Diagnostics, Provider, Resource};

use crate::provider::tests::{expected, shape};
use crate::provider::{ConductorOneProvider, ProviderConfig};
use crate::resource::IntegrationState;
use crate::settings_schema::published;

/// The whole declaration of the fourth integration.
struct Example;

#[derive(schemars::JsonSchema)]
#[allow(dead_code)] // read through its JSON Schema, never as a Rust value
struct ExampleSettings {
    /// Region of the Example account, e.g. `eu-1`.
    #[schemars(
        length(min = 1),
        pattern(TRIMMED_PATTERN),
        extend("errorMessage" = "must not start or end with white space")
    )]
    example_region: Option<String>,

    /// API token of the Example account.
    #[schemars(extend("writeOnly" = true))]
    example_token: Option<String>,
}

impl Integration for Example {
    type Settings = ExampleSettings;
    const NAME: &'static str = "example";
    const DISPLAY_NAME: &'static str = "Example";
    const CATALOG_ID: &'static str = "2ExampleCatalogEntry0000000";
    const SYNC_FAILURE_HINT: &'static str =
        "Check `example_token`: it must be a token of the Example account in `example_region`.";
}

/// A resource block of the example integration in app `app_id`.
fn config(app_id: &str, settings: &[(&str, &str)]) -> IntegrationState {
    let mut state = IntegrationState {
        app_id: Value::Value(app_id.into()),
        ..IntegrationState::default()
    };
    for (name, value) in settings {
        state
            .settings
            .insert(name.to_string(), Value::Value(value.to_string()));
    }
    state
}

fn setting(state: &IntegrationState, name: &str) -> Value<String> {
    state.settings.get(name).cloned().unwrap_or_default()
}

#[test]
fn the_schema_export_publishes_it_with_the_secret_marked() {
    let (path, text) = published::schema_file::<Example>();
    assert!(path.ends_with("schemas/example.schema.json"), "{path:?}");
    let document: Json = serde_json::from_str(&text).unwrap();
    assert_eq!(document["title"], "conductorone_integration_example");
    assert!(document["description"].as_str().unwrap().contains(
        "Example integration (a C1 connector of catalog entry 2ExampleCatalogEntry0000000)"
    ));
    let properties = &document["properties"];
    assert_eq!(properties["example_token"]["writeOnly"], true);
    assert_eq!(properties["example_region"].get("writeOnly"), None);
    assert_eq!(
        properties["example_region"]["description"],
        "Region of the Example account, e.g. `eu-1`."
    );
    assert_eq!(document["additionalProperties"], false);
}

#[tokio::test]
async fn the_resource_has_its_schema_and_validates_its_settings() {
    let resource = ConductorOneProvider::new().integration_resource::<Example>();
    let schema = Resource::schema(&resource, &mut Diagnostics::default()).unwrap();
    assert_eq!(
        shape(&schema),
        expected(&[("example_region", false), ("example_token", true)])
    );
    assert!(schema.block.attributes["example_region"]
        .description
        .content
        .contains("Region of the Example account"));

    let mut diags = Diagnostics::default();
    let valid = config(
        "app1",
        &[("example_region", "eu-1"), ("example_token", "t")],
    );
    Resource::validate(&resource, &mut diags, valid).await;
    assert!(diags.errors.is_empty(), "{:?}", diags.errors);

    let padded = config("app1", &[("example_region", " eu-1")]);
    Resource::validate(&resource, &mut diags, padded).await;
    let summaries: Vec<&str> = diags.errors.iter().map(|d| d.summary.as_ref()).collect();
    assert_eq!(
        summaries,
        ["`example_region` must not start or end with white space"]
    );
}

#[tokio::test]
async fn the_simulator_serves_it_and_the_resource_manages_it() {
    const TOKEN: &str = "fourth-integration-token";
    let options = || ServeOptions {
        seed_apps: vec!["app1".into()],
        static_token: Some(TOKEN.into()),
        sync_delay: Duration::from_millis(10),
        ..ServeOptions::default()
    };
    let http = reqwest::Client::new();
    let create = |base: &str, settings: Json| {
        http.post(format!("{base}/api/v1/apps/app1/connectors/create"))
            .bearer_auth(TOKEN)
            .json(&json!({
                "catalogId": Example::CATALOG_ID,
                "config": {"@type": c1_contract::ENV_CONFIG_TYPE, "configuration": settings},
            }))
            .send()
    };

    // Without the declaration the simulator does not know the catalog entry.
    let shipped = Server::start(options()).await.unwrap();
    let answer = create(shipped.base_url(), json!({})).await.unwrap();
    assert_eq!(answer.status(), 400);
    let body: Json = answer.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown catalogId"),
        "{body}"
    );

    let sim = Server::start(ServeOptions {
        catalog: Catalog::shipped().with::<Example>(),
        ..options()
    })
    .await
    .unwrap();
    let base = sim.base_url().to_string();

    // It refuses a setting the declaration does not have.
    let answer = create(&base, json!({"example_other": {"stringValue": "x"}}))
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Json = answer.json().await.unwrap();
    assert_eq!(body["code"], 3, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("example_other"),
        "{body}"
    );

    // The provider's resource for the declaration creates a configured connector.
    let provider = ConductorOneProvider::new();
    let creds = sim.mint_client("fourth-integration");
    let mut diags = Diagnostics::default();
    let provider_block = ProviderConfig {
        server_url: Value::Value(base.clone()),
        client_id: Value::Value(creds.client_id),
        client_secret: Value::Value(creds.client_secret),
        ..ProviderConfig::default()
    };
    Provider::configure(&provider, &mut diags, "1.11.4".into(), provider_block).await;
    assert!(diags.errors.is_empty(), "{:?}", diags.errors);
    let resource = provider.integration_resource::<Example>();
    let wanted = config(
        "app1",
        &[("example_region", "eu-1"), ("example_token", "tok-SECRET")],
    );
    let (planned, _) = resource
        .plan_create(&mut diags, wanted.clone(), wanted.clone(), Value::Null)
        .await
        .unwrap();
    let (created, private) = resource
        .create(&mut diags, planned, wanted, None, Value::Null)
        .await
        .unwrap();
    assert!(diags.errors.is_empty(), "{:?}", diags.errors);
    let id = created.id.as_ref_option().cloned().expect("an id from C1");

    // C1 holds both settings but echoes only the non-secret one.
    let state: Json = http
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let connector = &state["connectors"][0];
    assert_eq!(connector["id"], id.as_str());
    assert_eq!(connector["catalogId"], Example::CATALOG_ID);
    assert_eq!(connector["displayName"], "Example");
    assert_eq!(
        connector["config"]["configuration"],
        json!({"example_region": {"stringValue": "eu-1"}})
    );
    assert_eq!(
        connector["settings"],
        json!({"example_region": "eu-1", "example_token": "REDACTED"})
    );

    // Reading keeps the secret from the state; importing cannot know it.
    let (read, _) = resource
        .read(&mut diags, created, private, Value::Null)
        .await
        .unwrap();
    assert_eq!(
        setting(&read, "example_region"),
        Value::Value("eu-1".into())
    );
    assert_eq!(
        setting(&read, "example_token"),
        Value::Value("tok-SECRET".into())
    );
    let (imported, _) = resource
        .import(&mut diags, format!("app1/{id}"))
        .await
        .unwrap();
    assert_eq!(
        setting(&imported, "example_region"),
        Value::Value("eu-1".into())
    );
    assert_eq!(setting(&imported, "example_token"), Value::Null);
    assert!(diags.errors.is_empty(), "{:?}", diags.errors);
}
