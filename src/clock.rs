//! Time as the whole milliseconds or microseconds that entries, leases and
//! the breaker keep in integers. A module of its own (it depends on nothing
//! in folio), so that the cache engine and the Redis layer share it.
//!
//! Saturating: a duration too long for a `u64` (over 584,000 years in
//! milliseconds) becomes the longest one rather than wrapping.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `d` in whole milliseconds.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `d` in whole microseconds.
pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch (0 if the clock is set before it).
pub(crate) fn unix_ms() -> u64 {
    since_epoch().map_or(0, millis)
}

/// Microseconds since the Unix epoch (0 if the clock is set before it).
pub(crate) fn unix_us() -> u64 {
    since_epoch().map_or(0, micros)
}

fn since_epoch() -> Option<Duration> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_saturate_rather_than_wrap() {
        assert_eq!(millis(Duration::from_micros(2_999)), 2);
        assert_eq!(micros(Duration::from_nanos(2_999)), 2);
        assert_eq!(millis(Duration::MAX), u64::MAX);
        assert_eq!(micros(Duration::MAX), u64::MAX);
        assert!(unix_ms() > 1_600_000_000_000);
        assert!(unix_us() / 1000 >= unix_ms() - 1000);
    }
}
