//! Switching from the official provider: a state written by the official provider v1.5.0
//! (testdata/official-provider-v1.5.0.tfstate) is read, upgraded and planned with no changes.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::harness::*;

fn official_state() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/acceptance/testdata/official-provider-v1.5.0.tfstate");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("official state is JSON")
}

/// The configuration the official provider's user had for that state (secrets as recorded).
pub const USER_CONFIG: &str = r#"
resource "conductorone_integration_segment" "s" {
  app_id               = "app2"
  segment_access_token = "REDACTED-segment_access_token"
}

resource "conductorone_integration_torq" "q" {
  app_id             = "app1"
  torq_client_id     = "torq-cid"
  torq_client_secret = "REDACTED-torq_client_secret"
}

resource "conductorone_integration_twingate" "delegated" {
  app_id   = "app3"
  user_ids = ["u9"]
}

resource "conductorone_integration_twingate" "t" {
  app_id          = "app1"
  user_ids        = ["u1", "u2"]
  twingate_apikey = "REDACTED-twingate_apikey"
  twingate_domain = "acme"
}
"#;

/// A state the official provider v1.5.0 wrote for [`USER_CONFIG`], describing connectors that
/// exist in `sim` (created here first; the simulator picks its own ids and timestamps, so the
/// state is rewritten to point at them). Its resources name `conductorone/conductorone`.
pub fn official_state_in(sim: &Sim, creds: &Creds) -> Value {
    let setup = Tf::new("official-state-setup", sim, creds);
    setup.write_main(&config(USER_CONFIG));
    setup.apply().code(0).contains("4 added");
    let created: BTreeMap<String, Value> = setup.resources().into_iter().collect();
    assert_eq!(created.len(), 4);

    let mut state = official_state();
    // Terraform refuses state written by a newer Terraform than the one in use.
    state["terraform_version"] = Value::String(bins().terraform_version.clone());
    for r in state["resources"].as_array_mut().unwrap() {
        assert_eq!(
            r["provider"],
            "provider[\"registry.terraform.io/conductorone/conductorone\"]"
        );
        let addr = format!(
            "{}.{}",
            r["type"].as_str().unwrap(),
            r["name"].as_str().unwrap()
        );
        let ours = created
            .get(&addr)
            .unwrap_or_else(|| panic!("{addr} not created"));
        assert_eq!(r["instances"][0]["schema_version"], 0);
        let attrs = &mut r["instances"][0]["attributes"];
        for k in ["id", "created_at", "updated_at"] {
            attrs[k] = ours[k].clone();
        }
        // "user-default" stands for the owner C1 assigned when none was configured.
        if attrs["user_ids"] == serde_json::json!(["user-default"]) {
            attrs["user_ids"] = ours["user_ids"].clone();
        }
    }
    state
}

/// Plans `tf` (holding [`USER_CONFIG`] and an official state) and asserts what a switch of
/// providers must give: no changes, and nothing but one read per connector in C1.
pub fn assert_official_state_plans_clean(tf: &Tf, sim: &Sim) {
    sim.clear_requests();
    tf.plan().code(0).contains("No changes.");
    let log = sim.take_requests();
    assert_eq!(log.writes(), 0, "{}", log.summary());
    assert_eq!(
        log.ok(Op::Get),
        4,
        "each connector refreshed: {}",
        log.summary()
    );
}

#[test]
fn official_provider_state_plans_clean() {
    let sim = Sim::start("state-migration");
    let creds = sim.mint();
    let state = official_state_in(&sim, &creds);

    let tf = Tf::new("state-migration", &sim, &creds);
    tf.write_main(&config(USER_CONFIG));
    tf.write(
        "terraform.tfstate",
        &serde_json::to_string_pretty(&state).unwrap(),
    );
    assert_official_state_plans_clean(&tf, &sim);

    // An apply writes the state in our schema; the plan stays clean.
    tf.apply()
        .code(0)
        .contains("0 added, 0 changed, 0 destroyed");
    assert_eq!(sim.take_requests().writes(), 0);
    tf.plan().code(0).contains("No changes.");
    let st = tf.resource("conductorone_integration_twingate.t");
    assert_eq!(st["twingate_domain"], "acme");
    assert_eq!(st["user_ids"], serde_json::json!(["u1", "u2"]));
    let d = tf.resource("conductorone_integration_twingate.delegated");
    assert!(d["twingate_apikey"].is_null() && d["twingate_domain"].is_null());
}
