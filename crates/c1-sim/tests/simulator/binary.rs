//! The real `c1-sim` binary, HTTPS serving and `--state` persistence across restarts.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use c1_contract::token_endpoint;
use c1_sim::TlsFiles;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("c1-sim-{tag}-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Kills the child when dropped, so a failing test leaves no simulator behind.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_its_address_first_and_serves() {
    let dir = temp_dir("bin");
    let clients = dir.join("clients.json");
    let addr_file = dir.join("addr");
    let exe = env!("CARGO_BIN_EXE_c1-sim");

    let minted = Command::new(exe)
        .args(["credentials", "--clients"])
        .arg(&clients)
        .args(["--name", "ci", "--tenant", "acme"])
        .output()
        .unwrap();
    assert!(minted.status.success());
    let creds: Value = serde_json::from_slice(&minted.stdout).unwrap();
    let client_id = creds["client_id"].as_str().unwrap();
    assert!(client_id.starts_with("ci-") && client_id.ends_with("@acme.conductor.one/pcc"));

    let mut child = ChildGuard(
        Command::new(exe)
            .args([
                "serve",
                "--port",
                "0",
                "--seed-apps",
                "app-a,app-b",
                "--clients",
            ])
            .arg(&clients)
            .arg("--addr-file")
            .arg(&addr_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let base = first_line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first_line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(!base.ends_with(":0"));
    for _ in 0..50 {
        if addr_file.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(std::fs::read_to_string(&addr_file).unwrap(), base);

    // A client minted by the binary gets a token from the binary.
    let http = reqwest::Client::new();
    let key = signing_key_from_secret(creds["client_secret"].as_str().unwrap());
    let assertion = sign_assertion(&key, &standard_claims(client_id, "127.0.0.1"));
    let token: Value = http
        .post(format!("{base}{}", token_endpoint::PATH))
        .form(&[
            ("grant_type", token_endpoint::GRANT_CLIENT_CREDENTIALS),
            ("client_id", client_id),
            (
                "client_assertion_type",
                token_endpoint::ASSERTION_TYPE_JWT_BEARER,
            ),
            ("client_assertion", assertion.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().expect("access token");
    let response = http
        .get(format!("{base}/api/v1/apps/app-b/connectors"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_schema(
        "c1.api.app.v1.ConnectorServiceListResponse",
        &response.json().await.unwrap(),
    );
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_explains_every_flag() {
    let exe = env!("CARGO_BIN_EXE_c1-sim");
    let output = Command::new(exe)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--bind",
        "--port",
        "--addr-file",
        "--tls-cert",
        "--tls-key",
        "--clients",
        "--state",
        "--token-ttl",
        "--sync-delay-ms",
        "--seed-apps",
        "--static-token",
        "--latency-ms",
        "--fail-429-every",
        "--retry-after",
        "--fail-5xx-every",
        "--fail-status",
        "--drop-every",
        "--bad-credential",
        "--oidc-issuer",
        "--oidc-audience",
        "--oidc-trusts",
    ] {
        assert!(help.contains(flag), "serve --help lacks {flag}");
    }
    let output = Command::new(exe)
        .args(["credentials", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in ["--clients", "--name", "--tenant"] {
        assert!(help.contains(flag), "credentials --help lacks {flag}");
    }
}

#[tokio::test]
async fn https_with_a_certificate_and_key() {
    let dir = temp_dir("tls");
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let mut options = fast_options();
    options.tls = Some(TlsFiles {
        cert: cert.clone(),
        key,
    });
    let mut sim = Sim::start_with(options).await;
    assert!(sim.base.starts_with("https://127.0.0.1:"), "{}", sim.base);
    sim.http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let client = sim.login().await;
    let created = client
        .create_configured(APP, &twingate_create("k", "acme"))
        .await;
    assert_eq!(created["appId"], APP);
    // Plain HTTP to the HTTPS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/api/v1/apps", sim.server.addr()))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn state_file_persists_across_restarts() {
    let dir = temp_dir("state");
    let state_file = dir.join("state.json");
    let mut options = fast_options();
    options.state_file = Some(state_file.clone());

    let sim = Sim::start_with(options.clone()).await;
    let client = sim.login().await;
    let created = client
        .create_configured(
            APP,
            &json!({"catalogId": SEGMENT, "config": env_config(&[("segment_access_token", "seg-token")])}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let creds = client.creds.clone();
    drop(client);
    sim.server.shutdown().await;

    // The simulated server's own storage keeps the secret value (as C1 would).
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert_eq!(
        saved["connectors"][0]["settings"]["segment_access_token"],
        "seg-token"
    );

    let sim = Sim::start_with(options).await;
    // The client minted before the restart is still known; tokens are not persisted.
    let token = sim.token_for(&creds).await;
    let client = Client {
        sim: &sim,
        token,
        creds,
    };
    let again = client.get_connector(APP, &id).await;
    assert_eq!(again["createdAt"], created["createdAt"]);
    assert_eq!(again["userIds"], created["userIds"]);
    let answer = client
        .call(
            Method::DELETE,
            &format!("/api/v1/apps/{APP}/connectors/{id}"),
            None,
            Some(&json!({})),
        )
        .await;
    assert_eq!(answer.status, 200);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert!(saved["connectors"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
