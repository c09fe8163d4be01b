//! Profiling what the timed runs cannot see: the provider processes Terraform starts per
//! command (each one's peak RSS and CPU time, from `/usr/bin/time` around the binary), the
//! gRPC calls Terraform makes (from its core trace log), and the provider's time to the
//! handshake line when started the way Terraform starts it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How `/usr/bin/time` reports on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeTool {
    /// GNU time (`-v`): kilobytes.
    Gnu,
    /// BSD/macOS time (`-l`): bytes on macOS.
    Bsd,
    /// None usable: processes are counted, RSS and CPU are not measured.
    Absent,
}

impl TimeTool {
    fn detect(scratch: &Path) -> TimeTool {
        let probe = scratch.join("time-probe.txt");
        let works = |args: &[&str], needle: &str| {
            Command::new("/usr/bin/time")
                .args(args)
                .arg(&probe)
                .arg("true")
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
                && std::fs::read_to_string(&probe).is_ok_and(|t| t.contains(needle))
        };
        if works(&["-v", "-o"], "Maximum resident set size") {
            TimeTool::Gnu
        } else if works(&["-l", "-o"], "maximum resident set size") {
            TimeTool::Bsd
        } else {
            TimeTool::Absent
        }
    }
}

/// What one provider process used.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessRecord {
    pub peak_rss_bytes: Option<u64>,
    pub cpu: Option<Duration>,
}

/// A stand-in for the provider binary that records every start, then runs the real one.
pub struct Wrapper {
    /// The directory holding the stand-in, for `dev_overrides`.
    pub dir: PathBuf,
    records: PathBuf,
    tool: TimeTool,
}

impl Wrapper {
    pub fn install(scratch: &Path, provider: &Path) -> Result<Wrapper> {
        let dir = scratch.join("profile-provider");
        let records = scratch.join("profile-records");
        std::fs::create_dir_all(&dir)?;
        std::fs::create_dir_all(&records)?;
        let tool = TimeTool::detect(scratch);
        let record = format!("{}/$$.txt", records.display());
        let provider = provider.display();
        let exec = match tool {
            TimeTool::Gnu => format!("exec /usr/bin/time -v -o \"{record}\" \"{provider}\" \"$@\""),
            TimeTool::Bsd => format!("exec /usr/bin/time -l -o \"{record}\" \"{provider}\" \"$@\""),
            TimeTool::Absent => format!(": > \"{record}\"\nexec \"{provider}\" \"$@\""),
        };
        let script = dir.join("terraform-provider-conductorone");
        std::fs::write(
            &script,
            format!("#!/bin/sh\n# c1-bench: one record per provider process Terraform starts.\n{exec}\n"),
        )?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        }
        Ok(Wrapper { dir, records, tool })
    }

    pub fn measures_memory(&self) -> bool {
        self.tool != TimeTool::Absent
    }

    /// The processes recorded since the last take (the records are removed).
    pub fn take(&self) -> Result<Vec<ProcessRecord>> {
        let mut processes = Vec::new();
        for entry in std::fs::read_dir(&self.records)? {
            let path = entry?.path();
            let text = std::fs::read_to_string(&path)?;
            std::fs::remove_file(&path)?;
            processes.push(match self.tool {
                TimeTool::Gnu => parse_gnu_time(&text),
                TimeTool::Bsd => parse_bsd_time(&text),
                TimeTool::Absent => ProcessRecord::default(),
            });
        }
        Ok(processes)
    }
}

fn parse_gnu_time(text: &str) -> ProcessRecord {
    let field = |name: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name)?.trim().parse().ok())
    };
    let cpu = field("User time (seconds):")
        .zip(field("System time (seconds):"))
        .map(|(u, s)| Duration::from_secs_f64(u + s));
    ProcessRecord {
        peak_rss_bytes: field("Maximum resident set size (kbytes):").map(|kb| kb as u64 * 1024),
        cpu,
    }
}

fn parse_bsd_time(text: &str) -> ProcessRecord {
    // "  0.05 real  0.01 user  0.00 sys" and "  12345678  maximum resident set size".
    let before = |label: &str| -> Option<f64> {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[1] == label)
            .and_then(|w| w[0].parse().ok())
    };
    let rss_line = text
        .lines()
        .find(|l| l.contains("maximum resident set size"))
        .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok());
    // macOS reports bytes, the BSDs kilobytes.
    let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    ProcessRecord {
        peak_rss_bytes: rss_line.map(|v| v * unit),
        cpu: before("user")
            .zip(before("sys"))
            .map(|(u, s)| Duration::from_secs_f64(u + s)),
    }
}

/// gRPC calls Terraform made to providers, by method, from its core trace log
/// (`GRPCProvider.v6: ReadResource`). `GetProviderSchema` lines include answers Terraform
/// served from its per-process cache; `returning cached schema` is its cross-process cache.
pub fn grpc_calls(trace_log: &Path) -> Result<BTreeMap<String, usize>> {
    let text = std::fs::read_to_string(trace_log)
        .with_context(|| format!("read {}", trace_log.display()))?;
    let mut calls = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.split("GRPCProvider.v6: ").nth(1) {
            let method: String = rest
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if method.starts_with(|c: char| c.is_ascii_uppercase()) {
                *calls.entry(method).or_default() += 1;
            }
        }
    }
    Ok(calls)
}

/// The provider's time from start to its handshake line, started as Terraform starts it
/// (go-plugin's environment, with a client certificate: automatic mutual TLS), `runs` times.
pub fn handshake_times(
    provider: &Path,
    client_cert_pem: &str,
    runs: usize,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let mut child = Command::new(provider)
            .env(
                "TF_PLUGIN_MAGIC_COOKIE",
                "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
            )
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("PLUGIN_CLIENT_CERT", client_cert_pem)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", provider.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line)?;
        times.push(start.elapsed());
        let _ = child.kill();
        let _ = child.wait();
        if !line.starts_with("1|6|tcp|") {
            bail!("unexpected handshake line from the provider: {line:?}");
        }
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gnu_time() {
        let r = parse_gnu_time(
            "\tCommand being timed: \"x\"\n\tUser time (seconds): 0.12\n\tSystem time (seconds): 0.03\n\tMaximum resident set size (kbytes): 11520\n",
        );
        assert_eq!(r.peak_rss_bytes, Some(11520 * 1024));
        assert_eq!(r.cpu, Some(Duration::from_secs_f64(0.15)));
    }

    #[test]
    fn reads_bsd_time() {
        let r = parse_bsd_time(
            "        0.21 real         0.10 user         0.02 sys\n  9437184  maximum resident set size\n",
        );
        let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
        assert_eq!(r.peak_rss_bytes, Some(9437184 * unit));
        assert_eq!(r.cpu, Some(Duration::from_secs_f64(0.12)));
    }

    #[test]
    fn counts_grpc_calls_by_method() {
        let dir = std::env::temp_dir().join(format!("c1-bench-grpc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("trace.log");
        std::fs::write(
            &log,
            "2026-01-01T00:00:00.000Z [TRACE] GRPCProvider.v6: ReadResource\n\
             2026-01-01T00:00:00.001Z [TRACE] GRPCProvider.v6: ReadResource\n\
             2026-01-01T00:00:00.002Z [TRACE] GRPCProvider.v6: returning cached schema: x\n\
             2026-01-01T00:00:00.003Z [TRACE] GRPCProvider.v6: GetProviderSchema\n\
             2026-01-01T00:00:00.004Z [TRACE] terraform: something else\n",
        )
        .unwrap();
        let calls = grpc_calls(&log).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            calls.into_iter().collect::<Vec<_>>(),
            [
                ("GetProviderSchema".to_string(), 1),
                ("ReadResource".to_string(), 2)
            ]
        );
    }
}
