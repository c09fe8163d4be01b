//! The provider under its own registry namespace, installed through the provider registry
//! protocol over HTTPS as `terraform init` does it: service discovery, versions, download,
//! `SHA256SUMS` and its GPG signature, hashes in `.terraform.lock.hcl`; a tampered release or a
//! foreign signature refused; and the move of an official provider's state with
//! `terraform state replace-provider`.
//!
//! Terraform trusts the test CA through `SSL_CERT_FILE`, which Go reads on Linux only (macOS
//! asks the system keychain), hence Linux only.

use crate::harness::*;
use crate::https::{trust_test_ca, StaticHttps};
use crate::release::{release, write_registry, Release, Tamper, PROVIDER_TYPE};
use crate::state_migration::{assert_official_state_plans_clean, official_state_in, USER_CONFIG};

/// A registry serving the release for `namespace`, departing from it as `tamper` says.
pub fn serve_registry(name: &str, namespace: &str, tamper: Tamper) -> (Scratch, StaticHttps) {
    let rel = release();
    assert!(
        rel.platforms.contains(&bins().terraform_platform),
        "the release has {:?}, Terraform runs on {}",
        rel.platforms,
        bins().terraform_platform
    );
    let root = Scratch::new(&format!("registry-{name}"));
    write_registry(&root.path, namespace, rel, tamper);
    let server = StaticHttps::serve(&root.path);
    (root, server)
}

/// CLI configuration that sends `registry.terraform.io`'s provider registry calls to `server`
/// (a `host` block in place of service discovery).
pub fn registry_host_override(server: &StaticHttps) -> String {
    format!(
        "host \"registry.terraform.io\" {{\n  services = {{\n    \"providers.v1\" = {}\n  }}\n}}\n",
        hcl_str(&format!("{}/v1/providers/", server.url))
    )
}

/// The hashes `.terraform.lock.hcl` records for `provider`.
pub fn locked_hashes(tf: &Tf, provider: &str) -> Vec<String> {
    let lock = tf.read(".terraform.lock.hcl");
    let block = lock
        .split("provider \"")
        .find(|b| b.starts_with(&format!("{provider}\"")))
        .unwrap_or_else(|| panic!("no provider {provider:?} in the lock file:\n{lock}"));
    assert!(
        block.contains(&format!("version     = \"{PROVIDER_VERSION}\"")),
        "{lock}"
    );
    let mut hashes: Vec<String> = block
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('"')?.strip_suffix("\","))
        .map(str::to_string)
        .collect();
    hashes.sort();
    hashes
}

/// What a registry install locks: the `h1:` hash of the unpacked package (this platform) and the
/// `zh:` hash of every file the signed `SHA256SUMS` lists (every platform's zip, the manifest).
fn expected_registry_hashes(rel: &Release) -> Vec<String> {
    let mut want = vec![rel.h1()];
    for p in &rel.platforms {
        want.push(rel.zh(&rel.zip_name(p)));
    }
    want.push(rel.zh(&format!("{}_manifest.json", rel.prefix())));
    want.sort();
    want
}

/// The installed plugin binary in a working directory, if any.
fn installed_binary(tf: &Tf, provider: &str) -> std::path::PathBuf {
    tf.path()
        .join(".terraform/providers")
        .join(provider)
        .join(PROVIDER_VERSION)
        .join(&bins().terraform_platform)
        .join(release().binary_name())
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Terraform reads SSL_CERT_FILE on Linux only"
)]
fn init_from_the_registry_verifies_the_signature_and_locks_the_hashes() {
    let ns = registry_namespace();
    let (_root, server) = serve_registry("install", &ns, Tamper::None);
    let rel = release();
    let sim = Sim::start("registry-install");
    let creds = sim.mint();
    // No host block: Terraform finds the registry API through service discovery.
    let mut tf = Tf::with_cli_config("registry-install", &sim, &creds, "");
    trust_test_ca(&mut tf);
    let source = format!("{}/{ns}/{PROVIDER_TYPE}", server.host);
    tf.write_main(&format!(
        "{}\nprovider \"conductorone\" {{}}\n\n{}",
        required_providers_from(&source),
        resource_block(Kind::Torq, "q", "app1", None, &kv(Kind::Torq, 0))
    ));

    tf.init()
        .code(0)
        .contains(&format!(
            "Installed {source} v{PROVIDER_VERSION} (self-signed, key ID {})",
            rel.key_id
        ))
        .lacks("Provider development overrides");
    for path in [
        "/.well-known/terraform.json".to_string(),
        format!("/v1/providers/{ns}/{PROVIDER_TYPE}/versions"),
        format!(
            "/v1/providers/{ns}/{PROVIDER_TYPE}/{PROVIDER_VERSION}/download/{}",
            bins().terraform_platform.replace('_', "/")
        ),
        rel.sums_name(),
        format!("{}.sig", rel.sums_name()),
        rel.zip_name(&bins().terraform_platform),
    ] {
        assert!(
            server.gets(&path) >= 1,
            "{path} not fetched: {:?}",
            server.requests()
        );
    }
    assert_eq!(
        locked_hashes(&tf, &source),
        expected_registry_hashes(rel),
        "the lock file records the release's hashes"
    );
    // What was unpacked is the release build, and it runs.
    let installed = installed_binary(&tf, &source);
    assert_eq!(
        std::fs::read(&installed).expect("installed binary"),
        std::fs::read(&rel.binary).expect("release binary"),
        "{} is the release build",
        installed.display()
    );
    tf.apply().code(0).contains("1 added");
    assert_eq!(sim.connectors().len(), 1);
    tf.plan().code(0).contains("No changes.");

    // The lock file pins the package: a second init checks it and installs nothing new.
    tf.init().code(0).contains(&format!(
        "Using previously-installed {source} v{PROVIDER_VERSION}"
    ));
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Terraform reads SSL_CERT_FILE on Linux only"
)]
fn init_refuses_a_tampered_release_or_a_foreign_signature() {
    let ns = registry_namespace();
    let rel = release();
    let zip = rel.zip_name(&bins().terraform_platform);
    let cases = [
        // The download document's shasum (signed through SHA256SUMS) names the real zip.
        (Tamper::Zip, "archive has incorrect checksum".to_string()),
        (
            Tamper::ZipAndSums,
            "error checking signature: openpgp: invalid signature".into(),
        ),
        (
            Tamper::ForeignSignature,
            "authentication signature from unknown issuer".into(),
        ),
    ];
    for (tamper, error) in cases {
        let name = format!("{tamper:?}").to_lowercase();
        let (_root, server) = serve_registry(&name, &ns, tamper);
        let mut tf = Tf::bare(&format!("registry-{name}"), Install::DevOverrides);
        tf.set_cli_config("");
        trust_test_ca(&mut tf);
        let source = format!("{}/{ns}/{PROVIDER_TYPE}", server.host);
        tf.write_main(&required_providers_from(&source));
        let out = tf.init();
        out.code(1)
            .contains("Failed to install provider")
            .lacks("Installed ");
        // Terraform wraps long messages; compare with the line breaks as spaces.
        let flat = out.all().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&error), "{tamper:?}: {error:?} not in {flat}");
        if tamper == Tamper::Zip {
            let want = format!("(expected {})", rel.zh(&zip));
            assert!(flat.contains(&want), "{want} not in {flat}");
        }
        assert!(
            !installed_binary(&tf, &source).exists(),
            "{tamper:?}: nothing may be installed"
        );
        assert!(
            !tf.path().join(".terraform.lock.hcl").exists(),
            "{tamper:?}: no lock file"
        );
    }
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Terraform reads SSL_CERT_FILE on Linux only"
)]
fn official_state_moves_to_the_own_namespace_with_replace_provider() {
    let ns = registry_namespace();
    let (_root, server) = serve_registry("migration", &ns, Tamper::None);
    let sim = Sim::start("registry-migration");
    let creds = sim.mint();
    let state = official_state_in(&sim, &creds);

    // The user's working directory: the official provider's state, the configuration now
    // naming <namespace>/conductorone, the registry reached as registry.terraform.io.
    let mut tf = Tf::with_cli_config(
        "registry-migration",
        &sim,
        &creds,
        &registry_host_override(&server),
    );
    trust_test_ca(&mut tf);
    tf.write_main(&format!(
        "{}\n{USER_CONFIG}",
        required_providers_from(&format!("{ns}/{PROVIDER_TYPE}"))
    ));
    tf.write(
        "terraform.tfstate",
        &serde_json::to_string_pretty(&state).unwrap(),
    );

    let official = "registry.terraform.io/conductorone/conductorone";
    let ours = format!("registry.terraform.io/{ns}/{PROVIDER_TYPE}");
    tf.run(&[
        "state",
        "replace-provider",
        "-auto-approve",
        "-no-color",
        official,
        &ours,
    ])
    .code(0)
    .contains("Successfully replaced provider for 4 resources.");
    tf.init()
        .code(0)
        .contains(&format!(
            "Installed {ns}/{PROVIDER_TYPE} v{PROVIDER_VERSION} (self-signed"
        ))
        .lacks("conductorone/conductorone");
    assert_official_state_plans_clean(&tf, &sim);
    let st = tf.state_json();
    let resources = st["values"]["root_module"]["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 4);
    for r in resources {
        assert_eq!(r["provider_name"], ours.as_str(), "{}", r["address"]);
    }
}
