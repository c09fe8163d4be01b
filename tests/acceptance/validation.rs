//! Scenario 5: invalid settings fail at plan time, naming the attribute, before any connector
//! call reaches C1.

use crate::harness::*;

/// Plan `body` against a fresh simulator: it must fail, naming `attribute` (and `also`), with
/// zero connector calls in the request log.
fn rejected(name: &str, body: &str, attribute: &str, also: &[&str]) {
    let sim = Sim::start(name);
    let creds = sim.mint();
    let tf = Tf::new(name, &sim, &creds);
    tf.write_main(&config(body));
    let out = tf.plan();
    out.code(1).contains("Error").contains(attribute);
    for s in also {
        out.contains(s);
    }
    let log = sim.requests();
    assert_eq!(log.connector_calls(), 0, "{}", log.summary());
    // apply stops at the same place.
    let out = tf.apply();
    out.code(1).contains(attribute);
    let log = sim.requests();
    assert_eq!(log.connector_calls(), 0, "{}", log.summary());
    assert!(sim.connectors().is_empty());
}

#[test]
fn twingate_domain_must_be_bare_subdomain() {
    for (i, bad) in [
        "acme.twingate.com",
        "https://acme.twingate.com",
        "-acme",
        "ac me",
    ]
    .iter()
    .enumerate()
    {
        rejected(
            &format!("invalid-domain-{i}"),
            &resource_block(
                Kind::Twingate,
                "t",
                "app1",
                None,
                &[
                    ("twingate_apikey", "k".repeat(20)),
                    ("twingate_domain", bad.to_string()),
                ],
            ),
            "twingate_domain",
            &[],
        );
    }
}

#[test]
fn empty_secret_is_rejected() {
    rejected(
        "invalid-empty-secret",
        &resource_block(
            Kind::Twingate,
            "t",
            "app1",
            None,
            &[
                ("twingate_apikey", String::new()),
                ("twingate_domain", "acme".into()),
            ],
        ),
        "twingate_apikey",
        &[],
    );
    rejected(
        "invalid-empty-segment-token",
        &resource_block(
            Kind::Segment,
            "s",
            "app1",
            None,
            &[("segment_access_token", String::new())],
        ),
        "segment_access_token",
        &[],
    );
}

#[test]
fn duplicate_owner_is_rejected() {
    rejected(
        "invalid-duplicate-owner",
        &resource_block(
            Kind::Segment,
            "s",
            "app1",
            Some(&["u1", "u2", "u1"]),
            &kv(Kind::Segment, 0),
        ),
        "user_ids",
        &["lists an owner more than once"],
    );
}

#[test]
fn partial_settings_are_rejected() {
    rejected(
        "invalid-partial-torq",
        &resource_block(
            Kind::Torq,
            "q",
            "app1",
            None,
            &[("torq_client_id", "torq-client".into())],
        ),
        "torq_client_secret",
        &[],
    );
    rejected(
        "invalid-partial-twingate",
        &resource_block(
            Kind::Twingate,
            "t",
            "app1",
            None,
            &[("twingate_apikey", "tg-key-SECRETVALUE".into())],
        ),
        "twingate_domain",
        &[],
    );
}

/// One bad resource among good ones: nothing at all is created.
#[test]
fn one_invalid_resource_blocks_the_whole_apply() {
    let body = format!(
        "{}\n{}",
        resource_block(Kind::Segment, "ok", "app1", None, &kv(Kind::Segment, 0)),
        resource_block(
            Kind::Twingate,
            "bad",
            "app1",
            None,
            &[
                ("twingate_apikey", "tg-key-SECRETVALUE".into()),
                ("twingate_domain", "acme.twingate.com".into()),
            ],
        )
    );
    rejected("invalid-mixed", &body, "twingate_domain", &[]);
}

/// Invalid values that come from variables, sensitive or not: the plan fails with errors located
/// at the attributes, and nothing Terraform prints contains a value (the provider cannot tell which
/// values were sensitive, so its diagnostics never quote one).
#[test]
fn invalid_values_from_variables_are_never_echoed() {
    let sim = Sim::start("invalid-no-echo");
    let creds = sim.mint();
    let mut tf = Tf::new("invalid-no-echo", &sim, &creds);
    let values = [
        // (variable, sensitive, value)
        ("tg_domain", true, "https://corp-zq7.twingate.example"),
        ("tg_key", true, " tg-padded-key-Q81 "),
        ("owner", true, "owner-dup-Q82"),
        ("torq_id", false, " torq-plain-id-Q83"),
        ("torq_secret", true, "torq-line\nbreak-Q84"),
        ("sg_token", false, "sg-tab\tQ85"),
    ];
    let mut body = String::new();
    for (name, sensitive, value) in values {
        body.push_str(&format!(
            "variable \"{name}\" {{\n  type      = string\n  sensitive = {sensitive}\n}}\n"
        ));
        tf.set_env(&format!("TF_VAR_{name}"), value);
    }
    body.push_str(
        "resource \"conductorone_integration_twingate\" \"t\" {\n  app_id          = \"app1\"\n  user_ids        = [var.owner, \"u1\", var.owner]\n  twingate_domain = var.tg_domain\n  twingate_apikey = var.tg_key\n}\n\
         resource \"conductorone_integration_torq\" \"q\" {\n  app_id             = \"app1\"\n  torq_client_id     = var.torq_id\n  torq_client_secret = var.torq_secret\n}\n\
         resource \"conductorone_integration_segment\" \"s\" {\n  app_id               = \"app1\"\n  segment_access_token = var.sg_token\n}\n",
    );
    tf.write_main(&config(&body));
    let out = tf.plan();
    out.code(1)
        .contains("`twingate_domain` must be the bare Twingate subdomain")
        .contains("`twingate_apikey` must not start or end with white space")
        .contains("`user_ids` lists an owner more than once")
        .contains("`torq_client_id` must not start or end with white space")
        .contains("`torq_client_secret` must not contain line breaks or other control characters")
        .contains(
            "`segment_access_token` must not contain line breaks or other control characters",
        );
    for needle in ["corp-zq7", "Q81", "Q82", "Q83", "Q84", "Q85"] {
        assert!(
            !out.all().contains(needle),
            "the output quotes a value ({needle}):\n{}",
            out.all()
        );
    }
    assert_eq!(sim.requests().connector_calls(), 0);
}

/// `app_id` goes into request paths: anything but a C1 id (`..`, `.`, `/`, `?`, `#`, `%`, white
/// space, control characters) is refused at plan time, naming the attribute, with no API call.
#[test]
fn app_id_must_be_a_c1_id() {
    let bad = [
        "..", ".", "app1/..", "a/b", "a?b", "a#b", "a%2e", " app1", "app 1", "a\tb", "-app",
    ];
    let body: String = bad
        .iter()
        .enumerate()
        .map(|(i, app)| resource_block(Kind::Segment, &format!("s{i}"), app, None, &[]))
        .collect();
    let sim = Sim::start("invalid-app-id");
    let creds = sim.mint();
    let tf = Tf::new("invalid-app-id", &sim, &creds);
    tf.write_main(&config(&body));
    let out = tf.plan();
    out.code(1);
    let text = out.all();
    let id_errors = text
        .matches("Error: `app_id` must be a C1 id (letters, digits, `-` and `_`")
        .count();
    let control_errors = text
        .matches("Error: `app_id` must not contain line breaks or other control characters")
        .count();
    assert_eq!(id_errors + control_errors, bad.len(), "{text}");
    assert_eq!(sim.requests().0.len(), 0, "{}", sim.requests().summary());
    tf.apply().code(1);
    assert_eq!(sim.requests().0.len(), 0, "{}", sim.requests().summary());
}
