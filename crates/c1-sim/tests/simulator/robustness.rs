//! Bad input never crashes the simulator: huge bodies, wrong methods, unknown paths, garbage.

use c1_contract::token_endpoint;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn huge_bodies_are_413() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let path = sim.url(&format!("/api/v1/apps/{APP}/connectors/create"));
    let huge = format!(
        r#"{{"catalogId": "{SEGMENT}", "pad": "{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let response = sim
        .http
        .post(&path)
        .bearer_auth(&client.token)
        .header("content-type", "application/json")
        .body(huge.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_error_body(&response.json().await.unwrap(), 413);

    // Chunked, without a Content-Length.
    let status = raw_chunked_post(
        &sim,
        &format!("/api/v1/apps/{APP}/connectors/create"),
        &client.token,
        huge.as_bytes(),
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let huge_token_form = format!("grant_type=client_credentials&pad={}", "y".repeat(2 << 20));
    let response = sim
        .http
        .post(sim.url(token_endpoint::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge_token_form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    // Still serving.
    let answer = client
        .call(
            Method::GET,
            &format!("/api/v1/apps/{APP}/connectors"),
            None,
            None,
        )
        .await;
    assert_eq!(answer.status, 200);
}

/// Sends a chunked POST over a raw socket; returns the status line of the answer.
async fn raw_chunked_post(sim: &Sim, path: &str, token: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(sim.server.addr())
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        sim.server.addr()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(64 * 1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if stream.write_all(&framed).await.is_err() {
            break; // the server may answer and close before reading everything
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn wrong_methods_and_unknown_paths_answer_json() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let cases = [
        (Method::PUT, format!("/api/v1/apps/{APP}/connectors"), 405),
        (
            Method::PATCH,
            format!("/api/v1/apps/{APP}/connectors/x"),
            405,
        ),
        (
            Method::GET,
            format!("/api/v1/apps/{APP}/connectors/create"),
            405,
        ),
        (Method::GET, token_endpoint::PATH.to_owned(), 405),
        (Method::GET, "/api/v2/whatever".to_owned(), 404),
        (Method::GET, "/".to_owned(), 404),
        (Method::DELETE, "/_sim/clients".to_owned(), 405),
    ];
    for (method, path, expected) in cases {
        let response = sim
            .http
            .request(method.clone(), sim.url(&path))
            .bearer_auth(&client.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_error_body(&body, expected);
    }
}

#[tokio::test]
async fn garbage_never_crashes_it() {
    let sim = Sim::start().await;
    let client = sim.login().await;
    let created = client
        .create_configured(APP, &twingate_create("k", "acme"))
        .await;
    let id = created["id"].as_str().unwrap();
    let bodies = [
        "null",
        "42",
        "{\"connector\": 5, \"updateMask\": \"config\"}",
        "{\"connector\": {\"config\": []}, \"updateMask\": \"config\"}",
        "{\"connector\": {\"config\": {\"@type\": 1}}, \"updateMask\": \"config\"}",
        "{\"connector\": {\"userIds\": [1]}, \"updateMask\": \"userIds\"}",
        "{\"connector\": {}, \"updateMask\": 7}",
        "{\"connector\": {\"id\": \"other\"}, \"updateMask\": \"displayName\"}",
        "{{{{",
    ];
    for path in [
        format!("/api/v1/apps/{APP}/connectors/{id}"),
        format!("/api/v1/apps/{APP}/connectors/{id}/delegated"),
        format!("/api/v1/apps/{APP}/connectors"),
        "/api/v1/apps".to_owned(),
    ] {
        for body in bodies {
            let response = sim
                .http
                .post(sim.url(&path))
                .bearer_auth(&client.token)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{path} {body}");
            assert_error_body(&response.json().await.unwrap(), 400);
        }
    }
    let response = sim
        .http
        .post(sim.url(token_endpoint::PATH))
        .body("%%%=&&==")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // The connector is untouched.
    let now = client.get_connector(APP, id).await;
    assert_eq!(now["updatedAt"], created["updatedAt"]);
    let answer = client
        .call(
            Method::POST,
            "/_sim/bad-credentials",
            None,
            Some(&json!({"values": "nope"})),
        )
        .await;
    assert_eq!(answer.status, 400);
}
