//! `c1-bench` (`make bench`): the real Terraform against `c1-sim` over HTTPS with N
//! integrations of this provider, side by side with the same N as `terraform_data` (what
//! Terraform itself needs: the floor). Prints, as Markdown: wall time of apply, no-change plan
//! and destroy (median of several runs) and the ratio to the floor; a profile of each step
//! (provider processes, their peak RSS and CPU, gRPC calls, API calls, token exchanges); the
//! handshake time and binary size; and how time grows over several N.
//!
//! Settings (environment): `BENCH_N` (300), `BENCH_RUNS` (3), `BENCH_SCALE` (`100,300,1000`;
//! `none` skips), `BENCH_HANDSHAKES` (21), `TERRAFORM` (`terraform` on PATH). It runs the
//! release binaries beside its own executable and works in `<target>/bench/`.

mod profile;
mod report;
mod sim;
mod workdir;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use profile::{ProcessRecord, Wrapper};
use report::{median, megabytes, millis, ratio, secs, verdict, Growth};
use sim::{Calls, Creds, Sim, Tls, TOKEN_EXCHANGE};
use workdir::{Step, Subject, Workdir};

/// Issue 9's targets at N = 300.
const PLAN_RATIO_TARGET: f64 = 1.8;
const APPLY_DESTROY_RATIO_TARGET: f64 = 1.5;
const RSS_TARGET_BYTES: u64 = 20 * 1024 * 1024;
const HANDSHAKE_TARGET: Duration = Duration::from_millis(20);

/// gRPC methods Terraform calls once per resource instance (the rest are per process or command).
const PER_RESOURCE_RPCS: &[&str] = &[
    "ValidateResourceConfig",
    "UpgradeResourceState",
    "ReadResource",
    "PlanResourceChange",
    "ApplyResourceChange",
    "ImportResourceState",
];

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

/// Wall times of one size: every run of every step, for both subjects.
struct Measurement {
    n: usize,
    times: BTreeMap<(Subject, Step), Vec<Duration>>,
    /// API calls of each provider step (the first run; they are the same every run).
    calls: BTreeMap<Step, Calls>,
    provider_dir: Workdir,
}

impl Measurement {
    fn median(&self, subject: Subject, step: Step) -> Duration {
        median(&self.times[&(subject, step)])
    }
}

/// What one step of the profiling run showed.
struct StepProfile {
    processes: Vec<ProcessRecord>,
    grpc: BTreeMap<String, usize>,
    calls: Calls,
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

    /// `runs` rounds of apply, plan, destroy; floor and provider take turns at each step so
    /// both see the same machine load.
    fn measure(&self, n: usize) -> Result<Measurement> {
        let floor = self.workdir(Subject::Floor, n)?;
        let provider = self.workdir(Subject::Provider, n)?;
        let mut times: BTreeMap<(Subject, Step), Vec<Duration>> = BTreeMap::new();
        let mut calls = BTreeMap::new();
        for run in 1..=self.cfg.runs {
            let mut line = format!("N={n} run {run}/{}:", self.cfg.runs);
            for step in Step::ALL {
                let floor_time = floor.run(step, &[])?;
                self.sim.take_calls()?;
                let provider_time = provider.run(step, &[])?;
                calls.entry(step).or_insert(self.sim.take_calls()?);
                times
                    .entry((Subject::Floor, step))
                    .or_default()
                    .push(floor_time);
                times
                    .entry((Subject::Provider, step))
                    .or_default()
                    .push(provider_time);
                let _ = write!(
                    line,
                    "  {} {} / {}",
                    step.name(),
                    secs(floor_time),
                    secs(provider_time)
                );
            }
            eprintln!("{line}  (floor / conductorone)");
        }
        Ok(Measurement {
            n,
            times,
            calls,
            provider_dir: provider,
        })
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
    let provider = bin_dir.join(format!(
        "terraform-provider-conductorone{}",
        std::env::consts::EXE_SUFFIX
    ));
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
    let main = bench.measure(bench.cfg.n)?;
    let (profile, memory_measured) = bench.profile(&main.provider_dir)?;
    let mut sizes = BTreeMap::new();
    for &n in &bench.cfg.scale {
        if n != main.n && !sizes.contains_key(&n) {
            sizes.insert(n, bench.measure(n)?);
        }
    }

    let mut out = String::new();
    let n = main.n;
    let _ = writeln!(
        out,
        "## c1-bench: N = {n}, median of {} run(s)\n\nTerraform {tf_version} ({platform}), {cores} cores, default parallelism (10), c1-sim over HTTPS on loopback; load average before: {}, after: {}.\n",
        bench.cfg.runs,
        load_before.as_deref().unwrap_or("n/a"),
        load_average().as_deref().unwrap_or("n/a"),
    );
    let _ = writeln!(
        out,
        "| step | floor (`terraform_data`) | conductorone | ratio | target |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---|");
    for step in Step::ALL {
        let floor = main.median(Subject::Floor, step);
        let ours = main.median(Subject::Provider, step);
        let target = if step == Step::Plan {
            PLAN_RATIO_TARGET
        } else {
            APPLY_DESTROY_RATIO_TARGET
        };
        let r = ratio(ours, floor);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {r:.2}x | ≤ {target}x: {} |",
            step.name(),
            secs(floor),
            secs(ours),
            verdict(r <= target)
        );
    }

    let _ = writeln!(
        out,
        "\n### Profile (one more round, provider wrapped, Terraform core trace log on)\n"
    );
    let _ = writeln!(
        out,
        "| step | provider processes | peak RSS | provider CPU | gRPC calls per resource | per command | API calls per resource | token exchanges |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---|---|---|---:|");
    let mut peak_rss = 0;
    for step in Step::ALL {
        let p = &profile[&step];
        let rss = p.processes.iter().filter_map(|r| r.peak_rss_bytes).max();
        peak_rss = peak_rss.max(rss.unwrap_or(0));
        let cpu: Option<Duration> = p.processes.iter().map(|r| r.cpu).sum();
        let (per_resource, per_command): (Vec<_>, Vec<_>) = p
            .grpc
            .iter()
            .partition(|(method, _)| PER_RESOURCE_RPCS.contains(&method.as_str()));
        let per_resource_total: usize = per_resource.iter().map(|(_, c)| **c).sum();
        let per_resource_text = per_resource
            .iter()
            .map(|(m, c)| format!("{m} {:.2}", **c as f64 / n as f64))
            .collect::<Vec<_>>()
            .join(", ");
        let per_command_text = per_command
            .iter()
            .map(|(m, c)| match m.as_str() {
                // Terraform logs every lookup; the provider is asked once per process.
                "GetProviderSchema" => format!("{m} {} ({c} lookups)", p.processes.len()),
                _ => format!("{m} {c}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let api_text = p
            .calls
            .0
            .iter()
            .filter(|(op, _)| op.as_str() != TOKEN_EXCHANGE)
            .map(|(op, c)| format!("{op} {:.2}", *c as f64 / n as f64))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} ({per_resource_text}) | {per_command_text} | {:.2} ({api_text}) | {} |",
            step.name(),
            p.processes.len(),
            rss.map_or("n/a".into(), megabytes),
            cpu.map_or("n/a".into(), secs),
            per_resource_total as f64 / n as f64,
            p.calls.api_calls() as f64 / n as f64,
            p.calls.count(TOKEN_EXCHANGE),
        );
    }
    let _ = writeln!(
        out,
        "\n`GetProviderSchema`: Terraform looks the schema up many times (lookups, from its trace log) but asks each provider process once; it would skip that call in later processes if the provider announced `get_provider_schema_optional`, which `tf-provider` does not."
    );

    let handshake = median(&handshakes);
    let plan_calls = &main.calls[&Step::Plan];
    let reads = plan_calls.count("ConnectorService.Get");
    let one_call_per_read = reads == n && plan_calls.api_calls() == n;
    let _ = writeln!(out, "\n### Targets at N = {n}\n");
    let _ = writeln!(
        out,
        "- handshake line: median {} over {} starts (max {}), target < {}: {}",
        millis(handshake),
        handshakes.len(),
        millis(handshakes.iter().copied().max().unwrap_or_default()),
        millis(HANDSHAKE_TARGET),
        verdict(handshake < HANDSHAKE_TARGET)
    );
    if memory_measured {
        let _ = writeln!(
            out,
            "- provider peak RSS: {}, target < {}: {}",
            megabytes(peak_rss),
            megabytes(RSS_TARGET_BYTES),
            verdict(peak_rss < RSS_TARGET_BYTES)
        );
    } else {
        let _ = writeln!(
            out,
            "- provider peak RSS: not measured (no usable /usr/bin/time)"
        );
    }
    let _ = writeln!(
        out,
        "- API calls per read (no-change plan): {:.2} ({reads} reads, {} calls for {n} resources), target exactly 1: {}",
        plan_calls.api_calls() as f64 / n as f64,
        plan_calls.api_calls(),
        verdict(one_call_per_read)
    );
    let _ = writeln!(out, "- provider binary: {}", megabytes(binary_size));

    if !sizes.is_empty() || bench.cfg.scale.contains(&n) {
        let mut all: Vec<&Measurement> = sizes.values().collect();
        if bench.cfg.scale.contains(&n) {
            all.push(&main);
        }
        all.sort_by_key(|m| m.n);
        let _ = writeln!(out, "\n### Growth with N (median wall time)\n");
        let _ = writeln!(
            out,
            "| N | floor apply | apply | floor plan | plan | floor destroy | destroy |"
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
        for m in &all {
            let cells = Step::ALL
                .iter()
                .map(|s| {
                    format!(
                        "{} | {}",
                        secs(m.median(Subject::Floor, *s)),
                        secs(m.median(Subject::Provider, *s))
                    )
                })
                .collect::<Vec<_>>()
                .join(" | ");
            let _ = writeln!(out, "| {} | {cells} |", m.n);
        }
        let _ = writeln!(out);
        for step in Step::ALL {
            for (subject, name) in [
                (Subject::Floor, "floor"),
                (Subject::Provider, "conductorone"),
            ] {
                let points: Vec<_> = all.iter().map(|m| (m.n, m.median(subject, step))).collect();
                let _ = writeln!(
                    out,
                    "- {} ({name}): {}",
                    step.name(),
                    Growth::of(&points).describe()
                );
            }
        }
    }

    print!("{out}");
    std::fs::write(bench.scratch.join("report.md"), &out)?;
    Ok(())
}
