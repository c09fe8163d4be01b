//! Scenario 7: faults — throttling (429) and unavailability (503) are retried until apply
//! succeeds; a permanent 500 fails within the operation's budget with a clear message and the
//! state matches the simulator.

use std::collections::BTreeSet;

use serde_json::json;

use crate::harness::*;

/// How the id of a create whose outcome is unknown starts (src/resource/integration.rs).
pub const PLACEHOLDER_PREFIX: &str = "create-outcome-unknown-";

fn faults(
    fail_429_every: u64,
    fail_5xx_every: u64,
    fail_status: u16,
    path: Option<&str>,
) -> serde_json::Value {
    let mut f = json!({
        "latency_ms": 0,
        "fail_429_every": fail_429_every,
        "retry_after_secs": 1,
        "fail_5xx_every": fail_5xx_every,
        "fail_status": fail_status,
        "drop_every": 0,
    });
    if let Some(p) = path {
        f["path_contains"] = json!(p);
    }
    f
}

fn three_kinds() -> String {
    config(
        &[Kind::Twingate, Kind::Torq, Kind::Segment]
            .iter()
            .map(|k| resource_block(*k, "r", "app1", Some(&["u1"]), &kv(*k, 0)))
            .collect::<String>(),
    )
}

/// Ids in Terraform's state (of connectors, not placeholders of creates whose outcome is
/// unknown) and live connectors in the simulator.
pub fn ids(tf: &Tf, sim: &Sim) -> (BTreeSet<String>, BTreeSet<String>) {
    let in_state = tf
        .resources()
        .into_iter()
        .map(|(_, v)| v["id"].as_str().unwrap_or_default().to_string())
        .filter(|id| !id.starts_with(PLACEHOLDER_PREFIX))
        .collect();
    let in_sim = sim
        .connectors()
        .into_iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_string())
        .collect();
    (in_state, in_sim)
}

#[test]
fn throttling_and_unavailability_are_retried() {
    let sim = Sim::start("faults-transient");
    let creds = sim.mint();
    let tf = Tf::new("faults-transient", &sim, &creds);
    tf.write_main(&three_kinds());
    sim.set_faults(faults(3, 4, 503, None));

    let out = tf.apply();
    out.code(0)
        .contains("Resources: 3 added, 0 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert!(
        log.with_status(429) >= 1,
        "429s injected: {}",
        log.summary()
    );
    assert!(
        log.with_status(503) >= 1,
        "503s injected: {}",
        log.summary()
    );
    assert_eq!(log.ok(Op::CreateConfigured), 3, "{}", log.summary());
    assert_eq!(sim.connectors().len(), 3, "no duplicates: {}", sim.state());
    let (a, b) = ids(&tf, &sim);
    assert_eq!(a, b);

    // Reads and deletes retry too.
    tf.plan().code(0).contains("No changes.");
    tf.destroy().code(0).contains("3 destroyed");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::Delete), 3, "{}", log.summary());
    assert!(sim.connectors().is_empty());
}

#[test]
fn permanent_500_on_create_fails_clearly_and_state_matches() {
    let sim = Sim::start("faults-500-create");
    let creds = sim.mint();
    let tf = Tf::new("faults-500-create", &sim, &creds);
    let body = format!(
        "{}{}{}",
        resource_block(Kind::Twingate, "ok1", "app1", None, &kv(Kind::Twingate, 0)),
        resource_block(Kind::Segment, "ok2", "app1", None, &kv(Kind::Segment, 0)),
        with_inner(
            &resource_block(Kind::Torq, "broken", "app2", None, &kv(Kind::Torq, 0)),
            "timeouts {\n    create = \"3s\"\n  }"
        ),
    );
    tf.write_main(&config(&body));
    sim.set_faults(faults(0, 1, 500, Some("/apps/app2/")));

    // A 500 to a create may come after C1 carried it out: the provider looks the connector up
    // (the list fails with 500 too, retried until the create budget runs out) and keeps a
    // tainted placeholder for the create.
    let out = tf.apply();
    out.code(1)
        .contains("Error")
        .contains("conductorone_integration_torq.broken")
        .contains("500")
        .contains("Could not tell whether the Torq integration was created");
    assert_no_secrets("apply output", &out.all(), &[&creds.client_secret]);
    let log = sim.take_requests();
    let to_app2: Vec<_> = log.0.iter().filter(|r| r.app() == Some("app2")).collect();
    assert!(!to_app2.is_empty());
    assert!(to_app2.iter().all(|r| r.status == 500), "{}", log.summary());
    assert!(
        log.count(Op::List) >= 2,
        "looked up, retried: {}",
        log.summary()
    );
    let (in_state, in_sim) = ids(&tf, &sim);
    assert_eq!(in_sim.len(), 2, "{}", sim.state());
    assert_eq!(in_state, in_sim, "state matches what exists");
    let broken = tf.resource("conductorone_integration_torq.broken");
    assert!(
        broken["id"]
            .as_str()
            .unwrap()
            .starts_with(PLACEHOLDER_PREFIX),
        "{broken}"
    );

    // Once C1 recovers, apply replaces the placeholder (nothing carries its marker) without
    // duplicates.
    sim.clear_faults();
    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 1 destroyed.");
    let (in_state, in_sim) = ids(&tf, &sim);
    assert_eq!(in_sim.len(), 3);
    assert_eq!(in_state, in_sim);
    tf.plan().code(0).contains("No changes.");
}

#[test]
fn permanent_500_on_update_keeps_the_old_state() {
    let sim = Sim::start("faults-500-update");
    let creds = sim.mint();
    let tf = Tf::new("faults-500-update", &sim, &creds);
    let write = |owners: &[&str], variant: u8| {
        tf.write_main(&config(&with_inner(
            &resource_block(
                Kind::Twingate,
                "t",
                "app1",
                Some(owners),
                &kv(Kind::Twingate, variant),
            ),
            "timeouts {\n    update = \"3s\"\n  }",
        )))
    };
    write(&["u1"], 0);
    tf.apply().code(0).contains("1 added");
    let id = sim.connectors()[0]["id"].as_str().unwrap().to_string();

    // Only writes to this connector fail (reads go through).
    write(&["u1"], 1);
    sim.set_faults(faults(0, 1, 500, Some(&format!("/connectors/{id}"))));
    // GETs of the same path fail as well, so refresh must not be used here: skip it. The 500
    // is retried until the update budget (3s) runs out.
    let out = tf.apply_args(&["-refresh=false"]);
    out.code(1)
        .contains("Error")
        .contains("500")
        .contains("within timeouts.update (3s)");
    sim.clear_faults();
    let c = sim.connector(&id).unwrap();
    assert_eq!(setting(&c, "twingate_domain").as_deref(), Some("acme"));
    let st = tf.resource("conductorone_integration_twingate.t");
    assert_eq!(st["id"], id.as_str());
    assert_eq!(
        st["twingate_domain"], "acme",
        "state still says what C1 holds"
    );
    // The change is still pending, and goes through now.
    tf.plan().code(2).contains("1 to change");
    tf.apply().code(0).contains("1 changed");
    assert_eq!(
        setting(&sim.connector(&id).unwrap(), "twingate_domain").as_deref(),
        Some("acme-1")
    );
    tf.plan().code(0).contains("No changes.");
}

/// C1 creates the connector but the answer is lost (a 503, a 500 or a dropped connection after
/// the create was carried out): the provider finds the connector it made instead of leaving it
/// orphaned or creating a second one.
#[test]
fn a_create_whose_answer_is_lost_leaves_no_orphan() {
    let sim = Sim::start("faults-lost-answer");
    let creds = sim.mint();
    let tf = Tf::new("faults-lost-answer", &sim, &creds);
    let body = format!(
        "{}{}",
        resource_block(
            Kind::Twingate,
            "configured",
            "app1",
            None,
            &kv(Kind::Twingate, 0)
        ),
        resource_block(Kind::Segment, "delegated", "app1", Some(&["u1"]), &[]),
    );
    tf.write_main(&config(&body));
    // A 500 as much as a 503: C1 may fail to answer a create it carried out with any 5xx.
    for (fault, status) in [
        ("fail_5xx_every", 503),
        ("fail_5xx_every", 500),
        ("drop_every", 0),
    ] {
        let mut f = json!({"method": "POST", "after_handling": true, "fail_status": status});
        f[fault] = json!(1);
        // Every create is carried out, and every create's answer is lost.
        f["path_contains"] = json!("/connectors");
        sim.set_faults(f);
        let out = tf.apply();
        out.code(0)
            .contains("Resources: 2 added, 0 changed, 0 destroyed.");
        sim.clear_faults();
        let log = sim.take_requests();
        let creates = log.count(Op::CreateConfigured) + log.count(Op::CreateDelegated);
        assert_eq!(creates, 2, "each create sent once: {}", log.summary());
        assert_eq!(
            log.with_status(status),
            2,
            "both answers lost: {}",
            log.summary()
        );
        assert!(log.count(Op::List) >= 2, "looked up: {}", log.summary());
        let (in_state, in_sim) = ids(&tf, &sim);
        assert_eq!(in_sim.len(), 2, "no orphan, no duplicate: {}", sim.state());
        assert_eq!(in_state, in_sim);
        tf.plan().code(0).contains("No changes.");
        tf.destroy().code(0).contains("2 destroyed");
        assert!(sim.connectors().is_empty());
        sim.clear_requests();
    }
}
