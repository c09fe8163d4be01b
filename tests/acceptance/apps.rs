//! Apps: the `conductorone_app` data source finds exactly one app (or says what it found) and
//! the `conductorone_app` resource manages one; integrations attach to either without a pasted
//! id; destroys run in the graph's order; import and drift behave as for integrations.

use serde_json::json;

use crate::harness::*;

/// A simulator where C1 discovered Torq through the identity provider (Okta), and a working
/// directory for it.
fn with_discovered_torq(name: &str) -> (Sim, Tf) {
    let sim = Sim::start_with(
        name,
        SimOpts {
            extra: vec!["--seed-discovered-apps".into(), "Torq".into()],
            ..SimOpts::default()
        },
    );
    let creds = sim.mint();
    let tf = Tf::new(name, &sim, &creds);
    (sim, tf)
}

/// The id of the one app named `name`.
fn app_id(sim: &Sim, name: &str) -> String {
    let apps: Vec<_> = sim
        .apps()
        .into_iter()
        .filter(|a| a["displayName"] == name)
        .collect();
    assert_eq!(apps.len(), 1, "{apps:?}");
    apps[0]["id"].as_str().unwrap().to_string()
}

fn torq_settings() -> String {
    kv(Kind::Torq, 0)
        .into_iter()
        .map(|(k, v)| format!("  {k} = {}\n", hcl_str(&v)))
        .collect()
}

#[test]
fn lookup_by_name_finds_the_discovered_app_whatever_its_case_and_integrations_attach_to_it() {
    let (sim, tf) = with_discovered_torq("apps-lookup-one");
    let torq = app_id(&sim, "Torq");
    let okta = app_id(&sim, "Okta");
    tf.write_main(&config(&format!(
        r#"
data "conductorone_app" "torq" {{
  display_name = "tORQ"
}}

data "conductorone_app" "idp" {{
  query            = "okta"
  only_directories = true
}}

resource "conductorone_integration_torq" "automation" {{
  app_id = data.conductorone_app.torq.id
{settings}}}

output "torq" {{
  value = data.conductorone_app.torq
}}
output "idp_is_directory" {{
  value = data.conductorone_app.idp.is_directory
}}
"#,
        settings = torq_settings()
    )));
    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert!(log.ok(Op::AppSearch) >= 2, "{}", log.summary());
    assert_eq!(log.ok(Op::CreateConfigured), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "only the connector: {}", log.summary());
    let conns = sim.connectors();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["appId"], torq.as_str(), "attached to the Torq app");

    let found = tf.resource("data.conductorone_app.torq");
    assert_eq!(found["id"], torq.as_str());
    assert_eq!(found["display_name"], "tORQ", "the input as written");
    assert_eq!(found["is_manually_managed"], false);
    assert_eq!(found["is_directory"], false);
    assert_eq!(found["parent_app_id"], okta.as_str(), "discovered by Okta");
    assert_eq!(found["user_count"], 0);
    assert!(found["created_at"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z')));
    let idp = tf.resource("data.conductorone_app.idp");
    assert_eq!(idp["id"], okta.as_str());
    assert_eq!(idp["display_name"], "Okta", "found by query: C1's name");
    assert_eq!(idp["is_directory"], true);

    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.take_requests().writes(), 0);
}

#[test]
fn lookup_finding_no_app_fails_on_its_attribute_without_a_write() {
    let (sim, tf) = with_discovered_torq("apps-lookup-none");
    tf.write_main(&config(&format!(
        r#"
data "conductorone_app" "missing" {{
  display_name = "Torque"
}}

resource "conductorone_integration_torq" "automation" {{
  app_id = data.conductorone_app.missing.id
{settings}}}
"#,
        settings = torq_settings()
    )));
    sim.clear_requests();
    tf.plan()
        .code(1)
        .says("No app matches the display name \"Torque\" (case-insensitive)")
        .says("C1 has no app with the display name \"Torque\" (case-insensitive).")
        .says("use `query` for a fuzzy search")
        // Terraform shows the attribute's line.
        .contains("display_name = \"Torque\"");
    let log = sim.take_requests();
    assert!(log.ok(Op::AppSearch) >= 1, "{}", log.summary());
    assert_eq!(log.writes(), 0, "{}", log.summary());
    assert!(sim.connectors().is_empty());
}

#[test]
fn lookup_finding_several_apps_lists_them_and_narrowing_picks_one() {
    let (sim, tf) = with_discovered_torq("apps-lookup-several");
    let torq = app_id(&sim, "Torq");
    // Twelve more apps called Torq, in any case: eleven made by hand and the discovered one.
    let mut ids = vec![torq.clone()];
    for i in 0..11 {
        let name = if i % 2 == 0 { "TORQ" } else { "torq" };
        let app = sim.create_app(json!({ "displayName": name }));
        ids.push(app["id"].as_str().unwrap().to_string());
    }
    let lookup = |extra: &str| {
        config(&format!(
            "data \"conductorone_app\" \"torq\" {{\n  display_name = \"Torq\"\n{extra}}}\n\noutput \"id\" {{\n  value = data.conductorone_app.torq.id\n}}\n"
        ))
    };
    tf.write_main(&lookup(""));
    sim.clear_requests();
    let out = tf.plan();
    out.code(1)
        .says("12 apps match the display name \"Torq\" (case-insensitive)")
        .says(&format!("- Torq ({torq}, discovered)"))
        .says("and 2 more")
        .says("list the one you mean in `app_ids`");
    for id in &ids[..10] {
        out.contains(id);
    }
    let log = sim.take_requests();
    assert_eq!(log.api_calls(), log.ok(Op::AppSearch), "{}", log.summary());

    // Narrowed to one: found.
    tf.write_main(&lookup(&format!("  app_ids = {}\n", hcl_list(&[&ids[3]]))));
    tf.apply().code(0);
    let out = tf.run(&["output", "-raw", "id"]);
    assert_eq!(out.code(0).stdout.trim(), ids[3]);
    // Everything but one left out: found too.
    let others: Vec<&str> = ids[1..].iter().map(String::as_str).collect();
    tf.write_main(&lookup(&format!(
        "  exclude_app_ids = {}\n",
        hcl_list(&others)
    )));
    tf.apply().code(0);
    assert_eq!(tf.run(&["output", "-raw", "id"]).stdout.trim(), torq);
}

#[test]
fn an_invalid_lookup_fails_the_plan_with_no_call_to_c1() {
    let (sim, tf) = with_discovered_torq("apps-lookup-invalid");
    for (body, says) in [
        (
            "data \"conductorone_app\" \"x\" {\n  display_name = \"Torq\"\n  query = \"torq\"\n}\n",
            "`display_name` and `query` are both set",
        ),
        (
            "data \"conductorone_app\" \"x\" {\n  only_directories = true\n}\n",
            "Set `display_name` or `query`",
        ),
        (
            "data \"conductorone_app\" \"x\" {\n  display_name = \"Torq\"\n  app_ids = [\"../apps\"]\n}\n",
            "`app_ids` holds something that is not a C1 app id",
        ),
        (
            "resource \"conductorone_app\" \"x\" {\n  display_name = \"  \"\n}\n",
            "`display_name` is empty",
        ),
    ] {
        tf.write_main(&config(body));
        sim.clear_requests();
        tf.plan().code(1).says(says);
        let log = sim.requests();
        assert_eq!(log.api_calls(), 0, "{body}: {}", log.summary());
    }
}

#[test]
fn a_managed_app_is_created_updated_in_place_and_destroyed_after_its_integrations() {
    let sim = Sim::start("apps-managed");
    let creds = sim.mint();
    let tf = Tf::new("apps-managed", &sim, &creds);
    let write = |name: &str, description: Option<&str>| {
        let description = description
            .map(|d| format!("  description  = {}\n", hcl_str(d)))
            .unwrap_or_default();
        let segment = kv(Kind::Segment, 0)
            .into_iter()
            .map(|(k, v)| format!("  {k} = {}\n", hcl_str(&v)))
            .collect::<String>();
        tf.write_main(&config(&format!(
            "resource \"conductorone_app\" \"payroll\" {{\n  display_name = {}\n{description}}}\n\n\
             resource \"conductorone_integration_segment\" \"events\" {{\n  app_id = conductorone_app.payroll.id\n{segment}}}\n",
            hcl_str(name)
        )));
    };

    write("Payroll", None);
    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 2 added, 0 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::AppCreate), 1, "{}", log.summary());
    assert_eq!(log.ok(Op::CreateConfigured), 1, "{}", log.summary());
    assert!(
        log.position(Op::AppCreate) < log.position(Op::CreateConfigured),
        "the app first: {:?}",
        log.0
    );
    let app = tf.resource("conductorone_app.payroll");
    let id = app["id"].as_str().unwrap().to_string();
    assert_eq!(app["description"], serde_json::Value::Null);
    assert_eq!(app["is_manually_managed"], true);
    assert_eq!(app["is_directory"], false);
    assert_eq!(app["parent_app_id"], serde_json::Value::Null);
    assert_eq!(sim.app(&id).unwrap()["displayName"], "Payroll");
    assert_eq!(sim.connectors()[0]["appId"], id.as_str());
    tf.plan().code(0).contains("No changes.");

    // Name and description change in place: one update, the connector untouched.
    write("Payroll EU", Some("Payroll for the EU entities"));
    sim.clear_requests();
    let (out, plan) = tf.plan_json(&[]);
    out.contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    let changes = plan_changes(&plan);
    let app_change = changes
        .iter()
        .find(|c| c.0 == "conductorone_app.payroll")
        .unwrap();
    assert_eq!(app_change.1, ["update"]);
    assert_eq!(app_change.2, ["description", "display_name"]);
    tf.apply()
        .code(0)
        .contains("0 added, 1 changed, 0 destroyed");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::AppUpdate), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    let held = sim.app(&id).unwrap();
    assert_eq!(held["displayName"], "Payroll EU");
    assert_eq!(held["description"], "Payroll for the EU entities");
    tf.plan().code(0).contains("No changes.");

    // Removing the description clears it in C1.
    write("Payroll EU", None);
    tf.apply().code(0).contains("1 changed");
    assert_eq!(sim.app(&id).unwrap()["description"], "");
    tf.plan().code(0).contains("No changes.");

    // Destroy: the integration first (the graph's order), then the app.
    sim.clear_requests();
    tf.destroy().code(0).contains("2 destroyed");
    let log = sim.take_requests();
    let connector_delete = log.position(Op::Delete).expect("connector deleted");
    let app_delete = log.position(Op::AppDelete).expect("app deleted");
    assert!(connector_delete < app_delete, "{:?}", log.0);
    assert!(sim.app(&id).is_none());
    assert!(sim.connectors().is_empty());
}

#[test]
fn destroying_an_app_whose_connectors_are_not_managed_here_fails_listing_them() {
    let sim = Sim::start("apps-unmanaged-connectors");
    let creds = sim.mint();
    let tf = Tf::new("apps-unmanaged-connectors", &sim, &creds);
    tf.write_main(&config(
        "resource \"conductorone_app\" \"shared\" {\n  display_name = \"Shared\"\n}\n",
    ));
    tf.apply().code(0).contains("1 added");
    let id = tf.resource("conductorone_app.shared")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Another configuration attaches a connector to it.
    let other = Tf::new("apps-unmanaged-connectors-other", &sim, &creds);
    other.write_main(&config(&resource_block(
        Kind::Twingate,
        "t",
        &id,
        None,
        &kv(Kind::Twingate, 0),
    )));
    other.apply().code(0).contains("1 added");
    let connector = sim.connectors()[0]["id"].as_str().unwrap().to_string();

    sim.clear_requests();
    tf.destroy()
        .code(1)
        .says(&format!("App Shared ({id}) still has 1 connector"))
        .says(&format!("- Twingate ({connector})"))
        .says("manage them here")
        .says("or delete them in C1");
    let log = sim.take_requests();
    assert_eq!(log.count(Op::AppDelete), 0, "{}", log.summary());
    assert!(sim.app(&id).is_some(), "the app is kept");
    assert!(sim.connector(&connector).is_some(), "and its connector");
    assert_eq!(tf.resource("conductorone_app.shared")["id"], id.as_str());

    // Once the connector is gone, the destroy goes through.
    other.destroy().code(0).contains("1 destroyed");
    tf.destroy().code(0).contains("1 destroyed");
    assert!(sim.app(&id).is_none());
}

#[test]
fn an_app_is_imported_by_id() {
    let sim = Sim::start("apps-import");
    let creds = sim.mint();
    let tf = Tf::new("apps-import", &sim, &creds);
    let made = sim.create_app(json!({"displayName": "Legacy", "description": "made in the UI"}));
    let id = made["id"].as_str().unwrap();
    tf.write_main(&config(
        "resource \"conductorone_app\" \"legacy\" {\n  display_name = \"Legacy\"\n  description  = \"made in the UI\"\n}\n",
    ));
    sim.clear_requests();
    tf.run(&[
        "import",
        "-input=false",
        "-no-color",
        "conductorone_app.legacy",
        id,
    ])
    .code(0)
    .contains("Import successful!");
    let log = sim.take_requests();
    assert!(log.ok(Op::AppGet) >= 1, "{}", log.summary());
    assert_eq!(log.writes(), 0, "{}", log.summary());
    let st = tf.resource("conductorone_app.legacy");
    assert_eq!(st["id"], id);
    assert_eq!(st["display_name"], "Legacy");
    assert_eq!(st["description"], "made in the UI");
    tf.plan().code(0).contains("No changes.");

    for (bad, says) in [
        ("a/b", "Invalid import id"),
        ("2abcNOSUCHAPP", "No app 2abcNOSUCHAPP in C1"),
    ] {
        tf.run(&["state", "rm", "conductorone_app.legacy"]);
        tf.run(&[
            "import",
            "-input=false",
            "-no-color",
            "conductorone_app.legacy",
            bad,
        ])
        .code(1)
        .says(says);
    }
}

#[test]
fn an_app_deleted_or_renamed_outside_terraform_is_put_back() {
    let sim = Sim::start("apps-drift");
    let creds = sim.mint();
    let tf = Tf::new("apps-drift", &sim, &creds);
    tf.write_main(&config(
        "resource \"conductorone_app\" \"a\" {\n  display_name = \"Drifty\"\n  description  = \"as written\"\n}\n",
    ));
    tf.apply().code(0).contains("1 added");
    let id = tf.resource("conductorone_app.a")["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Renamed in the UI: an in-place update puts the name back.
    sim.patch_app(&id, json!({"displayName": "Renamed"}));
    sim.clear_requests();
    let (out, plan) = tf.plan_json(&[]);
    out.contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    assert_eq!(plan_changes(&plan)[0].2, ["display_name"]);
    assert_eq!(sim.take_requests().writes(), 0);
    tf.apply().code(0).contains("1 changed");
    assert_eq!(sim.app(&id).unwrap()["displayName"], "Drifty");

    // Deleted in the UI: planned for creation, with a warning that says why.
    sim.delete_app(&id);
    sim.clear_requests();
    tf.plan()
        .code(2)
        .says(&format!("App {id} no longer exists in C1"))
        .contains("Plan: 1 to add, 0 to change, 0 to destroy.");
    assert_eq!(sim.take_requests().writes(), 0);
    tf.apply().code(0).contains("1 added");
    let new_id = tf.resource("conductorone_app.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_id, id);
    assert_eq!(sim.app(&new_id).unwrap()["description"], "as written");
    tf.plan().code(0).contains("No changes.");
}

#[test]
fn an_app_create_whose_answer_is_lost_is_found_not_made_twice() {
    let sim = Sim::start("apps-lost-create");
    let creds = sim.mint();
    let tf = Tf::new("apps-lost-create", &sim, &creds);
    // Someone already has an app of that name: it must not be taken for ours.
    let theirs = sim.create_app(json!({"displayName": "Lost"}));
    tf.write_main(&config(
        "resource \"conductorone_app\" \"a\" {\n  display_name = \"Lost\"\n}\n",
    ));
    // Every app create is carried out, but its answer is lost (503 after handling).
    sim.set_faults(json!({
        "fail_5xx_every": 1, "fail_status": 503, "after_handling": true,
        "path_contains": "/api/v1/apps", "method": "POST",
    }));
    sim.clear_requests();
    tf.apply().code(0).contains("1 added");
    sim.clear_faults();
    let log = sim.take_requests();
    assert_eq!(
        log.count(Op::AppCreate),
        1,
        "not retried: {}",
        log.summary()
    );
    assert_eq!(log.with_status(503), 1, "{}", log.summary());
    let lost: Vec<_> = sim
        .apps()
        .into_iter()
        .filter(|a| a["displayName"] == "Lost")
        .collect();
    assert_eq!(lost.len(), 2, "theirs and ours, nothing more: {lost:?}");
    let ours = tf.resource("conductorone_app.a")["id"].clone();
    assert_ne!(ours, theirs["id"]);
    assert!(
        lost.iter().any(|a| a["id"] == ours),
        "the state names the app C1 made"
    );
    tf.plan().code(0).contains("No changes.");
}

/// Removes the `timeouts` attribute from every resource instance in the state file, as a state
/// written before the block existed has it; the next serial, so Terraform takes it.
pub fn drop_timeouts_from_state(tf: &Tf) {
    let mut state: serde_json::Value = serde_json::from_str(&tf.read("terraform.tfstate")).unwrap();
    state["serial"] = json!(state["serial"].as_u64().unwrap() + 1);
    for resource in state["resources"].as_array_mut().unwrap() {
        for instance in resource["instances"].as_array_mut().unwrap() {
            let attributes = instance["attributes"].as_object_mut().unwrap();
            assert!(attributes.remove("timeouts").is_some(), "{attributes:?}");
        }
    }
    tf.write(
        "terraform.tfstate",
        &serde_json::to_string_pretty(&state).unwrap(),
    );
}

/// `timeouts` on the app: an invalid duration fails the plan on its attribute with no call to
/// C1; adding, changing or lacking the block (a state written before it existed) plans clean
/// after one apply that makes no call; a create C1 is slower to answer than `timeouts.create`
/// fails naming it, and leaves C1 and the state agreeing (no orphan app).
#[test]
fn app_timeouts_are_validated_kept_without_calls_and_bound_a_slow_create() {
    let sim = Sim::start("apps-timeouts");
    let creds = sim.mint();
    let tf = Tf::new("apps-timeouts", &sim, &creds);
    let app = |name: &str, timeouts: &str| {
        let block = if timeouts.is_empty() {
            String::new()
        } else {
            format!("  timeouts {{\n    {timeouts}\n  }}\n")
        };
        format!(
            "resource \"conductorone_app\" \"{name}\" {{\n  display_name = \"{name}\"\n{block}}}\n"
        )
    };

    tf.write_main(&config(&app("payroll", "update = \"5 minutes\"")));
    sim.clear_requests();
    tf.plan()
        .code(1)
        .contains("Error: Invalid timeouts.update")
        .contains("the value is not a duration")
        .contains("update = \"5 minutes\"\n");
    assert_eq!(sim.requests().api_calls(), 0);

    // Without the block, then a state written before it existed: plans clean.
    tf.write_main(&config(&app("payroll", "")));
    tf.apply().code(0).contains("1 added");
    tf.plan().code(0).contains("No changes.");
    drop_timeouts_from_state(&tf);
    sim.clear_requests();
    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.take_requests().writes(), 0);

    // Adding the block is Terraform's business: applied without a write, then clean.
    tf.write_main(&config(&app(
        "payroll",
        "create = \"2s\"\n    read = \"90s\"",
    )));
    tf.plan().code(2).contains("1 to change");
    tf.apply().code(0).contains("1 changed");
    assert_eq!(sim.take_requests().writes(), 0);
    assert_eq!(
        tf.resource("conductorone_app.payroll")["timeouts"][0]["read"],
        "90s"
    );
    tf.plan().code(0).contains("No changes.");

    // C1 takes 4 s to answer app creates; the new app's budget is 2 s.
    tf.write_main(&config(&format!(
        "{}{}",
        app("payroll", "create = \"2s\"\n    read = \"90s\""),
        app("slow", "create = \"2s\"")
    )));
    sim.set_faults(json!({"latency_ms": 4000, "path_contains": "/api/v1/apps", "method": "POST"}));
    sim.clear_requests();
    let out = tf.apply();
    out.code(1)
        .contains("Could not tell whether the app \"slow\" was created")
        .says("The operation's time budget, timeouts.create = 2s, ran out")
        .says("No new app named \"slow\" was there when looked up right after.");
    let log = sim.take_requests();
    assert!(
        log.count(Op::AppSearch) >= 2,
        "looked up after the create: {}",
        log.summary()
    );
    // Once C1 would have answered: no app "slow" in C1 (none left behind), none in the state.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let named = |name: &str| {
        sim.apps()
            .into_iter()
            .filter(|a| a["displayName"] == name)
            .count()
    };
    assert_eq!(named("slow"), 0, "{}", sim.state());
    assert_eq!(named("payroll"), 1, "{}", sim.state());
    let in_state: Vec<_> = tf.resources().into_iter().map(|(a, _)| a).collect();
    assert_eq!(in_state, ["conductorone_app.payroll"]);

    sim.clear_faults();
    tf.apply().code(0).contains("1 added");
    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.take_requests().ok(Op::AppCreate), 1);
    assert_eq!(named("slow"), 1, "{}", sim.state());
}
