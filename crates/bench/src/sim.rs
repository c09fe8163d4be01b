//! The simulator the benchmark runs against: `c1-sim serve` over HTTPS with a certificate made
//! here, credentials it mints, and its request log (which API calls each step made).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// A self-signed certificate for 127.0.0.1; the provider trusts it through `SSL_CERT_FILE`.
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Tls {
    pub fn generate(dir: &Path) -> Result<Tls> {
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])?;
        let tls = Tls {
            cert: dir.join("sim-cert.pem"),
            key: dir.join("sim-key.pem"),
        };
        std::fs::write(&tls.cert, certified.cert.pem())?;
        std::fs::write(&tls.key, certified.key_pair.serialize_pem())?;
        Ok(tls)
    }

    pub fn cert_pem(&self) -> Result<String> {
        Ok(std::fs::read_to_string(&self.cert)?)
    }
}

/// Credentials the simulator minted.
pub struct Creds {
    pub client_id: String,
    pub client_secret: String,
}

/// API calls one step made, by operation (`ConnectorService.Get`, `Auth.Token`, ...).
#[derive(Clone, Debug, Default)]
pub struct Calls(pub BTreeMap<String, usize>);

pub const TOKEN_EXCHANGE: &str = "Auth.Token";

impl Calls {
    pub fn count(&self, operation: &str) -> usize {
        self.0.get(operation).copied().unwrap_or(0)
    }

    /// Every call except token exchanges.
    pub fn api_calls(&self) -> usize {
        self.0.values().sum::<usize>() - self.count(TOKEN_EXCHANGE)
    }
}

/// A running `c1-sim serve`, stopped on drop.
pub struct Sim {
    child: Child,
    bin: PathBuf,
    clients: PathBuf,
    pub url: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Sim {
    pub fn start(bin: &Path, dir: &Path, tls: &Tls, apps: &[String]) -> Result<Sim> {
        let addr_file = dir.join("sim-addr");
        let clients = dir.join("sim-clients.json");
        let child = Command::new(bin)
            .arg("serve")
            .args(["--port", "0", "--sync-delay-ms", "0"])
            .arg("--addr-file")
            .arg(&addr_file)
            .arg("--clients")
            .arg(&clients)
            .arg("--tls-cert")
            .arg(&tls.cert)
            .arg("--tls-key")
            .arg(&tls.key)
            .arg("--seed-apps")
            .arg(apps.join(","))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("sim.log"))?)
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let http = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(tls.cert_pem()?.as_bytes())?)
            .build()?;
        let mut sim = Sim {
            child,
            bin: bin.to_path_buf(),
            clients,
            url: String::new(),
            http,
            runtime,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while sim.url.is_empty() {
            if let Some(status) = sim.child.try_wait()? {
                bail!(
                    "the simulator exited ({status}); see {}",
                    dir.join("sim.log").display()
                );
            }
            if Instant::now() > deadline {
                bail!("the simulator did not start within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
            sim.url = std::fs::read_to_string(&addr_file)
                .unwrap_or_default()
                .trim()
                .to_string();
        }
        Ok(sim)
    }

    /// `c1-sim credentials`: a new client the simulator trusts.
    pub fn mint(&self, name: &str) -> Result<Creds> {
        let out = Command::new(&self.bin)
            .arg("credentials")
            .arg("--clients")
            .arg(&self.clients)
            .args(["--name", name])
            .output()?;
        if !out.status.success() {
            bail!(
                "c1-sim credentials: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let v: Value = serde_json::from_slice(&out.stdout)?;
        let field = |k: &str| {
            v[k].as_str()
                .map(str::to_string)
                .with_context(|| format!("c1-sim credentials printed no {k}"))
        };
        Ok(Creds {
            client_id: field("client_id")?,
            client_secret: field("client_secret")?,
        })
    }

    /// The calls logged since the last take, by operation; the log is emptied.
    pub fn take_calls(&self) -> Result<Calls> {
        let url = format!("{}/_sim/requests", self.url);
        let log: Value = self.runtime.block_on(async {
            self.http
                .get(&url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        })?;
        self.runtime
            .block_on(async { self.http.delete(&url).send().await?.error_for_status() })?;
        let mut calls = Calls::default();
        for entry in log.as_array().context("the request log is not a list")? {
            let operation = entry["operation"].as_str().unwrap_or("unknown");
            *calls.0.entry(operation.to_string()).or_default() += 1;
        }
        Ok(calls)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
