//! Owners (`user_ids`): an empty list means "no explicit owners" (C1 picks its default at create
//! and keeps the current owners on a change to `[]`), and a list with a null in it is refused.

use serde_json::json;

use crate::harness::*;

const ADDR: &str = "conductorone_integration_segment.s";

fn segment(owners: &str) -> String {
    format!(
        "resource \"conductorone_integration_segment\" \"s\" {{\n  app_id = \"app1\"\n  user_ids = {owners}\n  segment_access_token = {}\n}}\n",
        hcl_str(&kv(Kind::Segment, 0)[0].1)
    )
}

/// `user_ids = []` (e.g. `var.owners` defaulting to `[]`): the create applies, the state keeps
/// `[]` as written, C1 makes the caller the owner, and later plans are clean without owner calls.
#[test]
fn empty_owner_list_creates_and_plans_clean() {
    let sim = Sim::start("owners-empty");
    let creds = sim.mint();
    let tf = Tf::new("owners-empty", &sim, &creds);
    tf.write_main(&config(&format!(
        "variable \"owners\" {{\n  type    = list(string)\n  default = []\n}}\n\n{}",
        segment("var.owners")
    )));
    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 0 destroyed.")
        .lacks("inconsistent result");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateConfigured), 1, "{}", log.summary());
    assert_eq!(log.count(Op::UpdateDelegated), 0, "{}", log.summary());
    let conns = sim.connectors();
    assert_eq!(conns.len(), 1);
    assert_eq!(
        user_ids(&conns[0]),
        [creds.user_id.as_str()],
        "C1 made the caller the owner"
    );
    assert_eq!(tf.resource(ADDR)["user_ids"], json!([]));

    tf.plan().code(0).contains("No changes.");
    tf.apply()
        .code(0)
        .contains("Resources: 0 added, 0 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.count(Op::UpdateDelegated), 0, "{}", log.summary());
    assert_eq!(log.writes(), 0, "{}", log.summary());
    assert_eq!(tf.resource(ADDR)["user_ids"], json!([]));
    assert_eq!(sim.connectors().len(), 1);
}

/// Changing an owner list to `[]` makes no owner call (C1 keeps the current owners), the plan
/// warns about it, and afterwards the plan is clean.
#[test]
fn changing_owners_to_empty_keeps_them_and_warns() {
    let sim = Sim::start("owners-to-empty");
    let creds = sim.mint();
    let tf = Tf::new("owners-to-empty", &sim, &creds);
    tf.write_main(&config(&segment("[\"u1\"]")));
    tf.apply().code(0).contains("1 added");
    sim.clear_requests();

    tf.write_main(&config(&segment("[]")));
    tf.plan()
        .code(2)
        .contains("Warning")
        .contains("user_ids")
        .contains("keeps the current owners");
    tf.apply()
        .code(0)
        .contains("Resources: 0 added, 1 changed, 0 destroyed.")
        .lacks("inconsistent result");
    let log = sim.take_requests();
    assert_eq!(log.count(Op::UpdateDelegated), 0, "{}", log.summary());
    assert_eq!(log.writes(), 0, "{}", log.summary());
    assert_eq!(user_ids(&sim.connectors()[0]), ["u1"], "C1 keeps the owner");
    assert_eq!(tf.resource(ADDR)["user_ids"], json!([]));

    tf.plan()
        .code(0)
        .contains("No changes.")
        .lacks("does not remove the owners");
    assert_eq!(sim.take_requests().writes(), 0);

    // Setting owners again is an owner update.
    tf.write_main(&config(&segment("[\"u2\"]")));
    tf.apply()
        .code(0)
        .contains("Resources: 0 added, 1 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateDelegated), 1, "{}", log.summary());
    assert_eq!(user_ids(&sim.connectors()[0]), ["u2"]);
    assert_eq!(tf.resource(ADDR)["user_ids"], json!(["u2"]));
    tf.plan().code(0).contains("No changes.");
}

/// A null among the owners (a variable that evaluated to null) is named as such, not as a
/// wrong type, and nothing reaches C1.
#[test]
fn null_owner_is_refused_by_name() {
    for (i, owners) in ["[null]", "[\"u1\", null]"].iter().enumerate() {
        let name = format!("owners-null-{i}");
        let sim = Sim::start(&name);
        let creds = sim.mint();
        let tf = Tf::new(&name, &sim, &creds);
        tf.write_main(&config(&segment(owners)));
        tf.plan()
            .code(1)
            .contains("`user_ids` must not contain null")
            .lacks("wrong type");
        assert_eq!(sim.requests().connector_calls(), 0);
    }
}
