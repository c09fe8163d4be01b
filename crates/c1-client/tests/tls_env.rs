//! Corporate CA handling: `SSL_CERT_FILE` / `SSL_CERT_DIR` (own test binary: it edits the environment).

use std::path::PathBuf;

use c1_client::{
    ClientConfig, ClientError, ConnectorClient, Credentials, RetryPolicy, SecretString,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

fn cfg(url: &str) -> ClientConfig {
    ClientConfig {
        base_url: url.parse().unwrap(),
        credentials: Credentials::AccessToken(SecretString::new("t")),
        retry: RetryPolicy::fast(),
        user_agent: "c1-client-tests/1".to_string(),
    }
}

/// A folder holding one freshly generated CA certificate (`corporate-ca.pem`), as a company
/// would hand out its own certificate authority.
fn corporate_ca_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("c1-client-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "Example Corp Root CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
    std::fs::write(dir.join("corporate-ca.pem"), cert.pem()).unwrap();
    dir
}

#[test]
fn ssl_cert_file_is_honoured_and_problems_are_named() {
    let ca_dir = corporate_ca_dir();
    let ca_file = ca_dir.join("corporate-ca.pem");

    // A file that does not exist, and no directory: nothing loads, the error names the variable.
    std::env::remove_var("SSL_CERT_DIR");
    let missing = std::env::temp_dir().join("c1-client-no-such-ca.pem");
    std::env::set_var("SSL_CERT_FILE", &missing);
    let err = ConnectorClient::new(cfg("https://acme.conductor.one/")).unwrap_err();
    assert!(matches!(err, ClientError::Setup(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("SSL_CERT_FILE") && text.contains("c1-client-no-such-ca.pem"),
        "{text}"
    );

    // A file that cannot be read next to a directory that can: a warning, not an error.
    std::env::set_var("SSL_CERT_DIR", &ca_dir);
    ConnectorClient::new(cfg("https://acme.conductor.one/")).unwrap();
    std::env::remove_var("SSL_CERT_DIR");

    // An empty directory loads nothing: an error naming it.
    let empty = ca_dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::env::remove_var("SSL_CERT_FILE");
    std::env::set_var("SSL_CERT_DIR", &empty);
    let err = ConnectorClient::new(cfg("https://acme.conductor.one/")).unwrap_err();
    assert!(err.to_string().contains("SSL_CERT_DIR"), "{err}");
    std::env::remove_var("SSL_CERT_DIR");

    // Plain http on loopback never needs certificates.
    std::env::set_var("SSL_CERT_FILE", &missing);
    ConnectorClient::new(cfg("http://127.0.0.1:1/")).unwrap();

    // A real CA bundle loads.
    std::env::set_var("SSL_CERT_FILE", &ca_file);
    ConnectorClient::new(cfg("https://acme.conductor.one/")).unwrap();
    std::env::remove_var("SSL_CERT_FILE");
    let _ = std::fs::remove_dir_all(&ca_dir);
}
