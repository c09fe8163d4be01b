//! Workload identity: the token endpoint exchanges an OIDC token of a trusted issuer (RFC 8693)
//! for an access token, checking signature, issuer, audience, expiry and the client mapping; the
//! trusts come by flag (`serve --oidc-issuer`), file or admin call; `c1-sim oidc-token` mints.

use std::process::Command;

use c1_contract::token_endpoint;
use c1_sim::{OidcTokenClaims, TrustSpec};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const AUDIENCE: &str = "https://sim.conductor.one";
const SUBJECT: &str = "repo:acme/infra:ref:refs/heads/main";

fn token(issuer: &str, audience: &str, expires_in: i64) -> String {
    let claims = OidcTokenClaims {
        issuer: issuer.into(),
        audience: audience.into(),
        subject: SUBJECT.into(),
        expires_in,
    };
    c1_sim::mint_oidc_token(&claims, &c1_sim::oidc_test_key(issuer), unix_now())
}

async fn exchange(sim: &Sim, subject_token: &str, client_id: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", token_endpoint::GRANT_TOKEN_EXCHANGE),
        ("subject_token", subject_token),
        ("subject_token_type", token_endpoint::SUBJECT_TOKEN_TYPE_JWT),
    ];
    if let Some(id) = client_id {
        form.push(("client_id", id));
    }
    sim.token_request(&form).await
}

/// A simulator that trusts ISSUER's test key for AUDIENCE (as `--oidc-issuer` does).
async fn trusting_sim() -> Sim {
    Sim::start_with(c1_sim::ServeOptions {
        oidc_trusts: vec![TrustSpec {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            jwks: None,
            jwks_file: None,
            client_id: None,
            subject: None,
        }],
        ..fast_options()
    })
    .await
}

#[tokio::test]
async fn a_trusted_token_is_exchanged_for_an_access_token_of_the_named_client() {
    let sim = trusting_sim().await;
    let creds = sim.mint().await;
    let subject_token = token(ISSUER, AUDIENCE, 300);
    let (status, body) = exchange(&sim, &subject_token, Some(&creds.client_id)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0, "{body}");
    let access = body["access_token"].as_str().unwrap();
    let response = sim
        .http
        .get(sim.url(&format!("/api/v1/apps/{APP}/connectors")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let log = sim.request_log().await;
    assert_eq!(log[0]["operation"], "Auth.Token");
    assert_eq!(log[0]["grant"], "token_exchange");
    assert_eq!(log[0]["client_id"], creds.client_id.as_str());
    assert_eq!(
        log[1]["client_id"],
        creds.client_id.as_str(),
        "calls act as the client"
    );
    assert!(!Value::Array(log).to_string().contains(&subject_token));
}

#[tokio::test]
async fn refusals_say_why_without_quoting_the_token() {
    let sim = trusting_sim().await;
    let creds = sim.mint().await;
    let id = Some(creds.client_id.as_str());
    let other_key = c1_sim::oidc_test_key("https://another.example");
    let forged = c1_sim::mint_oidc_token(
        &OidcTokenClaims {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            subject: SUBJECT.into(),
            expires_in: 300,
        },
        &other_key,
        unix_now(),
    );
    for (what, subject_token, client_id, status, error, says) in [
        ("expired", token(ISSUER, AUDIENCE, -60), id, 400, "invalid_grant", "expired"),
        ("wrong audience", token(ISSUER, "sts.amazonaws.com", 300), id, 400, "invalid_grant", "audience \"sts.amazonaws.com\" is not the audience the federation expects (https://sim.conductor.one)"),
        ("unknown issuer", token("https://gitlab.example.com", AUDIENCE, 300), id, 400, "invalid_grant", "issuer https://gitlab.example.com is not a trusted OIDC issuer"),
        ("forged", forged, id, 400, "invalid_grant", "not signed by a key of issuer"),
        ("not a JWT", "ghp_notajwt".to_string(), id, 400, "invalid_grant", "not a compact JWS"),
        ("unknown client", token(ISSUER, AUDIENCE, 300), Some("nobody@sim.conductor.one/pcc"), 401, "invalid_client", "unknown client"),
        ("no client to map to", token(ISSUER, AUDIENCE, 300), None, 400, "invalid_grant", "no federation of issuer"),
    ] {
        let (got, body) = exchange(&sim, &subject_token, client_id).await;
        assert_eq!((got, body["error"].as_str()), (status, Some(error)), "{what}: {body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(says), "{what}: {description}");
        assert!(!body.to_string().contains(&subject_token), "{what}: token echoed");
    }
    let (status, body) = sim
        .token_request(&[
            ("grant_type", token_endpoint::GRANT_TOKEN_EXCHANGE),
            ("subject_token", &token(ISSUER, AUDIENCE, 300)),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
            ("client_id", &creds.client_id),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    let log = sim.request_log().await;
    assert!(
        log.iter()
            .all(|e| e["grant"] == "token_exchange" && e["status"] != 200),
        "{log:?}"
    );
}

/// An admin call adds a trust with its own keys (a JWKS), a subject pattern and the client the
/// subject maps to; a request without client_id acts as that client.
#[tokio::test]
async fn an_admin_call_trusts_an_issuer_and_maps_subjects_to_a_client() {
    let sim = Sim::start().await;
    let creds = sim.mint().await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[11u8; 32]);
    let jwks = json!({"keys": [c1_sim::oidc_public_jwk(&key)]});
    let issuer = "https://app.terraform.io";
    let (status, body) = sim
        .admin(
            Method::POST,
            "/_sim/oidc/issuers",
            Some(
                json!({"issuer": issuer, "audience": "c1.workload.identity", "jwks": jwks,
                        "client_id": creds.client_id, "subject": "organization:acme:*"}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mint = |subject: &str| {
        c1_sim::mint_oidc_token(
            &OidcTokenClaims {
                issuer: issuer.into(),
                audience: "c1.workload.identity".into(),
                subject: subject.into(),
                expires_in: 120,
            },
            &key,
            unix_now(),
        )
    };
    let (status, body) = exchange(
        &sim,
        &mint("organization:acme:project:p:workspace:w:run_phase:apply"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = exchange(&sim, &mint("organization:evil:project:p"), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let log = sim.request_log().await;
    assert_eq!(
        log[0]["client_id"],
        creds.client_id.as_str(),
        "mapped: {log:?}"
    );
    let (status, listed) = sim.admin(Method::GET, "/_sim/oidc/issuers", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["issuer"], issuer, "{listed}");
    let (status, body) = sim
        .admin(
            Method::POST,
            "/_sim/oidc/issuers",
            Some(json!({"issuer": issuer, "audience": "x", "jwks": {"keys": []}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

/// `c1-sim oidc-token` mints what `c1-sim serve --oidc-issuer` trusts; `oidc-jwks` prints the
/// key, and a JWKS file given by flag is trusted too.
#[tokio::test]
async fn the_binary_mints_tokens_its_server_trusts() {
    let exe = env!("CARGO_BIN_EXE_c1-sim");
    let mint = |args: &[&str]| {
        let out = Command::new(exe)
            .arg("oidc-token")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let dir = std::env::temp_dir().join(format!("c1-sim-oidc-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("ci-key.json");
    let from_file = mint(&[
        "--issuer",
        "https://ci.example",
        "--audience",
        AUDIENCE,
        "--subject",
        SUBJECT,
        "--key-file",
        key_file.to_str().unwrap(),
    ]);
    let jwks = Command::new(exe)
        .args(["oidc-jwks", "--key-file", key_file.to_str().unwrap()])
        .output()
        .unwrap();
    let jwks_file = dir.join("jwks.json");
    std::fs::write(&jwks_file, &jwks.stdout).unwrap();
    let test_key = mint(&[
        "--issuer",
        ISSUER,
        "--audience",
        AUDIENCE,
        "--subject",
        SUBJECT,
    ]);
    let expired = mint(&[
        "--issuer",
        ISSUER,
        "--audience",
        AUDIENCE,
        "--subject",
        SUBJECT,
        "--expires-in",
        "-30",
    ]);

    let flags = [
        "c1-sim".to_string(),
        "serve".into(),
        "--oidc-audience".into(),
        AUDIENCE.into(),
        "--oidc-issuer".into(),
        ISSUER.into(),
        "--oidc-issuer".into(),
        format!("https://ci.example={}", jwks_file.display()),
    ];
    let c1_sim::Command::Serve(args) = <c1_sim::Cli as clap::Parser>::try_parse_from(flags)
        .unwrap()
        .command
    else {
        panic!("serve")
    };
    let sim = Sim::start_with(c1_sim::ServeOptions {
        oidc_trusts: args.oidc_trusts().unwrap(),
        ..fast_options()
    })
    .await;
    let creds = sim.mint().await;
    for (what, t, want) in [
        ("test key", &test_key, 200),
        ("key file", &from_file, 200),
        ("expired", &expired, 400),
    ] {
        let (status, body) = exchange(&sim, t, Some(&creds.client_id)).await;
        assert_eq!(status, want, "{what}: {body}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
