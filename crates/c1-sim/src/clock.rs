//! Wall-clock helpers: unix milliseconds and C1's second-precision RFC 3339 timestamps.

use time::macros::format_description;
use time::OffsetDateTime;

/// Milliseconds since the unix epoch, now.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Seconds since the unix epoch, now.
pub fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `2026-11-23T21:54:00Z` for a time given in unix milliseconds (sub-second part dropped).
pub fn rfc3339_secs(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let at = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// A timestamp for an update: now, but always at least one second after `previous_ms`
/// so that a second-precision `updatedAt` visibly moves on every update.
pub fn bumped_after(previous_ms: i64) -> i64 {
    let now = now_ms();
    let next_second = (previous_ms.div_euclid(1000) + 1) * 1000;
    now.max(next_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_seconds_with_z() {
        assert_eq!(rfc3339_secs(1_795_470_840_123), "2026-11-23T21:54:00Z");
    }

    #[test]
    fn bump_moves_the_second() {
        let now = now_ms();
        assert!(bumped_after(now) / 1000 > now / 1000);
    }
}
