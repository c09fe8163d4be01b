//! Scenario 4: drift — changes made outside Terraform (in the C1 UI) show up in the plan and
//! apply puts things back.

use crate::harness::*;

/// A simulator and a working directory where one resource of `kind` (settings variant 0) has
/// been applied; returns them with the connector's id.
fn applied_one(
    name: &str,
    kind: Kind,
    resource: &str,
    app: &str,
    owners: Option<&[&str]>,
) -> (Sim, Tf, String) {
    let sim = Sim::start(name);
    let creds = sim.mint();
    let tf = Tf::new(name, &sim, &creds);
    tf.write_main(&config(&resource_block(
        kind,
        resource,
        app,
        owners,
        &kv(kind, 0),
    )));
    tf.apply().code(0).contains("1 added");
    let id = sim.connectors()[0]["id"].as_str().unwrap().to_string();
    (sim, tf, id)
}

#[test]
fn deleted_out_of_band_is_recreated() {
    let (sim, tf, id) = applied_one("drift-deleted", Kind::Twingate, "t", "app1", Some(&["u1"]));
    sim.delete_connector("app1", &id);
    assert!(sim.connectors().is_empty());
    sim.clear_requests();

    let out = tf.plan();
    out.code(2)
        .contains("will be created")
        .contains("Plan: 1 to add, 0 to change, 0 to destroy.");
    let log = sim.take_requests();
    assert_eq!(log.writes(), 0, "{}", log.summary());
    assert!(log.count(Op::Get) >= 1, "{}", log.summary());

    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateConfigured), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    let conns = sim.connectors();
    assert_eq!(conns.len(), 1);
    assert_ne!(conns[0]["id"], id.as_str(), "a new connector");
    assert_eq!(
        setting(&conns[0], "twingate_domain").as_deref(),
        Some("acme")
    );
    assert_eq!(
        tf.resource("conductorone_integration_twingate.t")["id"],
        conns[0]["id"]
    );
    tf.plan().code(0).contains("No changes.");
}

/// A connector C1 is deleting reads back with `deletedAt` set: the plan creates it again (with a
/// warning that says why) instead of failing.
#[test]
fn being_deleted_in_c1_is_planned_for_creation() {
    let (sim, tf, id) = applied_one("drift-deleting", Kind::Segment, "s", "app1", None);
    sim.soft_delete_connector("app1", &id);
    sim.clear_requests();

    tf.plan()
        .code(2)
        .contains("no longer exists in C1")
        .contains("Plan: 1 to add, 0 to change, 0 to destroy.");
    let log = sim.take_requests();
    assert_eq!(
        log.ok(Op::Get),
        1,
        "read it, saw deletedAt: {}",
        log.summary()
    );
    assert_eq!(log.writes(), 0, "{}", log.summary());

    tf.apply().code(0).contains("1 added");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateConfigured), 1, "{}", log.summary());
    let new_id = tf.resource("conductorone_integration_segment.s")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_id, id);
    assert!(sim.connector(&new_id).is_some());
    tf.plan().code(0).contains("No changes.");
}

#[test]
fn owners_changed_out_of_band_are_restored() {
    let (sim, tf, id) = applied_one(
        "drift-owners",
        Kind::Segment,
        "s",
        "app2",
        Some(&["u1", "u2"]),
    );
    sim.patch_connector("app2", &id, serde_json::json!({"userIds": ["intruder"]}));
    assert_eq!(user_ids(&sim.connector(&id).unwrap()), ["intruder"]);
    sim.clear_requests();

    let (out, plan) = tf.plan_json(&[]);
    out.contains("update in-place")
        .contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    let changes = plan_changes(&plan);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].1, ["update"]);
    assert_eq!(changes[0].2, ["user_ids"], "only the owners change");
    assert_eq!(sim.take_requests().writes(), 0);

    tf.apply()
        .code(0)
        .contains("Resources: 0 added, 1 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateDelegated), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    assert_eq!(user_ids(&sim.connector(&id).unwrap()), ["u1", "u2"]);
    tf.plan().code(0).contains("No changes.");
}

#[test]
fn setting_changed_out_of_band_is_restored() {
    let (sim, tf, id) = applied_one("drift-setting", Kind::Twingate, "t", "app1", Some(&["u1"]));
    sim.patch_connector(
        "app1",
        &id,
        serde_json::json!({"settings": {"twingate_domain": "elsewhere"}}),
    );
    assert_eq!(
        setting(&sim.connector(&id).unwrap(), "twingate_domain").as_deref(),
        Some("elsewhere")
    );
    sim.clear_requests();
    let (_, plan) = tf.plan_json(&[]);
    let changes = plan_changes(&plan);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].1, ["update"]);
    assert!(
        changes[0].2.contains(&"twingate_domain".to_string()),
        "{changes:?}"
    );
    tf.apply().code(0).contains("1 changed");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 1, "{}", log.summary());
    assert_eq!(
        setting(&sim.connector(&id).unwrap(), "twingate_domain").as_deref(),
        Some("acme")
    );
    tf.plan().code(0).contains("No changes.");
}
