//! One HTTP attempt: build the request, send it, and sort the outcome into a 2xx body, another
//! answer, or no answer (possibly transient, or an endpoint problem retrying cannot fix: no such
//! host, another protocol on that port, an untrusted certificate); each attempt is logged at
//! debug without bodies, headers or secrets.

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use crate::error::{ClientError, EndpointProblem};
use crate::model::WireError;
use crate::retry::{parse_retry_after, AttemptFailure, Failure};

/// How long to wait for a TCP (and TLS) connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends requests, one attempt at a time. Cheap to clone (one connection pool).
#[derive(Clone)]
pub(crate) struct Sender {
    http: reqwest::Client,
}

/// The body of a request.
#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    Empty,
    Json(&'a Value),
    /// `application/x-www-form-urlencoded` fields.
    Form(&'a [(&'a str, &'a str)]),
}

/// One request, as sent on every attempt.
#[derive(Clone, Copy)]
pub(crate) struct Request<'a> {
    pub method: &'a Method,
    pub url: &'a Url,
    pub payload: Payload<'a>,
    /// The `Authorization` header, if any; marked sensitive.
    pub authorization: Option<&'a HeaderValue>,
}

/// How one attempt ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A 2xx answer and its body.
    Success(Vec<u8>),
    /// Any other answer.
    Answered(Answer),
    /// No complete answer.
    Unanswered(Unanswered),
}

/// A non-2xx answer.
#[derive(Debug, PartialEq)]
pub(crate) struct Answer {
    pub status: u16,
    /// gRPC status code from a C1 error body, if any.
    pub code: Option<i64>,
    /// The error body's message, or a note that the body was not a C1 error body.
    pub message: String,
    /// The server's `Retry-After`, if it gave one.
    pub retry_after: Option<Duration>,
}

/// A request that got no complete answer.
#[derive(Debug)]
pub(crate) struct Unanswered {
    /// `Connect`, `AfterSend` or `Endpoint`.
    pub failure: AttemptFailure,
    /// The URL without its query.
    pub url: String,
    /// What failed, with the useful part of the error chain.
    pub message: String,
}

impl Outcome {
    /// The body of a success, or the failure for the retry loop to judge.
    pub(crate) fn into_result(self, operation: &str) -> Result<Vec<u8>, Failure> {
        match self {
            Outcome::Success(body) => Ok(body),
            Outcome::Answered(answer) => Err(Failure::Attempt {
                failure: AttemptFailure::Status(answer.status),
                retry_after: answer.retry_after,
                error: ClientError::Api {
                    operation: operation.to_string(),
                    status: answer.status,
                    code: answer.code,
                    message: answer.message,
                },
            }),
            Outcome::Unanswered(failed) => Err(Failure::Attempt {
                failure: failed.failure,
                retry_after: None,
                error: match failed.failure {
                    AttemptFailure::Endpoint(problem) => ClientError::Endpoint {
                        operation: operation.to_string(),
                        url: failed.url,
                        problem,
                        message: failed.message,
                    },
                    _ => ClientError::Transport {
                        operation: operation.to_string(),
                        url: failed.url,
                        message: failed.message,
                    },
                },
            }),
        }
    }
}

impl Sender {
    /// The HTTP client: no redirects, a connect timeout. TLS uses the system trust store, or the
    /// certificates in `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (rustls-native-certs); `tls`
    /// checks that those load.
    pub(crate) fn new(user_agent: &str, tls: bool) -> Result<Self, ClientError> {
        if tls {
            check_custom_ca_env()?;
        }
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| ClientError::Setup(error_chain(&e)))?;
        Ok(Self { http })
    }

    /// Sends `request` once (attempt number `attempt`, for the log), giving up after `timeout`.
    pub(crate) async fn send_once(
        &self,
        request: Request<'_>,
        attempt: u32,
        timeout: Duration,
    ) -> Outcome {
        let mut builder = self
            .http
            .request(request.method.clone(), request.url.clone())
            .timeout(timeout);
        if let Some(authorization) = request.authorization {
            builder = builder.header(AUTHORIZATION, authorization);
        }
        builder = match request.payload {
            Payload::Empty => builder,
            Payload::Json(body) => builder.json(body),
            Payload::Form(fields) => builder.form(fields),
        };
        let path = request.url.path();
        let started = Instant::now();
        match builder.send().await {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let read = response.bytes().await;
                tracing::debug!(
                    method = %request.method,
                    path = %path,
                    status = status.as_u16(),
                    attempt,
                    duration_ms = started.elapsed().as_millis() as u64,
                    "C1 API call"
                );
                match read {
                    Ok(body) if status.is_success() => Outcome::Success(body.to_vec()),
                    Ok(body) => Outcome::Answered(answer(status, &headers, &body)),
                    // The request was sent: the answer broke off.
                    Err(e) => {
                        Outcome::Unanswered(unanswered(request.url, AttemptFailure::AfterSend, &e))
                    }
                }
            }
            Err(e) => {
                tracing::debug!(
                    method = %request.method,
                    path = %path,
                    attempt,
                    duration_ms = started.elapsed().as_millis() as u64,
                    error = %error_chain(&e),
                    "C1 API call failed"
                );
                let failure = match endpoint_problem(&e) {
                    Some(problem) => AttemptFailure::Endpoint(problem),
                    None if e.is_connect() => AttemptFailure::Connect,
                    None => AttemptFailure::AfterSend,
                };
                Outcome::Unanswered(unanswered(request.url, failure, &e))
            }
        }
    }
}

/// A non-2xx answer: its status, C1 error body and `Retry-After`.
fn answer(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Answer {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.contains("json"));
    let parsed = is_json
        .then(|| serde_json::from_slice::<WireError>(body).ok())
        .flatten();
    let code = parsed.as_ref().and_then(WireError::code);
    let message = parsed.and_then(WireError::text).unwrap_or_else(|| {
        format!(
            "{} (the answer was not a C1 error body; is a proxy in the way?)",
            status.canonical_reason().unwrap_or("error")
        )
    });
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    Answer {
        status: status.as_u16(),
        code,
        message,
        retry_after,
    }
}

fn unanswered(url: &Url, failure: AttemptFailure, e: &reqwest::Error) -> Unanswered {
    let mut shown = url.clone();
    shown.set_query(None);
    let server = match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => url.to_string(),
    };
    let chain = error_chain(e);
    let message = match failure {
        AttemptFailure::Endpoint(EndpointProblem::UnknownHost) => format!(
            "the host name {} does not resolve ({chain}): check the tenant's host name",
            url.host_str().unwrap_or_default()
        ),
        AttemptFailure::Endpoint(EndpointProblem::NotTls) => format!(
            "the server at {server} does not speak TLS ({chain}): is it a plain-HTTP port, to be \
             used with an http:// URL?"
        ),
        AttemptFailure::Endpoint(EndpointProblem::NotHttp) => format!(
            "the server at {server} did not answer in HTTP ({chain}): is it a TLS port, to be \
             used with an https:// URL?"
        ),
        AttemptFailure::Endpoint(EndpointProblem::UntrustedCertificate) => format!(
            "{chain}. The server's TLS certificate is not trusted: if your organisation uses its \
             own certificate authority, point SSL_CERT_FILE (a PEM bundle) or SSL_CERT_DIR at it"
        ),
        _ => chain,
    };
    Unanswered {
        failure,
        url: shown.to_string(),
        message,
    }
}

/// The endpoint problem behind a failed request, when retrying cannot fix it: the host name
/// does not resolve, `https://` to a plain-HTTP port (the answer is not TLS), `http://` to a
/// TLS port or another protocol (the answer is not HTTP), or an untrusted certificate. Connection
/// refused, resets and timeouts are not: a restarting server or a bad minute may end.
fn endpoint_problem(e: &(dyn std::error::Error + 'static)) -> Option<EndpointProblem> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            match tls {
                rustls::Error::InvalidCertificate(_) => {
                    return Some(EndpointProblem::UntrustedCertificate)
                }
                rustls::Error::InvalidMessage(_)
                | rustls::Error::InappropriateMessage { .. }
                | rustls::Error::InappropriateHandshakeMessage { .. } => {
                    return Some(EndpointProblem::NotTls)
                }
                _ => {}
            }
        }
        if err
            .downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_parse() || h.is_parse_status())
        {
            return Some(EndpointProblem::NotHttp);
        }
        // hyper-util's connector names a failed name resolution "dns error" (its error type
        // is private); the resolver's own message follows in the chain.
        if err.to_string() == "dns error" {
            return Some(EndpointProblem::UnknownHost);
        }
        // io::Error's `source` skips the error it wraps (tokio-rustls wraps rustls errors, and
        // the connector wraps those again): step into it instead.
        next = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// reqwest (rustls-native-certs) uses only the certificates named by `SSL_CERT_FILE` /
/// `SSL_CERT_DIR` when either is set; if none load, every TLS handshake would fail with an
/// obscure "unknown issuer". Say what is wrong instead.
fn check_custom_ca_env() -> Result<(), ClientError> {
    let named: Vec<String> = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .filter_map(|k| std::env::var_os(k).map(|v| format!("{k}={}", v.to_string_lossy())))
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    let loaded = rustls_native_certs::load_native_certs();
    let errors: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
    if loaded.certs.is_empty() {
        return Err(ClientError::Setup(format!(
            "no CA certificates could be loaded from {} (these replace the system trust store; \
             point them at PEM files with your CA certificates or unset them){}",
            named.join(" and "),
            if errors.is_empty() {
                String::new()
            } else {
                format!(": {}", errors.join("; "))
            }
        )));
    }
    if !errors.is_empty() {
        tracing::warn!(
            sources = %named.join(" "),
            loaded = loaded.certs.len(),
            errors = %errors.join("; "),
            "some CA certificates could not be loaded"
        );
    }
    Ok(())
}

/// An error and its sources, joined: reqwest hides the useful part (e.g. "connection refused").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    /// A server that reads one request, keeps it, and writes `answer` (raw HTTP/1.1) back, or
    /// closes the connection without a word when `answer` is empty.
    async fn serve_once(answer: impl Into<String>) -> (Url, Arc<Mutex<String>>) {
        let answer = answer.into();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!(
            "http://{}/api/v1/x?q=1",
            listener.local_addr().unwrap()
        ))
        .unwrap();
        let seen = Arc::new(Mutex::new(String::new()));
        let keep = seen.clone();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 16 * 1024];
            let mut request = Vec::new();
            // Headers, then as much body as Content-Length says.
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            *keep.lock().unwrap() = String::from_utf8_lossy(&request).to_string();
            if !answer.is_empty() {
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        (url, seen)
    }

    const TIMEOUT: Duration = Duration::from_secs(5);

    fn sender() -> Sender {
        Sender::new("c1-client-tests", false).unwrap()
    }

    /// A server that answers whatever first arrives on a connection (a request, a TLS hello)
    /// with `answer`: a server of another protocol than the client's.
    async fn serve_raw(answer: &'static [u8]) -> Url {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/x", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 16 * 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(answer).await;
            }
        });
        url
    }

    fn get(url: &Url) -> Request<'_> {
        Request {
            method: &Method::GET,
            url,
            payload: Payload::Empty,
            authorization: None,
        }
    }

    #[tokio::test]
    async fn a_2xx_is_success_with_its_body_and_the_request_is_as_asked() {
        let (url, seen) = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{\"a\":1}",
        )
        .await;
        let bearer = HeaderValue::from_static("Bearer tok-1");
        let fields = [("grant_type", "client_credentials"), ("x", "a b")];
        let outcome = sender()
            .send_once(
                Request {
                    method: &Method::POST,
                    url: &url,
                    payload: Payload::Form(&fields),
                    authorization: Some(&bearer),
                },
                1,
                TIMEOUT,
            )
            .await;
        assert!(
            matches!(&outcome, Outcome::Success(b) if b == b"{\"a\":1}"),
            "{outcome:?}"
        );
        let request = seen.lock().unwrap().to_ascii_lowercase();
        assert!(request.starts_with("post /api/v1/x?q=1 "), "{request}");
        assert!(request.contains("authorization: bearer tok-1"), "{request}");
        assert!(request.contains("user-agent: c1-client-tests"), "{request}");
        assert!(
            request.contains("application/x-www-form-urlencoded"),
            "{request}"
        );
        assert!(
            request.ends_with("grant_type=client_credentials&x=a+b"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn an_error_answer_carries_status_code_message_and_retry_after() {
        let body = r#"{"code":8,"message":"slow down","details":[]}"#;
        let raw = format!(
            "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 2\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let (url, _) = serve_once(raw).await;
        let outcome = sender().send_once(get(&url), 1, TIMEOUT).await;
        let Outcome::Answered(answer) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(
            answer,
            Answer {
                status: 429,
                code: Some(8),
                message: "slow down".into(),
                retry_after: Some(Duration::from_secs(2)),
            }
        );
        match Outcome::Answered(answer).into_result("read connector") {
            Err(Failure::Attempt {
                failure: AttemptFailure::Status(429),
                retry_after: Some(_),
                error: ClientError::Api { status: 429, .. },
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_answer_that_is_not_a_c1_error_body_says_so() {
        let (url, _) = serve_once(
            "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: 12\r\n\r\n<html></html>",
        )
        .await;
        let Outcome::Answered(answer) = sender().send_once(get(&url), 1, TIMEOUT).await else {
            panic!("not an answer")
        };
        assert_eq!(answer.status, 502);
        assert_eq!(answer.code, None);
        assert_eq!(
            answer.message,
            "Bad Gateway (the answer was not a C1 error body; is a proxy in the way?)"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_failure() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!(
            "http://{}/x?secret=1",
            listener.local_addr().unwrap()
        ))
        .unwrap();
        drop(listener);
        let Outcome::Unanswered(failed) = sender().send_once(get(&url), 1, TIMEOUT).await else {
            panic!("answered")
        };
        assert_eq!(failed.failure, AttemptFailure::Connect);
        assert!(!failed.url.contains("secret"), "{}", failed.url);
        assert!(
            failed.message.to_ascii_lowercase().contains("refused"),
            "{}",
            failed.message
        );
    }

    #[tokio::test]
    async fn a_connection_closed_without_an_answer_is_a_failure_after_sending() {
        let (url, _) = serve_once("").await;
        let Outcome::Unanswered(failed) = sender().send_once(get(&url), 1, TIMEOUT).await else {
            panic!("answered")
        };
        assert_eq!(failed.failure, AttemptFailure::AfterSend);
        match Outcome::Unanswered(failed).into_result("create connector") {
            Err(Failure::Attempt {
                failure: AttemptFailure::AfterSend,
                retry_after: None,
                error: ClientError::Transport { operation, .. },
            }) => assert_eq!(operation, "create connector"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_slow_answer_times_out_after_sending() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/x", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(socket);
        });
        let Outcome::Unanswered(failed) = sender()
            .send_once(get(&url), 1, Duration::from_millis(200))
            .await
        else {
            panic!("answered")
        };
        assert_eq!(failed.failure, AttemptFailure::AfterSend);
    }

    /// The endpoint problem and message of one attempt at `url`.
    async fn endpoint_failure(url: &Url) -> (AttemptFailure, String) {
        let sender = Sender::new("c1-client-tests", url.scheme() == "https").unwrap();
        let Outcome::Unanswered(failed) = sender.send_once(get(url), 1, TIMEOUT).await else {
            panic!("answered")
        };
        (failed.failure, failed.message)
    }

    #[tokio::test]
    async fn a_host_name_that_does_not_resolve_is_an_endpoint_problem() {
        // `.invalid` never resolves (RFC 6761), with or without a network.
        let url = Url::parse("http://c1-tenant.invalid/x").unwrap();
        let (failure, message) = endpoint_failure(&url).await;
        assert_eq!(
            failure,
            AttemptFailure::Endpoint(EndpointProblem::UnknownHost),
            "{message}"
        );
        assert!(
            message.starts_with("the host name c1-tenant.invalid does not resolve"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn tls_to_a_plain_http_port_is_an_endpoint_problem() {
        let mut url = serve_raw(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
        url.set_scheme("https").unwrap();
        let (failure, message) = endpoint_failure(&url).await;
        assert_eq!(
            failure,
            AttemptFailure::Endpoint(EndpointProblem::NotTls),
            "{message}"
        );
        let server = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
        assert!(
            message.starts_with(&format!("the server at {server} does not speak TLS")),
            "{message}"
        );
        assert!(message.contains("http:// URL?"), "{message}");
    }

    #[tokio::test]
    async fn an_answer_that_is_not_http_is_an_endpoint_problem() {
        // What a TLS server answers a plain-HTTP request with: a TLS alert record.
        let url = serve_raw(b"\x15\x03\x01\x00\x02\x02\x32").await;
        let (failure, message) = endpoint_failure(&url).await;
        assert_eq!(
            failure,
            AttemptFailure::Endpoint(EndpointProblem::NotHttp),
            "{message}"
        );
        assert!(message.contains("did not answer in HTTP"), "{message}");
        assert!(message.contains("https:// URL?"), "{message}");
        match Outcome::Unanswered(Unanswered {
            failure,
            url: url.to_string(),
            message,
        })
        .into_result("read connector")
        {
            Err(Failure::Attempt {
                error:
                    ClientError::Endpoint {
                        problem: EndpointProblem::NotHttp,
                        ..
                    },
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_untrusted_certificate_is_recognised_through_the_connector_wrapping() {
        // The shape reqwest produces: io::Error(Other) around io::Error(InvalidData) around rustls.
        let rustls_err = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let wrapped = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls_err,
        ));
        assert_eq!(
            endpoint_problem(&wrapped),
            Some(EndpointProblem::UntrustedCertificate)
        );
        let other = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(endpoint_problem(&other), None);
    }
}
