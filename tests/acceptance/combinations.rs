//! Apply then plan shows no changes for every combination of set and unset attributes, and for
//! every move between combinations (settings added or removed, owners set, changed or unset).

use crate::harness::*;

/// Owners per combination: unset (C1 picks the caller), one, two.
const OWNERS: [Option<&[&str]>; 3] = [None, Some(&["u1"]), Some(&["u1", "u2"])];

/// Every combination of every kind, each under its own name. `shift` rotates which combination
/// each name gets, so that a second configuration moves every resource to another one.
fn all_combinations(shift: usize) -> String {
    let mut body = String::new();
    for kind in [Kind::Twingate, Kind::Torq, Kind::Segment] {
        for slot in 0..OWNERS.len() * 2 {
            let combo = (slot + shift) % (OWNERS.len() * 2);
            let owners = OWNERS[combo % OWNERS.len()];
            let settings = if combo < OWNERS.len() {
                kv(kind, 0)
            } else {
                Vec::new()
            };
            body.push_str(&resource_block(
                kind,
                &format!("slot{slot}"),
                "app1",
                owners,
                &settings,
            ));
        }
    }
    config(&body)
}

#[test]
fn every_combination_of_set_and_unset_attributes_plans_clean() {
    let sim = Sim::start("combinations");
    let creds = sim.mint();
    let tf = Tf::new("combinations", &sim, &creds);

    tf.write_main(&all_combinations(0));
    tf.apply()
        .code(0)
        .contains("Resources: 18 added, 0 changed, 0 destroyed.");
    tf.plan().code(0).contains("No changes.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateConfigured), 9, "{}", log.summary());
    assert_eq!(log.ok(Op::CreateDelegated), 9, "{}", log.summary());
    assert_eq!(sim.connectors().len(), 18);

    // Move every resource to other combinations, twice; each time the plan after apply is clean.
    for shift in [1, 3] {
        tf.write_main(&all_combinations(shift));
        let out = tf.apply();
        out.code(0).contains("0 added").contains("0 destroyed");
        tf.plan().code(0).contains("No changes.");
        let log = sim.take_requests();
        assert_eq!(
            log.count(Op::CreateConfigured) + log.count(Op::CreateDelegated),
            0
        );
        assert_eq!(log.count(Op::Delete), 0, "{}", log.summary());
        assert!(
            log.ok(Op::UpdateConfig) > 0,
            "settings moved: {}",
            log.summary()
        );
        assert!(
            log.ok(Op::UpdateDelegated) > 0,
            "owners moved: {}",
            log.summary()
        );
        // What Terraform holds is what C1 holds.
        for (address, state) in tf.resources() {
            let id = state["id"].as_str().unwrap();
            let live = sim
                .connector(id)
                .unwrap_or_else(|| panic!("{address} exists"));
            assert_eq!(state["user_ids"], live["userIds"], "{address}");
        }
    }

    tf.destroy().code(0).contains("18 destroyed");
    assert!(sim.connectors().is_empty(), "{}", sim.state());
}
