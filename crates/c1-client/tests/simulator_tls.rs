//! HTTPS against the simulator: a corporate CA is trusted through `SSL_CERT_FILE`, and without
//! it the untrusted certificate fails at once with the fix in the message; so does plain HTTP
//! sent to the TLS port. (Its own test binary:
//! it sets process environment.)

use std::time::Duration;

use c1_client::{
    ClientConfig, ClientError, ConnectorClient, Credentials, EndpointProblem, RetryPolicy,
    SecretString, SigningKey,
};
use c1_sim::TlsFiles;
use c1_sim::{ServeOptions, Server};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

fn client_for(server: &Server, creds: &c1_sim::MintedCredentials) -> ConnectorClient {
    ConnectorClient::new(ClientConfig {
        base_url: server.base_url().parse().unwrap(),
        credentials: Credentials::ClientCredentials {
            client_id: creds.client_id.clone(),
            key: SigningKey::from_client_secret(&creds.client_secret).unwrap(),
        },
        retry: RetryPolicy {
            default_budget: Duration::from_secs(20),
            ..RetryPolicy::fast()
        },
        user_agent: "c1-client-tests/1".to_string(),
    })
    .unwrap()
}

#[tokio::test]
async fn https_with_a_corporate_ca() {
    let dir = std::env::temp_dir().join(format!("c1-client-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Example Corp Root CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let (cert, key, ca_file) = (
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
        dir.join("ca.pem"),
    );
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    std::fs::write(&ca_file, ca.pem()).unwrap();

    let server = Server::start(ServeOptions {
        tls: Some(TlsFiles { cert, key }),
        seed_apps: vec!["app1".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(server.base_url().starts_with("https://"));
    let creds = server.mint_client("tls");

    // Not trusted: fails on the first attempt, and says how to fix it.
    std::env::remove_var("SSL_CERT_FILE");
    std::env::remove_var("SSL_CERT_DIR");
    // (`Endpoint`, not `GaveUp`: retrying cannot fix a certificate.)
    let err = client_for(&server, &creds).list("app1").await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Endpoint {
                problem: EndpointProblem::UntrustedCertificate,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("SSL_CERT_FILE"), "{err}");

    // Plain HTTP to the TLS port: the answer is not HTTP, which retrying cannot fix either.
    let plain = ConnectorClient::new(ClientConfig {
        base_url: server
            .base_url()
            .replace("https://", "http://")
            .parse()
            .unwrap(),
        credentials: Credentials::AccessToken(SecretString::new("t")),
        retry: RetryPolicy::fast(),
        user_agent: "c1-client-tests/1".to_string(),
    })
    .unwrap();
    let err = plain.list("app1").await.unwrap_err();
    assert_eq!(
        err.endpoint_problem(),
        Some(EndpointProblem::NotHttp),
        "{err:?}"
    );
    assert!(err.to_string().contains("is it a TLS port"), "{err}");

    // Trusted through SSL_CERT_FILE, as with a corporate CA.
    std::env::set_var("SSL_CERT_FILE", &ca_file);
    client_for(&server, &creds)
        .list("app1")
        .await
        .expect("the CA in SSL_CERT_FILE is trusted");
    std::env::remove_var("SSL_CERT_FILE");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
