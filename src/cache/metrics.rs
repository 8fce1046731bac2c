//! Counters and histograms of the cache, rendered in the Prometheus text
//! format by `/metrics`. Lock-free on the request path: one set of atomics
//! per fragment kind.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::micros;

/// Cumulative buckets over fixed upper bounds, in seconds.
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_us: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub(crate) fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = self.bounds.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us.fetch_add(micros(d), Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in self.bounds.iter().zip(&self.counts) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = Duration::from_micros(self.sum_us.load(Ordering::Relaxed)).as_secs_f64();
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

const COMPUTE_BOUNDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const RTT_BOUNDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
];

/// What happened to one request for a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Served from this process's memory.
    HitLocal,
    /// Served from the shared store (Redis, or the in-process backend).
    HitShared,
    /// Computed (or waited for another request's computation).
    Miss,
    /// Served an expired copy while one request refreshes it.
    Stale,
    /// Served an old copy because computing failed (the database is down).
    StaleOnError,
    StoreError,
    /// Stored but never read before it expired or was replaced.
    Useless,
}

const EVENTS: [(Event, &str); 7] = [
    (Event::HitLocal, "hit_local"),
    (Event::HitShared, "hit_shared"),
    (Event::Miss, "miss"),
    (Event::Stale, "stale"),
    (Event::StaleOnError, "stale_on_error"),
    (Event::StoreError, "store_error"),
    (Event::Useless, "useless"),
];

pub struct FragmentMetrics {
    events: [AtomicU64; 7],
    computes: AtomicU64,
    compute_time: Histogram,
}

impl FragmentMetrics {
    fn new() -> Self {
        Self {
            events: Default::default(),
            computes: AtomicU64::new(0),
            compute_time: Histogram::new(COMPUTE_BOUNDS),
        }
    }

    pub fn get(&self, event: Event) -> u64 {
        let i = EVENTS.iter().position(|(e, _)| *e == event).unwrap_or(0);
        self.events[i].load(Ordering::Relaxed)
    }

    pub(crate) fn computes(&self) -> u64 {
        self.computes.load(Ordering::Relaxed)
    }

    /// Hits over all reads, if there were any.
    #[expect(
        clippy::cast_precision_loss,
        reason = "a ratio: counts past 2^53 would lose only digits no ratio shows"
    )]
    pub(crate) fn hit_ratio(&self) -> Option<f64> {
        let hits = self.get(Event::HitLocal) + self.get(Event::HitShared) + self.get(Event::Stale);
        let all = hits + self.get(Event::Miss) + self.get(Event::StaleOnError);
        (all > 0).then(|| hits as f64 / all as f64)
    }
}

/// A stored entry that nobody read.
#[derive(Debug, Clone)]
pub struct UselessEntry {
    pub(crate) key: String,
    pub(crate) fragment: &'static str,
    pub(crate) lived: Duration,
    pub(crate) why: &'static str,
}

pub struct CacheMetrics {
    /// The policy's fragment names; `fragments` is in the same order.
    names: &'static [&'static str],
    fragments: Vec<FragmentMetrics>,
    pub(crate) redis_rtt: Histogram,
    pub(crate) invalidations: AtomicU64,
    pub(crate) invalidation_wait: Histogram,
    useless_recent: Mutex<Vec<UselessEntry>>,
}

impl CacheMetrics {
    /// Counts for each of the fragment kinds `names` lists.
    pub(crate) fn new(names: &'static [&'static str]) -> Self {
        Self {
            names,
            fragments: names.iter().map(|_| FragmentMetrics::new()).collect(),
            redis_rtt: Histogram::new(RTT_BOUNDS),
            invalidations: AtomicU64::new(0),
            invalidation_wait: Histogram::new(RTT_BOUNDS),
            useless_recent: Mutex::new(Vec::new()),
        }
    }

    /// The counts of one fragment kind (the policy's `kind_index`).
    pub(crate) fn fragment(&self, kind: usize) -> &FragmentMetrics {
        &self.fragments[kind]
    }

    pub fn by_name(&self) -> impl Iterator<Item = (&'static str, &FragmentMetrics)> {
        self.names.iter().copied().zip(self.fragments.iter())
    }

    pub(crate) fn record(&self, kind: usize, event: Event) {
        let i = EVENTS.iter().position(|(e, _)| *e == event).unwrap_or(0);
        self.fragment(kind).events[i].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn computed(&self, kind: usize, took: Duration) {
        let m = self.fragment(kind);
        m.computes.fetch_add(1, Ordering::Relaxed);
        m.compute_time.observe(took);
    }

    pub(crate) fn useless(&self, entry: UselessEntry, kind: usize) {
        self.record(kind, Event::Useless);
        let mut recent = self
            .useless_recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if recent.len() >= 50 {
            recent.remove(0);
        }
        recent.push(entry);
    }

    /// The latest entries written but never read, newest last.
    pub(crate) fn useless_recent(&self) -> Vec<UselessEntry> {
        self.useless_recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The Prometheus text exposition of everything above, plus `extra`
    /// gauges the engine knows (breaker state, local tier size).
    pub(crate) fn render(&self, gauges: &[(&str, &str, u64)]) -> String {
        let mut out = String::with_capacity(8 * 1024);
        out.push_str("# HELP folio_cache_requests_total Cache reads by fragment and outcome.\n");
        out.push_str("# TYPE folio_cache_requests_total counter\n");
        for (name, m) in self.by_name() {
            for (i, (_, event)) in EVENTS.iter().enumerate() {
                let n = m.events[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "folio_cache_requests_total{{fragment=\"{name}\",outcome=\"{event}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP folio_cache_computes_total Times a fragment was computed.\n");
        out.push_str("# TYPE folio_cache_computes_total counter\n");
        for (name, m) in self.by_name() {
            let _ = writeln!(
                out,
                "folio_cache_computes_total{{fragment=\"{name}\"}} {}",
                m.computes()
            );
        }
        out.push_str("# HELP folio_cache_compute_seconds Time to compute a fragment.\n");
        out.push_str("# TYPE folio_cache_compute_seconds histogram\n");
        for (name, m) in self.by_name() {
            m.compute_time.render(
                &mut out,
                "folio_cache_compute_seconds",
                &format!("fragment=\"{name}\""),
            );
        }
        out.push_str(
            "# HELP folio_redis_roundtrip_seconds Time of one Redis call, as folio sees it.\n",
        );
        out.push_str("# TYPE folio_redis_roundtrip_seconds histogram\n");
        self.redis_rtt
            .render(&mut out, "folio_redis_roundtrip_seconds", "");
        out.push_str("# HELP folio_cache_invalidations_total Writes whose tags were bumped.\n");
        out.push_str("# TYPE folio_cache_invalidations_total counter\n");
        let _ = writeln!(
            out,
            "folio_cache_invalidations_total {}",
            self.invalidations.load(Ordering::Relaxed)
        );
        out.push_str("# HELP folio_cache_invalidation_wait_seconds Time a write waited for every instance to drop old copies.\n");
        out.push_str("# TYPE folio_cache_invalidation_wait_seconds histogram\n");
        self.invalidation_wait
            .render(&mut out, "folio_cache_invalidation_wait_seconds", "");
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        const HOME_PAGE: usize = 1;
        let m = CacheMetrics::new(&["chart_ranking", "home_page"]);
        m.record(HOME_PAGE, Event::HitLocal);
        m.record(HOME_PAGE, Event::Miss);
        m.computed(HOME_PAGE, Duration::from_millis(30));
        m.redis_rtt.observe(Duration::from_micros(300));
        let text = m.render(&[("folio_cache_breaker_state", "0 closed, 1 open.", 0)]);
        assert!(text.contains(
            "folio_cache_requests_total{fragment=\"home_page\",outcome=\"hit_local\"} 1"
        ));
        assert!(text
            .contains("folio_cache_compute_seconds_bucket{fragment=\"home_page\",le=\"0.05\"} 1"));
        assert!(text
            .contains("folio_cache_compute_seconds_bucket{fragment=\"home_page\",le=\"0.025\"} 0"));
        assert!(text.contains("folio_redis_roundtrip_seconds_count 1"));
        assert!(text.contains("folio_cache_breaker_state 0"));
        assert_eq!(m.fragment(HOME_PAGE).hit_ratio(), Some(0.5));
    }
}
