//! Drop-in for the official provider: a company mirror serves the release under
//! `conductorone/conductorone`, so the official provider's configurations and states work
//! unchanged. Both mirror kinds Terraform has: a filesystem mirror holding the release's zip,
//! and a network mirror over HTTPS in the layout `terraform providers mirror` writes.

use crate::harness::*;
use crate::https::{trust_test_ca, StaticHttps};
use crate::registry::{locked_hashes, registry_host_override, serve_registry};
use crate::release::{release, write_filesystem_mirror, Tamper, PROVIDER_TYPE};
use crate::state_migration::{assert_official_state_plans_clean, official_state_in, USER_CONFIG};

const OFFICIAL: &str = "registry.terraform.io/conductorone/conductorone";

/// A working directory as the official provider's user has it: [`USER_CONFIG`] with
/// `source = "conductorone/conductorone"` and the state the official provider wrote.
fn official_user(name: &str, sim: &Sim, creds: &Creds, cli_config: &str) -> Tf {
    let state = official_state_in(sim, creds);
    let tf = Tf::with_cli_config(name, sim, creds, cli_config);
    tf.write_main(&config(USER_CONFIG));
    tf.write(
        "terraform.tfstate",
        &serde_json::to_string_pretty(&state).unwrap(),
    );
    tf
}

/// `provider_installation` taking `conductorone/*` from `mirror` only, everything else directly.
fn mirror_installation(mirror: &str) -> String {
    format!(
        "provider_installation {{\n  {mirror}\n  direct {{\n    exclude = [\"registry.terraform.io/conductorone/*\"]\n  }}\n}}\n"
    )
}

#[test]
fn filesystem_mirror_of_the_release_zip_stands_in_for_the_official_provider() {
    let rel = release();
    let sim = Sim::start("dropin-fs");
    let creds = sim.mint();
    let mirror = Scratch::new("dropin-fs-mirror");
    write_filesystem_mirror(&mirror.path, OFFICIAL, rel);
    let tf = official_user(
        "dropin-fs",
        &sim,
        &creds,
        &mirror_installation(&format!(
            "filesystem_mirror {{\n    path    = {}\n    include = [\"registry.terraform.io/conductorone/*\"]\n  }}",
            hcl_str(&mirror.path.to_string_lossy())
        )),
    );
    tf.init()
        .code(0)
        .contains(&format!(
            "Installed conductorone/conductorone v{PROVIDER_VERSION} (unauthenticated)"
        ))
        .lacks("Provider development overrides");
    // A filesystem mirror proves nothing by signature: Terraform records the package's own hash.
    assert_eq!(locked_hashes(&tf, OFFICIAL), vec![rel.h1()]);
    assert_official_state_plans_clean(&tf, &sim);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Terraform reads SSL_CERT_FILE on Linux only"
)]
fn network_mirror_of_the_release_stands_in_for_the_official_provider() {
    let rel = release();
    let ns = registry_namespace();
    // The mirror is made as a platform team makes it: `terraform providers mirror` of the
    // published provider (our registry, reached as registry.terraform.io), its folder then
    // served as conductorone/conductorone (the JSON indexes hold relative URLs only).
    let (_registry, registry) = serve_registry("network-mirror", &ns, Tamper::None);
    let mut maker = Tf::bare("dropin-mirror-maker", Install::DevOverrides);
    maker.set_cli_config(&registry_host_override(&registry));
    trust_test_ca(&mut maker);
    maker.write_main(&required_providers_from(&format!("{ns}/{PROVIDER_TYPE}")));
    let site = Scratch::new("dropin-mirror-site");
    maker
        .run(&[
            "providers",
            "mirror",
            "-no-color",
            &site.path.to_string_lossy(),
        ])
        .code(0)
        .contains(&format!(
            "Downloading package for {}",
            bins().terraform_platform
        ));
    let published = site
        .path
        .join(format!("registry.terraform.io/{ns}/{PROVIDER_TYPE}"));
    let served = site.path.join(OFFICIAL);
    std::fs::create_dir_all(served.parent().unwrap()).expect("mirror folder");
    std::fs::rename(&published, &served).expect("serve it as conductorone/conductorone");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(served.join("index.json")).expect("index.json"))
            .expect("index.json is JSON");
    assert_eq!(
        index,
        serde_json::json!({"versions": {PROVIDER_VERSION: {}}})
    );
    let zip = rel.zip_name(&bins().terraform_platform);
    let version: serde_json::Value = serde_json::from_slice(
        &std::fs::read(served.join(format!("{PROVIDER_VERSION}.json"))).expect("<version>.json"),
    )
    .expect("<version>.json is JSON");
    let archive = &version["archives"][&bins().terraform_platform];
    assert_eq!(archive["url"], zip.as_str(), "{version}");
    assert_eq!(
        archive["hashes"],
        serde_json::json!([rel.h1()]),
        "{version}"
    );
    assert_eq!(
        std::fs::read(served.join(&zip)).expect("mirrored zip"),
        std::fs::read(rel.file(&zip)).expect("released zip"),
    );

    let mirror = StaticHttps::serve(&site.path);
    let sim = Sim::start("dropin-network");
    let creds = sim.mint();
    let mut tf = official_user(
        "dropin-network",
        &sim,
        &creds,
        &mirror_installation(&format!(
            "network_mirror {{\n    url     = {}\n    include = [\"registry.terraform.io/conductorone/*\"]\n  }}",
            hcl_str(&format!("{}/", mirror.url))
        )),
    );
    trust_test_ca(&mut tf);
    tf.init()
        .code(0)
        .contains(&format!(
            "Installed conductorone/conductorone v{PROVIDER_VERSION}"
        ))
        .lacks("Provider development overrides");
    for path in [
        format!("/{OFFICIAL}/index.json"),
        format!("/{OFFICIAL}/{PROVIDER_VERSION}.json"),
        format!("/{OFFICIAL}/{zip}"),
    ] {
        assert!(
            mirror.gets(&path) >= 1,
            "{path} not fetched: {:?}",
            mirror.requests()
        );
    }
    assert_eq!(locked_hashes(&tf, OFFICIAL), vec![rel.h1()]);
    assert_official_state_plans_clean(&tf, &sim);
}
