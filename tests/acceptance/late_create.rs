//! Creates that land late: C1 answers every create with a 503 at once and carries it out five
//! seconds later, after every lookup of the provider (create budget: 2 s). The apply fails and
//! keeps tainted placeholders naming the create's marker; once the late creates have landed, the
//! next apply leaves exactly the connectors in the state: a placeholder still in the
//! configuration is replaced (its destroy deletes every connector carrying its marker, however
//! many tries landed), one removed from the configuration is destroyed the same way.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::faults::{ids, PLACEHOLDER_PREFIX};
use crate::harness::*;

fn late(kind: Kind, name: &str) -> String {
    with_inner(
        &resource_block(kind, name, "app1", None, &kv(kind, 0)),
        "timeouts {\n    create = \"2s\"\n  }",
    )
}

#[test]
fn creates_that_land_after_every_lookup_leave_nothing_behind() {
    let sim = Sim::start("late-create");
    let creds = sim.mint();
    let tf = Tf::new("late-create", &sim, &creds);
    tf.write_main(&config(&format!(
        "{}{}",
        late(Kind::Twingate, "kept"),
        late(Kind::Torq, "dropped")
    )));
    sim.set_faults(json!({
        "fail_5xx_every": 1,
        "fail_status": 503,
        "path_contains": "/connectors/create",
        "method": "POST",
        "after_handling": true,
        "land_late_ms": 5000,
    }));

    let out = tf.apply();
    out.code(1)
        .contains("Could not tell whether the Twingate integration was created")
        .contains("Could not tell whether the Torq integration was created");
    let text = out.all().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("kept in the state as tainted"), "{text}");
    let log = sim.take_requests();
    let creates = log.count(Op::CreateConfigured);
    assert!(creates >= 2, "{}", log.summary());
    // Each resource looked its create up (after the first unknown outcome, every second one
    // and at the end of the budget).
    assert!(log.count(Op::List) >= 4, "looked up: {}", log.summary());
    for (address, values) in tf.resources() {
        let id = values["id"].as_str().unwrap_or_default();
        assert!(id.starts_with(PLACEHOLDER_PREFIX), "{address}: {values}");
        let marker = format!(
            "Managed by Terraform (create {})",
            &id[PLACEHOLDER_PREFIX.len()..]
        );
        assert!(text.contains(&marker), "the error names {marker}: {text}");
    }

    // Every create lands, late.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.connectors().len() < creates {
        assert!(
            Instant::now() < deadline,
            "late creates never landed: {}",
            sim.state()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(sim.connectors().len(), creates, "{}", sim.state());
    sim.clear_faults();

    // The next plan replaces the one still configured; the other one goes.
    tf.write_main(&config(&late(Kind::Twingate, "kept")));
    tf.plan()
        .code(2)
        .contains("is tainted, so must be replaced")
        .contains("Plan: 1 to add, 0 to change, 2 to destroy.");
    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 2 destroyed.");
    let (in_state, in_sim) = ids(&tf, &sim);
    assert_eq!(in_sim.len(), 1, "exactly the one in state: {}", sim.state());
    assert_eq!(in_state, in_sim);
    let log = sim.take_requests();
    assert_eq!(
        log.ok(Op::Delete),
        creates,
        "every landed create deleted: {}",
        log.summary()
    );
    tf.plan().code(0).contains("No changes.");
}
