//! The shipped example (examples/terraform/, what `make demo` applies) works as written:
//! apply, outputs, a clean second plan, destroy; and every example under examples/ validates.

use crate::harness::*;

/// The simulator `make demo` starts: a managed app "Segment" made by hand and "Torq",
/// discovered through SSO (scripts/demo.sh seeds the same).
fn demo_sim() -> Sim {
    Sim::start_with(
        "examples",
        SimOpts {
            apps: vec!["demo-segment=Segment".into()],
            extra: vec!["--seed-discovered-apps".into(), "Torq".into()],
            ..SimOpts::default()
        },
    )
}

#[test]
fn examples_terraform_applies_cleanly() {
    let sim = demo_sim();
    let seeded = sim.apps().len();
    let creds = sim.mint();
    let tf = Tf::new("examples", &sim, &creds);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/terraform");
    let mut copied = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/terraform") {
        let p = entry.expect("dir entry").path();
        if p.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&p, tf.path().join(p.file_name().unwrap())).expect("copy example");
            copied += 1;
        }
    }
    assert!(copied >= 1);
    let text: String = ["main.tf", "variables.tf", "outputs.tf"]
        .iter()
        .map(|f| tf.read(f))
        .collect();
    // Self-contained: every app_id of an integration comes from an app resource or data
    // source; none is pasted, none comes from a variable.
    let app_ids: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("app_id ") && !l.contains("conductorone_integration_"))
        .collect();
    assert_eq!(app_ids.len(), 3, "{app_ids:?}");
    for line in app_ids {
        assert!(
            line.contains("conductorone_app."),
            "a pasted app id: {line}"
        );
    }

    let out = tf.apply();
    out.code(0)
        .contains("Resources: 4 added, 0 changed, 0 destroyed.")
        .contains("twingate_connector")
        .lacks("demo-twingate-api-key")
        .lacks("demo-torq-client-secret")
        .lacks("demo-segment-access-token");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::AppCreate), 1, "{}", log.summary());
    assert_eq!(log.ok(Op::CreateConfigured), 3, "{}", log.summary());
    let conns = sim.connectors();
    assert_eq!(conns.len(), 3);
    let mut catalogs: Vec<String> = conns
        .iter()
        .map(|c| c["catalogId"].as_str().unwrap_or_default().to_string())
        .collect();
    catalogs.sort();
    let mut want = vec![TWINGATE_CATALOG, TORQ_CATALOG, SEGMENT_CATALOG];
    want.sort();
    assert_eq!(catalogs, want);

    // Each connector sits in its app: the new one, the discovered one, the existing one.
    let app_named = |name: &str| {
        sim.apps()
            .into_iter()
            .find(|a| a["displayName"] == name)
            .unwrap_or_else(|| panic!("no app {name}"))
    };
    let app_of = |catalog: &str| {
        let c = conns.iter().find(|c| c["catalogId"] == catalog).unwrap();
        c["appId"].as_str().unwrap().to_string()
    };
    let network = app_named("Twingate");
    assert_eq!(network["isManuallyManaged"], true);
    assert_eq!(app_of(TWINGATE_CATALOG), network["id"].as_str().unwrap());
    let torq = app_named("Torq");
    assert_eq!(torq["isManuallyManaged"], false, "discovered through SSO");
    assert_eq!(app_of(TORQ_CATALOG), torq["id"].as_str().unwrap());
    assert_eq!(app_of(SEGMENT_CATALOG), "demo-segment");

    let outputs = tf.run(&["output", "-json"]);
    outputs.code(0);
    let v: serde_json::Value = serde_json::from_str(&outputs.stdout).expect("outputs json");
    for name in ["twingate_connector", "torq_connector", "segment_connector"] {
        let id = v[name]["value"]["id"].as_str().unwrap_or_default();
        assert!(
            sim.connector(id).is_some(),
            "{name} output names a live connector"
        );
        assert!(v[name]["value"]["created_at"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        // wait_for_sync: the apply ended once C1 had synced.
        assert_eq!(v[name]["value"]["sync_status"], "done", "{name}");
    }
    assert_eq!(v["apps"]["value"]["torq"]["id"], torq["id"]);
    assert_eq!(v["apps"]["value"]["network"]["is_manually_managed"], true);

    tf.plan().code(0).contains("No changes.");
    sim.clear_requests();
    tf.destroy().code(0).contains("4 destroyed");
    let log = sim.take_requests();
    assert!(
        log.position(Op::Delete) < log.position(Op::AppDelete),
        "the connectors before their app: {:?}",
        log.0
    );
    assert!(sim.connectors().is_empty());
    assert_eq!(sim.apps().len(), seeded, "the apps it looked up are left");
}

/// Every example under examples/ (the registry docs show them) is a valid configuration for
/// this provider: `terraform validate` with the provider's schema. Snippets without a
/// `terraform` block get the `required_providers` block users write.
#[test]
fn every_example_validates() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut dirs = vec![root.clone()];
    let mut validated = Vec::new();
    while let Some(dir) = dirs.pop() {
        let mut tf_files = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("examples folder") {
            let p = entry.expect("dir entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "tf") {
                tf_files.push(p);
            }
        }
        if tf_files.is_empty() {
            continue;
        }
        let rel = dir
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let tf = Tf::bare(&format!("example-{rel}"), Install::DevOverrides);
        let mut has_terraform_block = false;
        for p in &tf_files {
            let text = std::fs::read_to_string(p).expect("read example");
            has_terraform_block |= text.contains("required_providers");
            tf.write(&p.file_name().unwrap().to_string_lossy(), &text);
        }
        if !has_terraform_block {
            tf.write("terraform.tf", &required_providers());
        }
        let out = tf.run(&["validate", "-json", "-no-color"]);
        out.code(0);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("validate -json");
        assert_eq!(v["valid"], true, "examples/{rel}: {v:#}");
        // The only warning allowed is the one dev_overrides always adds.
        for d in v["diagnostics"].as_array().into_iter().flatten() {
            assert_eq!(
                d["summary"], "Provider development overrides are in effect",
                "examples/{rel}: {d:#}"
            );
        }
        validated.push(rel);
    }
    validated.sort();
    // The provider example and one per resource type and data source, besides the full example.
    assert!(
        validated.contains(&"data-sources/conductorone_app".to_string()),
        "{validated:?}"
    );
    for resource in [
        Kind::Twingate.resource_type(),
        Kind::Torq.resource_type(),
        Kind::Segment.resource_type(),
        "conductorone_app",
        Kind::Baton.resource_type(),
        "conductorone_connector_credential",
    ] {
        assert!(
            validated.contains(&format!("resources/{resource}")),
            "{validated:?}"
        );
    }
    assert!(validated.contains(&"provider".to_string()), "{validated:?}");
    for example in ["terraform", "self-hosted"] {
        assert!(validated.contains(&example.to_string()), "{validated:?}");
    }
}
