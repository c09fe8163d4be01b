//! Scenario 9: no secret leaves the sensitive attributes. One run (init, plan saved with -out,
//! apply of that plan, plan, an update that also rotates the connector credential, a plan with a
//! ready access token, a plan with an OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN (workload
//! identity), destroy) with TF_LOG=trace and the provider's own log file; then everything it
//! produced is scanned for every secret (both connector credential secrets included) and every
//! sensitive variable's value: what each command printed, Terraform's trace log, the provider's
//! logs, the simulator's request log, state and log, `terraform show -json` of the saved plan and
//! of the state, and the state file. In the plan and the state a value may appear only where they
//! mark it sensitive (`*_sensitive`, `sensitive_values`, `sensitive_attributes`, a variable
//! declared sensitive).

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::*;

/// One secret or sensitive value, and what it is (printed on a hit instead of the value).
struct Secret {
    what: String,
    value: String,
    /// C1 keeps it in plain text (a non-secret setting or an owner fed by a sensitive variable):
    /// the simulator's state (what C1 holds) may show it.
    c1_keeps_it: bool,
}

/// Where a scanned text came from, and the text.
struct Produced {
    what: String,
    text: String,
}

/// The sensitive variables of the configuration: (name, value, setting or owner it feeds, C1
/// keeps it in plain text).
fn sensitive_variables(variant: u8) -> Vec<(&'static str, String, bool)> {
    vec![
        ("tg_key", format!("tg-key-{variant}-SENSITIVEVAR-a1"), false),
        ("tg_domain", format!("sensitive-domain-{variant}"), true),
        (
            "torq_secret",
            format!("torq-secret-{variant}-SENSITIVEVAR-b2"),
            false,
        ),
        (
            "sg_token",
            format!("sg-token-{variant}-SENSITIVEVAR-c3"),
            false,
        ),
        ("owner", format!("sensitiveOwner{variant}"), true),
    ]
}

fn configuration() -> String {
    let mut body = String::from(
        "variable \"c1_secret\" {\n  type      = string\n  sensitive = true\n}\n\
         provider \"conductorone\" {\n  client_secret = var.c1_secret\n}\n",
    );
    for (name, _, _) in sensitive_variables(0) {
        body.push_str(&format!(
            "variable \"{name}\" {{\n  type      = string\n  sensitive = true\n}}\n"
        ));
    }
    body.push_str(
        "resource \"conductorone_integration_twingate\" \"t\" {\n  app_id          = \"app1\"\n  user_ids        = [var.owner]\n  twingate_apikey = var.tg_key\n  twingate_domain = var.tg_domain\n}\n\
         resource \"conductorone_integration_torq\" \"q\" {\n  app_id             = \"app1\"\n  user_ids           = [\"u1\"]\n  torq_client_id     = \"torq-client\"\n  torq_client_secret = var.torq_secret\n}\n\
         resource \"conductorone_integration_segment\" \"s\" {\n  app_id               = \"app1\"\n  segment_access_token = var.sg_token\n}\n",
    );
    // A self-hosted connector and its credential, rotated by `var.rotation`.
    body.push_str(
        "variable \"rotation\" {\n  type = string\n}\n\
         resource \"conductorone_integration_baton\" \"b\" {\n  app_id = \"app1\"\n}\n\
         resource \"conductorone_connector_credential\" \"b\" {\n  app_id       = conductorone_integration_baton.b.app_id\n  connector_id = conductorone_integration_baton.b.id\n  rotation_triggers = {\n    rotation = var.rotation\n  }\n  lifecycle {\n    create_before_destroy = true\n  }\n}\n",
    );
    config(&body)
}

#[test]
fn no_secret_leaves_the_sensitive_attributes() {
    let static_token = "static-token-acceptance-SECRETVALUE-d4";
    let sim = Sim::start_with(
        "logging",
        SimOpts {
            static_token: Some(static_token.into()),
            ..SimOpts::default()
        },
    );
    let creds = sim.mint();
    let oidc_issuer = "https://app.terraform.io";
    sim.trust_oidc_issuer(oidc_issuer, "c1.workload.identity");
    let oidc = oidc_token(
        oidc_issuer,
        "c1.workload.identity",
        "organization:acme:project:p:workspace:w:run_phase:plan",
        600,
    );
    // Installed from a filesystem mirror, so that `terraform init` runs as users run it.
    let mut tf = Tf::bare("logging", Install::FilesystemMirror);
    tf.set_env(SERVER_URL.env, &sim.url);
    tf.set_env(CLIENT_ID.env, &creds.client_id);
    tf.set_env("TF_VAR_c1_secret", &creds.client_secret);
    let trace_path = tf.path().join("tf-trace.log");
    tf.set_env("TF_LOG", "trace");
    tf.set_env("TF_LOG_PROVIDER", "trace");
    tf.set_env("TF_LOG_PATH", &trace_path.to_string_lossy());

    let mut secrets: Vec<Secret> = vec![
        Secret {
            what: "the client secret".into(),
            value: creds.client_secret.clone(),
            c1_keeps_it: false,
        },
        Secret {
            what: "the key in the client secret".into(),
            value: creds.client_secret.rsplit(':').next().unwrap().to_string(),
            c1_keeps_it: false,
        },
        Secret {
            what: "the access token".into(),
            value: static_token.into(),
            c1_keeps_it: false,
        },
        Secret {
            what: "the OIDC token".into(),
            value: oidc.clone(),
            c1_keeps_it: false,
        },
        Secret {
            what: "the OIDC token's signature".into(),
            value: oidc.rsplit('.').next().unwrap().to_string(),
            c1_keeps_it: false,
        },
    ];
    for variant in [0, 1] {
        for (name, value, c1_keeps_it) in sensitive_variables(variant) {
            secrets.push(Secret {
                what: format!("sensitive variable {name} (variant {variant})"),
                value,
                c1_keeps_it,
            });
        }
    }
    let set_variables = |tf: &mut Tf, variant: u8| {
        for (name, value, _) in sensitive_variables(variant) {
            tf.set_env(&format!("TF_VAR_{name}"), &value);
        }
        tf.set_env("TF_VAR_rotation", &variant.to_string());
    };
    // The connector credential's secret, which C1 answered once (read from the state file).
    let credential_secret = |tf: &Tf, variant: u8| -> Secret {
        let state: Value = serde_json::from_str(&tf.read("terraform.tfstate")).unwrap();
        let secret = state["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "conductorone_connector_credential")
            .and_then(|r| r["instances"][0]["attributes"]["client_secret"].as_str())
            .expect("the credential's secret in the state")
            .to_string();
        Secret {
            what: format!("the connector credential's secret (rotation {variant})"),
            value: secret,
            c1_keeps_it: false,
        }
    };

    let mut produced: Vec<Produced> = Vec::new();
    let mut provider_logs: Vec<PathBuf> = Vec::new();
    let mut run = |tf: &mut Tf, args: &[&str]| -> Out {
        let log = tf
            .path()
            .join(format!("provider-{}.log", provider_logs.len()));
        tf.set_env("PLUGIN_LOG_FILE", &log.to_string_lossy());
        provider_logs.push(log);
        let out = tf.run(args);
        // The JSON of `show -json` is walked below, where sensitive places are known.
        let json = args.contains(&"-json");
        produced.push(Produced {
            what: format!("the output of terraform {}", args.join(" ")),
            text: if json { out.stderr.clone() } else { out.all() },
        });
        out
    };
    let show_json = |out: Out| -> Value {
        out.code(0);
        serde_json::from_str(&out.stdout).expect("show -json")
    };

    tf.write_main(&configuration());
    set_variables(&mut tf, 0);
    run(&mut tf, &["init", "-input=false", "-no-color"]).code(0);
    run(
        &mut tf,
        &["plan", "-input=false", "-no-color", "-out=tfplan"],
    )
    .code(0);
    let plan_json = show_json(run(&mut tf, &["show", "-json", "-no-color", "tfplan"]));
    run(&mut tf, &["apply", "-input=false", "-no-color", "tfplan"])
        .code(0)
        .contains("5 added");
    secrets.push(credential_secret(&tf, 0));
    run(
        &mut tf,
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
    )
    .code(0)
    .contains("No changes.");
    // New secrets: an update sends them.
    set_variables(&mut tf, 1);
    run(
        &mut tf,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    )
    .code(0)
    .contains("1 added, 3 changed, 1 destroyed");
    secrets.push(credential_secret(&tf, 1));
    assert_ne!(
        secrets[secrets.len() - 1].value,
        secrets[secrets.len() - 2].value
    );
    // A ready access token instead of the client credentials.
    tf.set_env(ENV_ACCESS_TOKEN, static_token);
    run(
        &mut tf,
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
    )
    .code(0)
    .contains("No changes.");
    tf.remove_env(ENV_ACCESS_TOKEN);
    // An OIDC token (workload identity) instead of the client secret.
    tf.set_env("TFC_WORKLOAD_IDENTITY_TOKEN", &oidc);
    run(
        &mut tf,
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
    )
    .code(0)
    .contains("No changes.");
    tf.remove_env("TFC_WORKLOAD_IDENTITY_TOKEN");
    let exchanges = sim.requests();
    assert!(
        exchanges
            .0
            .iter()
            .any(|r| r.op() == Op::Token && r.ok() && r.grant.as_deref() == Some("token_exchange")),
        "the plan exchanged the OIDC token: {:?}",
        exchanges.0
    );
    let state_json = show_json(run(&mut tf, &["show", "-json", "-no-color"]));
    let state_file: Value =
        serde_json::from_str(&tf.read("terraform.tfstate")).expect("the state file");
    let c1_state = sim.state().to_string();
    let request_log = sim.get("/_sim/requests").to_string();
    let log = sim.requests();
    assert_eq!(log.ok(Op::CreateConfigured), 3, "{}", log.summary());
    assert_eq!(log.ok(Op::UpdateConfig), 3, "{}", log.summary());
    // Retried calls are logged too.
    sim.set_faults(serde_json::json!({
        "latency_ms": 0, "fail_429_every": 2, "retry_after_secs": 1,
        "fail_5xx_every": 0, "fail_status": 503, "drop_every": 0
    }));
    run(
        &mut tf,
        &["destroy", "-auto-approve", "-input=false", "-no-color"],
    )
    .code(0)
    .contains("5 destroyed");
    sim.clear_faults();

    let trace = std::fs::read_to_string(&trace_path).expect("trace log written");
    assert!(
        trace.contains("terraform-provider-conductorone") && trace.len() > 10_000,
        "the trace log holds the provider's lines ({} bytes)",
        trace.len()
    );
    produced.push(Produced {
        what: "the TF_LOG=trace log".into(),
        text: trace,
    });
    let mut provider_log_bytes = 0;
    for path in &provider_logs {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        provider_log_bytes += text.len();
        produced.push(Produced {
            what: format!("the provider's log {}", path.display()),
            text,
        });
    }
    assert!(
        provider_log_bytes > 1_000,
        "the provider wrote its own logs"
    );
    produced.push(Produced {
        what: "the simulator's request log".into(),
        text: request_log,
    });
    produced.push(Produced {
        what: "the simulator's log".into(),
        text: sim.log_text(),
    });

    let mut hits: Vec<String> = Vec::new();
    for p in &produced {
        for s in &secrets {
            if p.text.contains(&s.value) {
                hits.push(format!("{} in {}", s.what, p.what));
            }
        }
        let lower = p.text.to_lowercase();
        if p.text.contains("client_assertion=")
            || lower.contains("authorization: bearer ")
            || lower.contains("\"authorization\":\"bearer ")
            || p.text.contains("\"access_token\":\"")
        {
            hits.push(format!(
                "an assertion, token or Authorization header in {}",
                p.what
            ));
        }
    }
    // What C1 holds: only the values it keeps in plain text may show.
    for s in secrets.iter().filter(|s| !s.c1_keeps_it) {
        if c1_state.contains(&s.value) {
            hits.push(format!("{} in the simulator's state", s.what));
        }
    }
    let declared_sensitive: Vec<String> = plan_json["configuration"]["root_module"]["variables"]
        .as_object()
        .map(|vars| {
            vars.iter()
                .filter(|(_, v)| v["sensitive"] == Value::Bool(true))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    assert!(declared_sensitive.len() >= 6, "{declared_sensitive:?}");
    // The walks below are not vacuous: the sensitive values are there, at sensitive places.
    let tg_key = |variant: u8| sensitive_variables(variant)[0].1.clone();
    assert!(plan_json.to_string().contains(&tg_key(0)));
    assert!(state_json.to_string().contains(&tg_key(1)));
    assert!(state_file.to_string().contains(&tg_key(1)));
    let rotated_secret = &secrets[secrets.len() - 1].value;
    assert!(state_json.to_string().contains(rotated_secret.as_str()));
    assert!(state_file.to_string().contains(rotated_secret.as_str()));
    for (what, doc) in [
        ("`terraform show -json` of the saved plan", &plan_json),
        ("`terraform show -json` of the state", &state_json),
    ] {
        let mut at = Vec::new();
        walk(
            doc,
            &Value::Null,
            "",
            &declared_sensitive,
            &secrets,
            &mut at,
        );
        hits.extend(
            at.into_iter()
                .map(|(path, s)| format!("{s} at {path} in {what}")),
        );
    }
    for resource in state_file["resources"].as_array().expect("resources") {
        for (i, instance) in resource["instances"].as_array().unwrap().iter().enumerate() {
            let allowed = sensitive_attributes(&instance["sensitive_attributes"]);
            assert!(allowed.is_object(), "{}", instance["sensitive_attributes"]);
            let mut at = Vec::new();
            let path = format!("{}[{i}]", resource["type"].as_str().unwrap_or_default());
            walk(
                &instance["attributes"],
                &allowed,
                &path,
                &[],
                &secrets,
                &mut at,
            );
            let rest: Value = instance
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.as_str() != "attributes")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<serde_json::Map<_, _>>()
                .into();
            walk(&rest, &Value::Null, &path, &[], &secrets, &mut at);
            hits.extend(
                at.into_iter()
                    .map(|(p, s)| format!("{s} at {p} in the state file")),
            );
        }
    }
    assert!(
        hits.is_empty(),
        "secrets outside the sensitive attributes:\n{}",
        hits.join("\n")
    );
}

/// Walks `v`; `mirror` marks what is sensitive (`true` = all below). An object's `X` is walked
/// with its sibling `X_sensitive`, `values` with `sensitive_values`, and a variable declared
/// sensitive is allowed its value. Strings holding a secret anywhere else are reported.
fn walk(
    v: &Value,
    mirror: &Value,
    path: &str,
    sensitive_variables: &[String],
    secrets: &[Secret],
    hits: &mut Vec<(String, String)>,
) {
    if mirror == &Value::Bool(true) {
        return;
    }
    match v {
        Value::String(s) => {
            for secret in secrets.iter().filter(|x| s.contains(&x.value)) {
                hits.push((path.to_string(), secret.what.clone()));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let m = mirror.get(i).cloned().unwrap_or(Value::Null);
                walk(
                    item,
                    &m,
                    &format!("{path}[{i}]"),
                    sensitive_variables,
                    secrets,
                    hits,
                );
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let sibling = if k == "values" {
                    map.get("sensitive_values")
                } else {
                    map.get(&format!("{k}_sensitive"))
                };
                let variable = path.ends_with(".variables") && sensitive_variables.contains(k);
                let m = match (sibling, mirror.get(k)) {
                    _ if variable => Value::Bool(true),
                    (Some(s), _) => s.clone(),
                    (None, Some(m)) => m.clone(),
                    (None, None) => Value::Null,
                };
                walk(
                    item,
                    &m,
                    &format!("{path}.{k}"),
                    sensitive_variables,
                    secrets,
                    hits,
                );
            }
        }
        _ => {}
    }
}

/// The state file's `sensitive_attributes` (paths of `get_attr`/`index` steps) as a mirror of
/// the attributes: `{"twingate_apikey": true, "user_ids": [true]}`. A path this does not
/// understand marks nothing, so it can only make the test stricter.
fn sensitive_attributes(paths: &Value) -> Value {
    let mut mirror = Value::Object(Default::default());
    for path in paths.as_array().cloned().unwrap_or_default() {
        let steps = path.as_array().cloned().unwrap_or_default();
        let mut node = &mut mirror;
        for (i, step) in steps.iter().enumerate() {
            let last = i + 1 == steps.len();
            let leaf = if last {
                Value::Bool(true)
            } else {
                Value::Object(Default::default())
            };
            // An index is a cty value: `{"value": 0, "type": "number"}`.
            let key = match &step["value"] {
                Value::Object(typed) => typed.get("value").cloned().unwrap_or_default(),
                other => other.clone(),
            };
            match &key {
                Value::String(name) => {
                    if !node.is_object() {
                        *node = Value::Object(Default::default());
                    }
                    node = node
                        .as_object_mut()
                        .unwrap()
                        .entry(name.clone())
                        .or_insert(leaf);
                }
                Value::Number(n) => {
                    let n = n.as_u64().unwrap_or_default() as usize;
                    if !node.is_array() {
                        *node = Value::Array(Vec::new());
                    }
                    let items = node.as_array_mut().unwrap();
                    while items.len() <= n {
                        items.push(Value::Null);
                    }
                    if items[n].is_null() {
                        items[n] = leaf;
                    }
                    node = &mut items[n];
                }
                _ => break,
            }
        }
    }
    mirror
}
