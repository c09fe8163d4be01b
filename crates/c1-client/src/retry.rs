//! The retry loop: which failures are transient (the create-vs-other rules), capped exponential
//! backoff with full jitter or the server's `Retry-After`, all within the call's time budget, and
//! giving up when the budget runs out or at once when the caller asks to stop.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use rand::Rng as _;

use crate::budget::CallBudget;
use crate::error::{ClientError, EndpointProblem};

/// How the client retries: the backoff, the timeout of one attempt, and the budget of a call
/// made without a [`CallBudget`] of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The time budget of one logical call when the caller gives none, waits included.
    pub default_budget: Duration,
    /// First backoff ceiling; doubles every attempt.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
    /// Timeout of a single HTTP attempt (never past the budget's deadline).
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            default_budget: Duration::from_secs(120),
            base: Duration::from_millis(250),
            cap: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy for tests: tiny waits, short budget.
    pub fn fast() -> Self {
        Self {
            default_budget: Duration::from_secs(2),
            base: Duration::from_millis(1),
            cap: Duration::from_millis(10),
            attempt_timeout: Duration::from_secs(5),
        }
    }

    /// Upper bound of the wait after failed attempt number `attempt` (1-based):
    /// `min(cap, base * 2^(attempt-1))`.
    pub(crate) fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.cap)
    }

    /// Full jitter: uniformly random in `[0, backoff_ceiling(attempt)]`.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.backoff_ceiling(attempt);
        let nanos = ceiling.as_nanos().min(u64::MAX as u128) as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
    }
}

/// Parses a `Retry-After` header value: delay-seconds or an HTTP-date (relative to `now`).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
        return None;
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether the request is a create (not idempotent) or can safely be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Reads, full-mask updates, deletes, token requests.
    Idempotent,
    /// Creates: repeat only when the request certainly did not reach C1.
    Create,
}

/// What went wrong on one attempt, as far as the retry decision cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttemptFailure {
    /// Could not connect (refused, unreachable): the request never left.
    Connect,
    /// Timeout, reset or other transport failure after the request may have been sent.
    AfterSend,
    /// The endpoint cannot be used as configured: retrying cannot help.
    Endpoint(EndpointProblem),
    /// An HTTP answer with this status.
    Status(u16),
}

impl AttemptFailure {
    /// What happened, in a few words (for logs and the `Ambiguous` message).
    fn reason(self) -> String {
        match self {
            AttemptFailure::Connect => "connection failed".to_string(),
            AttemptFailure::AfterSend => "connection broken or timed out".to_string(),
            AttemptFailure::Endpoint(problem) => format!("{problem:?}"),
            AttemptFailure::Status(s) => format!("HTTP {s}"),
        }
    }
}

/// The decision for one failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Retry,
    /// Not transient: report the error as is.
    Fail,
    /// A create may have reached C1: report `Ambiguous`.
    Ambiguous,
}

/// Whether a status is worth another attempt of an idempotent call: 429 and the server errors
/// a gateway or an overloaded or restarting C1 answers (500, 502, 503, 504).
fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// The retry rules. A create is retried only on connect errors and 429 (C1 rejects before
/// acting); any 5xx or a failure after sending makes a create ambiguous (C1 may have carried it
/// out before failing to answer). An endpoint problem fails at once, whatever the call.
pub(crate) fn decide(kind: Idempotency, failure: AttemptFailure) -> Decision {
    match (kind, failure) {
        (_, AttemptFailure::Endpoint(_)) => Decision::Fail,
        (_, AttemptFailure::Connect) => Decision::Retry,
        (_, AttemptFailure::Status(429)) => Decision::Retry,
        (Idempotency::Idempotent, AttemptFailure::AfterSend) => Decision::Retry,
        (Idempotency::Create, AttemptFailure::AfterSend) => Decision::Ambiguous,
        (Idempotency::Idempotent, AttemptFailure::Status(s)) if is_transient_status(s) => {
            Decision::Retry
        }
        (Idempotency::Create, AttemptFailure::Status(s)) if (500..=599).contains(&s) => {
            Decision::Ambiguous
        }
        (_, AttemptFailure::Status(_)) => Decision::Fail,
    }
}

/// How one attempt ended when it did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Another attempt cannot help (for example C1 refused the credentials): report it as is.
    Final(ClientError),
    /// The retry loop decides with [`decide`]; `retry_after` is the server's wish, if any.
    Attempt {
        failure: AttemptFailure,
        error: ClientError,
        retry_after: Option<Duration>,
    },
}

/// The logical call the retry loop repeats.
pub(crate) struct Call<'a> {
    /// What the call does, in words (`read connector`): the start of every error message.
    pub operation: &'a str,
    /// The URL path, for the log.
    pub path: &'a str,
    pub idempotency: Idempotency,
}

impl Call<'_> {
    /// The error for a stop requested while an attempt (`under_way`) or a wait was going on.
    pub(crate) fn interrupted(&self, under_way: bool) -> ClientError {
        ClientError::Interrupted {
            operation: self.operation.to_string(),
            maybe_applied: under_way && self.idempotency == Idempotency::Create,
        }
    }
}

/// Runs `attempt(1, timeout)`, `attempt(2, timeout)`, ... until one succeeds or fails for good.
/// `timeout` is the policy's attempt timeout, cut to what is left of the budget. A transient
/// failure is retried after the server's `Retry-After` or a backoff while the budget allows
/// (else `GaveUp`); a create that may have reached C1 ends as `Ambiguous`; a stop ends any
/// attempt or wait at once with `Interrupted`.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    budget: &CallBudget,
    call: &Call<'_>,
    mut attempt: F,
) -> Result<T, ClientError>
where
    F: FnMut(u32, Duration) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let start = Instant::now();
    // Whether any attempt got further than connecting.
    let mut connected = false;
    let gave_up = |attempts: u32, last: ClientError, connected: bool| ClientError::GaveUp {
        operation: call.operation.to_string(),
        attempts,
        elapsed_secs: start.elapsed().as_secs_f64(),
        last: Box::new(last),
        connected,
    };
    let mut number: u32 = 0;
    let mut last_error = None;
    loop {
        if budget.is_stopped() {
            return Err(call.interrupted(false));
        }
        let remaining = budget.remaining();
        if remaining.is_zero() {
            return Err(match last_error {
                Some(last) => gave_up(number, last, connected),
                None => ClientError::BudgetSpent {
                    operation: call.operation.to_string(),
                },
            });
        }
        number += 1;
        let outcome = tokio::select! {
            biased;
            () = budget.stopped() => return Err(call.interrupted(true)),
            outcome = attempt(number, policy.attempt_timeout.min(remaining)) => outcome,
        };
        let (failure, error, retry_after) = match outcome {
            Ok(value) => return Ok(value),
            Err(Failure::Final(error)) => return Err(error),
            Err(Failure::Attempt {
                failure,
                error,
                retry_after,
            }) => (failure, error, retry_after),
        };
        connected |= failure != AttemptFailure::Connect;
        match decide(call.idempotency, failure) {
            Decision::Fail => return Err(error),
            Decision::Ambiguous => {
                return Err(ClientError::Ambiguous {
                    operation: call.operation.to_string(),
                    message: format!(
                        "{} after the request was sent: {}",
                        failure.reason(),
                        error.without_operation()
                    ),
                })
            }
            Decision::Retry => {}
        }
        let wait = retry_after.unwrap_or_else(|| policy.backoff(number));
        if wait >= budget.remaining() {
            return Err(gave_up(number, error, connected));
        }
        tracing::warn!(
            path = %call.path,
            attempt = number,
            reason = %failure.reason(),
            wait_ms = wait.as_millis() as u64,
            "C1 call failed transiently; retrying"
        );
        if !budget.sleep(wait).await {
            return Err(call.interrupted(false));
        }
        last_error = Some(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::sync::CancellationToken;

    #[test]
    fn backoff_is_capped_exponential_with_full_jitter() {
        let p = RetryPolicy {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let ceilings: Vec<_> = (1..=8).map(|a| p.backoff_ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, [250, 500, 1000, 2000, 4000, 8000, 10000, 10000]);
        assert_eq!(p.backoff_ceiling(1000), Duration::from_secs(10));
        for attempt in 1..=10 {
            for _ in 0..200 {
                assert!(p.backoff(attempt) <= p.backoff_ceiling(attempt));
            }
        }
        // Full jitter actually spreads: not all equal to the ceiling.
        let samples: Vec<_> = (0..50).map(|_| p.backoff(5)).collect();
        assert!(samples.iter().any(|d| *d < p.backoff_ceiling(5)));
        let zero = RetryPolicy {
            base: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }

    #[test]
    fn retry_after_parsing() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn which_failures_are_retried() {
        use AttemptFailure::*;
        use Decision::*;
        use Idempotency::*;
        for s in [429, 500, 502, 503, 504] {
            assert_eq!(decide(Idempotent, Status(s)), Retry, "{s}");
            assert!(is_transient_status(s));
        }
        for s in [400, 401, 403, 404, 409, 501, 505] {
            assert_eq!(decide(Idempotent, Status(s)), Fail, "{s}");
        }
        for s in [400, 401, 403, 404, 409] {
            assert_eq!(decide(Create, Status(s)), Fail, "{s}");
        }
        assert_eq!(decide(Idempotent, Connect), Retry);
        assert_eq!(decide(Idempotent, AfterSend), Retry);
        for problem in [
            EndpointProblem::UnknownHost,
            EndpointProblem::NotTls,
            EndpointProblem::NotHttp,
            EndpointProblem::UntrustedCertificate,
        ] {
            assert_eq!(
                decide(Idempotent, Endpoint(problem)),
                Fail,
                "retrying cannot fix {problem:?}"
            );
            assert_eq!(decide(Create, Endpoint(problem)), Fail);
        }
    }

    #[test]
    fn creates_retry_only_when_c1_certainly_did_not_act() {
        use AttemptFailure::*;
        use Decision::*;
        use Idempotency::*;
        assert_eq!(decide(Create, Connect), Retry);
        assert_eq!(decide(Create, Status(429)), Retry);
        // Any server error: C1 may have carried the create out before failing to answer.
        for s in [500, 501, 502, 503, 504, 505, 599] {
            assert_eq!(decide(Create, Status(s)), Ambiguous, "{s}");
        }
        assert_eq!(decide(Create, AfterSend), Ambiguous);
    }

    // ---- the loop --------------------------------------------------------------------------

    fn status(code: u16, retry_after: Option<Duration>) -> Failure {
        Failure::Attempt {
            failure: AttemptFailure::Status(code),
            retry_after,
            error: ClientError::Api {
                operation: "op".into(),
                status: code,
                code: Some(14),
                message: "unavailable".into(),
            },
        }
    }

    fn broken() -> Failure {
        Failure::Attempt {
            failure: AttemptFailure::AfterSend,
            retry_after: None,
            error: ClientError::Transport {
                operation: "op".into(),
                url: "http://127.0.0.1:1/x".into(),
                message: "connection reset".into(),
            },
        }
    }

    fn budget(within: Duration) -> CallBudget {
        CallBudget::new(within, CancellationToken::new())
    }

    /// Runs the loop over scripted attempt results (the last one repeats) within `within`;
    /// returns the result and the attempts made.
    async fn run_script(
        policy: &RetryPolicy,
        idempotency: Idempotency,
        script: Vec<fn() -> Result<u32, Failure>>,
    ) -> (Result<u32, ClientError>, Vec<u32>) {
        run_within(policy, &budget(policy.default_budget), idempotency, script).await
    }

    async fn run_within(
        policy: &RetryPolicy,
        budget: &CallBudget,
        idempotency: Idempotency,
        script: Vec<fn() -> Result<u32, Failure>>,
    ) -> (Result<u32, ClientError>, Vec<u32>) {
        let call = Call {
            operation: "read connector",
            path: "/api/v1/x",
            idempotency,
        };
        let mut made = Vec::new();
        let result = run(policy, budget, &call, |n, _timeout| {
            made.push(n);
            let next = script[(n as usize - 1).min(script.len() - 1)];
            async move { next() }
        })
        .await;
        (result, made)
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_success() {
        let (result, made) = run_script(
            &RetryPolicy::fast(),
            Idempotency::Idempotent,
            vec![|| Err(status(503, None)), || Err(broken()), || Ok(7)],
        )
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(made, [1, 2, 3]);
    }

    #[tokio::test]
    async fn gives_up_when_the_budget_runs_out_with_the_last_error() {
        let policy = RetryPolicy {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(40),
            ..RetryPolicy::fast()
        };
        let started = Instant::now();
        let (result, made) = run_within(
            &policy,
            &budget(Duration::from_millis(400)),
            Idempotency::Idempotent,
            vec![|| Err(status(503, None))],
        )
        .await;
        // Bounded by the budget, not by a count: as many attempts as fit.
        assert!(made.len() > 3, "{made:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
        let err = result.unwrap_err();
        assert!(
            matches!(&err, ClientError::GaveUp { attempts, .. } if *attempts as usize == made.len()),
            "{err:?}"
        );
        assert!(err.is_out_of_time());
        assert_eq!(err.status(), Some(503));
        assert!(
            err.to_string().starts_with(&format!(
                "read connector: gave up after {} attempts over",
                made.len()
            )),
            "{err}"
        );
        // A budget spent before the first attempt sends nothing.
        let (result, made) = run_within(
            &policy,
            &budget(Duration::ZERO),
            Idempotency::Idempotent,
            vec![|| Ok(1)],
        )
        .await;
        assert!(matches!(result, Err(ClientError::BudgetSpent { .. })));
        assert!(made.is_empty());
    }

    fn refused() -> Failure {
        Failure::Attempt {
            failure: AttemptFailure::Connect,
            retry_after: None,
            error: ClientError::Transport {
                operation: "op".into(),
                url: "http://127.0.0.1:1/x".into(),
                message: "connection refused".into(),
            },
        }
    }

    #[tokio::test]
    async fn giving_up_says_whether_any_attempt_connected() {
        let policy = RetryPolicy::fast();
        for (script, connected) in [
            (
                vec![(|| Err(refused())) as fn() -> Result<u32, Failure>],
                false,
            ),
            (
                vec![|| Err(refused()), || Err(status(503, None)), || {
                    Err(refused())
                }],
                true,
            ),
        ] {
            let (result, _) = run_within(
                &policy,
                &budget(Duration::from_millis(100)),
                Idempotency::Idempotent,
                script,
            )
            .await;
            let err = result.unwrap_err();
            assert!(
                matches!(err, ClientError::GaveUp { connected: c, .. } if c == connected),
                "{err:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_stop_ends_a_backoff_wait_at_once() {
        let policy = RetryPolicy {
            base: Duration::from_secs(3600),
            cap: Duration::from_secs(3600),
            ..RetryPolicy::fast()
        };
        let stop = CancellationToken::new();
        let budget = CallBudget::new(Duration::from_secs(7200), stop.clone());
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stop.cancel();
        });
        let started = Instant::now();
        let (result, made) = run_within(
            &policy,
            &budget,
            Idempotency::Idempotent,
            // 429 with a long Retry-After: the loop waits, and the stop ends the wait.
            vec![|| Err(status(429, Some(Duration::from_secs(3000))))],
        )
        .await;
        stopper.await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(60));
        assert_eq!(made, [1]);
        let err = result.unwrap_err();
        assert!(err.is_interrupted(), "{err:?}");
        assert!(!err.is_ambiguous(), "nothing was under way");
        assert!(err.to_string().contains("interrupted"), "{err}");
    }

    #[tokio::test]
    async fn a_stop_ends_an_attempt_under_way_and_a_create_may_then_have_landed() {
        for (idempotency, maybe_applied) in [
            (Idempotency::Idempotent, false),
            (Idempotency::Create, true),
        ] {
            let stop = CancellationToken::new();
            let budget = CallBudget::new(Duration::from_secs(3600), stop.clone());
            let call = Call {
                operation: "create connector",
                path: "/api/v1/x",
                idempotency,
            };
            let stopper = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                stop.cancel();
            });
            let result: Result<u32, ClientError> =
                run(&RetryPolicy::default(), &budget, &call, |_, _| async {
                    // An answer that never comes.
                    std::future::pending::<Result<u32, Failure>>().await
                })
                .await;
            stopper.await.unwrap();
            let err = result.unwrap_err();
            assert!(
                matches!(err, ClientError::Interrupted { maybe_applied: m, .. } if m == maybe_applied),
                "{err:?}"
            );
            assert_eq!(err.is_ambiguous(), maybe_applied);
        }
    }

    #[tokio::test]
    async fn each_attempt_gets_what_is_left_of_the_budget_as_its_timeout() {
        let policy = RetryPolicy::default(); // 60 s per attempt
        let budget = budget(Duration::from_secs(5));
        let call = Call {
            operation: "read connector",
            path: "/api/v1/x",
            idempotency: Idempotency::Idempotent,
        };
        let mut timeouts = Vec::new();
        let result = run(&policy, &budget, &call, |_, timeout| {
            timeouts.push(timeout);
            async { Ok(1) }
        })
        .await;
        assert_eq!(result.unwrap(), 1);
        assert!(timeouts[0] <= Duration::from_secs(5), "{timeouts:?}");
    }

    #[tokio::test]
    async fn final_and_permanent_failures_are_not_retried() {
        let (result, made) = run_script(
            &RetryPolicy::fast(),
            Idempotency::Idempotent,
            vec![|| {
                Err(Failure::Final(ClientError::Unauthenticated {
                    operation: "op".into(),
                    message: "no".into(),
                }))
            }],
        )
        .await;
        assert!(result.unwrap_err().is_unauthenticated());
        assert_eq!(made, [1]);
        let (result, made) = run_script(
            &RetryPolicy::fast(),
            Idempotency::Idempotent,
            vec![|| Err(status(501, None))],
        )
        .await;
        assert!(matches!(result, Err(ClientError::Api { status: 501, .. })));
        assert_eq!(made, [1]);
    }

    #[tokio::test]
    async fn a_create_that_may_have_landed_is_ambiguous_at_once() {
        for script in [
            vec![(|| Err(status(503, None))) as fn() -> Result<u32, Failure>],
            vec![|| Err(status(500, None))],
            vec![|| Err(broken())],
        ] {
            let (result, made) =
                run_script(&RetryPolicy::fast(), Idempotency::Create, script).await;
            let err = result.unwrap_err();
            assert!(matches!(err, ClientError::Ambiguous { .. }), "{err:?}");
            assert!(
                err.to_string().contains("after the request was sent"),
                "{err}"
            );
            assert_eq!(made, [1]);
        }
        let (result, made) = run_script(
            &RetryPolicy::fast(),
            Idempotency::Create,
            vec![|| Err(status(429, None)), || Ok(1)],
        )
        .await;
        assert_eq!(result.unwrap(), 1, "C1 answers 429 before acting");
        assert_eq!(made, [1, 2]);
    }

    #[tokio::test]
    async fn retry_after_is_honoured_and_bounded_by_the_budget() {
        let policy = RetryPolicy {
            default_budget: Duration::from_secs(2),
            ..RetryPolicy::fast()
        };
        let started = Instant::now();
        let (result, made) = run_script(
            &policy,
            Idempotency::Idempotent,
            vec![
                || Err(status(429, Some(Duration::from_millis(300)))),
                || Ok(1),
            ],
        )
        .await;
        assert_eq!(result.unwrap(), 1);
        assert_eq!(made, [1, 2]);
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{:?}",
            started.elapsed()
        );

        // A wait that would pass the budget is not waited: the loop gives up at once.
        let started = Instant::now();
        let (result, made) = run_script(
            &policy,
            Idempotency::Idempotent,
            vec![|| Err(status(429, Some(Duration::from_secs(60))))],
        )
        .await;
        assert!(matches!(
            result,
            Err(ClientError::GaveUp { attempts: 1, .. })
        ));
        assert_eq!(made, [1]);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
