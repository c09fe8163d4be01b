//! Test harness: the simulator as a child process with its admin API, and a Terraform working
//! directory that runs the real `terraform` CLI against it with the freshly built provider.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use c1_contract::integrations::{Baton, Integration as _, Segment, Torq, Twingate};
/// The provider's environment variables, from its one table of them.
pub use conductorone_provider::{
    CLIENT_ID, CLIENT_SECRET, ENV_ACCESS_TOKEN, OIDC_TOKEN, SERVER_URL,
};
use serde_json::{json, Value};

/// Catalog ids of the three integrations, from their declarations.
pub const TWINGATE_CATALOG: &str = Twingate::CATALOG_ID;
pub const TORQ_CATALOG: &str = Torq::CATALOG_ID;
pub const SEGMENT_CATALOG: &str = Segment::CATALOG_ID;
/// Catalog id of a self-hosted connector (Baton).
pub const BATON_CATALOG: &str = Baton::CATALOG_ID;

/// The provider version the filesystem mirror advertises (the workspace version).
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Paths of the binaries every test shares; resolved (and the Terraform version printed) once.
pub struct Bins {
    pub provider: PathBuf,
    pub sim: PathBuf,
    pub terraform: PathBuf,
    pub terraform_version: String,
    /// The platform Terraform runs on, in its own words (for example `darwin_arm64`):
    /// the folder a provider mirror keeps this host's build in.
    pub terraform_platform: String,
}

pub fn bins() -> &'static Bins {
    static BINS: OnceLock<Bins> = OnceLock::new();
    BINS.get_or_init(|| {
        let provider = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-conductorone"));
        let sim = std::env::var_os("C1_SIM_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| provider.with_file_name("c1-sim"));
        if !sim.exists() {
            // `make test` builds the whole workspace first; a bare `cargo test` may not have.
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "c1-sim"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build -p c1-sim");
            assert!(status.success(), "cargo build -p c1-sim failed");
        }
        assert!(
            sim.exists(),
            "simulator binary not found at {}",
            sim.display()
        );
        let terraform = find_terraform();
        let out = Command::new(&terraform)
            .args(["version", "-json"])
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap_or_else(|e| panic!("run {} version: {e}", terraform.display()));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "terraform version -json: {e}: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        let terraform_version = v["terraform_version"].as_str().unwrap_or("?").to_string();
        let terraform_platform = v["platform"]
            .as_str()
            .unwrap_or_else(|| panic!("terraform version -json has no platform: {v}"))
            .to_string();
        // Written to the process's stderr directly so the test runner does not capture it.
        let _ = writeln!(
            std::io::stderr(),
            "acceptance: Terraform {terraform_version} ({}), provider {}, simulator {}",
            terraform.display(),
            provider.display(),
            sim.display()
        );
        Bins {
            provider,
            sim,
            terraform,
            terraform_version,
            terraform_platform,
        }
    })
}

/// `C1_TEST_TERRAFORM` (set by the Makefile), else `terraform` on PATH, else the pinned one
/// that `make tools/bin/terraform` installs.
fn find_terraform() -> PathBuf {
    if let Some(p) = std::env::var_os("C1_TEST_TERRAFORM").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let cand = dir.join("terraform");
            if cand.is_file() {
                return cand;
            }
        }
    }
    let pinned = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/bin/terraform");
    assert!(
        pinned.exists(),
        "no terraform on PATH and {} missing: run `make tools/bin/terraform`",
        pinned.display()
    );
    pinned
}

/// A scratch directory under the system temp dir, removed on drop unless the test failed.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "c1-acc-{}-{}-{n}",
            std::process::id(),
            name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create scratch dir");
        Scratch { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "acceptance: kept {} for inspection",
                self.path.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A folder for what the whole test run shares (the test CA, the release), under Cargo's
/// `target/tmp`. Folders left by earlier runs whose process is gone are removed first.
pub fn run_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let me = std::process::id();
        for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("acceptance-run-") else {
                continue;
            };
            let alive = pid == me.to_string()
                || Command::new("kill")
                    .args(["-0", pid])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = base.join(format!("acceptance-run-{me}"));
        std::fs::create_dir_all(&dir).expect("create the run folder");
        dir
    })
}

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// Credentials minted by the simulator.
#[derive(Clone, Debug)]
pub struct Creds {
    pub client_id: String,
    pub client_secret: String,
    pub user_id: String,
}

/// Options for starting a simulator.
#[derive(Clone, Debug)]
pub struct SimOpts {
    pub apps: Vec<String>,
    pub token_ttl_secs: Option<u64>,
    pub static_token: Option<String>,
    pub sync_delay_ms: u64,
    pub extra: Vec<String>,
}

impl Default for SimOpts {
    fn default() -> Self {
        SimOpts {
            apps: vec!["app1".into(), "app2".into(), "app3".into()],
            token_ttl_secs: None,
            static_token: None,
            sync_delay_ms: 0,
            extra: vec![],
        }
    }
}

/// One entry of the simulator's request log.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub client_id: Option<String>,
    /// How a token request authenticated: `client_credentials` or `token_exchange`.
    pub grant: Option<String>,
}

/// What a logged request did, derived from its method and path (the API's own routes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Token,
    CreateConfigured,
    CreateDelegated,
    Get,
    List,
    UpdateConfig,
    UpdateDelegated,
    Delete,
    /// `POST /api/v1/search/apps`.
    AppSearch,
    AppList,
    AppCreate,
    AppGet,
    AppUpdate,
    AppDelete,
    RotateCredential,
    GetCredential,
    RevokeCredential,
    Other,
}

impl Req {
    pub fn op(&self) -> Op {
        if self.path.starts_with("/auth/v1/token") {
            return Op::Token;
        }
        let segs: Vec<&str> = self
            .path
            .trim_start_matches("/api/v1/")
            .split('/')
            .collect();
        if self.method == "POST" && self.path == "/api/v1/apps/connectors/credentials" {
            return Op::RotateCredential;
        }
        if let Some(op) = self.app_op(&segs) {
            return op;
        }
        if !self.path.starts_with("/api/v1/apps/") || segs.len() < 3 || segs[2] != "connectors" {
            return Op::Other;
        }
        match (self.method.as_str(), &segs[3..]) {
            ("POST", ["create"]) => Op::CreateConfigured,
            ("POST", []) => Op::CreateDelegated,
            ("GET", []) => Op::List,
            ("GET", [_]) => Op::Get,
            ("POST", [_]) => Op::UpdateConfig,
            ("POST", [_, "delegated"]) => Op::UpdateDelegated,
            ("DELETE", [_]) => Op::Delete,
            ("GET", [_, "credentials", _]) => Op::GetCredential,
            ("POST", [_, "credentials", _]) => Op::RevokeCredential,
            _ => Op::Other,
        }
    }

    /// The app operations (`segs`: the path after `/api/v1/`).
    fn app_op(&self, segs: &[&str]) -> Option<Op> {
        if !self.path.starts_with("/api/v1/") {
            return None;
        }
        Some(match (self.method.as_str(), segs) {
            ("POST", ["search", "apps"]) => Op::AppSearch,
            ("GET", ["apps"]) => Op::AppList,
            ("POST", ["apps"]) => Op::AppCreate,
            ("GET", ["apps", _]) => Op::AppGet,
            ("POST", ["apps", _]) => Op::AppUpdate,
            ("DELETE", ["apps", _]) => Op::AppDelete,
            _ => return None,
        })
    }

    /// The app id in a connector path.
    pub fn app(&self) -> Option<&str> {
        self.path
            .strip_prefix("/api/v1/apps/")
            .and_then(|r| r.split('/').next())
    }

    pub fn is_connector_call(&self) -> bool {
        self.path.starts_with("/api/v1/apps/")
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A request log with helpers for counting operations.
#[derive(Clone, Debug)]
pub struct Log(pub Vec<Req>);

impl Log {
    /// Calls of `op`, whatever their answer.
    pub fn count(&self, op: Op) -> usize {
        self.0.iter().filter(|r| r.op() == op).count()
    }
    /// Calls of `op` that succeeded (2xx).
    pub fn ok(&self, op: Op) -> usize {
        self.0.iter().filter(|r| r.op() == op && r.ok()).count()
    }
    pub fn connector_calls(&self) -> usize {
        self.0.iter().filter(|r| r.is_connector_call()).count()
    }
    /// Successful calls that change something (creates, updates, deletes).
    pub fn writes(&self) -> usize {
        use Op::*;
        self.0
            .iter()
            .filter(|r| {
                r.ok()
                    && matches!(
                        r.op(),
                        CreateConfigured
                            | CreateDelegated
                            | UpdateConfig
                            | UpdateDelegated
                            | Delete
                            | AppCreate
                            | AppUpdate
                            | AppDelete
                            | RotateCredential
                            | RevokeCredential
                    )
            })
            .count()
    }
    /// Calls of the C1 API (`/api/`), whatever their answer.
    pub fn api_calls(&self) -> usize {
        self.0
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .count()
    }
    /// The position in the log of the first call of `op`.
    pub fn position(&self, op: Op) -> Option<usize> {
        self.0.iter().position(|r| r.op() == op)
    }
    pub fn with_status(&self, status: u16) -> usize {
        self.0.iter().filter(|r| r.status == status).count()
    }
    /// A compact rendering for assertion messages.
    pub fn summary(&self) -> String {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.0 {
            *m.entry(format!("{:?} {}", r.op(), r.status)).or_default() += 1;
        }
        format!("{m:?}")
    }
}

/// A running simulator, killed on drop.
pub struct Sim {
    child: Child,
    pub url: String,
    pub dir: Scratch,
    http: reqwest::Client,
}

impl Sim {
    pub fn start(name: &str) -> Sim {
        Sim::start_with(name, SimOpts::default())
    }

    pub fn start_with(name: &str, opts: SimOpts) -> Sim {
        let b = bins();
        let dir = Scratch::new(&format!("sim-{name}"));
        let addr_file = dir.path.join("addr");
        let clients = dir.path.join("clients.json");
        let mut cmd = Command::new(&b.sim);
        cmd.arg("serve")
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .arg("--addr-file")
            .arg(&addr_file)
            .arg("--clients")
            .arg(&clients)
            .args(["--sync-delay-ms", &opts.sync_delay_ms.to_string()]);
        if !opts.apps.is_empty() {
            cmd.args(["--seed-apps", &opts.apps.join(",")]);
        }
        if let Some(ttl) = opts.token_ttl_secs {
            cmd.args(["--token-ttl", &ttl.to_string()]);
        }
        if let Some(tok) = &opts.static_token {
            cmd.args(["--static-token", tok]);
        }
        cmd.args(&opts.extra);
        let log = std::fs::File::create(dir.path.join("sim.log")).expect("sim log");
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", b.sim.display()));
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = loop {
            if let Ok(s) = std::fs::read_to_string(&addr_file) {
                let s = s.trim();
                if !s.is_empty() {
                    break s.trim_end_matches('/').to_string();
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.path.join("sim.log")).unwrap_or_default();
                panic!("simulator exited early ({status}):\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "simulator did not write its address file within 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        Sim {
            child,
            url,
            dir,
            http,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.url, path);
        let req = self.http.request(method.clone(), &url);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        runtime().block_on(async move {
            let resp = req
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            assert!(
                status.is_success(),
                "{method} {url} answered {status}: {text}"
            );
            if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{method} {url}: not JSON ({e}): {text}"))
            }
        })
    }

    pub fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None)
    }
    pub fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    /// Mint a fresh client (POST /_sim/clients).
    pub fn mint(&self) -> Creds {
        let v = self.post("/_sim/clients", json!({"name": "acceptance"}));
        let s = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("mint: no {k} in {v}"))
                .to_string()
        };
        Creds {
            client_id: s("client_id"),
            client_secret: s("client_secret"),
            user_id: v["user_id"].as_str().unwrap_or_default().to_string(),
        }
    }

    pub fn requests(&self) -> Log {
        let v = self.get("/_sim/requests");
        let arr = v
            .as_array()
            .cloned()
            .or_else(|| v["requests"].as_array().cloned())
            .unwrap_or_else(|| panic!("request log is not a list: {v}"));
        Log(arr
            .iter()
            .map(|r| Req {
                method: r["method"].as_str().unwrap_or_default().to_string(),
                path: r["path"].as_str().unwrap_or_default().to_string(),
                status: r["status"].as_u64().unwrap_or_default() as u16,
                client_id: r["client_id"].as_str().map(str::to_string),
                grant: r["grant"].as_str().map(str::to_string),
            })
            .collect())
    }

    /// Trusts the OIDC `issuer`'s test key for tokens with `audience` (POST /_sim/oidc/issuers).
    pub fn trust_oidc_issuer(&self, issuer: &str, audience: &str) {
        self.post(
            "/_sim/oidc/issuers",
            json!({"issuer": issuer, "audience": audience}),
        );
    }

    pub fn clear_requests(&self) {
        self.call(reqwest::Method::DELETE, "/_sim/requests", None);
    }

    /// Take the request log and clear it.
    pub fn take_requests(&self) -> Log {
        let log = self.requests();
        self.clear_requests();
        log
    }

    pub fn state(&self) -> Value {
        self.get("/_sim/state")
    }

    /// Every live connector (not deleted), flattened from `/_sim/state`.
    pub fn connectors(&self) -> Vec<Value> {
        let st = self.state();
        let mut out = vec![];
        collect_connectors(&st, &mut out);
        out.retain(|c| {
            c.get("deletedAt").map(|d| d.is_null()).unwrap_or(true)
                && c.get("deleted_at").map(|d| d.is_null()).unwrap_or(true)
        });
        out
    }

    pub fn connector(&self, id: &str) -> Option<Value> {
        self.connectors().into_iter().find(|c| c["id"] == id)
    }

    pub fn set_faults(&self, faults: Value) {
        self.call(reqwest::Method::PUT, "/_sim/faults", Some(faults));
    }
    pub fn clear_faults(&self) {
        self.call(reqwest::Method::DELETE, "/_sim/faults", None);
    }
    pub fn expire_tokens(&self) {
        self.post("/_sim/tokens/expire", json!({}));
    }
    pub fn delete_connector(&self, app: &str, id: &str) {
        self.call(
            reqwest::Method::DELETE,
            &format!("/_sim/apps/{app}/connectors/{id}"),
            None,
        );
    }
    /// Starts deleting a connector as C1 does: it reads back with `deletedAt` set.
    pub fn soft_delete_connector(&self, app: &str, id: &str) {
        self.call(
            reqwest::Method::DELETE,
            &format!("/_sim/apps/{app}/connectors/{id}?soft=true"),
            None,
        );
    }
    pub fn patch_connector(&self, app: &str, id: &str, body: Value) {
        self.call(
            reqwest::Method::PATCH,
            &format!("/_sim/apps/{app}/connectors/{id}"),
            Some(body),
        );
    }
    /// Creates an app out of band (`POST /_sim/apps`, e.g. `{"displayName": "Torq",
    /// "isManuallyManaged": false}` for one discovered through SSO); returns it.
    pub fn create_app(&self, body: Value) -> Value {
        self.post("/_sim/apps", body)
    }
    /// Deletes an app and its connectors out of band.
    pub fn delete_app(&self, id: &str) {
        self.call(reqwest::Method::DELETE, &format!("/_sim/apps/{id}"), None);
    }
    /// Changes an app out of band (`displayName`, `description`).
    pub fn patch_app(&self, id: &str, body: Value) {
        self.call(
            reqwest::Method::PATCH,
            &format!("/_sim/apps/{id}"),
            Some(body),
        );
    }
    /// Every app C1 holds.
    pub fn apps(&self) -> Vec<Value> {
        self.state()["apps"].as_array().cloned().unwrap_or_default()
    }
    pub fn app(&self, id: &str) -> Option<Value> {
        self.apps().into_iter().find(|a| a["id"] == id)
    }
    /// Connector credentials C1 still accepts (not revoked, not expired), from `/_sim/state`.
    pub fn live_credentials(&self) -> Vec<Value> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let state = self.state();
        state["credentials"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c["deletedAt"].is_null())
            .filter(|c| {
                c["expiresTime"]
                    .as_str()
                    .is_none_or(|at| at > rfc3339_utc(now).as_str())
            })
            .collect()
    }
    /// Revokes a connector credential out of band, as a person would in the C1 UI.
    pub fn revoke_credential(&self, app: &str, connector: &str, id: &str) {
        self.call(
            reqwest::Method::DELETE,
            &format!("/_sim/apps/{app}/connectors/{connector}/credentials/{id}"),
            None,
        );
    }
    /// Lets a connector credential expire now.
    pub fn expire_credential(&self, app: &str, connector: &str, id: &str) {
        self.post(
            &format!("/_sim/apps/{app}/connectors/{connector}/credentials/{id}/expire"),
            json!({}),
        );
    }
    /// What a self-hosted connector does on start: a token request signed with its connector
    /// credential. Returns the HTTP status.
    pub fn connector_authenticates(&self, client_id: &str, client_secret: &str) -> u16 {
        use c1_contract::{client_secret, jws, token_endpoint};
        let key = client_secret::decode(client_secret).expect("a C1 client secret");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let mut header = serde_json::Map::new();
        header.insert("nonce".into(), json!(format!("n{now}")));
        let claims = token_endpoint::assertion_claims(client_id, "127.0.0.1", now);
        let assertion = jws::sign(header, &claims, &key);
        let url = format!("{}{}", self.url, token_endpoint::PATH);
        let form = [
            ("grant_type", token_endpoint::GRANT_CLIENT_CREDENTIALS),
            ("client_id", client_id),
            (
                "client_assertion_type",
                token_endpoint::ASSERTION_TYPE_JWT_BEARER,
            ),
            ("client_assertion", assertion.as_str()),
        ];
        let request = self.http.post(&url).form(&form);
        runtime().block_on(async move {
            request
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST {url}: {e}"))
                .status()
                .as_u16()
        })
    }
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path.join("sim.log")).unwrap_or_default()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "acceptance: simulator log:\n{}",
                tail(&self.log_text(), 4000)
            );
        }
    }
}

/// Connectors found anywhere in the simulator's state document: objects with `id` and
/// `catalogId` (the state groups them under apps; the exact nesting is the sim's choice).
fn collect_connectors(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("catalogId") && m.contains_key("id") {
                out.push(v.clone());
                return;
            }
            for x in m.values() {
                collect_connectors(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_connectors(x, out)),
        _ => {}
    }
}

/// `2026-11-23T21:54:00Z` for unix seconds (as the simulator writes timestamps).
fn rfc3339_utc(secs: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(secs as i64).expect("a time");
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .expect("formats")
}

/// A connector setting's value as the sim shows it (`config.configuration.<key>.stringValue`,
/// or a flat `settings` map).
pub fn setting(c: &Value, key: &str) -> Option<String> {
    let cfg = &c["config"]["configuration"][key];
    if let Some(s) = cfg["stringValue"].as_str() {
        return Some(s.to_string());
    }
    if let Some(s) = cfg.as_str() {
        return Some(s.to_string());
    }
    c["settings"][key].as_str().map(str::to_string)
}

pub fn user_ids(c: &Value) -> Vec<String> {
    c["userIds"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn tail(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut start = s.len() - n;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// The result of one Terraform command.
#[derive(Debug, Clone)]
pub struct Out {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Assert the exit code, showing everything Terraform printed when it differs.
    #[track_caller]
    pub fn code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code,
            want,
            "terraform {} exited {} (want {want})\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.code,
            tail(&self.stdout, 12000),
            tail(&self.stderr, 12000)
        );
        self
    }

    #[track_caller]
    pub fn contains(&self, needle: &str) -> &Self {
        assert!(
            self.all().contains(needle),
            "terraform {}: output lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            tail(&self.stdout, 12000),
            tail(&self.stderr, 12000)
        );
        self
    }

    /// Like [`Out::contains`], with every run of white space taken as one space on both sides:
    /// Terraform wraps diagnostics at its own width.
    #[track_caller]
    pub fn says(&self, text: &str) -> &Self {
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words(&self.all()).contains(&words(text)),
            "terraform {}: output does not say {text:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            tail(&self.stdout, 12000),
            tail(&self.stderr, 12000)
        );
        self
    }

    #[track_caller]
    pub fn lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.all().contains(needle),
            "terraform {}: output contains {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            tail(&self.stdout, 12000),
            tail(&self.stderr, 12000)
        );
        self
    }
}

/// How the CLI finds the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Install {
    /// `dev_overrides` pointing at the freshly built binary; no `terraform init`.
    DevOverrides,
    /// A filesystem mirror laid out like a registry, installed by `terraform init`.
    FilesystemMirror,
}

/// A Terraform working directory with its own CLI config and environment.
pub struct Tf {
    pub dir: Scratch,
    env: Vec<(String, String)>,
}

impl Tf {
    /// A working directory whose provider talks to `sim` with `creds` through the
    /// `CONDUCTORONE_*` environment variables.
    pub fn new(name: &str, sim: &Sim, creds: &Creds) -> Tf {
        let mut tf = Tf::bare(name, Install::DevOverrides);
        tf.set_env(SERVER_URL.env, &sim.url);
        tf.set_env(CLIENT_ID.env, &creds.client_id);
        tf.set_env(CLIENT_SECRET.env, &creds.client_secret);
        tf
    }

    /// A working directory whose provider talks to `sim` with `creds` and whose CLI
    /// configuration is `cli_config` (a test's own `provider_installation` or `host` blocks).
    pub fn with_cli_config(name: &str, sim: &Sim, creds: &Creds, cli_config: &str) -> Tf {
        let tf = Tf::new(name, sim, creds);
        tf.set_cli_config(cli_config);
        tf
    }

    /// Replaces the CLI configuration file (`TF_CLI_CONFIG_FILE`) with `text`.
    pub fn set_cli_config(&self, text: &str) {
        std::fs::write(self.dir.path.join("cli.tfrc"), text).expect("write cli config");
    }

    /// A working directory with no provider credentials in its environment.
    pub fn bare(name: &str, install: Install) -> Tf {
        let b = bins();
        let dir = Scratch::new(&format!("tf-{name}"));
        let provider_dir = b.provider.parent().expect("provider dir");
        let cli_config = match install {
            Install::DevOverrides => format!(
                "provider_installation {{\n  dev_overrides {{\n    \"conductorone/conductorone\" = {}\n  }}\n  direct {{}}\n}}\n",
                hcl_str(&provider_dir.to_string_lossy())
            ),
            Install::FilesystemMirror => {
                let mirror = dir.path.join("mirror");
                let pkg = mirror.join(format!(
                    "registry.terraform.io/conductorone/conductorone/{PROVIDER_VERSION}/{}",
                    b.terraform_platform
                ));
                std::fs::create_dir_all(&pkg).expect("mirror dir");
                let dest = pkg.join(format!(
                    "terraform-provider-conductorone_v{PROVIDER_VERSION}{}",
                    std::env::consts::EXE_SUFFIX
                ));
                std::fs::copy(&b.provider, &dest).expect("copy provider into mirror");
                format!(
                    "provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"registry.terraform.io/conductorone/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/conductorone/*\"]\n  }}\n}}\n",
                    hcl_str(&mirror.to_string_lossy())
                )
            }
        };
        let cfg_path = dir.path.join("cli.tfrc");
        std::fs::write(&cfg_path, cli_config).expect("write cli config");
        let mut tf = Tf { dir, env: vec![] };
        tf.set_env("TF_CLI_CONFIG_FILE", &cfg_path.to_string_lossy());
        tf.set_env("TF_IN_AUTOMATION", "1");
        tf.set_env("CHECKPOINT_DISABLE", "1");
        tf.set_env("TF_INPUT", "0");
        tf
    }

    pub fn set_env(&mut self, k: &str, v: &str) {
        self.env.retain(|(kk, _)| kk != k);
        self.env.push((k.to_string(), v.to_string()));
    }

    pub fn remove_env(&mut self, k: &str) {
        self.env.retain(|(kk, _)| kk != k);
    }

    pub fn path(&self) -> &Path {
        &self.dir.path
    }

    /// Write `main.tf` (the provider block is added unless the text has one).
    pub fn write_main(&self, hcl: &str) {
        self.write("main.tf", hcl);
    }

    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path.join(file), text).expect("write tf file");
    }

    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.path.join(file))
            .unwrap_or_else(|e| panic!("read {file}: {e}"))
    }

    /// Run `terraform <args>` in this directory; never panics on a non-zero exit. A command
    /// still running after `TF_COMMAND_TIMEOUT` is killed and the test fails with its output.
    pub fn run(&self, args: &[&str]) -> Out {
        self.spawn(args, false).wait()
    }

    /// Start `terraform <args>` in this directory without waiting for it; with `own_group` it
    /// leads a process group of its own (with the provider it starts), as a terminal's
    /// foreground job does, so that [`Running::signal_group`] can reach them all.
    pub fn spawn(&self, args: &[&str], own_group: bool) -> Running {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let b = bins();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let out_path = self.dir.path.join(format!(".tf-{n}.stdout"));
        let err_path = self.dir.path.join(format!(".tf-{n}.stderr"));
        let mut cmd = Command::new(&b.terraform);
        cmd.args(args)
            .current_dir(&self.dir.path)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).expect("stdout file"))
            .stderr(std::fs::File::create(&err_path).expect("stderr file"));
        #[cfg(unix)]
        if own_group {
            use std::os::unix::process::CommandExt as _;
            cmd.process_group(0);
        }
        #[cfg(not(unix))]
        let _ = own_group;
        // Nothing from the developer's shell leaks in: no TF_* or CONDUCTORONE_* but ours.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("TF_") || k.starts_with("CONDUCTORONE_") {
                cmd.env_remove(k.as_ref());
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("run {}: {e}", b.terraform.display()));
        Running {
            child,
            args: args.iter().map(|s| s.to_string()).collect(),
            out_path,
            err_path,
        }
    }

    pub fn init(&self) -> Out {
        self.run(&["init", "-input=false", "-no-color"])
    }

    pub fn apply(&self) -> Out {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn apply_args(&self, extra: &[&str]) -> Out {
        let mut args = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `plan -detailed-exitcode`: 0 no changes, 1 error, 2 changes.
    pub fn plan(&self) -> Out {
        self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
    }

    pub fn destroy(&self) -> Out {
        self.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform show -json` of the state.
    pub fn state_json(&self) -> Value {
        let out = self.run(&["show", "-json", "-no-color"]);
        out.code(0);
        serde_json::from_str(&out.stdout).expect("show -json")
    }

    /// Every managed resource instance in the state: (address, values).
    pub fn resources(&self) -> Vec<(String, Value)> {
        let st = self.state_json();
        let mut out = vec![];
        if let Some(rs) = st["values"]["root_module"]["resources"].as_array() {
            for r in rs {
                out.push((
                    r["address"].as_str().unwrap_or_default().to_string(),
                    r["values"].clone(),
                ));
            }
        }
        out
    }

    /// `plan -out` then `show -json` of that plan; panics unless the plan succeeds.
    pub fn plan_json(&self, extra: &[&str]) -> (Out, Value) {
        let mut args = vec!["plan", "-input=false", "-no-color", "-out=tfplan"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        out.code(0);
        let show = self.run(&["show", "-json", "-no-color", "tfplan"]);
        show.code(0);
        let v = serde_json::from_str(&show.stdout).expect("plan json");
        (out, v)
    }

    /// The state values of one resource address.
    pub fn resource(&self, address: &str) -> Value {
        self.resources()
            .into_iter()
            .find(|(a, _)| a == address)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("{address} not in state"))
    }
}

/// A Terraform command under way (see [`Tf::spawn`]).
pub struct Running {
    child: Child,
    args: Vec<String>,
    out_path: PathBuf,
    err_path: PathBuf,
}

impl Running {
    /// Sends `signal` (e.g. `libc::SIGINT`) to the terraform process only.
    #[cfg(unix)]
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
        let sent = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(sent, 0, "kill({}, {signal})", self.child.id());
    }

    /// Sends `signal` to terraform's whole process group (terraform and the provider it
    /// started), as a Ctrl-C in a terminal does. Needs `own_group` in [`Tf::spawn`].
    #[cfg(unix)]
    pub fn signal_group(&self, signal: i32) {
        // SAFETY: kill(2) on the process group our child leads (spawned with process_group(0)).
        let sent = unsafe { libc::kill(-(self.child.id() as i32), signal) };
        assert_eq!(sent, 0, "kill(-{}, {signal})", self.child.id());
    }

    /// Waits for terraform (killing it after `TF_COMMAND_TIMEOUT`, which fails the test) and
    /// returns what it printed.
    pub fn wait(mut self) -> Out {
        const TF_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);
        let deadline = Instant::now() + TF_COMMAND_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for terraform") {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        let read = |p: &Path| {
            let text = String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
            let _ = std::fs::remove_file(p);
            text
        };
        let out = Out {
            args: self.args.clone(),
            code: status.and_then(|s| s.code()).unwrap_or(-1),
            stdout: read(&self.out_path),
            stderr: read(&self.err_path),
        };
        assert!(
            status.is_some(),
            "terraform {} still running after {TF_COMMAND_TIMEOUT:?}: killed\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            tail(&out.stdout, 12000),
            tail(&out.stderr, 12000)
        );
        out
    }
}

/// An HCL string literal.
pub fn hcl_str(s: &str) -> String {
    serde_json::to_string(s).expect("string literal")
}

/// An HCL list of strings.
pub fn hcl_list(items: &[&str]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| hcl_str(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The three integrations, for tests that run over each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Twingate,
    Torq,
    Segment,
    /// A self-hosted connector: no settings.
    Baton,
}

impl Kind {
    pub fn resource_type(self) -> &'static str {
        match self {
            Kind::Twingate => "conductorone_integration_twingate",
            Kind::Torq => "conductorone_integration_torq",
            Kind::Segment => "conductorone_integration_segment",
            Kind::Baton => "conductorone_integration_baton",
        }
    }
    pub fn catalog_id(self) -> &'static str {
        match self {
            Kind::Twingate => TWINGATE_CATALOG,
            Kind::Torq => TORQ_CATALOG,
            Kind::Segment => SEGMENT_CATALOG,
            Kind::Baton => BATON_CATALOG,
        }
    }
    /// Realistic settings: (attribute, value, secret?).
    pub fn settings(self, variant: u8) -> Vec<(&'static str, String, bool)> {
        match self {
            Kind::Twingate => vec![
                (
                    "twingate_apikey",
                    format!("tg-api-key-{variant}-SECRETVALUE"),
                    true,
                ),
                (
                    "twingate_domain",
                    if variant == 0 {
                        "acme".to_string()
                    } else {
                        format!("acme-{variant}")
                    },
                    false,
                ),
            ],
            Kind::Torq => vec![
                ("torq_client_id", format!("torq-client-{variant}"), false),
                (
                    "torq_client_secret",
                    format!("torq-secret-{variant}-SECRETVALUE"),
                    true,
                ),
            ],
            Kind::Segment => vec![(
                "segment_access_token",
                format!("sgmt-token-{variant}-SECRETVALUE"),
                true,
            )],
            Kind::Baton => vec![],
        }
    }
}

/// A resource block. `settings` are (attribute, value) pairs; `user_ids` None leaves them unset.
pub fn resource_block(
    kind: Kind,
    name: &str,
    app_id: &str,
    user_ids: Option<&[&str]>,
    settings: &[(&str, String)],
) -> String {
    let mut s = format!(
        "resource \"{}\" \"{name}\" {{\n  app_id = {}\n",
        kind.resource_type(),
        hcl_str(app_id)
    );
    if let Some(u) = user_ids {
        s.push_str(&format!("  user_ids = {}\n", hcl_list(u)));
    }
    for (k, v) in settings {
        s.push_str(&format!("  {k} = {}\n", hcl_str(v)));
    }
    s.push_str("}\n");
    s
}

/// `resource` (a block from [`resource_block`]) with `inner` (e.g. a `timeouts { .. }` block)
/// added before its closing brace.
pub fn with_inner(resource: &str, inner: &str) -> String {
    let body = resource
        .strip_suffix("}\n")
        .expect("a block from resource_block");
    format!("{body}  {inner}\n}}\n")
}

/// `settings(variant)` without the secret flag.
pub fn kv(kind: Kind, variant: u8) -> Vec<(&'static str, String)> {
    kind.settings(variant)
        .into_iter()
        .map(|(k, v, _)| (k, v))
        .collect()
}

/// The `terraform { required_providers }` block users write.
pub fn required_providers() -> String {
    required_providers_from("conductorone/conductorone")
}

/// The `required_providers` block for this provider under another source address.
pub fn required_providers_from(source: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    conductorone = {{\n      source  = {}\n      version = \"{PROVIDER_VERSION}\"\n    }}\n  }}\n}}\n",
        hcl_str(source)
    )
}

/// The registry namespace the provider is published under (`<namespace>/conductorone`): the
/// Makefile's `REGISTRY_NAMESPACE`, which `make` exports; under a bare `cargo test`, its default.
pub fn registry_namespace() -> String {
    if let Some(ns) = std::env::var("REGISTRY_NAMESPACE")
        .ok()
        .filter(|s| !s.is_empty())
    {
        return ns;
    }
    let makefile = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Makefile"))
        .expect("read the Makefile");
    makefile
        .lines()
        .find_map(|l| l.strip_prefix("REGISTRY_NAMESPACE ?="))
        .map(|v| v.trim().to_string())
        .expect("the Makefile sets REGISTRY_NAMESPACE ?= <namespace>")
}

/// A whole configuration: the `required_providers` block followed by `body`.
pub fn config(body: &str) -> String {
    format!("{}\n{body}", required_providers())
}

/// An OIDC token as a CI system issues it, minted by `c1-sim oidc-token` with the issuer's test
/// key; `expires_in` seconds from now (negative: already expired).
pub fn oidc_token(issuer: &str, audience: &str, subject: &str, expires_in: i64) -> String {
    let out = Command::new(&bins().sim)
        .args(["oidc-token", "--issuer", issuer, "--audience", audience])
        .args(["--subject", subject])
        .arg(format!("--expires-in={expires_in}"))
        .output()
        .expect("run c1-sim oidc-token");
    assert!(
        out.status.success(),
        "c1-sim oidc-token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("a token")
        .trim()
        .to_string()
}

/// Assert that no secret in `secrets` appears in `text` (names `what` on failure, never the value).
#[track_caller]
pub fn assert_no_secrets(what: &str, text: &str, secrets: &[&str]) {
    for (i, s) in secrets.iter().enumerate() {
        assert!(!s.is_empty());
        if let Some(pos) = text.find(s) {
            let start = pos.saturating_sub(200);
            let ctx = text[..pos].get(start..).unwrap_or_default();
            panic!("secret #{i} appears in {what} after: {ctx:?}");
        }
    }
}

/// For each resource change in a JSON plan: (address, actions, attributes whose planned value
/// is known and differs from the prior one, whether it is an import). Computed attributes that
/// become unknown (`updated_at` on an update) are not counted: they are not the user's to set.
pub fn plan_changes(plan: &Value) -> Vec<(String, Vec<String>, Vec<String>, bool)> {
    let mut out = vec![];
    for rc in plan["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let ch = &rc["change"];
        let actions: Vec<String> = ch["actions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let before = ch["before"].as_object().cloned().unwrap_or_default();
        let after = ch["after"].as_object().cloned().unwrap_or_default();
        let unknown = ch["after_unknown"].as_object().cloned().unwrap_or_default();
        let mut keys: Vec<String> = before.keys().chain(after.keys()).cloned().collect();
        keys.sort();
        keys.dedup();
        let changed = keys
            .into_iter()
            .filter(|k| {
                let is_unknown = unknown.get(k) == Some(&Value::Bool(true));
                !is_unknown && before.get(k) != after.get(k)
            })
            .collect();
        out.push((
            rc["address"].as_str().unwrap_or_default().to_string(),
            actions,
            changed,
            !ch["importing"].is_null(),
        ));
    }
    out
}
