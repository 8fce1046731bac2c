//! What the feed has done, for `/metrics`, `/readyz` (is it stuck?) and the
//! admin's cache page.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};

use super::ChangeFeed;
use crate::cache::metrics::Histogram;
use crate::db::changes::PendingChange;

/// A feed that has not applied the log for this long, while the cache is
/// usable, is stuck: cached pages may be old (`/readyz` answers 503).
const STUCK_AFTER: Duration = Duration::from_secs(10);

const LAG_BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 60.0,
];

/// The feed's state, for `/metrics`, `/readyz` and the admin's cache page.
#[derive(Debug, Clone)]
pub struct FeedStatus {
    /// Subjects applied, and the row changes that were folded into them.
    pub applied: u64,
    pub coalesced: u64,
    pub failures: u64,
    /// When the newest applied change was made (database clock, UTC).
    pub last_change: Option<NaiveDateTime>,
    /// How long that change waited in the log.
    pub last_lag: Option<Duration>,
    /// Since the log was last read and applied (even when empty).
    pub since_success: Duration,
    pub stuck: bool,
}

/// The feed's counters, updated by each drain.
pub(super) struct Stats {
    applied: AtomicU64,
    coalesced: AtomicU64,
    failures: AtomicU64,
    lag: Histogram,
    last: Mutex<Last>,
}

struct Last {
    success: Instant,
    change: Option<NaiveDateTime>,
    lag: Option<Duration>,
}

impl Stats {
    pub(super) fn new() -> Self {
        Self {
            applied: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            lag: Histogram::new(LAG_BOUNDS),
            last: Mutex::new(Last {
                success: Instant::now(),
                change: None,
                lag: None,
            }),
        }
    }

    pub(super) fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The log was read and folio's own tiers took what it held.
    pub(super) fn succeeded(&self) {
        self.last.lock().expect("feed state").success = Instant::now();
    }

    /// A batch applied: its subjects, the row changes folded into them, and
    /// how long the newest waited.
    pub(super) fn record_applied(&self, rows: &[PendingChange]) {
        let now = Utc::now().naive_utc();
        let lag_of = |r: &PendingChange| (now - r.changed_at).to_std().unwrap_or_default();
        for row in rows {
            self.lag.observe(lag_of(row));
        }
        let subjects = rows.len() as u64;
        let folded: u64 = rows
            .iter()
            .map(|r| u64::try_from(r.coalesced - 1).unwrap_or(0))
            .sum();
        self.applied.fetch_add(subjects, Ordering::Relaxed);
        self.coalesced.fetch_add(folded, Ordering::Relaxed);
        let newest = rows.iter().max_by_key(|r| r.changed_at);
        {
            let mut last = self.last.lock().expect("feed state");
            last.change = newest.map(|r| r.changed_at);
            last.lag = newest.map(lag_of);
        }
        tracing::info!(
            subjects,
            row_changes = subjects + folded,
            first = %rows[0].subject,
            "change feed: applied"
        );
    }
}

impl ChangeFeed {
    pub fn status(&self) -> FeedStatus {
        let inner = &self.inner;
        let stats = &inner.stats;
        let last = stats.last.lock().expect("feed state");
        let since_success = last.success.elapsed();
        // With Redis's breaker open nothing cached is served, so a feed that
        // waits for Redis is not stuck.
        let cache_usable = inner.cache.breaker().is_none_or(|b| b.allows());
        FeedStatus {
            applied: stats.applied.load(Ordering::Relaxed),
            coalesced: stats.coalesced.load(Ordering::Relaxed),
            failures: stats.failures.load(Ordering::Relaxed),
            last_change: last.change,
            last_lag: last.lag,
            since_success,
            stuck: cache_usable && since_success > STUCK_AFTER,
        }
    }

    /// The feed's series in the Prometheus text format.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let s = self.status();
        let _ = writeln!(
            out,
            "# HELP folio_change_feed_applied_total Change-log subjects applied to the cache.\n\
             # TYPE folio_change_feed_applied_total counter\nfolio_change_feed_applied_total {}\n\
             # HELP folio_change_feed_coalesced_total Row changes folded into another of the same subject.\n\
             # TYPE folio_change_feed_coalesced_total counter\nfolio_change_feed_coalesced_total {}\n\
             # HELP folio_change_feed_failures_total Drains of the change log that failed.\n\
             # TYPE folio_change_feed_failures_total counter\nfolio_change_feed_failures_total {}\n\
             # HELP folio_change_feed_last_change_timestamp_seconds When the newest applied change was made.\n\
             # TYPE folio_change_feed_last_change_timestamp_seconds gauge\n\
             folio_change_feed_last_change_timestamp_seconds {}\n\
             # HELP folio_change_feed_seconds_since_success Since the log was last read and applied.\n\
             # TYPE folio_change_feed_seconds_since_success gauge\nfolio_change_feed_seconds_since_success {:.3}\n\
             # HELP folio_change_feed_stuck 1 while the feed has not applied the log for 10 s and the cache is in use.\n\
             # TYPE folio_change_feed_stuck gauge\nfolio_change_feed_stuck {}\n\
             # HELP folio_change_feed_lag_seconds From a change to its invalidation.\n\
             # TYPE folio_change_feed_lag_seconds histogram",
            s.applied,
            s.coalesced,
            s.failures,
            s.last_change.map_or(0.0, unix_seconds),
            s.since_success.as_secs_f64(),
            u8::from(s.stuck),
        );
        self.inner
            .stats
            .lag
            .render(out, "folio_change_feed_lag_seconds", "");
        if let Some(edge) = &self.inner.edge {
            edge.render_metrics(out);
        }
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "milliseconds since 1970 stay exact in an f64 for 280,000 years"
)]
fn unix_seconds(t: NaiveDateTime) -> f64 {
    t.and_utc().timestamp_millis() as f64 / 1000.0
}
