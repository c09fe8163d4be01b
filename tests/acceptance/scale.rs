//! Scenario 8: scale — 100 integrations applied with -parallelism=20, a clean plan, destroy.

use crate::harness::*;

#[test]
fn hundred_integrations() {
    let sim = Sim::start("scale");
    let creds = sim.mint();
    let tf = Tf::new("scale", &sim, &creds);
    let body = r#"
resource "conductorone_integration_twingate" "tg" {
  count           = 40
  app_id          = count.index % 2 == 0 ? "app1" : "app2"
  user_ids        = ["u${count.index}"]
  twingate_apikey = "tg-key-${count.index}-SECRETVALUE"
  twingate_domain = "tenant-${count.index}"
}

resource "conductorone_integration_torq" "tq" {
  count              = 30
  app_id             = "app2"
  torq_client_id     = "torq-${count.index}"
  torq_client_secret = "torq-secret-${count.index}-SECRETVALUE"
}

resource "conductorone_integration_segment" "sg" {
  for_each             = toset([for i in range(30) : "ws${i}"])
  app_id               = "app3"
  user_ids             = ["owner-${each.key}", "u1"]
  segment_access_token = "sgmt-${each.key}-SECRETVALUE"
}
"#;
    tf.write_main(&config(body));
    let out = tf.apply_args(&["-parallelism=20"]);
    out.code(0)
        .contains("Resources: 100 added, 0 changed, 0 destroyed.");
    out.lacks("SECRETVALUE");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::CreateConfigured), 100, "{}", log.summary());
    assert_eq!(log.count(Op::CreateDelegated), 0, "{}", log.summary());
    let conns = sim.connectors();
    assert_eq!(conns.len(), 100);
    let mut ids: Vec<_> = conns.iter().map(|c| c["id"].to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 100);
    assert_eq!(tf.resources().len(), 100);

    tf.run(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        "-parallelism=20",
    ])
    .code(0)
    .contains("No changes.");
    assert_eq!(sim.take_requests().writes(), 0);

    tf.run(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-parallelism=20",
    ])
    .code(0)
    .contains("Resources: 100 destroyed.");
    let log = sim.take_requests();
    assert_eq!(log.ok(Op::Delete), 100, "{}", log.summary());
    assert!(sim.connectors().is_empty());
}
