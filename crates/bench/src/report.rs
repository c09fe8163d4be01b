//! The results and how they read: medians, ratios to the floor, issue 9's targets, a profile
//! of each step and whether time grows linearly, as Markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::profile::ProcessRecord;
use crate::sim::{Calls, TOKEN_EXCHANGE};
use crate::workdir::{Step, Subject};

/// Issue 9's targets at N = 300.
const PLAN_RATIO_TARGET: f64 = 1.8;
const APPLY_DESTROY_RATIO_TARGET: f64 = 1.5;
const RSS_TARGET_BYTES: u64 = 20 * 1024 * 1024;
const HANDSHAKE_TARGET: Duration = Duration::from_millis(20);

/// gRPC methods Terraform calls once per resource instance (the rest: per process or command).
const PER_RESOURCE_RPCS: &[&str] = &[
    "ValidateResourceConfig",
    "UpgradeResourceState",
    "ReadResource",
    "PlanResourceChange",
    "ApplyResourceChange",
    "ImportResourceState",
];

/// Wall times of one size: every run of every step, for every subject.
pub struct Measurement {
    pub n: usize,
    pub times: BTreeMap<(Subject, Step), Vec<Duration>>,
    /// API calls of each provider step (the first run; they are the same every run).
    pub calls: BTreeMap<Step, Calls>,
}

impl Measurement {
    pub fn median(&self, subject: Subject, step: Step) -> Duration {
        median(&self.times[&(subject, step)])
    }
}

/// What one step of the profiling round showed.
pub struct StepProfile {
    pub processes: Vec<ProcessRecord>,
    pub grpc: BTreeMap<String, usize>,
    pub calls: Calls,
}

/// Everything the report says.
pub struct Report<'a> {
    pub setting: String,
    pub runs: usize,
    pub main: &'a Measurement,
    pub profile: &'a BTreeMap<Step, StepProfile>,
    pub memory_measured: bool,
    pub handshakes: &'a [Duration],
    pub binary_size: u64,
    /// Every size measured for the growth table (the main one included if asked for).
    pub growth: Vec<&'a Measurement>,
}

pub fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn ratio(value: Duration, floor: Duration) -> f64 {
    value.as_secs_f64() / floor.as_secs_f64().max(1e-9)
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// `count` per resource, two decimals.
fn per(count: usize, n: usize) -> String {
    format!("{:.2}", count as f64 / n as f64)
}

impl Report<'_> {
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.times(&mut out);
        self.profile(&mut out);
        self.targets(&mut out);
        if !self.growth.is_empty() {
            self.growth(&mut out);
        }
        out
    }

    fn times(&self, out: &mut String) {
        let m = self.main;
        let _ = writeln!(
            out,
            "## c1-bench: N = {}, median of {} run(s)\n\n{}\n",
            m.n, self.runs, self.setting
        );
        let _ = writeln!(
            out,
            "| step | floor (`terraform_data`, same values) | bare floor (`terraform_data`, one string) | conductorone | ratio to floor | target | ratio to bare floor |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---|---:|");
        for step in Step::ALL {
            let floor = m.median(Subject::Floor, step);
            let bare = m.median(Subject::BareFloor, step);
            let ours = m.median(Subject::Provider, step);
            let target = match step {
                Step::Plan => PLAN_RATIO_TARGET,
                Step::Apply | Step::Destroy => APPLY_DESTROY_RATIO_TARGET,
            };
            let r = ratio(ours, floor);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {r:.2}x | ≤ {target}x: {} | {:.2}x |",
                step.name(),
                secs(floor),
                secs(bare),
                secs(ours),
                verdict(r <= target),
                ratio(ours, bare)
            );
        }
    }

    fn profile(&self, out: &mut String) {
        let n = self.main.n;
        let _ = writeln!(
            out,
            "\n### Profile (one more round: provider wrapped in /usr/bin/time, Terraform's core trace log on)\n"
        );
        let _ = writeln!(
            out,
            "| step | provider processes | peak RSS | provider CPU | gRPC calls per resource | gRPC calls per command | API calls per resource | token exchanges |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---|---|---|---:|");
        for step in Step::ALL {
            let p = &self.profile[&step];
            let rss = p.processes.iter().filter_map(|r| r.peak_rss_bytes).max();
            let cpu: Option<Duration> = p.processes.iter().map(|r| r.cpu).sum();
            let (per_resource, per_command): (Vec<_>, Vec<_>) = p
                .grpc
                .iter()
                .partition(|(method, _)| PER_RESOURCE_RPCS.contains(&method.as_str()));
            let per_resource_total: usize = per_resource.iter().map(|(_, c)| **c).sum();
            let per_resource_text = join(
                per_resource
                    .iter()
                    .map(|(m, c)| format!("{m} {}", per(**c, n))),
            );
            let per_command_text = join(per_command.iter().map(|(m, c)| match m.as_str() {
                // Terraform logs every lookup; it asks each provider process once.
                "GetProviderSchema" => format!("{m} {} ({c} lookups)", p.processes.len()),
                _ => format!("{m} {c}"),
            }));
            let api_text = join(
                p.calls
                    .0
                    .iter()
                    .filter(|(op, _)| op.as_str() != TOKEN_EXCHANGE)
                    .map(|(op, c)| format!("{op} {}", per(*c, n))),
            );
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} ({per_resource_text}) | {per_command_text} | {} ({api_text}) | {} |",
                step.name(),
                p.processes.len(),
                rss.map_or("n/a".into(), megabytes),
                cpu.map_or("n/a".into(), secs),
                per(per_resource_total, n),
                per(p.calls.api_calls(), n),
                p.calls.count(TOKEN_EXCHANGE),
            );
        }
        let _ = writeln!(
            out,
            "\n`GetProviderSchema`: Terraform looks the schema up many times (lookups, from its trace log) but asks each provider process once; it would skip that call in every process after the first if the provider announced `get_provider_schema_optional`, which `tf-provider` does not. Token exchanges happen only in processes that call the API."
        );
    }

    fn targets(&self, out: &mut String) {
        let n = self.main.n;
        let handshake = median(self.handshakes);
        let _ = writeln!(out, "\n### Targets at N = {n}\n");
        let _ = writeln!(
            out,
            "- time to the handshake line: median {} over {} starts (max {}), target < {}: {}",
            millis(handshake),
            self.handshakes.len(),
            millis(self.handshakes.iter().copied().max().unwrap_or_default()),
            millis(HANDSHAKE_TARGET),
            verdict(handshake < HANDSHAKE_TARGET)
        );
        if self.memory_measured {
            let peak = self
                .profile
                .values()
                .flat_map(|p| &p.processes)
                .filter_map(|r| r.peak_rss_bytes)
                .max()
                .unwrap_or(0);
            let _ = writeln!(
                out,
                "- provider peak RSS: {}, target < {}: {}",
                megabytes(peak),
                megabytes(RSS_TARGET_BYTES),
                verdict(peak < RSS_TARGET_BYTES)
            );
        } else {
            let _ = writeln!(
                out,
                "- provider peak RSS: not measured (no usable /usr/bin/time)"
            );
        }
        let plan = &self.main.calls[&Step::Plan];
        let reads = plan.count("ConnectorService.Get");
        let _ = writeln!(
            out,
            "- API calls per read (no-change plan): {} ({reads} reads in {} calls for {n} resources), target exactly 1: {}",
            per(plan.api_calls(), n),
            plan.api_calls(),
            verdict(reads == n && plan.api_calls() == n)
        );
        let _ = writeln!(out, "- provider binary: {}", megabytes(self.binary_size));
    }

    fn growth(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n### Growth with N (median wall time: floor / bare floor / conductorone)\n"
        );
        let _ = writeln!(out, "| N | apply | no-change plan | destroy |");
        let _ = writeln!(out, "|---:|---:|---:|---:|");
        for m in &self.growth {
            let cells = Step::ALL.map(|step| {
                Subject::ALL
                    .map(|subject| secs(m.median(subject, step)))
                    .join(" / ")
            });
            let _ = writeln!(out, "| {} | {} |", m.n, cells.join(" | "));
        }
        let _ = writeln!(out);
        for step in Step::ALL {
            let growth = Subject::ALL.map(|subject| {
                let points: Vec<_> = self
                    .growth
                    .iter()
                    .map(|m| (m.n, m.median(subject, step)))
                    .collect();
                Growth::of(&points)
            });
            for (subject, g) in Subject::ALL.iter().zip(&growth) {
                let _ = writeln!(
                    out,
                    "- {} ({}): {}",
                    step.name(),
                    subject.name(),
                    g.describe()
                );
            }
            // Is a superlinear shape ours, or Terraform's own (present without any provider)?
            let [_, bare, ours] = &growth;
            if let (Some(ours_factor), Some(bare_factor)) = (ours.factor(), bare.factor()) {
                let _ = writeln!(
                    out,
                    "  - an added resource costs {ours_factor:.1}x more at the largest sizes than at the smallest; for the bare floor {bare_factor:.1}x: {}",
                    if ours_factor <= bare_factor * 1.25 {
                        "conductorone grows no faster than Terraform's own floor"
                    } else {
                        "conductorone grows FASTER than Terraform's own floor"
                    }
                );
            }
        }
    }
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// How time grows with N: the marginal cost per resource between consecutive sizes.
pub struct Growth {
    /// (from N, to N, seconds per added resource)
    pub marginal: Vec<(usize, usize, f64)>,
}

impl Growth {
    /// `points`: (N, median time), any order.
    pub fn of(points: &[(usize, Duration)]) -> Growth {
        let mut points = points.to_vec();
        points.sort();
        let marginal = points
            .windows(2)
            .map(|w| {
                let ((n0, t0), (n1, t1)) = (w[0], w[1]);
                let per = (t1.as_secs_f64() - t0.as_secs_f64()) / (n1 - n0) as f64;
                (n0, n1, per)
            })
            .collect();
        Growth { marginal }
    }

    /// How many times more an added resource costs between the largest sizes than between
    /// the smallest.
    pub fn factor(&self) -> Option<f64> {
        let first = self.marginal.first()?.2;
        let last = self.marginal.last()?.2;
        (self.marginal.len() > 1).then(|| last / first.max(1e-6))
    }

    /// Linear when an added resource costs at the largest sizes at most 1.5x what it costs at
    /// the smallest (a fixed start-up cost does not count; noise on a busy machine does,
    /// hence the margin).
    pub fn is_linear(&self) -> Option<bool> {
        let first = self.marginal.first()?.2;
        let last = self.marginal.last()?.2;
        Some(last <= first.max(1e-6) * 1.5)
    }

    pub fn describe(&self) -> String {
        let costs = join(
            self.marginal
                .iter()
                .map(|(a, b, per)| format!("{a}→{b}: {:.2} ms", per * 1000.0)),
        );
        match self.is_linear() {
            Some(true) => format!("linear ({costs} per added resource)"),
            Some(false) => format!("NOT linear ({costs} per added resource)"),
            None => "needs two sizes".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(
            median(&[ms(4), ms(1), ms(2), ms(3)]),
            Duration::from_micros(2500)
        );
    }

    #[test]
    fn linear_and_superlinear_growth() {
        let s = Duration::from_secs_f64;
        let linear = Growth::of(&[(300, s(3.4)), (100, s(1.4)), (1000, s(10.4))]);
        assert_eq!(linear.is_linear(), Some(true));
        let quadratic = Growth::of(&[(100, s(0.1)), (300, s(0.9)), (1000, s(10.0))]);
        assert_eq!(quadratic.is_linear(), Some(false));
        assert_eq!(Growth::of(&[(100, s(1.0))]).is_linear(), None);
        // 0.8 s over 200 resources, then 9.1 s over 700: 4 ms, then 13 ms each.
        assert_eq!(quadratic.factor().map(|f| (f * 100.0).round()), Some(325.0));
        assert_eq!(linear.factor().map(|f| (f * 100.0).round()), Some(100.0));
        assert_eq!(Growth::of(&[(1, s(1.0)), (2, s(2.0))]).factor(), None);
    }
}
