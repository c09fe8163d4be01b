//! How long a logical call (or a group of calls) may take, and the signal that stops it early:
//! every retry wait, backoff and HTTP attempt ends at the budget's deadline or when it is stopped.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// A deadline and a stop signal, given by the caller to one call or to every call of a
/// [`ConnectorClient::within`](crate::ConnectorClient::within) clone (which then share it).
#[derive(Clone, Debug)]
pub struct CallBudget {
    deadline: Instant,
    stop: CancellationToken,
}

impl CallBudget {
    /// A budget of `within` from now, stopped early when `stop` is cancelled.
    pub fn new(within: Duration, stop: CancellationToken) -> Self {
        let now = Instant::now();
        Self {
            deadline: now
                .checked_add(within)
                .unwrap_or(now + Duration::from_secs(86_400 * 365)),
            stop,
        }
    }

    /// When the budget runs out.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// What is left of it (zero once spent).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// True once the caller asked to stop.
    pub fn is_stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Completes when the caller asks to stop.
    pub(crate) async fn stopped(&self) {
        self.stop.cancelled().await
    }

    /// Sleeps for `wait`; false (at once) when the caller asks to stop meanwhile.
    pub async fn sleep(&self, wait: Duration) -> bool {
        tokio::select! {
            biased;
            () = self.stop.cancelled() => false,
            () = tokio::time::sleep(wait) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn remaining_shrinks_and_a_stop_ends_a_sleep_at_once() {
        let stop = CancellationToken::new();
        let budget = CallBudget::new(Duration::from_secs(60), stop.clone());
        assert!(budget.remaining() <= Duration::from_secs(60));
        assert!(budget.remaining() > Duration::from_secs(59));
        assert!(!budget.is_stopped());
        assert!(budget.sleep(Duration::from_millis(1)).await);
        let started = Instant::now();
        let sleeping = tokio::spawn({
            let budget = budget.clone();
            async move { budget.sleep(Duration::from_secs(3600)).await }
        });
        stop.cancel();
        assert!(!sleeping.await.unwrap(), "the stop ends the sleep");
        assert!(budget.is_stopped());
        assert!(started.elapsed() < Duration::from_secs(60));
        let spent = CallBudget::new(Duration::ZERO, CancellationToken::new());
        assert_eq!(spent.remaining(), Duration::ZERO);
        // A budget too large for the clock saturates instead of panicking.
        let huge = CallBudget::new(Duration::MAX, CancellationToken::new());
        assert!(huge.remaining() > Duration::from_secs(86_400));
    }
}
