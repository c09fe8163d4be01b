//! A static HTTPS file server on localhost for the registry and mirror tests, with a test CA that
//! Terraform trusts through `SSL_CERT_FILE` (Go reads it on Linux), and a log of what was asked.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use hyper_util::service::TowerToHyperService;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use crate::harness::{run_dir, runtime, Tf};

/// A CA made for this test run and the certificate it issued for `localhost` and `127.0.0.1`.
struct TestCa {
    /// PEM of the CA certificate: what `SSL_CERT_FILE` names.
    ca_file: PathBuf,
    acceptor: TlsAcceptor,
}

fn test_ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "c1 acceptance test CA");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let leaf_key = KeyPair::generate().expect("server key");
        let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("server params")
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("server certificate");
        let ca_file = run_dir().join("test-ca.pem");
        std::fs::write(&ca_file, ca.pem()).expect("write CA");
        let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der())
            .expect("server key DER");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .expect("TLS config");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        TestCa {
            ca_file,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    })
}

/// Makes Terraform in `tf` trust [`StaticHttps`] servers (`SSL_CERT_FILE` names the test CA).
pub fn trust_test_ca(tf: &mut Tf) {
    tf.set_env("SSL_CERT_FILE", &test_ca().ca_file.to_string_lossy());
}

/// Serves the files under `root` at `https://localhost:<port>/` until dropped. JSON is served
/// as `application/json` (Terraform's service discovery insists), zips as `application/zip`.
pub struct StaticHttps {
    /// `localhost:<port>`: a registry host name for provider source addresses.
    pub host: String,
    /// `https://localhost:<port>`
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Files {
    root: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl StaticHttps {
    pub fn serve(root: &Path) -> StaticHttps {
        let ca = test_ca();
        let files = Files {
            root: root.to_path_buf(),
            log: Arc::default(),
        };
        let router = Router::new().fallback(serve_file).with_state(files.clone());
        let acceptor = ca.acceptor.clone();
        let (addr, task) = runtime().block_on(async move {
            let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .expect("bind the HTTPS server");
            let addr = listener.local_addr().expect("local address");
            let task = tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let (acceptor, router) = (acceptor.clone(), router.clone());
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let _ = ConnectionBuilder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(tls), TowerToHyperService::new(router))
                            .await;
                    });
                }
            });
            (addr, task)
        });
        StaticHttps {
            host: format!("localhost:{}", addr.port()),
            url: format!("https://localhost:{}", addr.port()),
            log: files.log,
            task,
        }
    }

    /// `METHOD /path status` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// How many successful GETs asked for a path ending in `suffix`.
    pub fn gets(&self, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.starts_with("GET ") && r.ends_with(" 200"))
            .filter(|r| r.trim_end_matches(" 200").ends_with(suffix))
            .count()
    }
}

impl Drop for StaticHttps {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_file(State(files): State<Files>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let file = files.root.join(path.trim_start_matches('/'));
    let inside = !path.split('/').any(|s| s == "..");
    let (status, body) = match (&method, inside, std::fs::read(&file)) {
        (&Method::GET | &Method::HEAD, true, Ok(bytes)) => (StatusCode::OK, bytes),
        (&Method::GET | &Method::HEAD, _, _) => (StatusCode::NOT_FOUND, b"not found".to_vec()),
        _ => (StatusCode::METHOD_NOT_ALLOWED, Vec::new()),
    };
    files
        .log
        .lock()
        .unwrap()
        .push(format!("{method} {path} {}", status.as_u16()));
    let content_type = if status != StatusCode::OK {
        "text/plain"
    } else if path.ends_with(".zip") {
        "application/zip"
    } else if path.ends_with(".sig") {
        "application/octet-stream"
    } else if path.ends_with("SHA256SUMS") {
        "text/plain"
    } else {
        "application/json"
    };
    let length = body.len();
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, length)
        .body(body)
        .expect("response")
}
