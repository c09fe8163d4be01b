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
        &["u1"],
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
