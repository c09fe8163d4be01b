//! Self-hosted connectors: a `conductorone_integration_baton` and its
//! `conductorone_connector_credential` — create, read, the connector authenticating with the
//! credential, rotation through `rotation_triggers` (with and without create_before_destroy:
//! request-log order), revocation and expiry outside Terraform, import, destroy; and the shipped
//! example (`examples/self-hosted/`).

use serde_json::Value;

use crate::harness::*;

const BATON: &str = "conductorone_integration_baton.segment";
const CREDENTIAL: &str = "conductorone_connector_credential.segment";

/// A Baton integration in app1 and its credential, rotated by `var.rotation`; with
/// `create_before_destroy` when `cbd`.
fn configuration(cbd: bool) -> String {
    let lifecycle = if cbd {
        "\n  lifecycle {\n    create_before_destroy = true\n  }\n"
    } else {
        ""
    };
    config(&format!(
        "variable \"rotation\" {{\n  type    = string\n  default = \"1\"\n}}\n\
         resource \"conductorone_integration_baton\" \"segment\" {{\n  app_id   = \"app1\"\n  user_ids = [\"u1\"]\n}}\n\
         resource \"conductorone_connector_credential\" \"segment\" {{\n  app_id       = conductorone_integration_baton.segment.app_id\n  connector_id = conductorone_integration_baton.segment.id\n  rotation_triggers = {{\n    rotation = var.rotation\n  }}\n{lifecycle}}}\n\
         output \"client_secret\" {{\n  value     = conductorone_connector_credential.segment.client_secret\n  sensitive = true\n}}\n"
    ))
}

/// Applies the configuration in a new simulator; returns it, the working directory, the Baton
/// connector's id and the credential's state values.
fn applied(name: &str, cbd: bool) -> (Sim, Tf, String, Value) {
    let sim = Sim::start(name);
    let creds = sim.mint();
    let tf = Tf::new(name, &sim, &creds);
    tf.write_main(&configuration(cbd));
    tf.apply()
        .code(0)
        .contains("Resources: 2 added, 0 changed, 0 destroyed.");
    let baton = tf.resource(BATON);
    let connector_id = baton["id"].as_str().unwrap().to_string();
    let credential = tf_credential(&tf);
    (sim, tf, connector_id, credential)
}

fn tf_credential(tf: &Tf) -> Value {
    tf.resource(CREDENTIAL)
}

fn s<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in the credential's state"))
}

/// Positions of the calls of `op` in the request log.
fn positions(log: &Log, op: Op) -> Vec<usize> {
    log.0
        .iter()
        .enumerate()
        .filter(|(_, r)| r.op() == op && r.ok())
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn baton_and_credential_create_read_use_rotate_and_destroy() {
    let (sim, tf, connector_id, first) = applied("self-hosted", true);
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateDelegated), 1, "{}", log.summary());
    assert_eq!(log.ok(Op::RotateCredential), 1, "{}", log.summary());
    assert_eq!(log.writes(), 2, "{}", log.summary());
    let connector = sim.connector(&connector_id).expect("the Baton connector");
    assert_eq!(connector["catalogId"], BATON_CATALOG);
    assert_eq!(connector["displayName"], "Baton");
    assert_eq!(connector["status"]["status"], "SYNC_STATUS_UNSPECIFIED");

    // The state has the credential C1 made, with the secret from the rotate answer.
    let live = sim.live_credentials();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0]["id"], first["id"]);
    assert_eq!(live[0]["clientId"], first["client_id"]);
    assert_eq!(first["connector_id"], connector_id.as_str());
    assert!(s(&first, "client_secret").starts_with("secret-token:conductorone.com:v1:"));
    assert!(first["display_name"].is_string() && first["created_at"].is_string());
    assert!(first["last_used_at"].is_null());

    // Read: a plan refreshes with one GET and plans nothing.
    tf.plan().code(0).contains("No changes.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::GetCredential), 1, "{}", log.summary());
    assert_eq!(log.writes(), 0, "{}", log.summary());

    // The self-hosted connector authenticates with it: C1 shows it used and the connector synced.
    assert_eq!(
        sim.connector_authenticates(s(&first, "client_id"), s(&first, "client_secret")),
        200
    );
    let connector = sim.connector(&connector_id).unwrap();
    assert_eq!(connector["status"]["status"], "SYNC_STATUS_DONE");
    tf.apply_args(&["-refresh-only"]).code(0);
    let refreshed = tf_credential(&tf);
    assert!(refreshed["last_used_at"].is_string(), "{refreshed}");
    assert_eq!(
        refreshed["client_secret"], first["client_secret"],
        "a refresh never changes the secret"
    );
    tf.plan().code(0).contains("No changes.");

    // Rotate through the trigger: the new credential exists before the old one is revoked.
    sim.clear_requests();
    let mut tf = tf;
    tf.set_env("TF_VAR_rotation", "2");
    let out = tf.plan();
    out.code(2)
        .contains("must be replaced")
        .contains("Plan: 1 to add, 0 to change, 1 to destroy.");
    assert_no_secrets("the plan", &out.all(), &[s(&first, "client_secret")]);
    sim.clear_requests();
    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 1 destroyed.");
    let log = sim.take_requests();
    let (rotated, revoked) = (
        positions(&log, Op::RotateCredential),
        positions(&log, Op::RevokeCredential),
    );
    assert_eq!((rotated.len(), revoked.len()), (1, 1), "{}", log.summary());
    assert!(
        rotated[0] < revoked[0],
        "the old credential was revoked before the new one existed: {:?}",
        log.0
    );
    let old_id = s(&first, "id");
    assert!(log.0[revoked[0]]
        .path
        .ends_with(&format!("/credentials/{old_id}")));
    let second = tf_credential(&tf);
    assert_ne!(second["id"], first["id"]);
    assert_ne!(second["client_secret"], first["client_secret"]);
    let live = sim.live_credentials();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0]["id"], second["id"]);
    assert_eq!(
        sim.connector_authenticates(s(&first, "client_id"), s(&first, "client_secret")),
        401,
        "the old credential is revoked"
    );
    assert_eq!(
        sim.connector_authenticates(s(&second, "client_id"), s(&second, "client_secret")),
        200
    );
    tf.plan().code(0).contains("No changes.");

    // Destroy revokes the credential and deletes the connector.
    sim.clear_requests();
    tf.destroy().code(0).contains("2 destroyed");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::RevokeCredential), 1, "{}", log.summary());
    assert_eq!(log.ok(Op::Delete), 1, "{}", log.summary());
    assert!(sim.live_credentials().is_empty());
    assert!(sim.connectors().is_empty());
}

#[test]
fn without_create_before_destroy_a_rotation_revokes_first_and_ends_the_same() {
    let (sim, mut tf, _, first) = applied("self-hosted-no-cbd", false);
    sim.clear_requests();
    tf.set_env("TF_VAR_rotation", "2");
    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 1 destroyed.");
    let log = sim.take_requests();
    let (rotated, revoked) = (
        positions(&log, Op::RotateCredential),
        positions(&log, Op::RevokeCredential),
    );
    assert_eq!((rotated.len(), revoked.len()), (1, 1), "{}", log.summary());
    assert!(revoked[0] < rotated[0], "Terraform's default order");
    let second = tf_credential(&tf);
    let live = sim.live_credentials();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0]["id"], second["id"]);
    assert_ne!(second["id"], first["id"]);
    tf.plan().code(0).contains("No changes.");
}

#[test]
fn revoked_or_expired_outside_terraform_is_planned_for_creation() {
    let (sim, tf, connector_id, first) = applied("self-hosted-revoked", true);
    sim.revoke_credential("app1", &connector_id, s(&first, "id"));
    sim.clear_requests();
    let out = tf.plan();
    out.code(2)
        .says("was revoked or is gone")
        .contains("will be created")
        .contains("Plan: 1 to add, 0 to change, 0 to destroy.");
    assert_eq!(sim.take_requests().writes(), 0);
    tf.apply()
        .code(0)
        .contains("Resources: 1 added, 0 changed, 0 destroyed.");
    let second = tf_credential(&tf);
    assert_ne!(second["id"], first["id"]);
    assert_eq!(sim.live_credentials().len(), 1);

    sim.expire_credential("app1", &connector_id, s(&second, "id"));
    tf.plan()
        .code(2)
        .says(&format!(
            "Connector credential {} expired",
            s(&second, "id")
        ))
        .contains("Plan: 1 to add, 0 to change, 0 to destroy.");
    tf.apply().code(0).contains("1 added");
    let third = tf_credential(&tf);
    assert_eq!(sim.live_credentials()[0]["id"], third["id"]);
    tf.plan().code(0).contains("No changes.");
}

#[test]
fn baton_and_credential_import() {
    let (sim, _setup, connector_id, credential) = applied("self-hosted-import-setup", true);
    let creds = sim.mint();
    let tf = Tf::new("self-hosted-import", &sim, &creds);
    tf.write_main(&config(
        "resource \"conductorone_integration_baton\" \"segment\" {\n  app_id   = \"app1\"\n  user_ids = [\"u1\"]\n}\n\
         resource \"conductorone_connector_credential\" \"segment\" {\n  app_id       = conductorone_integration_baton.segment.app_id\n  connector_id = conductorone_integration_baton.segment.id\n}\n",
    ));
    sim.clear_requests();
    tf.run(&[
        "import",
        "-input=false",
        "-no-color",
        BATON,
        &format!("app1/{connector_id}"),
    ])
    .code(0)
    .contains("Import successful!");
    let credential_id = s(&credential, "id");
    tf.run(&[
        "import",
        "-input=false",
        "-no-color",
        CREDENTIAL,
        &format!("app1/{connector_id}/{credential_id}"),
    ])
    .code(0)
    .says("The imported credential's client_secret is null")
    .contains("Import successful!");
    assert_eq!(sim.take_requests().writes(), 0);
    let baton = tf.resource(BATON);
    assert_eq!(baton["id"], connector_id.as_str());
    assert_eq!(baton["user_ids"], serde_json::json!(["u1"]));
    let imported = tf_credential(&tf);
    assert_eq!(imported["id"], credential["id"]);
    assert_eq!(imported["client_id"], credential["client_id"]);
    assert!(imported["client_secret"].is_null());
    tf.plan().code(0).contains("No changes.");

    // Ids of the wrong shape, and a credential that is not there, are refused by name.
    let mut with_other = tf.read("main.tf");
    with_other.push_str(&format!(
        "resource \"conductorone_connector_credential\" \"other\" {{\n  app_id       = \"app1\"\n  connector_id = \"{connector_id}\"\n}}\n"
    ));
    tf.write_main(&with_other);
    tf.run(&[
        "import",
        "-input=false",
        "-no-color",
        "conductorone_connector_credential.other",
        "app1/only-two",
    ])
    .code(1)
    .says("Import ids have the form `<app_id>/<connector_id>/<credential_id>`");
    tf.run(&[
        "import",
        "-input=false",
        "-no-color",
        "conductorone_connector_credential.other",
        &format!("app1/{connector_id}/2NoSuchCredential000000000"),
    ])
    .code(1)
    .says("No live connector credential with the ids of the import id");
}

/// The shipped self-hosted example (`examples/self-hosted/`) applies, keeps the secret out of
/// the output, plans clean and destroys.
#[test]
fn examples_self_hosted_applies_cleanly() {
    let sim = Sim::start_with(
        "examples-self-hosted",
        SimOpts {
            apps: vec!["demo-segment".into()],
            ..SimOpts::default()
        },
    );
    let creds = sim.mint();
    let tf = Tf::new("examples-self-hosted", &sim, &creds);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/self-hosted");
    for entry in std::fs::read_dir(&dir).expect("examples/self-hosted") {
        let p = entry.expect("dir entry").path();
        if p.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&p, tf.path().join(p.file_name().unwrap())).expect("copy example");
        }
    }
    let out = tf.apply();
    out.code(0)
        .contains("Resources: 2 added, 0 changed, 0 destroyed.");
    let credential = tf.resource("conductorone_connector_credential.baton_segment");
    let secret = s(&credential, "client_secret").to_string();
    out.lacks(&secret)
        .contains("baton_client_secret = <sensitive>");
    let secret_output = tf.run(&["output", "-raw", "baton_client_secret"]);
    secret_output.code(0);
    assert_eq!(
        secret_output.stdout, secret,
        "the output carries the secret"
    );
    assert_eq!(sim.live_credentials().len(), 1);
    tf.plan().code(0).contains("No changes.");
    tf.destroy().code(0).contains("2 destroyed");
    assert!(sim.live_credentials().is_empty() && sim.connectors().is_empty());
}

/// `timeouts` on the credential: `create`, `read`, `delete` only (Terraform itself refuses an
/// `update`, with no call to C1); a state written before the block existed plans clean; a rotate
/// C1 is slower to answer than `timeouts.create` fails naming it, with no credential live in C1
/// but the one in the state, and the next apply makes it.
#[test]
fn credential_timeouts_bound_a_slow_rotate_and_leave_state_and_c1_agreeing() {
    let (sim, mut tf, _, first) = applied("self-hosted-timeouts", false);
    let with_timeouts = |timeouts: &str| {
        configuration(false).replace(
            "    rotation = var.rotation\n  }\n",
            &format!("    rotation = var.rotation\n  }}\n  timeouts {{\n    {timeouts}\n  }}\n"),
        )
    };

    crate::apps::drop_timeouts_from_state(&tf);
    sim.clear_requests();
    tf.plan().code(0).contains("No changes.");
    assert_eq!(sim.take_requests().writes(), 0);

    for (timeouts, error) in [
        ("update = \"1m\"", "Unsupported argument"),
        ("create = \"soon\"", "Invalid timeouts.create"),
    ] {
        tf.write_main(&with_timeouts(timeouts));
        tf.plan()
            .code(1)
            .contains(&format!("Error: {error}"))
            .contains(&format!("{timeouts}\n"));
        assert_eq!(sim.take_requests().writes(), 0);
    }

    // A rotation whose rotate C1 answers after 4 s; the budget is 2 s.
    tf.write_main(&with_timeouts("create = \"2s\""));
    sim.set_faults(serde_json::json!({
        "latency_ms": 4000,
        "path_contains": "/api/v1/apps/connectors/credentials",
        "method": "POST",
    }));
    sim.clear_requests();
    tf.set_env("TF_VAR_rotation", "2");
    let out = tf.apply();
    out.code(1)
        .contains("Could not create the connector credential within timeouts.create (2s)")
        .says("The operation's time budget, timeouts.create = 2s, ran out");
    let log = sim.take_requests();
    // The rotate never answered (C1 logs a call once it answers).
    assert_eq!(log.ok(Op::RotateCredential), 0, "{}", log.summary());
    assert_eq!(log.ok(Op::RevokeCredential), 1, "{}", log.summary());
    // Once C1 would have answered: nothing live, nothing in the state.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(sim.live_credentials().is_empty(), "{}", sim.state());
    assert!(
        tf.resources()
            .iter()
            .all(|(address, _)| address != CREDENTIAL),
        "no credential in the state"
    );

    sim.clear_faults();
    tf.apply().code(0).contains("1 added");
    let second = tf_credential(&tf);
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["timeouts"][0]["create"], "2s");
    let live = sim.live_credentials();
    assert_eq!(live.len(), 1, "{}", sim.state());
    assert_eq!(live[0]["id"], second["id"]);
    assert_eq!(
        sim.connector_authenticates(s(&second, "client_id"), s(&second, "client_secret")),
        200
    );
    tf.plan().code(0).contains("No changes.");
}
