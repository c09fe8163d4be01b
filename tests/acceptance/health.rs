//! Connector health: `sync_status`, `sync_last_error` and `sync_completed_at` follow C1 without
//! ever planning a change; `wait_for_sync` waits for the first sync after a create or a settings
//! update, fails the apply on a sync error (C1's `lastError` and the integration's hint) or a
//! timeout (what was last seen), and keeps the connector; a failed sync found by a refresh is a
//! warning, not a diff. Each test runs the three integrations side by side in one configuration.

use serde_json::{json, Value};

use crate::harness::*;

const KINDS: [Kind; 3] = [Kind::Twingate, Kind::Torq, Kind::Segment];

/// The resource name of each kind in [`three`]'s configuration.
fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::Twingate => "tg",
        Kind::Torq => "tq",
        Kind::Segment => "sg",
        Kind::Baton => "bt",
    }
}

fn address(kind: Kind) -> String {
    format!("{}.{}", kind.resource_type(), name(kind))
}

/// One configured resource of each kind with settings `variant`; `inner` (e.g.
/// `wait_for_sync = true`) is added to each block.
fn three(variant: u8, inner: &str) -> String {
    let blocks: String = KINDS
        .iter()
        .map(|&kind| {
            let block = resource_block(kind, name(kind), "app1", None, &kv(kind, variant));
            if inner.is_empty() {
                block
            } else {
                with_inner(&block, inner)
            }
        })
        .collect();
    config(&blocks)
}

/// The secret setting values of `variant` of every kind (what the simulator can reject).
fn secrets(variant: u8) -> Vec<String> {
    KINDS
        .iter()
        .flat_map(|k| k.settings(variant))
        .filter(|(_, _, secret)| *secret)
        .map(|(_, v, _)| v)
        .collect()
}

/// A simulator whose syncs take `sync_delay_ms`, and a working directory using it.
fn started(name: &str, sync_delay_ms: u64) -> (Sim, Tf) {
    let sim = Sim::start_with(
        name,
        SimOpts {
            sync_delay_ms,
            ..SimOpts::default()
        },
    );
    let creds = sim.mint();
    let tf = Tf::new(name, &sim, &creds);
    (sim, tf)
}

fn set_bad_credentials(sim: &Sim, values: &[String]) {
    sim.post("/_sim/bad-credentials", json!({ "values": values }));
}

/// The connector id of each kind in the state.
fn ids(tf: &Tf) -> Vec<(Kind, String)> {
    KINDS
        .iter()
        .map(|&k| {
            let id = tf.resource(&address(k))["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{} has no id", address(k)))
                .to_string();
            (k, id)
        })
        .collect()
}

/// Reads of connector `id` in `log`.
fn reads_of(log: &Log, id: &str) -> usize {
    log.0
        .iter()
        .filter(|r| r.op() == Op::Get && r.path.ends_with(&format!("/connectors/{id}")))
        .count()
}

/// What each kind's error and warning must say to point the user at the right setting.
fn hint_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Twingate => "\"Read & Write\", which C1 needs to provision group membership",
        Kind::Torq => "id and secret of the same Torq API key",
        Kind::Segment => "a Public API token of the Segment workspace you mean to connect",
        Kind::Baton => "The sync runs in your self-hosted connector",
    }
}

fn attr<'a>(state: &'a Value, key: &str) -> &'a Value {
    &state[key]
}

#[test]
fn sync_attributes_follow_c1_on_every_read_and_never_plan_a_change() {
    let (sim, tf) = started("health-refresh", 1500);
    let delegated = resource_block(Kind::Segment, "delegated", "app1", None, &[]);
    tf.write_main(&format!("{}{delegated}", three(0, "")));
    tf.apply().code(0).contains("4 added");
    // Without wait_for_sync the state holds what the create answered: the sync just started.
    for kind in KINDS {
        let st = tf.resource(&address(kind));
        assert_eq!(attr(&st, "sync_status"), "running", "{kind:?}: {st}");
        assert!(attr(&st, "sync_completed_at").is_null(), "{st}");
        assert!(attr(&st, "sync_last_error").is_null(), "{st}");
        assert!(attr(&st, "wait_for_sync").is_null(), "{st}");
    }
    let st = tf.resource("conductorone_integration_segment.delegated");
    assert_eq!(attr(&st, "sync_status"), "unspecified", "{st}");
    std::thread::sleep(std::time::Duration::from_millis(1600));
    sim.clear_requests();

    // The syncs have finished meanwhile: the plan reads them and changes nothing.
    tf.plan().code(0).contains("No changes.");
    let log = sim.take_requests();
    assert_eq!(log.writes(), 0, "{}", log.summary());
    assert_eq!(log.ok(Op::Get), 4, "{}", log.summary());

    // A refresh stores them.
    tf.apply_args(&["-refresh-only"]).code(0);
    for kind in KINDS {
        let st = tf.resource(&address(kind));
        assert_eq!(attr(&st, "sync_status"), "done", "{kind:?}: {st}");
        let completed = attr(&st, "sync_completed_at").as_str().unwrap_or_default();
        assert!(
            completed.len() == 20 && completed.ends_with('Z'),
            "RFC 3339: {st}"
        );
    }
    assert_eq!(sim.take_requests().writes(), 0);
    tf.plan().code(0).contains("No changes.");

    // Syncs disabled in C1 read as `disabled`, still without a change.
    let (kind, id) = ids(&tf).remove(0);
    sim.post(
        &format!("/_sim/apps/app1/connectors/{id}/sync"),
        json!({"disabled": true}),
    );
    tf.apply_args(&["-refresh-only"]).code(0);
    assert_eq!(tf.resource(&address(kind))["sync_status"], "disabled");
    tf.plan().code(0).contains("No changes.");
}

#[test]
fn wait_for_sync_waits_for_the_first_sync_after_create_and_after_a_settings_update() {
    let (sim, tf) = started("health-wait", 1500);
    // A delegated connector has nothing to sync: it does not wait.
    let delegated = with_inner(
        &resource_block(Kind::Torq, "delegated", "app1", Some(&["u1"]), &[]),
        "wait_for_sync = true",
    );
    tf.write_main(&format!("{}{delegated}", three(0, "wait_for_sync = true")));
    tf.apply().code(0).contains("4 added");
    let log = sim.take_requests();
    let ids = ids(&tf);
    for (kind, id) in &ids {
        let st = tf.resource(&address(*kind));
        assert_eq!(attr(&st, "sync_status"), "done", "{kind:?}: {st}");
        assert!(attr(&st, "sync_completed_at").is_string(), "{st}");
        assert!(
            reads_of(&log, id) >= 1,
            "{kind:?} polled: {}",
            log.summary()
        );
    }
    let st = tf.resource("conductorone_integration_torq.delegated");
    assert_eq!(attr(&st, "sync_status"), "unspecified", "{st}");
    let delegated_id = st["id"].as_str().unwrap();
    assert_eq!(reads_of(&log, delegated_id), 0, "{}", log.summary());
    tf.plan().code(0).contains("No changes.");

    // A settings update waits for the sync it starts; the plan says the sync attributes change.
    tf.write_main(&format!("{}{delegated}", three(1, "wait_for_sync = true")));
    let (_, plan) = tf.plan_json(&[]);
    for rc in plan["resource_changes"].as_array().unwrap() {
        if rc["address"] == "conductorone_integration_torq.delegated" {
            assert_eq!(rc["change"]["actions"], json!(["no-op"]));
            continue;
        }
        assert_eq!(rc["change"]["actions"], json!(["update"]), "{rc}");
        let unknown = &rc["change"]["after_unknown"];
        for key in ["sync_status", "sync_last_error", "sync_completed_at"] {
            assert_eq!(unknown[key], true, "{key}: {rc}");
        }
    }
    sim.clear_requests();
    tf.apply().code(0).contains("3 changed");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 3, "{}", log.summary());
    for (kind, id) in &ids {
        assert!(reads_of(&log, id) >= 1, "{kind:?}: {}", log.summary());
        assert_eq!(tf.resource(&address(*kind))["sync_status"], "done");
    }
    tf.plan().code(0).contains("No changes.");
}

#[test]
fn a_sync_error_after_an_update_fails_the_apply_and_the_next_plan_applies_the_settings_again() {
    let (sim, tf) = started("health-update-error", 500);
    tf.write_main(&three(0, "wait_for_sync = true"));
    tf.apply().code(0).contains("3 added");
    let ids = ids(&tf);

    // The new credentials are rejected by the services: each sync ends in error.
    set_bad_credentials(&sim, &secrets(1));
    tf.write_main(&three(1, "wait_for_sync = true"));
    sim.clear_requests();
    let out = tf.apply();
    out.code(1)
        .says("authentication failed: the credentials were rejected (401 Unauthorized)")
        .says("the next plan applies its settings again (an update in place)");
    for (kind, id) in &ids {
        out.says(&format!(
            "The first sync of the {:?} integration after its update failed",
            kind
        ))
        .says(hint_words(*kind))
        .contains(&format!("with {}", address(*kind)))
        .contains(&format!("Connector {id} is kept in the state"));
    }
    assert_no_secrets(
        "apply output",
        &out.all(),
        &secrets(1).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 3, "{}", log.summary());
    // Same connectors, no duplicate, the state says what C1 says.
    assert_eq!(sim.connectors().len(), 3);
    for (kind, id) in &ids {
        let st = tf.resource(&address(*kind));
        assert_eq!(st["id"], id.as_str());
        assert_eq!(st["sync_status"], "error", "{st}");
        assert!(
            st["sync_last_error"]
                .as_str()
                .is_some_and(|e| e.contains("401 Unauthorized")),
            "{st}"
        );
    }

    // The next plan applies the settings again (in place) and warns about each failed sync.
    let out = tf.plan();
    out.code(2)
        .contains("update in-place")
        .contains("Plan: 0 to add, 3 to change, 0 to destroy.")
        .lacks("must be replaced");
    for (_, id) in &ids {
        out.says(&format!("integration {id} failed"));
    }
    assert_eq!(sim.take_requests().writes(), 0);

    // With the credentials fixed in the service, that apply confirms them.
    set_bad_credentials(&sim, &[]);
    tf.apply()
        .code(0)
        .contains("0 added, 3 changed, 0 destroyed");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 3, "{}", log.summary());
    for (kind, id) in &ids {
        let st = tf.resource(&address(*kind));
        assert_eq!(st["id"], id.as_str());
        assert_eq!(st["sync_status"], "done", "{st}");
    }
    tf.plan()
        .code(0)
        .contains("No changes.")
        .lacks("Warning: The last sync");
}

#[test]
fn a_sync_error_after_a_create_fails_the_apply_and_keeps_the_connector() {
    let (sim, tf) = started("health-create-error", 300);
    set_bad_credentials(&sim, &secrets(0));
    tf.write_main(&three(0, "wait_for_sync = true"));
    let out = tf.apply();
    out.code(1).says("terraform untaint");
    for kind in KINDS {
        out.says(&format!(
            "The first sync of the {kind:?} integration after its create failed"
        ))
        .says(hint_words(kind));
    }
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateConfigured), 3, "{}", log.summary());
    assert_eq!(log.writes(), 3, "{}", log.summary());
    // Every connector C1 made is in the state: nothing orphaned.
    let ids = ids(&tf);
    let mut in_c1: Vec<String> = sim
        .connectors()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let mut in_state: Vec<String> = ids.iter().map(|(_, id)| id.clone()).collect();
    in_c1.sort();
    in_state.sort();
    assert_eq!(in_c1, in_state);
    for (kind, _) in &ids {
        assert_eq!(tf.resource(&address(*kind))["sync_status"], "error");
    }

    // Terraform taints a resource whose create failed: left as is, the next apply replaces it.
    tf.plan()
        .code(2)
        .contains("is tainted, so must be replaced")
        .contains("Plan: 3 to add, 0 to change, 3 to destroy.");
    // Untainted, the same connector gets its settings applied again, in place.
    for kind in KINDS {
        tf.run(&["untaint", "-no-color", &address(kind)]).code(0);
    }
    set_bad_credentials(&sim, &[]);
    sim.clear_requests();
    tf.plan()
        .code(2)
        .contains("Plan: 0 to add, 3 to change, 0 to destroy.")
        .lacks("must be replaced");
    tf.apply()
        .code(0)
        .contains("0 added, 3 changed, 0 destroyed");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 3, "{}", log.summary());
    assert_eq!(log.count(Op::CreateConfigured), 0, "{}", log.summary());
    assert_eq!(ids, self::ids(&tf), "the same connectors");
    for (kind, _) in &ids {
        assert_eq!(tf.resource(&address(*kind))["sync_status"], "done");
    }
    tf.plan().code(0).contains("No changes.");
}

#[test]
fn a_sync_that_outlasts_the_budget_fails_saying_what_was_last_seen() {
    let (sim, tf) = started("health-timeout", 600_000);
    tf.write_main(&three(
        0,
        "wait_for_sync = true\n  timeouts {\n    create = \"3s\"\n  }",
    ));
    let out = tf.apply();
    out.code(1);
    let log = sim.take_requests();
    for (kind, id) in ids(&tf) {
        out.says(&format!(
            "The {kind:?} integration did not finish its first sync after the create within timeouts.create (3s)"
        ))
        .says("Last seen: sync_status = \"running\", the sync started");
        assert!(
            reads_of(&log, &id) >= 2,
            "{kind:?} polled with backoff: {}",
            log.summary()
        );
        assert_eq!(tf.resource(&address(kind))["sync_status"], "running");
    }
    assert_eq!(sim.connectors().len(), 3, "kept, not duplicated");
}

/// An update whose sync outlasts `timeouts.update` fails saying what was last seen; once C1
/// finishes that sync without error, the next plan has nothing left to apply.
#[test]
fn a_sync_that_finishes_after_the_update_timed_out_needs_no_new_apply() {
    // Long enough for the failed apply and a plan to run while it lasts, even on a
    // loaded machine.
    let (sim, tf) = started("health-late-sync", 10_000);
    tf.write_main(&three(0, ""));
    tf.apply().code(0).contains("3 added");
    let waiting = "wait_for_sync = true\n  timeouts {\n    update = \"1s\"\n  }";
    tf.write_main(&three(1, waiting));
    let out = tf.apply();
    out.code(1);
    for kind in KINDS {
        out.says(&format!(
            "The {kind:?} integration did not finish its first sync after the update within timeouts.update (1s)"
        ))
        .says("Last seen: sync_status = \"running\"");
    }
    // Before that sync ends, the plan applies the settings again; after, nothing is left to do.
    tf.plan()
        .code(2)
        .contains("Plan: 0 to add, 3 to change, 0 to destroy.");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !sim
        .connectors()
        .iter()
        .all(|c| c["status"]["status"] == "SYNC_STATUS_DONE")
    {
        assert!(std::time::Instant::now() < deadline, "{}", sim.state());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    sim.clear_requests();
    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.take_requests().writes(), 0);
}

#[test]
fn a_failed_sync_found_by_a_refresh_is_a_warning_and_no_change() {
    let (sim, tf) = started("health-drift", 0);
    tf.write_main(&three(0, ""));
    tf.apply().code(0).contains("3 added");
    let ids = ids(&tf);
    tf.plan()
        .code(0)
        .contains("No changes.")
        .lacks("Warning: The last sync");

    // A key revoked in the service (the next scheduled sync fails), and for Twingate the API
    // key removed in the C1 UI.
    for (kind, id) in &ids {
        if *kind == Kind::Twingate {
            sim.patch_connector("app1", id, json!({"settings": {"twingate_apikey": null}}));
        } else {
            sim.post(
                &format!("/_sim/apps/app1/connectors/{id}/sync"),
                json!({"error": format!("{kind:?}: the API key was revoked")}),
            );
        }
    }
    // An out-of-band change within the second of the create takes effect (and starts its
    // sync) at the next second, as C1's second-precision `updatedAt` must move on: wait until
    // C1 reports every sync ended, as a scheduled drift check would run later.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !sim
        .connectors()
        .iter()
        .all(|c| c["status"]["status"] == "SYNC_STATUS_ERROR")
    {
        assert!(std::time::Instant::now() < deadline, "{}", sim.state());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    sim.clear_requests();
    let out = tf.plan();
    out.code(0).contains("No changes.");
    for (kind, id) in &ids {
        out.says(&format!(
            "Warning: The last sync of {kind:?} integration {id} failed"
        ))
        .says(hint_words(*kind))
        .contains(&format!("with {}", address(*kind)));
        if *kind == Kind::Twingate {
            out.says("Twingate connector is missing required settings: twingate_apikey");
        } else {
            out.says(&format!("C1 reports: {kind:?}: the API key was revoked"));
        }
    }
    let log = sim.take_requests();
    assert_eq!(log.writes(), 0, "{}", log.summary());
    assert_eq!(log.ok(Op::Get), 3, "{}", log.summary());
    // The refreshed state says so too.
    tf.apply_args(&["-refresh-only"]).code(0);
    for (kind, _) in &ids {
        let st = tf.resource(&address(*kind));
        assert_eq!(st["sync_status"], "error", "{st}");
        assert!(st["sync_last_error"].is_string(), "{st}");
    }
}

#[test]
fn an_invalid_wait_for_sync_fails_the_plan_without_calling_c1() {
    let (sim, tf) = started("health-invalid", 0);
    tf.write_main(&three(0, "wait_for_sync = \"sometimes\""));
    tf.plan()
        .code(1)
        .contains("wait_for_sync")
        .says("a bool is required");
    tf.write_main(&three(0, "sync_status = \"done\""));
    tf.plan()
        .code(1)
        .says("Error: Can't configure a value for \"sync_status\"")
        .says("`sync_status` is read-only")
        .contains("sync_status = \"done\"\n");
    assert_eq!(sim.requests().connector_calls(), 0);
    assert!(sim.connectors().is_empty());
}
