//! The retry loop: which failures are transient (the create-vs-other rules), capped exponential
//! backoff with full jitter or the server's `Retry-After`, and giving up when the budget runs out.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use rand::Rng as _;

use crate::error::ClientError;

/// How hard the client tries before giving up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total time budget for one logical call, including waits.
    pub deadline: Duration,
    /// First backoff ceiling; doubles every attempt.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
    /// Upper bound on attempts (first try included).
    pub max_attempts: u32,
    /// Timeout of a single HTTP attempt.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(120),
            base: Duration::from_millis(250),
            cap: Duration::from_secs(10),
            max_attempts: 10,
            attempt_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy for tests: tiny waits, short deadline.
    pub fn fast() -> Self {
        Self {
            deadline: Duration::from_secs(5),
            base: Duration::from_millis(1),
            cap: Duration::from_millis(10),
            max_attempts: 5,
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
    /// Could not connect: the request never left.
    Connect,
    /// Timeout, reset or other transport failure after the request may have been sent.
    AfterSend,
    /// The server's TLS certificate was rejected: retrying cannot help.
    Certificate,
    /// An HTTP answer with this status.
    Status(u16),
}

impl AttemptFailure {
    /// What happened, in a few words (for logs and the `Ambiguous` message).
    fn reason(self) -> String {
        match self {
            AttemptFailure::Connect => "connection failed".to_string(),
            AttemptFailure::AfterSend => "connection broken or timed out".to_string(),
            AttemptFailure::Certificate => "certificate not trusted".to_string(),
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

/// Whether a status is transient (429, 502, 503, 504).
fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The retry rules. A create is retried only on connect errors and 429 (C1 rejects before
/// acting); 502/503/504 or a failure after sending make a create ambiguous.
pub(crate) fn decide(kind: Idempotency, failure: AttemptFailure) -> Decision {
    match (kind, failure) {
        (_, AttemptFailure::Certificate) => Decision::Fail,
        (_, AttemptFailure::Connect) => Decision::Retry,
        (_, AttemptFailure::Status(429)) => Decision::Retry,
        (Idempotency::Idempotent, AttemptFailure::AfterSend) => Decision::Retry,
        (Idempotency::Create, AttemptFailure::AfterSend) => Decision::Ambiguous,
        (Idempotency::Idempotent, AttemptFailure::Status(s)) if is_transient_status(s) => {
            Decision::Retry
        }
        (Idempotency::Create, AttemptFailure::Status(s)) if is_transient_status(s) => {
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

/// Runs `attempt(1)`, `attempt(2)`, ... until one succeeds or fails for good. A transient failure
/// is retried after the server's `Retry-After` or a backoff, while the policy's attempts and
/// deadline allow (else `GaveUp`); a create that may have reached C1 ends as `Ambiguous`.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    call: &Call<'_>,
    mut attempt: F,
) -> Result<T, ClientError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let start = Instant::now();
    let mut number: u32 = 0;
    loop {
        number += 1;
        let (failure, error, retry_after) = match attempt(number).await {
            Ok(value) => return Ok(value),
            Err(Failure::Final(error)) => return Err(error),
            Err(Failure::Attempt {
                failure,
                error,
                retry_after,
            }) => (failure, error, retry_after),
        };
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
        let elapsed = start.elapsed();
        if number >= policy.max_attempts || elapsed + wait > policy.deadline {
            return Err(ClientError::GaveUp {
                operation: call.operation.to_string(),
                attempts: number,
                elapsed_secs: elapsed.as_secs_f64(),
                last: Box::new(error),
            });
        }
        tracing::warn!(
            path = %call.path,
            attempt = number,
            reason = %failure.reason(),
            wait_ms = wait.as_millis() as u64,
            "C1 call failed transiently; retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for s in [429, 502, 503, 504] {
            assert_eq!(decide(Idempotent, Status(s)), Retry, "{s}");
            assert!(is_transient_status(s));
        }
        for s in [400, 401, 403, 404, 409, 500, 501] {
            assert_eq!(decide(Idempotent, Status(s)), Fail, "{s}");
            assert_eq!(decide(Create, Status(s)), Fail, "{s}");
        }
        assert_eq!(decide(Idempotent, Connect), Retry);
        assert_eq!(decide(Idempotent, AfterSend), Retry);
        assert_eq!(
            decide(Idempotent, Certificate),
            Fail,
            "retrying cannot fix a certificate"
        );
        assert_eq!(decide(Create, Certificate), Fail);
    }

    #[test]
    fn creates_retry_only_when_c1_certainly_did_not_act() {
        use AttemptFailure::*;
        use Decision::*;
        use Idempotency::*;
        assert_eq!(decide(Create, Connect), Retry);
        assert_eq!(decide(Create, Status(429)), Retry);
        for s in [502, 503, 504] {
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

    /// Runs the loop over scripted attempt results (the last one repeats); returns the result
    /// and the attempts made.
    async fn run_script(
        policy: &RetryPolicy,
        idempotency: Idempotency,
        script: Vec<fn() -> Result<u32, Failure>>,
    ) -> (Result<u32, ClientError>, Vec<u32>) {
        let call = Call {
            operation: "read connector",
            path: "/api/v1/x",
            idempotency,
        };
        let mut made = Vec::new();
        let result = run(policy, &call, |n| {
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
    async fn gives_up_after_max_attempts_with_the_last_error() {
        let (result, made) = run_script(
            &RetryPolicy::fast(),
            Idempotency::Idempotent,
            vec![|| Err(status(503, None))],
        )
        .await;
        assert_eq!(made, [1, 2, 3, 4, 5]);
        let err = result.unwrap_err();
        assert!(
            matches!(&err, ClientError::GaveUp { attempts: 5, .. }),
            "{err:?}"
        );
        assert_eq!(err.status(), Some(503));
        assert!(
            err.to_string()
                .starts_with("read connector: gave up after 5 attempts over"),
            "{err}"
        );
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
            vec![|| Err(status(500, None))],
        )
        .await;
        assert!(matches!(result, Err(ClientError::Api { status: 500, .. })));
        assert_eq!(made, [1]);
    }

    #[tokio::test]
    async fn a_create_that_may_have_landed_is_ambiguous_at_once() {
        for script in [
            vec![(|| Err(status(503, None))) as fn() -> Result<u32, Failure>],
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
    async fn retry_after_is_honoured_and_bounded_by_the_deadline() {
        let policy = RetryPolicy {
            deadline: Duration::from_secs(2),
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

        // A wait that would pass the deadline is not waited: the loop gives up at once.
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
