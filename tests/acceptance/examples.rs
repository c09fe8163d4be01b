//! The shipped example (examples/terraform/, what `make demo` applies) works as written:
//! apply, outputs, a clean second plan, destroy.

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
