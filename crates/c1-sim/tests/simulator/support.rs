//! Test support: an in-process simulator, a C1-style HTTP client of its own (assertions signed
//! with `c1_contract::jws`, never the provider's client), and a JSON Schema validator over the
//! OpenAPI subset's component schemas.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use c1_contract::integrations::{Integration as _, Segment, Torq, Twingate};
use c1_contract::{client_secret, jws, token_endpoint};
use c1_sim::{MintedCredentials, ServeOptions, Server};
use ed25519_dalek::SigningKey;
use reqwest::Method;
use serde_json::{json, Value};

pub const TWINGATE: &str = Twingate::CATALOG_ID;
pub const TORQ: &str = Torq::CATALOG_ID;
pub const SEGMENT: &str = Segment::CATALOG_ID;
pub const ENV_CONFIG: &str = c1_contract::ENV_CONFIG_TYPE;
pub const APP: &str = "app-under-test";

// ----- schemas -----

fn openapi_components() -> &'static Value {
    static COMPONENTS: OnceLock<Value> = OnceLock::new();
    COMPONENTS.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contract/openapi.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let document: Value = serde_yaml::from_str(&text).expect("OpenAPI YAML parses");
        let mut components = document["components"].clone();
        close_objects(&mut components);
        components
    })
}

/// Makes every object schema that lists its properties (and does not say otherwise) reject
/// properties it does not list, so the tests catch fields the simulator invents.
fn close_objects(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (key, child) in map.iter_mut() {
                if key != "example" && key != "default" {
                    close_objects(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// Validates `instance` against `#/components/schemas/<name>`; panics with every error found.
pub fn assert_schema(name: &str, instance: &Value) {
    static VALIDATORS: OnceLock<Mutex<HashMap<String, &'static jsonschema::Validator>>> =
        OnceLock::new();
    let validator = {
        let mut cache = VALIDATORS.get_or_init(Default::default).lock().unwrap();
        *cache.entry(name.to_owned()).or_insert_with(|| {
            let components = openapi_components();
            assert!(
                components["schemas"].get(name).is_some(),
                "no schema {name} in the OpenAPI subset"
            );
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#/components/schemas/{name}"),
                "components": components,
            });
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("schema {name} does not compile: {e}"));
            Box::leak(Box::new(validator))
        })
    };
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "body does not match {name}:\n{}\nbody: {instance:#}",
        errors.join("\n")
    );
}

/// Validates a C1 error body: `{"code": int, "message": string, "details": []}`.
pub fn assert_error_body(body: &Value, http_status: u16) {
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("error body {body}"));
    let code = object["code"].as_i64().expect("code is an integer");
    assert!(object["message"].is_string(), "{body}");
    assert!(object["details"].is_array(), "{body}");
    let expected = match http_status {
        400 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        405 => 12,
        409 => 6,
        413 | 429 => 8,
        500 => 13,
        502 | 503 => 14,
        504 => 4,
        other => panic!("unexpected status {other}"),
    };
    assert_eq!(code, expected, "grpc code for HTTP {http_status}: {body}");
}

// ----- signing -----

/// The Ed25519 key inside a C1 client secret.
pub fn signing_key_from_secret(secret: &str) -> SigningKey {
    client_secret::decode(secret).expect("a C1 client secret")
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims as C1 clients send them: iss = sub = client id, aud, iat, nbf = now-2m, exp = now+2m.
pub fn standard_claims(client_id: &str, aud: &str) -> Value {
    token_endpoint::assertion_claims(client_id, aud, unix_now() as u64)
}

/// A compact JWS with header `{"alg":"EdDSA","nonce":...}`.
pub fn sign_assertion(key: &SigningKey, claims: &Value) -> String {
    let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
    let mut header = serde_json::Map::new();
    header.insert("nonce".into(), Value::String(nonce));
    jws::sign(header, claims, key)
}

// ----- harness -----

pub struct Sim {
    pub server: Server,
    pub http: reqwest::Client,
    pub base: String,
}

pub fn fast_options() -> ServeOptions {
    ServeOptions {
        seed_apps: vec![APP.to_owned()],
        sync_delay: Duration::from_millis(200),
        ..ServeOptions::default()
    }
}

impl Sim {
    pub async fn start() -> Sim {
        Sim::start_with(fast_options()).await
    }

    pub async fn start_with(options: ServeOptions) -> Sim {
        let server = Server::start(options).await.expect("simulator starts");
        let base = server.base_url().to_owned();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Sim { server, http, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn host(&self) -> String {
        let addr = self.server.addr();
        addr.ip().to_string()
    }

    /// Mints credentials through the admin API.
    pub async fn mint(&self) -> MintedCredentials {
        let response = self
            .http
            .post(self.url("/_sim/clients"))
            .json(&json!({"name": "tests"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// POSTs a form to the token endpoint; returns status and JSON body.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(token_endpoint::PATH))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn token_with_assertion(&self, client_id: &str, assertion: &str) -> (u16, Value) {
        self.token_request(&[
            ("grant_type", token_endpoint::GRANT_CLIENT_CREDENTIALS),
            ("client_id", client_id),
            (
                "client_assertion_type",
                token_endpoint::ASSERTION_TYPE_JWT_BEARER,
            ),
            ("client_assertion", assertion),
        ])
        .await
    }

    /// A fresh client and an access token for it.
    pub async fn login(&self) -> Client<'_> {
        let creds = self.mint().await;
        let token = self.token_for(&creds).await;
        Client {
            sim: self,
            token,
            creds,
        }
    }

    pub async fn token_for(&self, creds: &MintedCredentials) -> String {
        let key = signing_key_from_secret(&creds.client_secret);
        let assertion = sign_assertion(&key, &standard_claims(&creds.client_id, &self.host()));
        let (status, body) = self
            .token_with_assertion(&creds.client_id, &assertion)
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["expires_in"].as_u64().unwrap() > 0);
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn request_log(&self) -> Vec<Value> {
        let (status, body) = self.admin(Method::GET, "/_sim/requests", None).await;
        assert_eq!(status, 200);
        body.as_array().unwrap().clone()
    }
}

/// An authenticated caller of the C1 API.
pub struct Client<'a> {
    pub sim: &'a Sim,
    pub token: String,
    pub creds: MintedCredentials,
}

/// An answer: status and parsed JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Client<'_> {
    /// Sends `body` (validated against `request_schema` first, when given).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        request_schema: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        if let (Some(schema), Some(body)) = (request_schema, body) {
            assert_schema(schema, body);
        }
        let mut request = self
            .sim
            .http
            .request(method, self.sim.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text:?}"));
        if status != 200 {
            assert_error_body(&body, status);
        }
        Answer {
            status,
            body,
            headers,
        }
    }

    /// Calls and validates a 200 answer against `response_schema`.
    pub async fn ok(
        &self,
        method: Method,
        path: &str,
        request_schema: Option<&str>,
        body: Option<&Value>,
        response_schema: &str,
    ) -> Value {
        let answer = self.call(method, path, request_schema, body).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert_schema(response_schema, &answer.body);
        answer.body
    }

    pub async fn create_configured(&self, app: &str, body: &Value) -> Value {
        let answer = self
            .ok(
                Method::POST,
                &format!("/api/v1/apps/{app}/connectors/create"),
                Some("c1.api.app.v1.ConnectorServiceCreateRequestInput"),
                Some(body),
                "c1.api.app.v1.ConnectorServiceCreateResponse",
            )
            .await;
        answer["connectorView"]["connector"].clone()
    }

    pub async fn create_delegated(&self, app: &str, body: &Value) -> Value {
        let answer = self
            .ok(
                Method::POST,
                &format!("/api/v1/apps/{app}/connectors"),
                Some("c1.api.app.v1.ConnectorServiceCreateDelegatedRequestInput"),
                Some(body),
                "c1.api.app.v1.ConnectorServiceCreateResponse",
            )
            .await;
        answer["connectorView"]["connector"].clone()
    }

    pub async fn get(&self, app: &str, id: &str) -> Answer {
        let answer = self
            .call(
                Method::GET,
                &format!("/api/v1/apps/{app}/connectors/{id}"),
                None,
                None,
            )
            .await;
        if answer.status == 200 {
            assert_schema("c1.api.app.v1.ConnectorServiceGetResponse", &answer.body);
        }
        answer
    }

    /// An update (`delegated`: through `/delegated`), both bodies validated; returns the
    /// updated connector.
    pub async fn update(&self, app: &str, id: &str, delegated: bool, body: &Value) -> Value {
        let (suffix, request_schema) = if delegated {
            (
                "/delegated",
                "c1.api.app.v1.ConnectorServiceUpdateDelegatedRequestInput",
            )
        } else {
            ("", "c1.api.app.v1.ConnectorServiceUpdateRequestInput")
        };
        let answer = self
            .ok(
                Method::POST,
                &format!("/api/v1/apps/{app}/connectors/{id}{suffix}"),
                Some(request_schema),
                Some(body),
                "c1.api.app.v1.ConnectorServiceUpdateResponse",
            )
            .await;
        answer["connectorView"]["connector"].clone()
    }

    /// The first page of an app's connectors (a validated `ConnectorServiceListResponse`).
    pub async fn list(&self, app: &str) -> Value {
        self.ok(
            Method::GET,
            &format!("/api/v1/apps/{app}/connectors"),
            None,
            None,
            "c1.api.app.v1.ConnectorServiceListResponse",
        )
        .await
    }

    pub async fn get_connector(&self, app: &str, id: &str) -> Value {
        let answer = self.get(app, id).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["connectorView"]["connector"].clone()
    }
}

/// A config envelope with these settings.
pub fn env_config(settings: &[(&str, &str)]) -> Value {
    let configuration: serde_json::Map<String, Value> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), json!({ "stringValue": v })))
        .collect();
    json!({ "@type": ENV_CONFIG, "configuration": configuration })
}

pub fn twingate_create(api_key: &str, domain: &str) -> Value {
    json!({
        "catalogId": TWINGATE,
        "config": env_config(&[("twingate_apikey", api_key), ("twingate_domain", domain)]),
    })
}

/// Polls a connector until its sync status is not RUNNING.
pub async fn wait_for_sync(client: &Client<'_>, app: &str, id: &str) -> Value {
    for _ in 0..100 {
        let connector = client.get_connector(app, id).await;
        if connector["status"]["status"] != "SYNC_STATUS_RUNNING" {
            return connector;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("connector {id} never finished syncing");
}

#[test]
fn schema_validation_catches_mismatches() {
    let name = "c1.api.app.v1.ConnectorServiceGetResponse";
    let good = json!({"connectorView": {"connector": {"id": "x", "createdAt": "2026-11-23T21:54:00Z", "userIds": ["u"]}}});
    assert_schema(name, &good);
    let bad_cases = [
        json!({"connectorView": {"connector": {"invented": true}}}),
        json!({"connectorView": {"connector": {"createdAt": "yesterday"}}}),
        json!({"connectorView": {"connector": {"userIds": "u"}}}),
        json!({"connectorView": {"connector": {"status": {"status": "SYNC_STATUS_GREAT"}}}}),
    ];
    for bad in bad_cases {
        let result = std::panic::catch_unwind(|| assert_schema(name, &bad));
        assert!(result.is_err(), "accepted {bad}");
    }
}
