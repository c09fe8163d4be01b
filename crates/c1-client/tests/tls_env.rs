//! Corporate CA handling: `SSL_CERT_FILE` / `SSL_CERT_DIR` (own test binary: it edits the environment).

use c1_client::config::default_user_agent;
use c1_client::{Auth, ClientConfig, ClientError, ConnectorClient, RetryPolicy, SecretString};

fn cfg(url: &str) -> ClientConfig {
    ClientConfig {
        base_url: url.parse().unwrap(),
        auth: Auth::AccessToken(SecretString::new("t")),
        retry: RetryPolicy::fast(),
        user_agent: default_user_agent(),
    }
}

#[test]
fn ssl_cert_file_is_honoured_and_problems_are_named() {
    // The environment may name a CA directory too; certificates from either source count.
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
    std::env::set_var("SSL_CERT_DIR", "/etc/ssl/certs");
    if std::path::Path::new("/etc/ssl/certs").is_dir() {
        ConnectorClient::new(cfg("https://acme.conductor.one/")).unwrap();
    }
    std::env::remove_var("SSL_CERT_DIR");

    // Plain http on loopback never needs certificates.
    ConnectorClient::new(cfg("http://127.0.0.1:1/")).unwrap();

    // A real bundle loads (when the system has one at the usual Debian path).
    let bundle = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt");
    if bundle.exists() {
        std::env::set_var("SSL_CERT_FILE", bundle);
        ConnectorClient::new(cfg("https://acme.conductor.one/")).unwrap();
    }
    std::env::remove_var("SSL_CERT_FILE");
}
