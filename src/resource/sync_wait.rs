//! `wait_for_sync`: after a create or a settings update, polls the connector (with capped,
//! jittered backoff, within the operation's time budget) until the first sync that started at
//! or after the change has finished, and says how it ended.

use std::time::Duration;

use c1_client::{CallBudget, ClientError, Connector, ConnectorClient, SyncProgress};
use rand::Rng as _;

use super::state::sync_status_name;

/// Why waiting for the sync did not end in a finished, error-free sync.
#[derive(Debug)]
pub enum WaitFailure {
    /// The sync ended in `SYNC_STATUS_ERROR`.
    Failed,
    /// C1 runs no syncs of the connector: none will come.
    Disabled,
    /// The operation's budget ended first.
    OutOfTime,
    /// The provider was asked to stop.
    Interrupted,
    /// The connector was deleted (outside Terraform) while we waited.
    Gone,
    /// Reading the connector failed otherwise.
    Client(ClientError),
}

/// The end of a wait that did not see the sync succeed, with the connector as last seen.
#[derive(Debug)]
pub struct WaitError {
    pub failure: WaitFailure,
    pub last_seen: Connector,
}

/// Polls connector `id` until the first sync that started at or after `changed_at` (C1's time
/// of the change, see [`Connector::settings_changed_at`]) has finished. `first` is the
/// connector as the change's own answer showed it: when that already tells, nothing is read.
/// Every read runs within `client`'s budget; `call` is that budget, for the waits between reads.
pub async fn wait_for_sync(
    client: &ConnectorClient,
    call: &CallBudget,
    app_id: &str,
    id: &str,
    changed_at: Option<&str>,
    first: Connector,
) -> Result<Connector, WaitError> {
    let mut last = first;
    let mut polls: u32 = 0;
    loop {
        let failure = match last.sync_since(changed_at) {
            SyncProgress::Done => return Ok(last),
            SyncProgress::Failed => WaitFailure::Failed,
            SyncProgress::Disabled => WaitFailure::Disabled,
            SyncProgress::NotStarted | SyncProgress::Running => {
                match poll_once(client, call, app_id, id, polls).await {
                    Ok(connector) => {
                        polls += 1;
                        tracing::debug!(
                            polls,
                            status = sync_status_name(connector.sync_status()),
                            "waiting for the first sync after the change"
                        );
                        last = connector;
                        continue;
                    }
                    Err(failure) => failure,
                }
            }
        };
        return Err(WaitError {
            failure,
            last_seen: last,
        });
    }
}

/// Waits the backoff for poll number `polls`, then reads the connector once.
async fn poll_once(
    client: &ConnectorClient,
    call: &CallBudget,
    app_id: &str,
    id: &str,
    polls: u32,
) -> Result<Connector, WaitFailure> {
    // Leave the last moments of the budget for one more read rather than a wait.
    let remaining = call.remaining();
    if remaining < MIN_LEFT_TO_POLL {
        return Err(WaitFailure::OutOfTime);
    }
    if !call.sleep(poll_wait(polls).min(remaining / 2)).await {
        return Err(WaitFailure::Interrupted);
    }
    match client.get(app_id, id).await {
        Ok(Some(connector)) if connector.deleted_at.is_none() => Ok(connector),
        Ok(_) => Err(WaitFailure::Gone),
        Err(err) if err.is_interrupted() => Err(WaitFailure::Interrupted),
        Err(err) if err.is_out_of_time() => Err(WaitFailure::OutOfTime),
        Err(err) => Err(WaitFailure::Client(err)),
    }
}

/// Below this much budget no further read is tried.
const MIN_LEFT_TO_POLL: Duration = Duration::from_millis(200);

/// The wait before poll number `polls` (0 first): a ceiling doubling from 500 ms to 10 s, of
/// which a random half to whole is waited (syncs take seconds to minutes; many resources
/// waiting at once do not read in step).
pub fn poll_wait(polls: u32) -> Duration {
    let ceiling = Duration::from_millis(500)
        .saturating_mul(1u32 << polls.min(5))
        .min(Duration::from_secs(10));
    ceiling.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

/// How the connector's sync looked when the wait ended, in the attribute's terms:
/// `sync_status = "running" (started ...)`.
pub fn describe_last_seen(connector: &Connector, changed_at: Option<&str>) -> String {
    let status = connector.status.as_ref();
    let name = sync_status_name(connector.sync_status());
    let started = status.and_then(|s| s.started_at.as_deref());
    match (connector.sync_since(changed_at), started) {
        (SyncProgress::NotStarted, Some(started)) => format!(
            "no sync since the change had started; C1 still showed the one before it, started {started}: sync_status = \"{name}\""
        ),
        (SyncProgress::NotStarted, None) => {
            format!("no sync had started yet: sync_status = \"{name}\"")
        }
        (_, Some(started)) => format!("sync_status = \"{name}\", the sync started {started}"),
        (_, None) => format!("sync_status = \"{name}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use c1_client::{ConnectorStatus, SyncStatus};

    #[test]
    fn poll_waits_grow_with_jitter_under_a_cap() {
        for polls in 0..40 {
            let wait = poll_wait(polls);
            assert!(wait >= Duration::from_millis(250), "{wait:?}");
            assert!(wait <= Duration::from_secs(10), "{wait:?}");
        }
        assert!(poll_wait(0) <= Duration::from_millis(500));
        assert!(poll_wait(10) >= Duration::from_secs(5));
    }

    #[test]
    fn the_last_seen_sync_is_described_in_the_attributes_terms() {
        let connector = |status, started: &str| Connector {
            status: Some(ConnectorStatus {
                status,
                started_at: Some(started.to_string()),
                ..ConnectorStatus::default()
            }),
            ..Connector::default()
        };
        let change = Some("2026-11-23T21:54:00Z");
        assert_eq!(
            describe_last_seen(
                &connector(SyncStatus::Running, "2026-11-23T21:54:01Z"),
                change
            ),
            "sync_status = \"running\", the sync started 2026-11-23T21:54:01Z"
        );
        let older =
            describe_last_seen(&connector(SyncStatus::Done, "2026-11-23T21:50:00Z"), change);
        assert!(
            older.starts_with("no sync since the change had started"),
            "{older}"
        );
        assert!(older.ends_with("sync_status = \"done\""), "{older}");
        assert_eq!(
            describe_last_seen(&Connector::default(), change),
            "no sync had started yet: sync_status = \"unspecified\""
        );
    }
}
