//! Provider logging: `tracing` to stderr in the JSON line format Terraform's plugin log reader understands.
//!
//! Terraform (go-plugin) reads the provider's stderr and parses every line that is a JSON object
//! in go-hclog's format: `@level`, `@message`, `@timestamp`, `@module` and the remaining keys as
//! key/value pairs. [`init`] installs that format as the global subscriber, with the level taken
//! from `TF_LOG_PROVIDER` / `TF_LOG`. `tf-provider` would install its own global subscriber when
//! `PLUGIN_LOG_FILE` is set (which panics after ours), so `init` takes that variable over: it
//! removes it from the environment and writes a plain-text trace log to that file itself. The
//! subscriber also carries the stop layer of `src/stop.rs` (StopProvider detection).

use std::io::Write as _;
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::{Map, Value};
use time::macros::format_description;
use time::OffsetDateTime;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer;

use crate::stop::{self, StopProviderLayer};

/// `@module` of our own events.
pub const MODULE: &str = "provider.terraform-provider-conductorone";

/// Crates whose events are ours (all get `@module` = [`MODULE`]).
const OWN_TARGETS: &[&str] = &[
    "conductorone_provider",
    "terraform_provider_conductorone",
    "c1_client",
];

/// Chatty transport crates are capped at INFO even when TF_LOG asks for DEBUG/TRACE.
const NOISY_TARGETS: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "rustls",
    "tonic",
    "tower",
    "tower_http",
    "reqwest",
];

/// The level for stderr from `TF_LOG_PROVIDER` (first) or `TF_LOG`: TRACE, DEBUG, INFO, WARN,
/// ERROR, JSON (= TRACE), case-insensitive. Unset, empty, OFF or unknown: WARN.
pub fn level_from_env(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> LevelFilter {
    let value = [tf_log_provider, tf_log]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|v| !v.is_empty());
    match value.map(str::to_ascii_uppercase).as_deref() {
        Some("TRACE") | Some("JSON") => LevelFilter::TRACE,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some("INFO") => LevelFilter::INFO,
        Some("WARN") => LevelFilter::WARN,
        Some("ERROR") => LevelFilter::ERROR,
        _ => LevelFilter::WARN,
    }
}

/// The filter used for stderr at `level`.
pub fn stderr_filter(level: LevelFilter) -> Targets {
    let noisy = level.min(LevelFilter::INFO);
    NOISY_TARGETS
        .iter()
        .fold(Targets::new().with_default(level), |t, name| {
            t.with_target(*name, noisy)
        })
}

/// Installs the global subscriber. Call first thing in `main`, before the tokio runtime starts
/// (it edits the process environment).
pub fn init() {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    let log_file = std::env::var_os("PLUGIN_LOG_FILE");
    if log_file.is_some() {
        // tf-provider's serve() would otherwise install a second global subscriber and panic.
        std::env::remove_var("PLUGIN_LOG_FILE");
    }
    let file_layer = log_file.and_then(|path| match std::fs::File::create(&path) {
        Ok(file) => Some(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Mutex::new(file))
                .with_filter(LevelFilter::TRACE),
        ),
        Err(e) => {
            eprintln!(
                "cannot open PLUGIN_LOG_FILE {}: {e}",
                path.to_string_lossy()
            );
            None
        }
    });
    let stderr_layer = HclogJsonLayer::new(std::io::stderr).with_filter(stderr_filter(level));
    // Not logging: it watches tf-provider's request spans for StopProvider (src/stop.rs), with a
    // filter of its own so that it sees them whatever TF_LOG says.
    let stop_layer =
        StopProviderLayer::new(stop::process_signal()).with_filter(StopProviderLayer::filter());
    // A second init (e.g. in tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer)
        .with(stop_layer)
        .try_init();
}

/// A `tracing` layer writing one go-hclog JSON object per event.
pub struct HclogJsonLayer<W> {
    make_writer: W,
}

impl<W> HclogJsonLayer<W>
where
    W: for<'a> MakeWriter<'a> + 'static,
{
    pub fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

impl<S, W> Layer<S> for HclogJsonLayer<W>
where
    S: Subscriber,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut line = render_event(event, SystemTime::now());
        line.push('\n');
        // One write per line so concurrent events never interleave within a line.
        let _ = self.make_writer.make_writer().write_all(line.as_bytes());
    }
}

/// The JSON line (without newline) for an event.
pub fn render_event(event: &Event<'_>, now: SystemTime) -> String {
    let meta = event.metadata();
    let mut fields = FieldMap::default();
    event.record(&mut fields);
    let mut obj = Map::new();
    obj.insert("@level".into(), Value::from(level_name(*meta.level())));
    obj.insert(
        "@message".into(),
        Value::from(fields.message.take().unwrap_or_default()),
    );
    obj.insert("@timestamp".into(), Value::from(rfc3339_micros(now)));
    obj.insert("@module".into(), Value::from(module_for(meta.target())));
    for (k, v) in fields.values {
        if !k.starts_with('@') && !k.starts_with("log.") {
            obj.insert(k, v);
        }
    }
    Value::Object(obj).to_string()
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// `@module` for a tracing target: ours -> [`MODULE`], others -> `MODULE.<crate>`.
pub fn module_for(target: &str) -> String {
    let krate = target.split("::").next().unwrap_or(target);
    if OWN_TARGETS.contains(&krate) {
        MODULE.to_string()
    } else {
        format!("{MODULE}.{krate}")
    }
}

/// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` (UTC, microseconds), as go-hclog writes it.
pub fn rfc3339_micros(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        ))
        .unwrap_or_default()
}

/// Collects an event's fields as JSON values; `message` is kept apart.
#[derive(Default)]
struct FieldMap {
    message: Option<String>,
    values: Vec<(String, Value)>,
}

impl FieldMap {
    fn put(&mut self, field: &Field, v: Value) {
        if field.name() == "message" {
            self.message = Some(match v {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.values.push((field.name().to_string(), v));
        }
    }
}

impl Visit for FieldMap {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    fn capture(level: LevelFilter, f: impl FnOnce()) -> Vec<Value> {
        let buf = Buf::default();
        let sub = tracing_subscriber::registry()
            .with(HclogJsonLayer::new(buf.clone()).with_filter(stderr_filter(level)));
        tracing::subscriber::with_default(sub, f);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect()
    }

    #[test]
    fn event_renders_as_hclog_json_line() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::debug!(
                method = "GET",
                path = "/api/v1/apps/a/connectors",
                status = 200u16,
                attempt = 1u32,
                duration_ms = 12u64,
                ok = true,
                "C1 API call"
            );
        });
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        assert_eq!(l["@level"], "debug");
        assert_eq!(l["@message"], "C1 API call");
        assert_eq!(l["@module"], MODULE);
        assert_eq!(l["method"], "GET");
        assert_eq!(l["path"], "/api/v1/apps/a/connectors");
        assert_eq!(l["status"], 200);
        assert_eq!(l["attempt"], 1);
        assert_eq!(l["duration_ms"], 12);
        assert_eq!(l["ok"], true);
        let ts = l["@timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), "2024-01-01T00:00:00.000000Z".len(), "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.');
    }

    #[test]
    fn levels_and_filtering() {
        let lines = capture(LevelFilter::WARN, || {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!(reason = "HTTP 503", "w");
            tracing::error!("e");
        });
        let levels: Vec<_> = lines
            .iter()
            .map(|l| l["@level"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(levels, ["warn", "error"]);
        assert_eq!(lines[0]["reason"], "HTTP 503");
    }

    #[test]
    fn foreign_targets_get_a_sub_module_and_noisy_ones_are_capped() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::debug!(target: "h2::codec", "frame");
            tracing::info!(target: "tonic::transport", "serving");
            tracing::debug!(target: "c1_client::client", "ours");
        });
        let mods: Vec<_> = lines
            .iter()
            .map(|l| l["@module"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(mods, [format!("{MODULE}.tonic"), MODULE.to_string()]);
    }

    #[test]
    fn init_takes_over_plugin_log_file() {
        let path = std::env::temp_dir().join(format!("c1-plugin-log-{}.txt", std::process::id()));
        std::env::set_var("PLUGIN_LOG_FILE", &path);
        init();
        assert!(
            std::env::var_os("PLUGIN_LOG_FILE").is_none(),
            "tf-provider must not see it"
        );
        assert!(path.exists(), "init creates the plugin log file");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn level_selection() {
        use LevelFilter as L;
        assert_eq!(level_from_env(None, None), L::WARN);
        assert_eq!(level_from_env(None, Some("trace")), L::TRACE);
        assert_eq!(level_from_env(None, Some("JSON")), L::TRACE);
        assert_eq!(level_from_env(None, Some("Debug")), L::DEBUG);
        assert_eq!(level_from_env(None, Some("INFO")), L::INFO);
        assert_eq!(level_from_env(None, Some("error")), L::ERROR);
        assert_eq!(level_from_env(None, Some("off")), L::WARN);
        assert_eq!(level_from_env(None, Some("nonsense")), L::WARN);
        assert_eq!(level_from_env(Some("DEBUG"), Some("ERROR")), L::DEBUG);
        assert_eq!(level_from_env(Some(""), Some("INFO")), L::INFO);
        assert_eq!(level_from_env(Some(" warn "), Some("TRACE")), L::WARN);
    }

    #[test]
    fn timestamps_are_rfc3339_micros_utc() {
        assert_eq!(rfc3339_micros(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_micros(1_709_210_096_123_456); // 2024-02-29 leap day
        assert_eq!(rfc3339_micros(t), "2024-02-29T12:34:56.123456Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_798_761_599); // 2026-12-31T23:59:59Z
        assert_eq!(rfc3339_micros(t), "2026-12-31T23:59:59.000000Z");
    }
}
