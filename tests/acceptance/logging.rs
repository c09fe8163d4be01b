//! Scenario 9: with TF_LOG=trace no secret value appears anywhere in Terraform's or the
//! provider's logs, nor in what the CLI prints.

use crate::harness::*;

#[test]
fn trace_logs_hold_no_secrets() {
    let sim = Sim::start("logging");
    let creds = sim.mint();
    let mut tf = Tf::new("logging", &sim, &creds);
    let log_path = tf.path().join("tf-trace.log");
    tf.set_env("TF_LOG", "trace");
    tf.set_env("TF_LOG_PROVIDER", "trace");
    tf.set_env("TF_LOG_PATH", &log_path.to_string_lossy());

    let mut secrets: Vec<String> = vec![creds.client_secret.clone()];
    // The key material alone, in case something prints the decoded or split secret.
    if let Some(b64) = creds.client_secret.rsplit(':').next() {
        secrets.push(b64.to_string());
    }
    for k in [Kind::Twingate, Kind::Torq, Kind::Segment] {
        for v in [0, 1] {
            for (_, val, secret) in k.settings(v) {
                if secret {
                    secrets.push(val);
                }
            }
        }
    }
    let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let write = |variant: u8| {
        tf.write_main(&config(
            &[Kind::Twingate, Kind::Torq, Kind::Segment]
                .iter()
                .map(|k| resource_block(*k, "r", "app1", Some(&["u1"]), &kv(*k, variant)))
                .collect::<String>(),
        ))
    };

    let mut printed = String::new();
    write(0);
    let out = tf.apply();
    out.code(0).contains("3 added");
    printed.push_str(&out.all());
    let out = tf.plan();
    out.code(0);
    printed.push_str(&out.all());
    write(1);
    let out = tf.apply();
    out.code(0).contains("3 changed");
    printed.push_str(&out.all());
    // Retried calls are logged too.
    sim.set_faults(serde_json::json!({
        "latency_ms": 0, "fail_429_every": 2, "retry_after_secs": 1,
        "fail_5xx_every": 0, "fail_status": 503, "drop_every": 0
    }));
    let out = tf.destroy();
    out.code(0).contains("3 destroyed");
    printed.push_str(&out.all());
    sim.clear_faults();

    let log = sim.requests();
    assert_eq!(log.ok(Op::CreateConfigured), 3, "{}", log.summary());
    assert_eq!(log.ok(Op::UpdateConfig), 3, "{}", log.summary());

    let trace = std::fs::read_to_string(&log_path).expect("trace log written");
    assert!(
        trace.contains("terraform-provider-conductorone"),
        "the trace log holds the provider's lines"
    );
    assert!(
        trace.len() > 10_000,
        "trace log is substantial ({} bytes)",
        trace.len()
    );
    assert_no_secrets("the TF_LOG=trace log", &trace, &secret_refs);
    assert_no_secrets("terraform's output", &printed, &secret_refs);
    assert!(
        !trace.contains("client_assertion="),
        "no signed assertion in logs"
    );
    let lower = trace.to_lowercase();
    assert!(
        !lower.contains("authorization: bearer ") && !lower.contains("\"authorization\":\"bearer "),
        "no Authorization header value in logs"
    );
    assert!(
        !trace.contains("\"access_token\":\""),
        "no access token in logs"
    );
}
