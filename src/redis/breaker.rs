//! A circuit breaker around Redis. After `threshold` failures in a row it
//! opens: every call fails at once instead of waiting for a timeout, so an
//! outage costs requests nothing. A background probe closes it once Redis
//! answers again (see `Cache::watch_breaker`).
//! A Sentinel master switch opens it too (see `sentinel.rs`).

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed = 0,
    Open = 1,
    /// Redis answers again; pending work (the change log) runs before closing.
    Recovering = 2,
}

pub struct Breaker {
    state: AtomicU8,
    failures: AtomicU32,
    threshold: u32,
    opened_at_ms: AtomicU64,
    opens: AtomicU64,
    epoch: Instant,
}

impl Breaker {
    pub(crate) fn new(threshold: u32) -> Self {
        Self {
            state: AtomicU8::new(BreakerState::Closed as u8),
            failures: AtomicU32::new(0),
            threshold: threshold.max(1),
            opened_at_ms: AtomicU64::new(0),
            opens: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        match self.state.load(Ordering::Acquire) {
            0 => BreakerState::Closed,
            1 => BreakerState::Open,
            _ => BreakerState::Recovering,
        }
    }

    /// Whether a call may go to Redis now.
    pub(crate) fn allows(&self) -> bool {
        self.state() == BreakerState::Closed
    }

    pub(crate) fn on_success(&self) {
        self.failures.store(0, Ordering::Relaxed);
    }

    pub(crate) fn on_failure(&self) {
        let n = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if n >= self.threshold && self.transition(BreakerState::Closed, BreakerState::Open) {
            self.opened_at_ms
                .store(self.elapsed_ms(), Ordering::Release);
            self.opens.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                failures = n,
                "Redis circuit breaker opened: serving without Redis"
            );
        }
    }

    /// Milliseconds since this breaker was made: the clock `opened_at_ms`
    /// is read on.
    fn elapsed_ms(&self) -> u64 {
        crate::clock::millis(self.epoch.elapsed())
    }

    /// How long the breaker has been open.
    pub(crate) fn open_for(&self) -> Duration {
        let opened = self.opened_at_ms.load(Ordering::Acquire);
        Duration::from_millis(self.elapsed_ms().saturating_sub(opened))
    }

    pub(crate) fn transition(&self, from: BreakerState, to: BreakerState) -> bool {
        self.state
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Opens at once, from any state: work that must run before Redis is
    /// used again (the change log) could not be done; the probe retries it.
    pub(crate) fn trip(&self) {
        self.trip_because("pending changes must be applied first");
    }

    /// Opens at once, from any state, saying why in the log.
    pub(crate) fn trip_because(&self, why: &'static str) {
        let was = self.state.swap(BreakerState::Open as u8, Ordering::AcqRel);
        self.opened_at_ms
            .store(self.elapsed_ms(), Ordering::Release);
        if was == BreakerState::Closed as u8 {
            self.opens.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("Redis circuit breaker opened: {why}");
        }
    }

    /// Closes after recovery, unless something opened it again meanwhile
    /// (a failure during recovery, a Sentinel master switch): that must be
    /// recovered from first. Returns whether it closed.
    pub(crate) fn close(&self) -> bool {
        self.failures.store(0, Ordering::Relaxed);
        let closed = self.transition(BreakerState::Recovering, BreakerState::Closed);
        if closed {
            tracing::info!("Redis circuit breaker closed: Redis is back");
        }
        closed
    }

    pub fn opens(&self) -> u64 {
        self.opens.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_closes_on_demand() {
        let b = Breaker::new(3);
        b.on_failure();
        b.on_failure();
        assert!(b.allows());
        b.on_success();
        b.on_failure();
        b.on_failure();
        assert!(b.allows(), "a success resets the count");
        b.on_failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.allows());
        assert_eq!(b.opens(), 1);
        assert!(b.transition(BreakerState::Open, BreakerState::Recovering));
        assert!(!b.allows());
        assert!(b.close());
        assert!(b.allows());
        // Opened again during recovery: closing waits for the next one.
        b.trip();
        assert!(b.transition(BreakerState::Open, BreakerState::Recovering));
        b.trip();
        assert!(!b.close());
        assert!(!b.allows());
    }
}
