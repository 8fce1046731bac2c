//! The writes of the last day, for the "useless cache" report: an entry
//! replaced or expired before anyone read it is counted and listed (see
//! `usage.rs` for the report, `metrics.rs` for the counts).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::metrics::{CacheMetrics, UselessEntry};

/// A write this process made, for the "useless cache" report.
struct Written {
    /// The fragment's kind (the policy's `kind_index`) and its name.
    kind: usize,
    name: &'static str,
    at: Instant,
    read: Arc<AtomicBool>,
}

/// The writes of the last day, each reported as useless should it be
/// replaced or expire before anyone read it.
pub(super) struct Writes {
    entries: moka::sync::Cache<String, Arc<Written>>,
}

impl Writes {
    pub(super) fn new(metrics: Arc<CacheMetrics>) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(20_000)
            .time_to_live(Duration::from_secs(24 * 3600))
            .eviction_listener(move |key: Arc<String>, w: Arc<Written>, cause| {
                let why = match cause {
                    moka::notification::RemovalCause::Replaced => "replaced before anyone read it",
                    moka::notification::RemovalCause::Expired => "expired before anyone read it",
                    _ => return,
                };
                if !w.read.load(Ordering::Relaxed) {
                    metrics.useless(
                        UselessEntry {
                            key: key.to_string(),
                            fragment: w.name,
                            lived: w.at.elapsed(),
                            why,
                        },
                        w.kind,
                    );
                }
            })
            .build();
        Self { entries }
    }

    /// Notes a write of `key`; the flag turns true once the entry is read.
    pub(super) fn record(&self, key: &str, kind: usize, name: &'static str) -> Arc<AtomicBool> {
        let read = Arc::new(AtomicBool::new(false));
        self.entries.insert(
            key.to_owned(),
            Arc::new(Written {
                kind,
                name,
                at: Instant::now(),
                read: read.clone(),
            }),
        );
        read
    }

    /// Runs the evictions due, so that the report is up to date.
    pub(super) fn settle(&self) {
        self.entries.run_pending_tasks();
    }

    pub(super) fn mark_read(&self, key: &str) {
        if let Some(w) = self.entries.get(key) {
            w.read.store(true, Ordering::Relaxed);
        }
    }
}
