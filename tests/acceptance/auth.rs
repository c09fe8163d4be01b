//! Scenario 6: authentication — bad credentials fail clearly without leaking the secret,
//! expiring tokens are renewed transparently, and the provider block overrides the environment.

use c1_contract::client_secret::PREFIX;

use crate::harness::*;

fn one_segment() -> String {
    config(&resource_block(
        Kind::Segment,
        "s",
        "app1",
        Some(&["u1"]),
        &kv(Kind::Segment, 0),
    ))
}

/// Apply must fail with an authentication error, create nothing and leak no secret.
fn auth_fails(name: &str, client_id: &str, client_secret: &str, leaks: &[&str]) {
    let sim = Sim::start(name);
    let _real = sim.mint();
    let mut tf = Tf::new(name, &sim, &_real);
    tf.set_env(CLIENT_ID.env, client_id);
    tf.set_env(CLIENT_SECRET.env, client_secret);
    tf.write_main(&one_segment());
    let out = tf.apply();
    out.code(1);
    let text = out.all();
    // The error says the credentials were rejected and which settings to check.
    out.contains("Error")
        .contains("credentials")
        .contains("client_secret");
    let mut secrets = vec![client_secret];
    secrets.extend_from_slice(leaks);
    assert_no_secrets("apply output", &text, &secrets);
    let log = sim.requests();
    assert!(log.count(Op::Token) >= 1, "{}", log.summary());
    assert_eq!(log.ok(Op::Token), 0, "{}", log.summary());
    assert_eq!(
        log.0
            .iter()
            .filter(|r| r.is_connector_call() && r.ok())
            .count(),
        0,
        "{}",
        log.summary()
    );
    assert!(sim.connectors().is_empty());
}

#[test]
fn wrong_secret_fails_clearly() {
    // A well-formed secret of another client: the signature does not verify.
    let sim = Sim::start("auth-keys");
    let a = sim.mint();
    let b = sim.mint();
    drop(sim);
    auth_fails(
        "auth-wrong-secret",
        &a.client_id,
        &b.client_secret,
        &[&a.client_secret],
    );
}

#[test]
fn unknown_client_fails_clearly() {
    let sim = Sim::start("auth-keys2");
    let a = sim.mint();
    drop(sim);
    // Minted by another simulator: unknown to this one.
    auth_fails("auth-unknown-client", &a.client_id, &a.client_secret, &[]);
}

#[test]
fn malformed_secret_names_the_attribute_and_makes_no_call() {
    let sim = Sim::start("auth-malformed");
    let creds = sim.mint();
    let mut tf = Tf::new("auth-malformed", &sim, &creds);
    let bad = &format!("{PREFIX}NOT-BASE64-AT-ALL!!");
    tf.set_env(CLIENT_SECRET.env, bad);
    tf.write_main(&one_segment());
    let out = tf.plan();
    // It came from the environment: the error names the variable.
    out.code(1).contains(CLIENT_SECRET.env);
    assert_no_secrets("plan output", &out.all(), &[bad, "NOT-BASE64-AT-ALL"]);
    assert_eq!(sim.requests().0.len(), 0, "{}", sim.requests().summary());
}

#[test]
fn missing_credentials_name_the_attributes() {
    let sim = Sim::start("auth-missing");
    let creds = sim.mint();
    let mut tf = Tf::new("auth-missing", &sim, &creds);
    tf.remove_env(CLIENT_ID.env);
    tf.remove_env(CLIENT_SECRET.env);
    tf.write_main(&one_segment());
    let out = tf.plan();
    out.code(1).contains("client_id").contains(CLIENT_ID.env);
    assert_eq!(sim.requests().connector_calls(), 0);
}

#[test]
fn provider_block_overrides_environment() {
    let sim = Sim::start("auth-precedence");
    let good = sim.mint();
    let other = sim.mint();
    let mut tf = Tf::new("auth-precedence", &sim, &good);
    // The environment holds a wrong pair; the provider block the right one.
    tf.set_env(CLIENT_ID.env, &other.client_id);
    tf.set_env(CLIENT_SECRET.env, &format!("{PREFIX}AAAA"));
    tf.set_env("TF_VAR_c1_client_secret", &good.client_secret);
    let body = format!(
        "variable \"c1_client_secret\" {{\n  type      = string\n  sensitive = true\n}}\n\nprovider \"conductorone\" {{\n  server_url    = {}\n  client_id     = {}\n  client_secret = var.c1_client_secret\n}}\n\n{}",
        hcl_str(&sim.url),
        hcl_str(&good.client_id),
        resource_block(Kind::Segment, "s", "app1", Some(&["u1"]), &kv(Kind::Segment, 0))
    );
    tf.write_main(&config(&body));
    let out = tf.apply();
    out.code(0).contains("1 added");
    assert_no_secrets("apply output", &out.all(), &[&good.client_secret]);
    let log = sim.requests();
    assert!(log.ok(Op::Token) >= 1);
    assert!(
        log.0
            .iter()
            .filter(|r| r.is_connector_call())
            .all(|r| r.client_id.as_deref() == Some(good.client_id.as_str())),
        "every call made as the provider block's client: {:?}",
        log.0
    );
    assert_eq!(sim.connectors().len(), 1);
}

#[test]
fn access_token_env_is_used_as_is() {
    let token = "static-token-acceptance-SECRETVALUE";
    let sim = Sim::start_with(
        "auth-access-token",
        SimOpts {
            static_token: Some(token.into()),
            ..SimOpts::default()
        },
    );
    let creds = sim.mint();
    let mut tf = Tf::new("auth-access-token", &sim, &creds);
    tf.remove_env(CLIENT_ID.env);
    tf.remove_env(CLIENT_SECRET.env);
    tf.set_env(ENV_ACCESS_TOKEN, token);
    tf.write_main(&one_segment());
    let out = tf.apply();
    out.code(0).contains("1 added");
    assert_no_secrets("apply output", &out.all(), &[token]);
    let log = sim.requests();
    assert_eq!(log.count(Op::Token), 0, "{}", log.summary());
    assert_eq!(log.ok(Op::CreateConfigured), 1, "{}", log.summary());
    tf.destroy().code(0);
    assert!(sim.connectors().is_empty());
}

/// Tokens live one second and every call takes at least 150 ms: a run of eight connectors with
/// -parallelism=1 outlives several tokens, and the provider renews them without the user noticing.
#[test]
fn expiring_tokens_are_renewed_transparently() {
    let sim = Sim::start_with(
        "auth-ttl",
        SimOpts {
            token_ttl_secs: Some(1),
            extra: vec!["--latency-ms".into(), "150".into()],
            ..SimOpts::default()
        },
    );
    let creds = sim.mint();
    let tf = Tf::new("auth-ttl", &sim, &creds);
    let body: String = (0..8)
        .map(|i| {
            resource_block(
                Kind::Segment,
                &format!("s{i}"),
                "app1",
                Some(&["u1"]),
                &kv(Kind::Segment, i as u8),
            )
        })
        .collect();
    tf.write_main(&config(&body));
    let out = tf.apply_args(&["-parallelism=1"]);
    out.code(0)
        .contains("Resources: 8 added, 0 changed, 0 destroyed.");
    assert_no_secrets("apply output", &out.all(), &[&creds.client_secret]);
    let log = sim.take_requests();
    assert!(log.ok(Op::Token) >= 2, "tokens renewed: {}", log.summary());
    assert_eq!(log.ok(Op::CreateConfigured), 8, "{}", log.summary());
    assert_eq!(sim.connectors().len(), 8, "no duplicates");

    // Expire every token between runs too; a plan still reads cleanly.
    sim.expire_tokens();
    tf.plan().code(0).contains("No changes.");
    tf.destroy().code(0).contains("8 destroyed");
    assert!(sim.connectors().is_empty());
}
