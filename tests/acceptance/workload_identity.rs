//! Workload identity (OIDC): a pipeline with a CI system's OIDC token and a client id, and no
//! client secret, applies and plans clean; expired, wrong-audience and unknown-issuer tokens fail
//! naming the variable they came from; a missing client id or a malformed token is named without
//! echoing it; the ready access token wins over the OIDC token, which wins over the client secret;
//! access tokens that expire mid-run are exchanged again, and an OIDC token that expires mid-run
//! ends the run naming its variable, with state and C1 agreeing.

use crate::harness::*;

const ISSUER: &str = "https://app.terraform.io";
const AUDIENCE: &str = "c1.workload.identity";
const SUBJECT: &str = "organization:acme:project:infra:workspace:c1:run_phase:apply";

/// A simulator trusting ISSUER for AUDIENCE by flag (as `c1-sim serve --oidc-issuer` does).
fn trusting_sim(name: &str, opts: SimOpts) -> Sim {
    let mut extra = vec![
        "--oidc-issuer".to_string(),
        ISSUER.into(),
        "--oidc-audience".into(),
        AUDIENCE.into(),
    ];
    extra.extend(opts.extra.iter().cloned());
    Sim::start_with(name, SimOpts { extra, ..opts })
}

/// The configuration: a provider block giving only the simulator's URL (the credentials come
/// from the environment, as in a pipeline) and one Segment integration.
fn pipeline_config(sim: &Sim) -> String {
    config(&format!(
        "provider \"conductorone\" {{\n  server_url = {}\n}}\n\n{}",
        hcl_str(&sim.url),
        resource_block(
            Kind::Segment,
            "s",
            "app1",
            Some(&["u1"]),
            &kv(Kind::Segment, 0)
        )
    ))
}

/// A working directory whose environment holds only `vars` of the provider's variables.
fn pipeline(name: &str, sim: &Sim, vars: &[(&str, &str)]) -> Tf {
    let mut tf = Tf::bare(name, Install::DevOverrides);
    for (k, v) in vars {
        tf.set_env(k, v);
    }
    tf.write_main(&pipeline_config(sim));
    tf
}

#[test]
fn a_pipeline_with_only_a_client_id_and_an_hcp_terraform_token_applies_and_plans_clean() {
    let sim = trusting_sim("oidc-pipeline", SimOpts::default());
    let creds = sim.mint();
    let token = oidc_token(ISSUER, AUDIENCE, SUBJECT, 600);
    let tf = pipeline(
        "oidc-pipeline",
        &sim,
        &[
            (CLIENT_ID.env, &creds.client_id),
            ("TFC_WORKLOAD_IDENTITY_TOKEN", &token),
        ],
    );
    let out = tf.apply();
    out.code(0).contains("1 added");
    tf.plan().code(0).contains("No changes.");
    assert_no_secrets("the runs' output", &out.all(), &[&token]);
    let log = sim.take_requests();
    let tokens: Vec<&Req> = log.0.iter().filter(|r| r.op() == Op::Token).collect();
    assert!(!tokens.is_empty(), "{}", log.summary());
    for r in &tokens {
        assert_eq!(
            (r.grant.as_deref(), r.status, r.client_id.as_deref()),
            (Some("token_exchange"), 200, Some(creds.client_id.as_str())),
            "every token request is an exchange of the OIDC token: {:?}",
            log.0
        );
    }
    assert_eq!(log.ok(Op::CreateConfigured), 1, "{}", log.summary());
    assert!(
        log.0
            .iter()
            .filter(|r| r.is_connector_call())
            .all(|r| r.client_id.as_deref() == Some(creds.client_id.as_str())),
        "every call acts as the client: {:?}",
        log.0
    );
    assert_eq!(sim.connectors().len(), 1);
    tf.destroy().code(0).contains("1 destroyed");
    assert!(sim.connectors().is_empty());
}

#[test]
fn expired_wrong_audience_and_unknown_issuer_tokens_fail_naming_their_variable() {
    let sim = trusting_sim("oidc-refused", SimOpts::default());
    let creds = sim.mint();
    let cases = [
        (
            OIDC_TOKEN.env,
            oidc_token(ISSUER, AUDIENCE, SUBJECT, -60),
            "the OIDC token from CONDUCTORONE_OIDC_TOKEN expired at",
            "run the job again for a fresh one",
        ),
        (
            "TFC_WORKLOAD_IDENTITY_TOKEN_CONDUCTORONE",
            oidc_token(ISSUER, "sts.amazonaws.com", SUBJECT, 600),
            "C1 refused the OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN_CONDUCTORONE: invalid_grant: subject_token audience \"sts.amazonaws.com\" is not the audience the federation expects (c1.workload.identity)",
            "workload identity federation trusting this token",
        ),
        (
            "TFC_WORKLOAD_IDENTITY_TOKEN",
            oidc_token("https://gitlab.example.com", AUDIENCE, SUBJECT, 600),
            "C1 refused the OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN: invalid_grant: subject_token issuer https://gitlab.example.com is not a trusted OIDC issuer",
            "workload identity federation trusting this token",
        ),
    ];
    for (variable, token, says, hint) in &cases {
        sim.clear_requests();
        let tf = pipeline(
            &format!("oidc-refused-{variable}"),
            &sim,
            &[(CLIENT_ID.env, &creds.client_id), (variable, token)],
        );
        let out = tf.apply();
        out.code(1).says(says).says(hint);
        assert_no_secrets("apply output", &out.all(), &[token]);
        let log = sim.requests();
        assert_eq!(log.ok(Op::Token), 0, "{variable}: {}", log.summary());
        assert_eq!(log.connector_calls(), 0, "{variable}: {}", log.summary());
    }
    assert!(sim.connectors().is_empty());
}

#[test]
fn a_token_without_client_id_or_a_malformed_token_is_named_and_not_echoed() {
    let sim = trusting_sim("oidc-config", SimOpts::default());
    let creds = sim.mint();
    let token = oidc_token(ISSUER, AUDIENCE, SUBJECT, 600);
    let tf = pipeline(
        "oidc-no-client-id",
        &sim,
        &[("TFC_WORKLOAD_IDENTITY_TOKEN", &token)],
    );
    let out = tf.plan();
    out.code(1)
        .says("the OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN needs `client_id` (or CONDUCTORONE_CLIENT_ID)");
    assert_no_secrets("plan output", &out.all(), &[&token]);

    let malformed = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
    let tf = pipeline(
        "oidc-malformed",
        &sim,
        &[
            (CLIENT_ID.env, &creds.client_id),
            (OIDC_TOKEN.env, malformed),
        ],
    );
    let out = tf.plan();
    out.code(1)
        .says("invalid CONDUCTORONE_OIDC_TOKEN: it is not an OIDC token");
    assert_no_secrets("plan output", &out.all(), &[malformed]);
    assert_eq!(sim.requests().0.len(), 0, "{}", sim.requests().summary());
}

/// CONDUCTORONE_ACCESS_TOKEN wins over an OIDC token (which is then not even read), and an OIDC
/// token wins over a client secret; `oidc_token` in the provider block (from a sensitive
/// variable) wins over the variables.
#[test]
fn the_access_token_wins_over_the_oidc_token_which_wins_over_the_client_secret() {
    let static_token = "static-token-oidc-precedence-SECRET";
    let sim = trusting_sim(
        "oidc-precedence",
        SimOpts {
            static_token: Some(static_token.into()),
            ..SimOpts::default()
        },
    );
    let creds = sim.mint();
    let other = sim.mint();
    let token = oidc_token(ISSUER, AUDIENCE, SUBJECT, 600);

    // A ready token, a malformed OIDC token and a valid client secret: the ready token is used.
    let mut tf = pipeline(
        "oidc-precedence",
        &sim,
        &[
            (ENV_ACCESS_TOKEN, static_token),
            (OIDC_TOKEN.env, "not-a-jwt"),
            (CLIENT_ID.env, &creds.client_id),
            (CLIENT_SECRET.env, &creds.client_secret),
        ],
    );
    tf.apply().code(0).contains("1 added");
    let log = sim.take_requests();
    assert_eq!(log.count(Op::Token), 0, "{}", log.summary());

    // An OIDC token and the client secret of another client: the OIDC token is used.
    tf.remove_env(ENV_ACCESS_TOKEN);
    tf.set_env(OIDC_TOKEN.env, &token);
    tf.set_env(CLIENT_SECRET.env, &other.client_secret);
    tf.plan().code(0).contains("No changes.");
    let log = sim.take_requests();
    assert!(log.ok(Op::Token) >= 1, "{}", log.summary());
    assert!(
        log.0
            .iter()
            .filter(|r| r.op() == Op::Token)
            .all(|r| r.grant.as_deref() == Some("token_exchange")),
        "no client secret used: {:?}",
        log.0
    );

    // The provider block's oidc_token (a sensitive variable) wins over the environment's.
    tf.set_env(OIDC_TOKEN.env, "not-a-jwt-either");
    tf.remove_env(CLIENT_SECRET.env);
    tf.set_env("TF_VAR_ci_token", &token);
    tf.write_main(&pipeline_config(&sim).replace(
        "provider \"conductorone\" {\n",
        "variable \"ci_token\" {\n  type      = string\n  sensitive = true\n}\n\nprovider \"conductorone\" {\n  oidc_token = var.ci_token\n",
    ));
    let out = tf.plan();
    out.code(0).contains("No changes.");
    assert_no_secrets("plan output", &out.all(), &[&token]);
    let log = sim.take_requests();
    assert!(log.ok(Op::Token) >= 1, "{}", log.summary());
    tf.remove_env(OIDC_TOKEN.env);
    tf.destroy().code(0);
    assert!(sim.connectors().is_empty());
}

/// Eight Segment connectors, one at a time, with access tokens that live one second and calls
/// that take 300 ms: the run outlives several access tokens.
fn long_run(name: &str, sim: &Sim, client_id: &str, token: &str) -> Tf {
    let tf = pipeline(
        name,
        sim,
        &[
            (CLIENT_ID.env, client_id),
            ("TFC_WORKLOAD_IDENTITY_TOKEN", token),
        ],
    );
    let provider = format!(
        "provider \"conductorone\" {{\n  server_url = {}\n}}\n\n",
        hcl_str(&sim.url)
    );
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
    tf.write_main(&config(&format!("{provider}{body}")));
    tf
}

fn short_lived_access_tokens(name: &str) -> Sim {
    trusting_sim(
        name,
        SimOpts {
            token_ttl_secs: Some(1),
            extra: vec!["--latency-ms".into(), "300".into()],
            ..SimOpts::default()
        },
    )
}

/// Access tokens expire during one apply: each new one comes from exchanging the OIDC token
/// again (never a client secret), and the run ends as if nothing happened.
#[test]
fn access_tokens_that_expire_mid_run_are_exchanged_again_from_the_oidc_token() {
    let sim = short_lived_access_tokens("oidc-mid-run");
    let creds = sim.mint();
    let token = oidc_token(ISSUER, AUDIENCE, SUBJECT, 600);
    let tf = long_run("oidc-mid-run", &sim, &creds.client_id, &token);
    let out = tf.apply_args(&["-parallelism=1"]);
    out.code(0)
        .contains("Resources: 8 added, 0 changed, 0 destroyed.");
    assert_no_secrets("apply output", &out.all(), &[&token]);
    let log = sim.take_requests();
    let exchanges: Vec<&Req> = log.0.iter().filter(|r| r.op() == Op::Token).collect();
    assert!(exchanges.len() >= 2, "exchanged again: {}", log.summary());
    for r in &exchanges {
        assert_eq!(
            (r.grant.as_deref(), r.status),
            (Some("token_exchange"), 200),
            "{:?}",
            log.0
        );
    }
    assert_eq!(log.ok(Op::CreateConfigured), 8, "{}", log.summary());
    assert_eq!(sim.connectors().len(), 8, "no duplicates");
}

/// The OIDC token itself expires during the apply (CI tokens live minutes): the apply fails
/// saying so and naming the variable, and what was created is in the state, nothing else.
#[test]
fn an_oidc_token_that_expires_mid_run_fails_naming_its_variable_and_loses_nothing() {
    let sim = short_lived_access_tokens("oidc-expires-mid-run");
    let creds = sim.mint();
    let token = oidc_token(ISSUER, AUDIENCE, SUBJECT, 2);
    let tf = long_run("oidc-expires-mid-run", &sim, &creds.client_id, &token);
    let out = tf.apply_args(&["-parallelism=1"]);
    out.code(1)
        .says("the OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN expired at")
        .says("run the job again for a fresh one");
    assert_no_secrets("apply output", &out.all(), &[&token]);
    let log = sim.take_requests();
    assert!(
        log.0
            .iter()
            .filter(|r| r.op() == Op::Token)
            .all(|r| r.grant.as_deref() == Some("token_exchange")),
        "no other grant: {}",
        log.summary()
    );
    let mut in_state: Vec<String> = tf
        .resources()
        .into_iter()
        .map(|(_, values)| values["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut in_c1: Vec<String> = sim
        .connectors()
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_string())
        .collect();
    in_state.sort();
    in_c1.sort();
    assert_eq!(in_state, in_c1, "state and C1 agree");
    assert!(in_c1.len() < 8, "the run ended early: {}", log.summary());
}
