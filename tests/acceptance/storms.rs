//! Storms: thirty integrations (ten of each kind) apply, plan clean and destroy while C1 has a bad
//! minute, at Terraform's default parallelism: 503 on every second call; 503 on every third call
//! and 429 on every fourth; and server errors (500, 502, 503, 504 in turn) or dropped answers
//! after the call was carried out. Afterwards C1 holds exactly the connectors in the state: none
//! orphaned, none twice. The faults hit every call, the token requests included.

use serde_json::{json, Value};

use crate::faults::ids;
use crate::harness::*;

fn thirty() -> String {
    config(
        &(0..30)
            .map(|i| {
                let kind = [Kind::Twingate, Kind::Torq, Kind::Segment][i % 3];
                let owners: Option<&[&str]> = if i % 2 == 0 { Some(&["u1"]) } else { None };
                resource_block(kind, &format!("r{i}"), "app1", owners, &kv(kind, 0))
            })
            .collect::<String>(),
    )
}

/// Apply, plan and destroy thirty integrations with `faults` on, checking C1 against the state
/// after each step; returns the request log of the whole run.
fn weather(name: &str, faults: Value) -> Log {
    let sim = Sim::start(name);
    let creds = sim.mint();
    let tf = Tf::new(name, &sim, &creds);
    tf.write_main(&thirty());
    sim.set_faults(faults);
    let parallelism = "-parallelism=10";

    tf.apply_args(&[parallelism])
        .code(0)
        .contains("Resources: 30 added, 0 changed, 0 destroyed.");
    let (in_state, in_sim) = ids(&tf, &sim);
    assert_eq!(in_sim.len(), 30, "no orphan, no duplicate: {}", sim.state());
    assert_eq!(in_state, in_sim);

    tf.run(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        parallelism,
    ])
    .code(0)
    .contains("No changes.");
    let (in_state, in_sim) = ids(&tf, &sim);
    assert_eq!(in_state, in_sim);

    tf.run(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        parallelism,
    ])
    .code(0)
    .contains("30 destroyed");
    assert!(sim.connectors().is_empty(), "{}", sim.state());
    let log = sim.requests();
    sim.clear_faults();
    log
}

#[test]
fn a_503_on_every_second_call() {
    let log = weather(
        "storm-503-every-2nd",
        json!({"fail_5xx_every": 2, "fail_status": 503}),
    );
    assert!(log.with_status(503) >= 30, "{}", log.summary());
}

#[test]
fn a_503_on_every_third_call_and_a_429_on_every_fourth() {
    let log = weather(
        "storm-503-3rd-429-4th",
        json!({"fail_5xx_every": 3, "fail_status": 503, "fail_429_every": 4, "retry_after_secs": 1}),
    );
    assert!(log.with_status(503) >= 10, "{}", log.summary());
    assert!(log.with_status(429) >= 10, "{}", log.summary());
}

#[test]
fn any_server_error_or_dropped_answer_after_the_call_was_carried_out() {
    let log = weather(
        "storm-after-handling",
        json!({
            "fail_5xx_every": 3,
            "fail_statuses": [500, 502, 503, 504],
            "drop_every": 7,
            "after_handling": true,
        }),
    );
    for status in [500, 502, 503, 504, 0] {
        assert!(log.with_status(status) >= 1, "{status}: {}", log.summary());
    }
    // Creates whose answer was lost were found again, not repeated: thirty creates carried out.
    let creates: Vec<&Req> = log
        .0
        .iter()
        .filter(|r| matches!(r.op(), Op::CreateConfigured | Op::CreateDelegated))
        .collect();
    assert_eq!(creates.len(), 30, "{}", log.summary());
}
