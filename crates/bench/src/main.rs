//! `c1-bench` (`make bench`): the real Terraform against `c1-sim` over HTTPS with N
//! integrations of this provider, side by side with the same N as `terraform_data` (what
//! Terraform itself needs: the floor). Prints, as Markdown: wall time of apply, no-change plan
//! and destroy (median of several runs) and the ratio to the floor; a profile of each step
//! (provider processes, their peak RSS and CPU, gRPC calls, API calls, token exchanges); the
//! handshake time and binary size; and how time grows over several N.
//!
//! Settings (environment): `BENCH_N` (300), `BENCH_RUNS` (3), `BENCH_SCALE` (`100,300,1000`;
//! `none` skips), `BENCH_HANDSHAKES` (21), `TERRAFORM` (`terraform` on PATH), `BENCH_PROVIDER`
//! (another provider build to measure). It runs the release binaries beside its own
//! executable and works in `<target>/bench/`.

mod profile;
mod report;
mod sim;
mod workdir;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use profile::Wrapper;
use report::{secs, Measurement, Report, StepProfile};
use sim::{Creds, Sim, Tls};
use workdir::{Step, Subject, Workdir};

struct Config {
    n: usize,
    runs: usize,
    scale: Vec<usize>,
    handshakes: usize,
    terraform: PathBuf,
}

impl Config {
    fn from_env() -> Result<Config> {
        let number = |name: &str, default: usize| -> Result<usize> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("{name}={v}: want a positive number")),
                _ => Ok(default),
            }
        };
        let scale = match std::env::var("BENCH_SCALE") {
            Ok(v) if v.trim() == "none" || v.trim().is_empty() => vec![],
            Ok(v) => v
                .split(',')
                .map(|s| s.trim().parse().ok().filter(|n| *n > 0))
                .collect::<Option<Vec<usize>>>()
                .with_context(|| format!("BENCH_SCALE={v}: want sizes like 100,300,1000"))?,
            Err(_) => vec![100, 300, 1000],
        };
        Ok(Config {
            n: number("BENCH_N", 300)?,
            runs: number("BENCH_RUNS", 3)?,
            scale,
            handshakes: number("BENCH_HANDSHAKES", 21)?,
            terraform: std::env::var_os("TERRAFORM")
                .filter(|t| !t.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| "terraform".into()),
        })
    }
}

struct Bench {
    cfg: Config,
    scratch: PathBuf,
    provider: PathBuf,
    mirror: PathBuf,
    tls: Tls,
    sim: Sim,
    creds: Creds,
}

impl Bench {
    fn workdir(&self, subject: Subject, n: usize) -> Result<Workdir> {
        Workdir::create(
            subject,
            n,
            &self.scratch,
            &self.cfg.terraform,
            &self.mirror,
            &self.sim,
            &self.creds,
            &self.tls,
        )
    }

    /// `runs` rounds of apply, plan, destroy; the subjects take turns at each step so all
    /// see the same machine load. Returns the times and the provider's working directory.
    fn measure(&self, n: usize) -> Result<(Measurement, Workdir)> {
        let mut dirs = Subject::ALL
            .into_iter()
            .map(|subject| Ok((subject, self.workdir(subject, n)?)))
            .collect::<Result<BTreeMap<_, _>>>()?;
        let mut times: BTreeMap<(Subject, Step), Vec<Duration>> = BTreeMap::new();
        let mut calls = BTreeMap::new();
        for run in 1..=self.cfg.runs {
            let mut line = format!("N={n} run {run}/{}:", self.cfg.runs);
            for step in Step::ALL {
                let _ = write!(line, "  {}", step.name());
                for (subject, dir) in &dirs {
                    self.sim.take_calls()?;
                    let time = dir.run(step, &[])?;
                    if *subject == Subject::Provider {
                        calls.entry(step).or_insert(self.sim.take_calls()?);
                    }
                    times.entry((*subject, step)).or_default().push(time);
                    let _ = write!(line, " {}", secs(time));
                }
            }
            eprintln!("{line}  (floor, bare floor, conductorone)");
        }
        let provider = dirs
            .remove(&Subject::Provider)
            .expect("the provider's directory");
        Ok((Measurement { n, times, calls }, provider))
    }

    /// One more round of the provider's steps with the binary wrapped and Terraform's core
    /// trace log on: counts, not times.
    fn profile(&self, dir: &Workdir) -> Result<(BTreeMap<Step, StepProfile>, bool)> {
        let wrapper = Wrapper::install(&self.scratch, &self.provider)?;
        let cli_config = self.scratch.join("profile.tfrc");
        std::fs::write(&cli_config, workdir::override_cli_config(&wrapper.dir))?;
        let mut steps = BTreeMap::new();
        for step in Step::ALL {
            let log = self
                .scratch
                .join(format!("trace-{step:?}.log").to_lowercase());
            let env = [
                ("TF_CLI_CONFIG_FILE", cli_config.as_path()),
                ("TF_LOG_CORE", Path::new("TRACE")),
                ("TF_LOG_PATH", log.as_path()),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string_lossy().into_owned()));
            self.sim.take_calls()?;
            wrapper.take()?;
            dir.run(step, &env)?;
            steps.insert(
                step,
                StepProfile {
                    processes: wrapper.take()?,
                    grpc: profile::grpc_calls(&log)?,
                    calls: self.sim.take_calls()?,
                },
            );
        }
        Ok((steps, wrapper.measures_memory()))
    }
}

/// Terraform's version and the platform it runs on (the mirror's folder for this host).
fn terraform_version(terraform: &Path) -> Result<(String, String)> {
    let out = std::process::Command::new(terraform)
        .args(["version", "-json"])
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .with_context(|| format!("run {} version (set TERRAFORM?)", terraform.display()))?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{} version -json", terraform.display()))?;
    let field = |k: &str| v[k].as_str().map(str::to_string);
    Ok((
        field("terraform_version").context("no terraform_version")?,
        field("platform").context("no platform")?,
    ))
}

fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn main() -> Result<()> {
    let cfg = Config::from_env()?;
    let exe = std::env::current_exe()?;
    let bin_dir = exe.parent().context("the bench binary has no folder")?;
    // BENCH_PROVIDER compares another build (for example one from before a change).
    let provider = match std::env::var_os("BENCH_PROVIDER").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => bin_dir.join(format!(
            "terraform-provider-conductorone{}",
            std::env::consts::EXE_SUFFIX
        )),
    };
    let sim_bin = bin_dir.join(format!("c1-sim{}", std::env::consts::EXE_SUFFIX));
    for bin in [&provider, &sim_bin] {
        if !bin.exists() {
            bail!(
                "{} is missing: run `make bench`, which builds the release binaries",
                bin.display()
            );
        }
    }
    let scratch = bin_dir
        .parent()
        .context("the bench binary's folder has no parent")?
        .join("bench");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;

    let (tf_version, platform) = terraform_version(&cfg.terraform)?;
    let tls = Tls::generate(&scratch)?;
    let sim = Sim::start(&sim_bin, &scratch, &tls, &workdir::apps())?;
    let creds = sim.mint("bench")?;
    let mirror = workdir::build_mirror(&scratch, &provider, &platform)?;
    let binary_size = std::fs::metadata(&provider)?.len();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load_before = load_average();
    eprintln!(
        "c1-bench: N={} runs={} scale={:?}; Terraform {tf_version} ({platform}); {cores} cores; work in {}",
        cfg.n,
        cfg.runs,
        cfg.scale,
        scratch.display()
    );

    let handshakes = profile::handshake_times(&provider, &tls.cert_pem()?, cfg.handshakes)?;
    let bench = Bench {
        cfg,
        scratch,
        provider,
        mirror,
        tls,
        sim,
        creds,
    };
    let (main, provider_dir) = bench.measure(bench.cfg.n)?;
    let (profile, memory_measured) = bench.profile(&provider_dir)?;
    let mut others = Vec::new();
    for &n in &bench.cfg.scale {
        if n != main.n && !others.iter().any(|m: &Measurement| m.n == n) {
            others.push(bench.measure(n)?.0);
        }
    }
    let mut growth: Vec<&Measurement> = others.iter().collect();
    if bench.cfg.scale.contains(&main.n) {
        growth.push(&main);
    }
    growth.sort_by_key(|m| m.n);

    let report = Report {
        setting: format!(
            "Terraform {tf_version} ({platform}), {cores} cores, default parallelism (10), c1-sim over HTTPS on loopback; load average before: {}, after: {}.",
            load_before.as_deref().unwrap_or("n/a"),
            load_average().as_deref().unwrap_or("n/a"),
        ),
        runs: bench.cfg.runs,
        main: &main,
        profile: &profile,
        memory_measured,
        handshakes: &handshakes,
        binary_size,
        growth,
    }
    .render();
    print!("{report}");
    std::fs::write(bench.scratch.join("report.md"), &report)?;
    Ok(())
}
