//! Scenario 3: import with `terraform import`, with an `import {}` block, and with
//! `plan -generate-config-out`; afterwards the plan only asks for the secrets C1 never returns.

use crate::harness::*;

/// Create one connector of `kind` in app1 from a separate working directory; returns its id.
fn existing(sim: &Sim, creds: &Creds, kind: Kind) -> String {
    let setup = Tf::new(&format!("import-setup-{kind:?}"), sim, creds);
    setup.write_main(&config(&resource_block(
        kind,
        "src",
        "app1",
        Some(&["u1", "u2"]),
        &kv(kind, 0),
    )));
    setup.apply().code(0).contains("1 added");
    let conns = sim.connectors();
    assert_eq!(conns.len(), 1);
    sim.clear_requests();
    conns[0]["id"].as_str().unwrap().to_string()
}

fn secret_keys(kind: Kind) -> Vec<String> {
    kind.settings(0)
        .into_iter()
        .filter(|(_, _, s)| *s)
        .map(|(k, _, _)| k.to_string())
        .collect()
}

fn import_cli(kind: Kind) {
    let name = format!("import-cli-{kind:?}");
    let sim = Sim::start(&name);
    let creds = sim.mint();
    let id = existing(&sim, &creds, kind);
    let tf = Tf::new(&name, &sim, &creds);
    let addr = format!("{}.imported", kind.resource_type());
    tf.write_main(&config(&resource_block(
        kind,
        "imported",
        "app1",
        Some(&["u1", "u2"]),
        &kv(kind, 0),
    )));
    let import_id = format!("app1/{id}");
    tf.run(&["import", "-input=false", "-no-color", &addr, &import_id])
        .code(0)
        .contains("Import successful!");
    let log = sim.take_requests();
    assert!(log.ok(Op::Get) >= 1, "{}", log.summary());
    assert_eq!(log.writes(), 0, "{}", log.summary());

    let st = tf.resource(&addr);
    assert_eq!(st["id"], id.as_str());
    assert_eq!(st["app_id"], "app1");
    assert_eq!(st["user_ids"], serde_json::json!(["u1", "u2"]));
    for (k, v, secret) in kind.settings(0) {
        if secret {
            assert!(st[k].is_null(), "secret {k} is unknown after import: {st}");
        } else {
            assert_eq!(st[k], v.as_str(), "{k} read back on import");
        }
    }

    // The plan asks only for the secrets.
    let (out, plan) = tf.plan_json(&[]);
    out.contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    let changes = plan_changes(&plan);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let (a, actions, changed, _) = &changes[0];
    assert_eq!(a, &addr);
    assert_eq!(actions, &["update"]);
    assert_eq!(changed, &secret_keys(kind), "only secrets change");

    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 0 added, 1 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.connectors().len(), 1, "import created nothing new");
}

#[test]
fn twingate_import_cli() {
    import_cli(Kind::Twingate);
}

#[test]
fn torq_import_cli() {
    import_cli(Kind::Torq);
}

#[test]
fn segment_import_cli() {
    import_cli(Kind::Segment);
}

#[test]
fn import_block() {
    let sim = Sim::start("import-block");
    let creds = sim.mint();
    let id = existing(&sim, &creds, Kind::Torq);
    let tf = Tf::new("import-block", &sim, &creds);
    let body = format!(
        "import {{\n  to = conductorone_integration_torq.q\n  id = \"app1/{id}\"\n}}\n\n{}",
        resource_block(
            Kind::Torq,
            "q",
            "app1",
            Some(&["u1", "u2"]),
            &kv(Kind::Torq, 0)
        )
    );
    tf.write_main(&config(&body));
    let (out, plan) = tf.plan_json(&[]);
    out.contains("Plan: 1 to import, 0 to add, 1 to change, 0 to destroy.");
    let changes = plan_changes(&plan);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(changes[0].3, "planned as an import: {changes:?}");
    assert_eq!(changes[0].1, ["update"]);
    assert_eq!(
        changes[0].2,
        ["torq_client_secret"],
        "only the secret changes"
    );
    assert_eq!(sim.requests().writes(), 0, "plan writes nothing");

    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 1 imported, 0 added, 1 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    assert_eq!(
        tf.resource("conductorone_integration_torq.q")["id"],
        id.as_str()
    );
    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.connectors().len(), 1);
}

/// Plan with only an `import {}` block and `-generate-config-out`.
fn generate(name: &str, kind: Kind) -> (Sim, Tf, String, Out) {
    let sim = Sim::start(name);
    let creds = sim.mint();
    let id = existing(&sim, &creds, kind);
    let tf = Tf::new(name, &sim, &creds);
    tf.write_main(&config(&format!(
        "import {{\n  to = {}.g\n  id = \"app1/{id}\"\n}}\n",
        kind.resource_type()
    )));
    let out = tf.run(&[
        "plan",
        "-input=false",
        "-no-color",
        "-generate-config-out=generated.tf",
    ]);
    let generated = tf.read("generated.tf");
    assert!(
        generated.contains(&format!("resource \"{}\" \"g\"", kind.resource_type())),
        "{generated}"
    );
    assert!(generated.contains("app_id"), "{generated}");
    assert!(generated.contains("\"app1\""), "{generated}");
    assert!(
        generated.contains("\"u1\""),
        "owners read back: {generated}"
    );
    for (k, v, secret) in kind.settings(0) {
        let line = generated
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{k} ")))
            .unwrap_or_else(|| panic!("{k} missing from {generated}"));
        if secret {
            assert!(
                line.contains("null"),
                "secret {k} is generated as null: {line}"
            );
        } else {
            assert!(line.contains(&hcl_str(&v)), "{k} read back: {line}");
        }
    }
    assert_eq!(sim.requests().writes(), 0, "plan writes nothing");
    (sim, tf, generated, out)
}

/// The user fills in the secrets of a generated configuration; the plan then imports and sets
/// only those, and after apply the plan is clean.
fn fill_secrets_and_apply(sim: &Sim, tf: &Tf, kind: Kind, generated: &str) {
    let filled: String = generated
        .lines()
        .map(|l| {
            for (k, v, secret) in kind.settings(0) {
                if secret && l.trim_start().starts_with(&format!("{k} ")) {
                    return format!("  {k} = {}", hcl_str(&v));
                }
            }
            l.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    tf.write("generated.tf", &filled);
    let (out, plan) = tf.plan_json(&[]);
    out.contains("Plan: 1 to import, 0 to add, 1 to change, 0 to destroy.");
    let changes = plan_changes(&plan);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].2, secret_keys(kind), "only the secrets change");
    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 1 imported, 0 added, 1 changed, 0 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::UpdateConfig), 1, "{}", log.summary());
    assert_eq!(log.writes(), 1, "{}", log.summary());
    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.connectors().len(), 1);
}

/// Segment's only setting is a secret: the generated configuration is valid as it is (the
/// import plans with no change), and setting the token later is an update.
#[test]
fn generate_config_segment() {
    let (sim, tf, generated, out) = generate("import-genconfig-segment", Kind::Segment);
    out.code(0)
        .contains("(config will be generated)")
        .contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.");
    fill_secrets_and_apply(&sim, &tf, Kind::Segment, &generated);
}

/// Twingate's domain is read back but its API key is not: the generated configuration has the
/// domain without the key, which the plan rejects by naming exactly the secret to set.
#[test]
fn generate_config_twingate_names_the_secret_to_set() {
    let (sim, tf, generated, out) = generate("import-genconfig-twingate", Kind::Twingate);
    out.code(1)
        .contains("Error")
        .contains("twingate_apikey")
        .contains("generated.tf");
    fill_secrets_and_apply(&sim, &tf, Kind::Twingate, &generated);
}

/// A working directory with one delegated Segment resource `s` in app1, to import into.
fn segment_to_import(name: &str) -> (Sim, Tf) {
    let sim = Sim::start(name);
    let creds = sim.mint();
    let tf = Tf::new(name, &sim, &creds);
    tf.write_main(&config(&resource_block(
        Kind::Segment,
        "s",
        "app1",
        None,
        &[],
    )));
    (sim, tf)
}

/// `terraform import conductorone_integration_segment.s <id>`.
fn import_segment(tf: &Tf, id: &str) -> Out {
    tf.run(&[
        "import",
        "-input=false",
        "-no-color",
        "conductorone_integration_segment.s",
        id,
    ])
}

#[test]
fn import_unknown_id_fails_clearly() {
    let (sim, tf) = segment_to_import("import-unknown");
    import_segment(&tf, "app1/doesnotexist")
        .code(1)
        .contains("doesnotexist");
    import_segment(&tf, "no-slash-here")
        .code(1)
        .contains("app_id");
    assert_eq!(sim.requests().writes(), 0);
}

/// Import ids are two C1 ids: `app1/.`, `app1/..` and other path tricks fail as invalid ids
/// without any call to C1 (they would otherwise reach other endpoints).
#[test]
fn import_id_with_path_tricks_makes_no_call() {
    let (sim, tf) = segment_to_import("import-path-tricks");
    for id in [
        "app1/..",
        "app1/.",
        "../x",
        "./x",
        "app1/a/b",
        "app1/a?b",
        "app1/%2e%2e",
        "app1/",
        "/c1",
        "app1/c 1",
    ] {
        import_segment(&tf, id)
            .code(1)
            .contains("Invalid import id")
            .contains("<app_id>/<connector_id>");
        let log = sim.requests();
        assert_eq!(log.0.len(), 0, "{id}: {}", log.summary());
    }
    // The same through an import block.
    tf.write_main(&config(&format!(
        "import {{\n  to = conductorone_integration_segment.s\n  id = \"app1/..\"\n}}\n{}",
        resource_block(Kind::Segment, "s", "app1", None, &[])
    )));
    tf.plan().code(1).contains("Invalid import id");
    assert_eq!(sim.requests().0.len(), 0, "{}", sim.requests().summary());
}
