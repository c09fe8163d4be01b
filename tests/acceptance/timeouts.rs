//! The `timeouts` block: Terraform durations checked at plan time (an error located on the
//! attribute, no call to C1), and a change of timeouts alone is Terraform's business: applied
//! without any call that changes C1.

use crate::harness::*;

fn twingate(timeouts: &str) -> String {
    config(&with_inner(
        &resource_block(Kind::Twingate, "t", "app1", None, &kv(Kind::Twingate, 0)),
        &format!("timeouts {{\n    {timeouts}\n  }}"),
    ))
}

#[test]
fn an_invalid_duration_fails_the_plan_on_its_attribute() {
    let sim = Sim::start("timeouts-invalid");
    let creds = sim.mint();
    let tf = Tf::new("timeouts-invalid", &sim, &creds);
    for (timeouts, attribute, why) in [
        (
            "create = \"5 minutes\"",
            "create",
            "the value is not a duration",
        ),
        (
            "read = \"0s\"",
            "read",
            "the duration must be longer than zero",
        ),
        ("delete = \"-1m\"", "delete", "the value is not a duration"),
    ] {
        tf.write_main(&twingate(timeouts));
        let out = tf.plan();
        out.code(1)
            .contains(&format!("Error: Invalid timeouts.{attribute}"))
            .contains(why)
            .contains("\"1h30m\"")
            // Terraform shows the line of the attribute itself.
            .contains(&format!("{timeouts}\n"));
    }
    assert_eq!(sim.requests().connector_calls(), 0);
    assert!(sim.connectors().is_empty());
}

#[test]
fn a_change_of_timeouts_alone_makes_no_call_that_changes_c1() {
    let sim = Sim::start("timeouts-change");
    let creds = sim.mint();
    let tf = Tf::new("timeouts-change", &sim, &creds);
    tf.write_main(&twingate("create = \"5m\""));
    tf.apply().code(0).contains("1 added");
    tf.plan().code(0).contains("No changes.");
    sim.clear_requests();

    tf.write_main(&twingate("create = \"1h30m\"\n    read = \"90s\""));
    tf.plan()
        .code(2)
        .contains("update in-place")
        .contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    tf.apply().code(0).contains("1 changed");
    let log = sim.take_requests();
    assert_eq!(log.writes(), 0, "{}", log.summary());
    let state = tf.resource("conductorone_integration_twingate.t");
    assert_eq!(state["timeouts"][0]["create"], "1h30m", "{state}");
    assert_eq!(state["timeouts"][0]["read"], "90s", "{state}");
    tf.plan().code(0).contains("No changes.");

    // Removing the block goes back to the defaults, the same way.
    tf.write_main(&config(&resource_block(
        Kind::Twingate,
        "t",
        "app1",
        None,
        &kv(Kind::Twingate, 0),
    )));
    tf.apply().code(0).contains("1 changed");
    assert_eq!(sim.take_requests().writes(), 0);
    tf.plan().code(0).contains("No changes.");
}
