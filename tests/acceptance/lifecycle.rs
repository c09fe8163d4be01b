//! Scenario 1: the full life of each integration — create, no-op plan, settings update (config
//! mask), owners update (delegated endpoint), replacement on `app_id`, destroy.

use crate::harness::*;

fn lifecycle(kind: Kind) {
    let name = format!("lifecycle-{kind:?}");
    let sim = Sim::start(&name);
    let creds = sim.mint();
    let tf = Tf::new(&name, &sim, &creds);
    let addr = format!("{}.this", kind.resource_type());
    let secrets: Vec<String> = [kind.settings(0), kind.settings(1)]
        .concat()
        .into_iter()
        .filter(|(_, _, secret)| *secret)
        .map(|(_, v, _)| v)
        .collect();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let write = |app: &str, owners: &[&str], variant: u8| {
        tf.write_main(&config(&resource_block(
            kind,
            "this",
            app,
            Some(owners),
            &kv(kind, variant),
        )))
    };

    // Create with settings: one configured create, nothing else written.
    write("app1", &["u1", "u2"], 0);
    let out = tf.apply();
    out.code(0)
        .contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed.");
    assert_no_secrets("apply output", &out.all(), &secrets);
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateConfigured), 1, "{}", log.summary());
    assert_eq!(log.count(Op::CreateDelegated), 0, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    let conns = sim.connectors();
    assert_eq!(conns.len(), 1, "sim state: {}", sim.state());
    let c = &conns[0];
    let id = c["id"].as_str().expect("connector id").to_string();
    assert_eq!(c["catalogId"], kind.catalog_id());
    assert_eq!(c["appId"], "app1");
    assert_eq!(user_ids(c), ["u1", "u2"]);
    for (k, v, secret) in kind.settings(0) {
        if !secret {
            assert_eq!(
                setting(c, k).as_deref(),
                Some(v.as_str()),
                "setting {k}: {c}"
            );
        }
    }
    let st = tf.resource(&addr);
    assert_eq!(st["id"], id.as_str());
    assert_eq!(st["app_id"], "app1");
    assert_eq!(st["user_ids"], serde_json::json!(["u1", "u2"]));
    assert!(
        st["created_at"].as_str().is_some_and(|s| !s.is_empty()),
        "{st}"
    );
    assert!(st["deleted_at"].is_null(), "{st}");
    for (k, v, _) in kind.settings(0) {
        assert_eq!(st[k], v.as_str(), "state keeps {k} as configured");
    }

    // Plan: no changes, and nothing written.
    tf.plan().code(0).contains("No changes.");
    let log = sim.take_requests();
    assert_eq!(log.writes(), 0, "{}", log.summary());
    assert!(
        log.ok(Op::Get) >= 1,
        "refresh reads the connector: {}",
        log.summary()
    );

    // Change a setting: update in place through the config mask.
    write("app1", &["u1", "u2"], 1);
    let out = tf.plan();
    out.code(2)
        .contains("update in-place")
        .contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    assert_no_secrets("plan output", &out.all(), &secrets);
    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 0 added, 1 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    let c = sim.connector(&id).expect("same connector after update");
    for (k, v, secret) in kind.settings(1) {
        if !secret {
            assert_eq!(
                setting(&c, k).as_deref(),
                Some(v.as_str()),
                "setting {k}: {c}"
            );
        }
    }
    assert_eq!(user_ids(&c), ["u1", "u2"]);
    tf.plan().code(0).contains("No changes.");
    sim.clear_requests();

    // Change owners: the delegated endpoint, settings untouched.
    write("app1", &["u1", "u3"], 1);
    tf.plan()
        .code(2)
        .contains("update in-place")
        .contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 0 added, 1 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateDelegated), 1, "{}", log.summary());
    assert_eq!(log.count(Op::UpdateConfig), 0, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    let c = sim
        .connector(&id)
        .expect("same connector after owners update");
    assert_eq!(user_ids(&c), ["u1", "u3"]);
    assert_eq!(
        tf.resource(&addr)["user_ids"],
        serde_json::json!(["u1", "u3"])
    );
    tf.plan().code(0).contains("No changes.");
    sim.clear_requests();

    // Change app_id: replacement (delete in app1, create in app2).
    write("app2", &["u1", "u3"], 1);
    tf.plan()
        .code(2)
        .contains("must be replaced")
        .contains("Plan: 1 to add, 0 to change, 1 to destroy.");
    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 1 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::Delete), 1, "{}", log.summary());
    assert_eq!(log.ok(Op::CreateConfigured), 1, "{}", log.summary());
    assert_eq!(log.writes(), 2, "{}", log.summary());
    let deleted = log
        .0
        .iter()
        .find(|r| r.op() == Op::Delete && r.ok())
        .unwrap();
    assert_eq!(deleted.app(), Some("app1"));
    let created = log
        .0
        .iter()
        .find(|r| r.op() == Op::CreateConfigured && r.ok())
        .unwrap();
    assert_eq!(created.app(), Some("app2"));
    let conns = sim.connectors();
    assert_eq!(conns.len(), 1, "sim state: {}", sim.state());
    assert_eq!(conns[0]["appId"], "app2");
    assert_ne!(conns[0]["id"], id.as_str());
    assert_eq!(tf.resource(&addr)["id"], conns[0]["id"]);
    tf.plan().code(0).contains("No changes.");
    sim.clear_requests();

    // Destroy: nothing left.
    let out = tf.destroy();
    out.code(0).contains("Resources: 1 destroyed.");
    assert_no_secrets("destroy output", &out.all(), &secrets);
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::Delete), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    assert!(sim.connectors().is_empty(), "sim state: {}", sim.state());
    let raw = sim.state();
    assert_eq!(
        raw["connectors"].as_array().map(Vec::len),
        Some(0),
        "not even a deleted connector is left: {raw}"
    );
    assert!(tf.resources().is_empty());
}

#[test]
fn twingate_lifecycle() {
    lifecycle(Kind::Twingate);
}

#[test]
fn torq_lifecycle() {
    lifecycle(Kind::Torq);
}

#[test]
fn segment_lifecycle() {
    lifecycle(Kind::Segment);
}
