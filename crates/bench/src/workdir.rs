//! Terraform working directories: N integrations of this provider, or the same N as
//! `terraform_data` (Terraform's floor: no provider process at all), and the timed steps.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::sim::{Creds, Sim, Tls};

/// The provider version the filesystem mirror advertises (the workspace version).
const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/conductorone/conductorone";

/// What a working directory manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// The same count of `terraform_data` resources carrying the same values (as an object
    /// `input`): what Terraform itself needs for this configuration, with no provider process.
    Floor,
    /// The same count of `terraform_data` resources with one string `input` each: Terraform's
    /// least work per resource.
    BareFloor,
    /// `conductorone_integration_*` resources through the provider under test.
    Provider,
}

impl Subject {
    pub const ALL: [Subject; 3] = [Subject::Floor, Subject::BareFloor, Subject::Provider];

    pub fn name(self) -> &'static str {
        match self {
            Subject::Floor => "floor",
            Subject::BareFloor => "bare floor",
            Subject::Provider => "conductorone",
        }
    }
}

/// The three steps measured, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Apply,
    Plan,
    Destroy,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::Apply, Step::Plan, Step::Destroy];

    pub fn name(self) -> &'static str {
        match self {
            Step::Apply => "apply",
            Step::Plan => "no-change plan",
            Step::Destroy => "destroy",
        }
    }

    fn args(self) -> &'static [&'static str] {
        match self {
            Step::Apply => &["apply", "-auto-approve", "-input=false", "-no-color"],
            Step::Plan => &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
            Step::Destroy => &["destroy", "-auto-approve", "-input=false", "-no-color"],
        }
    }

    /// Fails unless Terraform did exactly what the step should have done to `n` resources.
    fn check(self, n: usize, out: &Output) -> Result<()> {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ok = match self {
            Step::Apply => stdout.contains(&format!("Resources: {n} added, 0 changed")),
            // -detailed-exitcode: 0 means no changes.
            Step::Plan => out.status.code() == Some(0) && stdout.contains("No changes."),
            Step::Destroy => stdout.contains(&format!("Resources: {n} destroyed")),
        };
        if !ok || !out.status.success() {
            bail!(
                "terraform {} on {n} resources did not do what it should (exit {:?}):\n{}\n{}",
                self.name(),
                out.status.code(),
                tail(&stdout, 4000),
                tail(&String::from_utf8_lossy(&out.stderr), 4000)
            );
        }
        Ok(())
    }
}

fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// The integrations' kinds and the settings each instance gets (secrets included, as users
/// have them).
const KINDS: [(&str, &[(&str, &str)]); 3] = [
    (
        "twingate",
        &[
            ("twingate_apikey", "tg-key-${count.index}"),
            ("twingate_domain", "tenant-${count.index}"),
        ],
    ),
    (
        "torq",
        &[
            ("torq_client_id", "torq-${count.index}"),
            ("torq_client_secret", "torq-secret-${count.index}"),
        ],
    ),
    (
        "segment",
        &[("segment_access_token", "sgmt-${count.index}")],
    ),
];

/// Apps the integrations are spread over.
pub fn apps() -> Vec<String> {
    (1..=5).map(|i| format!("bench-app-{i}")).collect()
}

/// `main.tf` for `n` resources: a third of each kind (the first kinds take the remainder),
/// spread over the apps; the floors declare `terraform_data` resources instead.
pub fn main_tf(subject: Subject, n: usize) -> String {
    let apps = apps();
    let app_list = apps
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut tf = format!("locals {{\n  apps = [{app_list}]\n}}\n");
    if subject == Subject::Provider {
        tf.push_str(&format!(
            "\nterraform {{\n  required_providers {{\n    conductorone = {{\n      source  = \"conductorone/conductorone\"\n      version = \"{PROVIDER_VERSION}\"\n    }}\n  }}\n}}\n\nprovider \"conductorone\" {{}}\n"
        ));
    }
    for (i, (kind, settings)) in KINDS.iter().enumerate() {
        let count = n / KINDS.len() + usize::from(i < n % KINDS.len());
        let app = format!("local.apps[count.index % {}]", apps.len());
        let owners = "[\"owner-${count.index}\"]";
        let mut attributes = vec![("app_id", app), ("user_ids", owners.to_string())];
        attributes.extend(settings.iter().map(|(k, v)| (*k, format!("\"{v}\""))));
        let body = |indent: &str| -> String {
            attributes
                .iter()
                .map(|(k, v)| format!("{indent}{k} = {v}\n"))
                .collect()
        };
        tf.push_str(&match subject {
            Subject::Provider => format!(
                "\nresource \"conductorone_integration_{kind}\" \"{kind}\" {{\n  count = {count}\n{}}}\n",
                body("  ")
            ),
            Subject::Floor => format!(
                "\nresource \"terraform_data\" \"{kind}\" {{\n  count = {count}\n  input = {{\n{}  }}\n}}\n",
                body("    ")
            ),
            Subject::BareFloor => format!(
                "\nresource \"terraform_data\" \"{kind}\" {{\n  count = {count}\n  input = \"{}\"\n}}\n",
                settings[0].1
            ),
        });
    }
    tf
}

/// One working directory, initialised like a user's: `terraform init` from a filesystem mirror.
pub struct Workdir {
    pub n: usize,
    pub path: PathBuf,
    terraform: PathBuf,
    env: Vec<(String, String)>,
}

impl Workdir {
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        subject: Subject,
        n: usize,
        parent: &Path,
        terraform: &Path,
        mirror: &Path,
        sim: &Sim,
        creds: &Creds,
        tls: &Tls,
    ) -> Result<Workdir> {
        let path = parent.join(format!("{}-{n}", subject.name().replace(' ', "-")));
        std::fs::create_dir_all(&path)?;
        std::fs::write(path.join("main.tf"), main_tf(subject, n))?;
        let cli_config = path.join("cli.tfrc");
        std::fs::write(&cli_config, mirror_cli_config(mirror))?;
        let env = [
            ("TF_CLI_CONFIG_FILE", cli_config.to_string_lossy().as_ref()),
            ("TF_IN_AUTOMATION", "1"),
            ("CHECKPOINT_DISABLE", "1"),
            ("TF_INPUT", "0"),
            ("CONDUCTORONE_SERVER_URL", &sim.url),
            ("CONDUCTORONE_CLIENT_ID", &creds.client_id),
            ("CONDUCTORONE_CLIENT_SECRET", &creds.client_secret),
            ("SSL_CERT_FILE", tls.cert.to_string_lossy().as_ref()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let dir = Workdir {
            n,
            path,
            terraform: terraform.to_path_buf(),
            env,
        };
        let out = dir.terraform(&["init", "-input=false", "-no-color"], &[])?;
        if !out.status.success() {
            bail!(
                "terraform init in {} failed:\n{}",
                dir.path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(dir)
    }

    /// Runs `step` and returns its wall time; fails unless it did what it should.
    pub fn run(&self, step: Step, extra_env: &[(String, String)]) -> Result<Duration> {
        let start = Instant::now();
        let out = self.terraform(step.args(), extra_env)?;
        let elapsed = start.elapsed();
        step.check(self.n, &out)
            .with_context(|| format!("in {}", self.path.display()))?;
        Ok(elapsed)
    }

    fn terraform(&self, args: &[&str], extra_env: &[(String, String)]) -> Result<Output> {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args).current_dir(&self.path);
        // Nothing from the caller's shell steers Terraform or the provider: only ours.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("TF_") || k.starts_with("CONDUCTORONE_") || k.starts_with("SSL_CERT_")
            {
                cmd.env_remove(k.as_ref());
            }
        }
        cmd.envs(self.env.iter().chain(extra_env).map(|(k, v)| (k, v)));
        cmd.output()
            .with_context(|| format!("run {}", self.terraform.display()))
    }
}

/// Installs the provider binary into a filesystem mirror laid out like the registry, under
/// the platform Terraform reports; returns the mirror's root.
pub fn build_mirror(dir: &Path, provider: &Path, platform: &str) -> Result<PathBuf> {
    let mirror = dir.join("mirror");
    let package = mirror.join(format!("{PROVIDER_SOURCE}/{PROVIDER_VERSION}/{platform}"));
    std::fs::create_dir_all(&package)?;
    let binary = package.join(format!(
        "terraform-provider-conductorone_v{PROVIDER_VERSION}{}",
        std::env::consts::EXE_SUFFIX
    ));
    std::fs::copy(provider, binary)?;
    Ok(mirror)
}

fn mirror_cli_config(mirror: &Path) -> String {
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = {:?}\n    include = [\"registry.terraform.io/conductorone/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/conductorone/*\"]\n  }}\n}}\n",
        mirror.to_string_lossy()
    )
}

/// A CLI configuration that makes Terraform start the provider from `dir` (dev_overrides),
/// for the profiling run that wraps the binary.
pub fn override_cli_config(dir: &Path) -> String {
    format!(
        "provider_installation {{\n  dev_overrides {{\n    \"conductorone/conductorone\" = {:?}\n  }}\n  direct {{}}\n}}\n",
        dir.to_string_lossy()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(tf: &str) -> usize {
        tf.lines()
            .filter_map(|l| l.trim().strip_prefix("count = ")?.parse::<usize>().ok())
            .sum()
    }

    #[test]
    fn every_subject_declares_n_resources_over_the_three_kinds() {
        for n in [1, 30, 100, 301] {
            for subject in Subject::ALL {
                let tf = main_tf(subject, n);
                assert_eq!(counts(&tf), n, "{subject:?} {n}:\n{tf}");
                assert_eq!(tf.matches("resource \"").count(), 3, "{tf}");
            }
        }
        let ours = main_tf(Subject::Provider, 30);
        for kind in ["twingate", "torq", "segment"] {
            assert!(ours.contains(&format!("resource \"conductorone_integration_{kind}\"")));
        }
        assert!(ours.contains("source  = \"conductorone/conductorone\""));
        let floor = main_tf(Subject::Floor, 30);
        assert!(
            floor.contains("twingate_apikey = \"tg-key-${count.index}\""),
            "{floor}"
        );
        assert!(!floor.contains("conductorone/conductorone"));
        assert!(main_tf(Subject::BareFloor, 30).contains("input = \"tg-key-${count.index}\""));
    }
}
