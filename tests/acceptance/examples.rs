//! The shipped example (examples/terraform/, what `make demo` applies) works as written:
//! apply, outputs, a clean second plan, destroy; and every example under examples/ validates.

use crate::harness::*;

#[test]
fn examples_terraform_applies_cleanly() {
    let sim = Sim::start_with(
        "examples",
        SimOpts {
            apps: vec![
                "demo-twingate".into(),
                "demo-torq".into(),
                "demo-segment".into(),
            ],
            ..SimOpts::default()
        },
    );
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

    let out = tf.apply();
    out.code(0)
        .contains("Resources: 3 added, 0 changed, 0 destroyed.")
        .contains("twingate_connector")
        .lacks("demo-twingate-api-key")
        .lacks("demo-torq-client-secret")
        .lacks("demo-segment-access-token");
    let log = sim.take_requests();
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
    }

    tf.plan().code(0).contains("No changes.");
    tf.destroy().code(0).contains("3 destroyed");
    assert!(sim.connectors().is_empty());
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
    // The provider example and one per resource type, besides the full example.
    for resource in [
        Kind::Twingate.resource_type(),
        Kind::Torq.resource_type(),
        Kind::Segment.resource_type(),
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
