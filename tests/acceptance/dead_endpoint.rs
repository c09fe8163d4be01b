//! An unreachable or mistyped endpoint fails a run of any size in about one time budget, with
//! one shared failure: the token request is made once for all resources (single flight) and its
//! failure is remembered; errors that retrying cannot fix (a name that does not resolve, TLS to a
//! plain-HTTP port, plain HTTP to a port that does not answer in HTTP) fail at once.
//!
//! No timing assertions: "one budget" shows in the errors themselves (every resource reports the
//! same failure: the same attempts over the same seconds), in a count of connections, and in runs
//! whose default 10-minute budgets would otherwise outlast the harness's 10-minute kill.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::harness::*;

/// Twenty integrations (over the three kinds), each with `inner` (e.g. a timeouts block).
fn twenty(inner: &str) -> String {
    (0..20)
        .map(|i| {
            let kind = [Kind::Twingate, Kind::Torq, Kind::Segment][i % 3];
            let block = resource_block(kind, &format!("r{i}"), "app1", None, &kv(kind, 0));
            if inner.is_empty() {
                block
            } else {
                with_inner(&block, inner)
            }
        })
        .collect()
}

/// A working directory with valid-looking client credentials for `server_url` (no simulator).
fn tf_for(name: &str, server_url: &str) -> Tf {
    let (_, creds) = c1_sim::mint_credentials("acceptance", "acme");
    let mut tf = Tf::bare(name, Install::DevOverrides);
    tf.set_env(SERVER_URL.env, server_url);
    tf.set_env(CLIENT_ID.env, &creds.client_id);
    tf.set_env(CLIENT_SECRET.env, &creds.client_secret);
    tf
}

/// Terraform's output with its line wrapping undone (it wraps diagnostics at 78 columns).
fn squashed(out: &Out) -> String {
    out.all().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every "gave up after N attempt(s) over S s" in `text`.
fn give_ups(text: &str) -> Vec<String> {
    text.match_indices("gave up after ")
        .map(|(at, _)| {
            let rest = &text[at..];
            let end = rest.find("s:").expect("gave up after N attempts over S s:");
            rest[..end + 1].to_string()
        })
        .collect()
}

/// Applies twenty integrations (each with `inner`) at Terraform's default parallelism; every
/// one must fail to be created. Returns the output, unwrapped.
fn apply_twenty_failing(tf: &Tf, inner: &str) -> String {
    tf.write_main(&config(&twenty(inner)));
    let out = tf.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-parallelism=10",
    ]);
    out.code(1);
    let text = squashed(&out);
    assert_eq!(
        text.matches("Error: Could not create the").count(),
        20,
        "{text}"
    );
    text
}

#[test]
fn an_unreachable_endpoint_fails_every_resource_with_one_shared_failure() {
    let tf = tf_for("dead-endpoint-apply", "http://127.0.0.1:1");
    let text = apply_twenty_failing(&tf, "timeouts {\n    create = \"3s\"\n  }");
    // One token request cycle for all: the same attempts over the same time, twenty times.
    let failures = give_ups(&text);
    assert_eq!(failures.len(), 20, "{text}");
    assert!(
        failures.iter().all(|f| f == &failures[0]),
        "one shared failure, not one cycle each: {failures:?}"
    );
    // Those that started after it failed were told so at once.
    assert!(
        text.contains("get access token: the token request already failed: gave up after"),
        "{text}"
    );
    assert!(
        text.contains("could not reach C1 at http://127.0.0.1:1/auth/v1/token"),
        "{text}"
    );
    assert!(text.contains("onnection refused"), "{text}");
    assert!(
        text.contains("within timeouts.create (3s)"),
        "the budget is named: {text}"
    );
}

/// With a ready token there is no token request to share: the resources that run together each
/// retry for their budget, and every later one fails at once with "already unreachable". One
/// wave of budgets (Terraform's parallelism), not one per resource.
#[test]
fn with_a_ready_token_an_unreachable_endpoint_costs_one_wave_of_budgets() {
    let mut tf = tf_for("dead-endpoint-token", "http://127.0.0.1:1");
    tf.set_env(ENV_ACCESS_TOKEN, "a-ready-token");
    let text = apply_twenty_failing(&tf, "timeouts {\n    create = \"3s\"\n  }");
    let mut failures = give_ups(&text);
    assert_eq!(failures.len(), 20, "{text}");
    failures.sort();
    failures.dedup();
    assert!(
        failures.len() <= 10,
        "at most one budget per parallel slot: {failures:?}"
    );
    assert!(
        text.matches("not sent: C1 was already unreachable for a whole call: gave up after")
            .count()
            >= 10,
        "{text}"
    );
}

#[test]
fn a_plan_against_an_unreachable_endpoint_shares_one_failure() {
    let sim = Sim::start("dead-endpoint-plan");
    let creds = sim.mint();
    let mut tf = Tf::new("dead-endpoint-plan", &sim, &creds);
    tf.write_main(&config(&twenty("timeouts {\n    read = \"3s\"\n  }")));
    tf.apply().code(0).contains("20 added");
    // The tenant's address is mistyped (a port nothing listens on): every refresh fails, with
    // the one failure of the one token request.
    tf.set_env(SERVER_URL.env, "http://127.0.0.1:1");
    let out = tf.plan();
    out.code(1);
    let text = squashed(&out);
    assert_eq!(
        text.matches("Error: Could not read the").count(),
        20,
        "{text}"
    );
    let failures = give_ups(&text);
    assert_eq!(failures.len(), 20, "{text}");
    assert!(failures.iter().all(|f| f == &failures[0]), "{failures:?}");
    assert_eq!(sim.connectors().len(), 20, "nothing changed in C1");
}

/// A TCP server that is not an HTTP server: it answers whatever arrives with a TLS alert record
/// (what a TLS port answers a plain-HTTP request with) and counts the connections it gets.
fn not_http_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"\x15\x03\x01\x00\x02\x02\x32");
        }
    });
    (port, connections)
}

#[test]
fn errors_retrying_cannot_fix_fail_at_once() {
    let sim = Sim::start("dead-endpoint-mismatch");
    let plain_port = sim.url.rsplit(':').next().unwrap().to_string();
    let (garbage_port, connections) = not_http_server();
    for (name, server_url, what) in [
        (
            "dns",
            "https://c1-tenant.invalid".to_string(),
            "the host name c1-tenant.invalid does not resolve",
        ),
        (
            "tls-to-plain",
            format!("https://127.0.0.1:{plain_port}"),
            &*format!("the server at 127.0.0.1:{plain_port} does not speak TLS"),
        ),
        (
            "plain-to-other",
            format!("http://127.0.0.1:{garbage_port}"),
            &*format!("the server at 127.0.0.1:{garbage_port} did not answer in HTTP"),
        ),
    ] {
        // The default budgets (create: 10 minutes): were these retried, twenty resources would
        // outlast the harness's 10-minute kill.
        let tf = tf_for(&format!("dead-endpoint-{name}"), &server_url);
        let text = apply_twenty_failing(&tf, "");
        assert_eq!(text.matches(what).count(), 20, "{name}: {text}");
        assert!(
            text.contains("Check `server_url` / `tenant_domain`"),
            "{name}: {text}"
        );
        assert!(
            !text.contains("gave up after"),
            "{name}: not retried: {text}"
        );
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "one token request for twenty resources, not retried"
    );
    assert!(
        sim.requests().0.is_empty(),
        "TLS spoken to the plain port is no request"
    );
}
