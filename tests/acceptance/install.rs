//! Installation as users do it: `terraform init` from a filesystem mirror laid out like the
//! registry, with a `required_providers` version constraint and a lock file.

use crate::harness::*;

#[test]
fn init_from_filesystem_mirror() {
    let sim = Sim::start("install-mirror");
    let creds = sim.mint();
    let mut tf = Tf::bare("install-mirror", Install::FilesystemMirror);
    tf.set_env(SERVER_URL.env, &sim.url);
    tf.set_env(CLIENT_ID.env, &creds.client_id);
    tf.set_env(CLIENT_SECRET.env, &creds.client_secret);
    tf.write_main(&config(&format!(
        "provider \"conductorone\" {{}}\n\n{}",
        resource_block(
            Kind::Twingate,
            "t",
            "app1",
            Some(&["u1"]),
            &kv(Kind::Twingate, 0)
        )
    )));
    tf.init()
        .code(0)
        .contains(&format!(
            "Installing conductorone/conductorone v{PROVIDER_VERSION}"
        ))
        .contains("Terraform has been successfully initialized!");
    let lock = tf.read(".terraform.lock.hcl");
    assert!(
        lock.contains("registry.terraform.io/conductorone/conductorone"),
        "{lock}"
    );
    assert!(
        lock.contains(&format!("version     = \"{PROVIDER_VERSION}\"")),
        "{lock}"
    );
    // No dev_overrides warning: this is the real installation path.
    let out = tf.apply();
    out.code(0)
        .contains("1 added")
        .lacks("Provider development overrides");
    assert_eq!(sim.connectors().len(), 1);
    tf.plan().code(0).contains("No changes.");
    tf.destroy().code(0).contains("1 destroyed");
    assert!(sim.connectors().is_empty());
    // A second init with the lock file in place is a no-op that still succeeds.
    tf.init()
        .code(0)
        .contains("Using previously-installed conductorone/conductorone");
}

#[test]
fn dev_overrides_need_no_init() {
    let sim = Sim::start("install-dev");
    let creds = sim.mint();
    let tf = Tf::new("install-dev", &sim, &creds);
    tf.write_main(&config(&resource_block(
        Kind::Segment,
        "s",
        "app1",
        None,
        &[],
    )));
    let out = tf.plan();
    out.code(2)
        .contains("Provider development overrides are in effect")
        .contains("1 to add");
    assert_eq!(sim.requests().writes(), 0);
}

/// `terraform-provider-conductorone --version` names the version the release is published
/// under; Terraform itself starts the binary without arguments (every other test).
#[test]
fn provider_binary_reports_its_version() {
    let out = std::process::Command::new(&bins().provider)
        .arg("--version")
        .output()
        .expect("run the provider binary");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("terraform-provider-conductorone {PROVIDER_VERSION}")
    );
    let out = std::process::Command::new(&bins().provider)
        .arg("--bogus")
        .output()
        .expect("run the provider binary");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument \"--bogus\""));
}
