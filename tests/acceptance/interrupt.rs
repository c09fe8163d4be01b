//! Ctrl-C: an apply stuck retrying against a C1 that answers every connector call with 503
//! (create budget 10 minutes) stops at once when Terraform is interrupted: Terraform sends
//! StopProvider, every retry ends with "interrupted: Terraform asked the provider to stop", and
//! no call reaches C1 afterwards. A terminal's Ctrl-C also reaches the provider itself (SIGINT to
//! the process group): it must not die of it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::faults::ids;
use crate::harness::*;

/// Six integrations with a 10-minute create budget, against a simulator whose connector calls
/// all answer 503; returns once the first creates are in its request log.
fn stuck_apply(name: &str, own_group: bool) -> (Sim, Tf, Running) {
    let sim = Sim::start(name);
    let creds = sim.mint();
    let tf = Tf::new(name, &sim, &creds);
    let body: String = (0..6)
        .map(|i| {
            let kind = [Kind::Twingate, Kind::Torq, Kind::Segment][i % 3];
            with_inner(
                &resource_block(kind, &format!("r{i}"), "app1", None, &kv(kind, 0)),
                "timeouts {\n    create = \"10m\"\n  }",
            )
        })
        .collect();
    tf.write_main(&config(&body));
    sim.set_faults(
        json!({"fail_5xx_every": 1, "fail_status": 503, "path_contains": "/connectors"}),
    );
    let running = tf.spawn(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        own_group,
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while sim.requests().count(Op::CreateConfigured) == 0 {
        assert!(Instant::now() < deadline, "no create within 2 minutes");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let the retries get going (lookups, backoff waits).
    std::thread::sleep(Duration::from_secs(2));
    (sim, tf, running)
}

/// What every interrupted apply shows (`reason`: why the provider stopped), and that C1 hears
/// nothing once it is over.
fn assert_stopped(sim: &Sim, out: &Out, reason: &str) {
    out.code(1)
        .contains("Interrupt received")
        .contains(&format!("interrupted: {reason}"))
        .lacks("Plugin did not respond")
        .lacks("plugin exited")
        .lacks("connection is shut down");
    let calls = sim.requests().0.len();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        sim.requests().0.len(),
        calls,
        "calls after the apply ended: {}",
        sim.requests().summary()
    );
}

#[cfg(unix)]
#[test]
fn an_interrupted_apply_stops_retrying_at_once() {
    let (sim, tf, running) = stuck_apply("interrupt-terraform", false);
    // Terraform alone gets SIGINT and sends StopProvider. (No timing assertion: the create
    // budget is 10 minutes, past the harness's kill after 10 minutes.)
    running.signal(libc::SIGINT);
    let out = running.wait();
    assert_stopped(&sim, &out, "Terraform asked the provider to stop");
    // Creates whose outcome was unknown when stopped are kept as tainted placeholders; with C1
    // back, the next apply replaces them and C1 ends with exactly the connectors in state.
    sim.clear_faults();
    tf.apply().code(0).contains("Apply complete!");
    let (in_state, in_sim) = ids(&tf, &sim);
    assert_eq!(in_state.len(), 6);
    assert_eq!(in_state, in_sim);
}

#[cfg(unix)]
#[test]
fn ctrl_c_in_a_terminal_does_not_kill_the_provider() {
    let (sim, _tf, running) = stuck_apply("interrupt-group", true);
    running.signal_group(libc::SIGINT);
    let out = running.wait();
    // The provider got the signal first (or Terraform's StopProvider did): either way it
    // stopped its retries and lived on to report them.
    assert!(
        out.all()
            .contains("interrupted: the provider received SIGINT")
            || out
                .all()
                .contains("interrupted: Terraform asked the provider to stop"),
        "{}",
        out.all()
    );
    assert_stopped(&sim, &out, "");
}
