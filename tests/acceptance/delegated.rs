//! Scenario 2: delegated setup — no settings means a delegated create (the owners finish the
//! setup in C1); adding the settings later configures the same connector in place.

use crate::harness::*;

fn delegated_then_configured(kind: Kind) {
    let name = format!("delegated-{kind:?}");
    let sim = Sim::start(&name);
    let creds = sim.mint();
    let tf = Tf::new(&name, &sim, &creds);
    let addr = format!("{}.d", kind.resource_type());

    tf.write_main(&config(&resource_block(
        kind,
        "d",
        "app1",
        Some(&["u9"]),
        &[],
    )));
    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateDelegated), 1, "{}", log.summary());
    assert_eq!(log.count(Op::CreateConfigured), 0, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    let conns = sim.connectors();
    assert_eq!(conns.len(), 1, "sim state: {}", sim.state());
    let id = conns[0]["id"].as_str().unwrap().to_string();
    assert_eq!(conns[0]["catalogId"], kind.catalog_id());
    assert_eq!(user_ids(&conns[0]), ["u9"]);
    for (k, _, _) in kind.settings(0) {
        assert_eq!(
            setting(&conns[0], k),
            None,
            "no setting {k} yet: {}",
            conns[0]
        );
    }
    let st = tf.resource(&addr);
    assert_eq!(st["id"], id.as_str());
    for (k, _, _) in kind.settings(0) {
        assert!(st[k].is_null(), "{k} stays null in state: {st}");
    }

    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.take_requests().writes(), 0);

    // Adding the settings later configures the same connector.
    tf.write_main(&config(&resource_block(
        kind,
        "d",
        "app1",
        Some(&["u9"]),
        &kv(kind, 0),
    )));
    tf.plan()
        .code(2)
        .contains("update in-place")
        .contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 0 added, 1 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    let c = sim.connector(&id).expect("same connector, now configured");
    for (k, v, secret) in kind.settings(0) {
        if !secret {
            assert_eq!(setting(&c, k).as_deref(), Some(v.as_str()), "{k}: {c}");
        }
    }
    assert_eq!(user_ids(&c), ["u9"]);
    tf.plan().code(0).contains("No changes.");
    tf.destroy().code(0);
    assert!(sim.connectors().is_empty(), "sim state: {}", sim.state());
}

#[test]
fn twingate_delegated_then_configured() {
    delegated_then_configured(Kind::Twingate);
}

#[test]
fn segment_delegated_then_configured() {
    delegated_then_configured(Kind::Segment);
}

/// Without `user_ids` a delegated connector gets C1's default owner (the caller), and the
/// computed list is stable across plans.
#[test]
fn delegated_without_owners_is_stable() {
    let sim = Sim::start("delegated-no-owners");
    let creds = sim.mint();
    let tf = Tf::new("delegated-no-owners", &sim, &creds);
    tf.write_main(&config(&resource_block(Kind::Torq, "d", "app1", None, &[])));
    tf.apply().code(0).contains("1 added");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateDelegated), 1, "{}", log.summary());
    let conns = sim.connectors();
    assert_eq!(conns.len(), 1);
    let st = tf.resource("conductorone_integration_torq.d");
    assert_eq!(
        user_ids(&conns[0]),
        [creds.user_id.as_str()],
        "C1 makes the caller the owner"
    );
    assert_eq!(
        st["user_ids"],
        serde_json::json!(user_ids(&conns[0])),
        "state holds C1's owners"
    );
    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.take_requests().writes(), 0);
}
