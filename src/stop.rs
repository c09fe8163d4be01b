//! Stopping at once when Terraform asks: the provider-wide stop signal, cancelled when Terraform
//! sends the StopProvider RPC (Ctrl-C on `terraform apply`) or the process gets SIGINT/SIGTERM.
//!
//! `tf-provider` 0.2.2 answers StopProvider itself (it cancels a token of its own and starts a
//! graceful shutdown of its server) and never tells the provider, so retries and waits would run
//! on until their budget ends. Its gRPC server is wrapped in tower-http's
//! `TraceLayer::new_for_grpc()`, whose `DefaultMakeSpan` opens a DEBUG span named `request` with
//! the RPC's `uri` for every call. [`StopProviderLayer`] is a tracing layer (with its own filter,
//! so it sees those spans whatever `TF_LOG` says) that watches for the StopProvider URI and
//! cancels the signal. See `contributing/design.md` ("Time budgets and interrupts") and the
//! upstream report `contributing/upstream/tf-provider-stop-provider.md`.
//!
//! Signals: a Ctrl-C in a terminal reaches the whole process group, the provider included.
//! Terraform's own plugins do not die on it, nor does this one: [`watch_signals`] catches SIGINT
//! and SIGTERM, cancels the signal and keeps serving, so Terraform receives the operations'
//! "interrupted" errors and shuts the provider down itself.

use std::fmt;
use std::sync::{LazyLock, OnceLock};

use c1_client::CancellationToken;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Filter, Layer};

/// The target of tower-http's request spans (the module its `DefaultMakeSpan` lives in).
const REQUEST_SPAN_TARGET: &str = "tower_http::trace::make_span";
/// The name of those spans.
const REQUEST_SPAN_NAME: &str = "request";
/// How the StopProvider RPC's URI ends (protocol 6, the one tf-provider speaks).
const STOP_PROVIDER_PATH: &str = "/tfplugin6.Provider/StopProvider";

/// Why the provider stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Terraform sent StopProvider (e.g. Ctrl-C on `terraform apply`).
    StopProvider,
    /// The process received this signal.
    Signal(&'static str),
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::StopProvider => f.write_str("Terraform asked the provider to stop"),
            StopReason::Signal(name) => write!(f, "the provider received {name}"),
        }
    }
}

/// A stop signal: a cancellation token and the reason it was cancelled for.
#[derive(Default)]
pub struct StopSignal {
    token: CancellationToken,
    reason: OnceLock<StopReason>,
}

impl StopSignal {
    /// The token every budget of this provider carries.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Stops everything under way; the first reason is kept.
    pub fn stop(&self, reason: StopReason) {
        if self.reason.set(reason).is_ok() {
            tracing::warn!(%reason, "stopping: operations under way end now with an error");
        }
        self.token.cancel();
    }

    /// Why it stopped, once it has.
    pub fn reason(&self) -> Option<StopReason> {
        self.reason.get().copied()
    }
}

/// The stop signal of this process.
pub fn process_signal() -> &'static StopSignal {
    static SIGNAL: LazyLock<StopSignal> = LazyLock::new(StopSignal::default);
    &SIGNAL
}

/// A tracing layer that stops `signal` when tower-http opens the span of a StopProvider call.
pub struct StopProviderLayer {
    signal: &'static StopSignal,
}

impl StopProviderLayer {
    pub fn new(signal: &'static StopSignal) -> Self {
        Self { signal }
    }

    /// The filter this layer needs whatever the log level: tower-http's request spans only.
    pub fn filter<S>() -> impl Filter<S> {
        Targets::new().with_target(REQUEST_SPAN_TARGET, LevelFilter::TRACE)
    }
}

impl<S: Subscriber> Layer<S> for StopProviderLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() != REQUEST_SPAN_NAME {
            return;
        }
        let mut uri = UriField::default();
        attrs.record(&mut uri);
        if uri.0.is_some_and(|u| u.ends_with(STOP_PROVIDER_PATH)) {
            self.signal.stop(StopReason::StopProvider);
        }
    }
}

/// Picks the `uri` field out of a span's fields.
#[derive(Default)]
struct UriField(Option<String>);

impl Visit for UriField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "uri" {
            self.0 = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "uri" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

/// Catches SIGINT and SIGTERM for the life of the process: each stops `signal`, and the process
/// keeps serving. Call once, inside the runtime, before serving.
#[cfg(unix)]
pub fn watch_signals(signal: &'static StopSignal) -> std::io::Result<()> {
    use tokio::signal::unix::{signal as unix_signal, SignalKind};
    for (kind, name) in [
        (SignalKind::interrupt(), "SIGINT"),
        (SignalKind::terminate(), "SIGTERM"),
    ] {
        let mut stream = unix_signal(kind)?;
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                signal.stop(StopReason::Signal(name));
            }
        });
    }
    Ok(())
}

/// Catches Ctrl-C (Windows) for the life of the process, as on Unix.
#[cfg(not(unix))]
pub fn watch_signals(signal: &'static StopSignal) -> std::io::Result<()> {
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            signal.stop(StopReason::Signal("Ctrl-C"));
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_http::trace::{DefaultMakeSpan, MakeSpan as _};
    use tracing_subscriber::layer::SubscriberExt as _;

    fn leaked() -> &'static StopSignal {
        Box::leak(Box::default())
    }

    /// Opens the span tf-provider's server opens for an RPC to `path` (tower-http's
    /// `TraceLayer::new_for_grpc()` makes spans with `DefaultMakeSpan::new()`), under a
    /// subscriber whose only other layer logs at ERROR.
    fn serve_rpc(signal: &'static StopSignal, path: &str) {
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_test_writer()
                    .with_filter(LevelFilter::ERROR),
            )
            .with(StopProviderLayer::new(signal).with_filter(StopProviderLayer::filter()));
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://127.0.0.1:1234{path}"))
            .body(())
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            let _span = DefaultMakeSpan::new().make_span(&request);
        });
    }

    #[test]
    fn a_stop_provider_call_stops_whatever_the_log_level() {
        let signal = leaked();
        serve_rpc(signal, "/tfplugin6.Provider/PlanResourceChange");
        serve_rpc(signal, "/plugin.GRPCStdio/StreamStdio");
        assert!(!signal.token().is_cancelled(), "other calls do not stop");
        assert_eq!(signal.reason(), None);
        serve_rpc(signal, STOP_PROVIDER_PATH);
        assert!(signal.token().is_cancelled());
        assert_eq!(signal.reason(), Some(StopReason::StopProvider));
        assert_eq!(
            StopReason::StopProvider.to_string(),
            "Terraform asked the provider to stop"
        );
    }

    #[test]
    fn the_first_reason_is_kept() {
        let signal = leaked();
        signal.stop(StopReason::Signal("SIGINT"));
        signal.stop(StopReason::StopProvider);
        assert_eq!(signal.reason(), Some(StopReason::Signal("SIGINT")));
        assert_eq!(
            StopReason::Signal("SIGINT").to_string(),
            "the provider received SIGINT"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn sigint_stops_and_the_process_lives_on() {
        let signal = leaked();
        watch_signals(signal).unwrap();
        // SAFETY: raising a signal in our own process; the handler installed above catches it.
        let raised = unsafe { libc::raise(libc::SIGINT) };
        assert_eq!(raised, 0);
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            signal.token().cancelled(),
        )
        .await
        .expect("SIGINT stops the signal");
        assert_eq!(signal.reason(), Some(StopReason::Signal("SIGINT")));
    }
}
