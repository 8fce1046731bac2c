//! The change feed: what the database says changed, whoever changed it,
//! turned into cache invalidations.
//!
//! Triggers (`migrations/*/…_change_feed`) record every insert, update,
//! delete and truncate of the tables that pages show in the change log
//! (`cache_changes`), inside the writer's own transaction, one row per
//! subject (`book:7`, `ratings:7`, …) however many rows a statement touched.
//! [`ChangeFeed::apply_pending`] reads the log, bumps the tags that
//! `cache::policy::Change` declares for each subject, then deletes exactly the
//! rows it applied (by `seq`, which changes with every change: a subject
//! changed again meanwhile keeps its row). It runs
//!
//! * right after each of folio's own writes (read-your-writes);
//! * when the database says something committed (`listen.rs`: NOTIFY on
//!   PostgreSQL, `PRAGMA data_version` on SQLite), and every 2 s regardless;
//! * at start, before the server takes requests, and after a Redis outage,
//!   before Redis is used again.
//!
//! Nothing is lost: a row stays until its tags were bumped (and, with edges
//! configured, purged at every edge: `src/edge/`), whether folio was
//! down, frozen or killed meanwhile. Several instances may drain at once: a
//! bump twice is harmless, and a row is only deleted once bumped.

mod listen;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use tokio::sync::Notify;

use crate::cache::metrics::Histogram;
use crate::cache::{Cache, Change, StoreError, Tag};
use crate::db::changes::{self, PendingChange};
use crate::db::{DataError, Database};
use crate::edge::{EdgePurger, PurgeError};

/// How often the log is read even when nothing woke the feed.
pub(crate) const SAFETY_POLL: Duration = Duration::from_secs(2);
/// More pending subjects than this in one read are applied as `all`: one
/// bump instead of thousands (a bulk load, a large script).
pub(crate) const MAX_SUBJECTS: usize = 1000;
/// A feed that has not applied the log for this long, while the cache is
/// usable, is stuck: cached pages may be old (`/readyz` answers 503).
pub(crate) const STUCK_AFTER: Duration = Duration::from_secs(10);

const LAG_BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 60.0,
];

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the change log cannot be read: {0}")]
    Database(#[from] DataError),
    #[error("the cache cannot take the changes: {0}")]
    Cache(#[from] StoreError),
    #[error("the edges cannot take the changes: {0}")]
    Edge(#[from] PurgeError),
}

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

#[derive(Clone)]
pub struct ChangeFeed {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    cache: Arc<Cache>,
    /// Edges purged after each bump, before the rows are forgotten.
    edge: Option<EdgePurger>,
    /// Rows (by `seq`) whose tags this feed bumped but that wait for an
    /// edge: a retry purges them again without bumping again, which would
    /// throw their pages out of folio's cache at every retry while an edge
    /// is down. A row changed again has a new `seq`, so it is bumped anew.
    bumped: Mutex<HashSet<i64>>,
    /// One drain at a time in this process: a writer that waits for its
    /// turn drains after its own commit, so it sees its own rows.
    turn: tokio::sync::Mutex<()>,
    wake: Notify,
    /// Set by [`ChangeFeed::stop`]: the listener and the loop end.
    stopped: AtomicBool,
    listener: Mutex<Option<JoinHandle<()>>>,
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

impl ChangeFeed {
    /// A feed that also purges the tags it bumps at the configured edges.
    pub(crate) fn with_edge(db: Database, cache: Arc<Cache>, edge: Option<EdgePurger>) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                cache,
                edge,
                bumped: Mutex::new(HashSet::new()),
                turn: tokio::sync::Mutex::new(()),
                wake: Notify::new(),
                stopped: AtomicBool::new(false),
                listener: Mutex::new(None),
                applied: AtomicU64::new(0),
                coalesced: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                lag: Histogram::new(LAG_BOUNDS),
                last: Mutex::new(Last {
                    success: Instant::now(),
                    change: None,
                    lag: None,
                }),
            }),
        }
    }

    /// Applies what changed while no instance ran, then follows the
    /// database for as long as this feed lives. Should the first drain
    /// fail, Redis is not used until the recovery hook has applied it.
    pub(crate) async fn start(&self) {
        match self.apply_pending().await {
            // The cache took the bumps; only an edge waits.
            Ok(_) | Err(FeedError::Edge(_)) => {}
            Err(e) => {
                tracing::warn!(error = %e, "change feed: the log could not be applied at start; Redis waits for it");
                self.inner.cache.hold_until_recovered();
            }
        }
        *self.inner.listener.lock().expect("feed state") = listen::spawn(self);
        let feed = self.clone();
        tokio::spawn(async move {
            while !feed.stopped() {
                let _ = tokio::time::timeout(SAFETY_POLL, feed.inner.wake.notified()).await;
                if feed.stopped() {
                    break;
                }
                if let Err(e) = feed.apply_pending().await {
                    tracing::debug!(error = %e, "change feed: will retry");
                }
            }
        });
    }

    /// Stops following the database: the listener's thread and connection
    /// end (this waits for the thread), and so does the drain loop. What is
    /// left in the log waits for another instance or the next start.
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::Release);
        self.inner.wake.notify_one();
        let listener = self.inner.listener.lock().expect("feed state").take();
        if let Some(thread) = listener {
            let _ = thread.join();
        }
    }

    fn stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::Acquire)
    }

    /// What folio's own writes call after their commit: the writer's next
    /// request sees the write. A failure leaves the change in the log.
    pub(crate) async fn apply_after_write(&self) {
        if let Err(e) = self.apply_pending().await {
            tracing::warn!(error = %e, "change feed: the write is committed; its invalidation waits in the change log");
        }
    }

    /// Purges `tags` at the configured edges (none: nothing to do), for
    /// invalidations that do not go through the log (a manual flush).
    pub(crate) async fn purge_edges(&self, tags: &[Tag]) -> Result<(), PurgeError> {
        match &self.inner.edge {
            Some(edge) => edge.purge(tags).await,
            None => Ok(()),
        }
    }

    /// Reads the log and applies every pending change; returns how many
    /// subjects were applied.
    pub async fn apply_pending(&self) -> Result<usize, FeedError> {
        self.drain(false).await
    }

    /// The same while the Redis breaker is recovering (before it closes).
    /// An edge that does not answer does not keep Redis out of use: Redis
    /// took the bumps, and the rows wait in the log for the edge.
    pub(crate) async fn apply_pending_recovering(&self) -> Result<usize, FeedError> {
        match self.drain(true).await {
            Err(FeedError::Edge(e)) => {
                tracing::warn!(error = %e, "change feed: Redis is current again; the edges' purges wait in the change log");
                Ok(0)
            }
            other => other,
        }
    }

    async fn drain(&self, recovering: bool) -> Result<usize, FeedError> {
        let inner = &self.inner;
        let _turn = inner.turn.lock().await;
        let mut total = 0;
        loop {
            let batch = match self.apply_batch(recovering).await {
                Ok(n) => n,
                Err(e) => {
                    inner.failures.fetch_add(1, Ordering::Relaxed);
                    if let FeedError::Edge(_) = e {
                        // folio's own tiers took the bump: the feed is not
                        // stuck, an edge is (`folio_edge_purge_failures_total`);
                        // the rows wait for it.
                        inner.last.lock().expect("feed state").success = Instant::now();
                    }
                    return Err(e);
                }
            };
            total += batch;
            // A full batch means more may wait.
            if batch <= MAX_SUBJECTS {
                break;
            }
        }
        inner.last.lock().expect("feed state").success = Instant::now();
        Ok(total)
    }

    /// One read of the log, applied; returns the rows read.
    async fn apply_batch(&self, recovering: bool) -> Result<usize, FeedError> {
        let inner = &self.inner;
        let limit = MAX_SUBJECTS as i64 + 1;
        let rows = inner.db.run(move |c| changes::pending(c, limit)).await?;
        let complete = rows.len() < limit as usize;
        let to_bump = self.not_yet_bumped(&rows, recovering, complete);
        if rows.is_empty() {
            return Ok(0);
        }
        let tags = tags_of(&rows);
        if !to_bump.is_empty() {
            let bump = tags_of(&to_bump);
            if recovering {
                inner.cache.invalidate_tags_recovering(&bump).await?;
            } else {
                inner.cache.invalidate_tags(&bump).await?;
            }
        }
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        // After the bump, so that an edge's next fetch gets the new page.
        if let Some(edge) = &inner.edge {
            inner
                .bumped
                .lock()
                .expect("feed state")
                .extend(seqs.iter().copied());
            edge.purge(&tags).await?;
            edge.purge_again_later(tags);
        }
        let forgotten = seqs.clone();
        inner.db.run(move |c| changes::forget(c, &seqs)).await?;
        {
            let mut bumped = inner.bumped.lock().expect("feed state");
            for seq in &forgotten {
                bumped.remove(seq);
            }
        }
        self.record_applied(&rows);
        Ok(rows.len())
    }

    /// The rows of `rows` whose tags still need a bump: all of them while
    /// recovering from a Redis outage (once per outage, nothing assumed
    /// about what Redis kept), else those this feed has not bumped yet.
    /// Forgets the rows that left the log when `rows` is all of it.
    fn not_yet_bumped(
        &self,
        rows: &[PendingChange],
        recovering: bool,
        complete: bool,
    ) -> Vec<PendingChange> {
        let mut bumped = self.inner.bumped.lock().expect("feed state");
        if complete {
            let present: HashSet<i64> = rows.iter().map(|r| r.seq).collect();
            bumped.retain(|seq| present.contains(seq));
        }
        rows.iter()
            .filter(|r| recovering || !bumped.contains(&r.seq))
            .cloned()
            .collect()
    }

    fn record_applied(&self, rows: &[PendingChange]) {
        let inner = &self.inner;
        let now = Utc::now().naive_utc();
        let lag_of = |r: &PendingChange| (now - r.changed_at).to_std().unwrap_or_default();
        for row in rows {
            inner.lag.observe(lag_of(row));
        }
        let folded: i64 = rows.iter().map(|r| (r.coalesced - 1).max(0)).sum();
        inner
            .applied
            .fetch_add(rows.len() as u64, Ordering::Relaxed);
        inner.coalesced.fetch_add(folded as u64, Ordering::Relaxed);
        let newest = rows.iter().max_by_key(|r| r.changed_at);
        {
            let mut last = inner.last.lock().expect("feed state");
            last.change = newest.map(|r| r.changed_at);
            last.lag = newest.map(lag_of);
        }
        tracing::info!(
            subjects = rows.len(),
            row_changes = rows.len() as i64 + folded,
            first = %rows[0].subject,
            "change feed: applied"
        );
    }

    pub fn status(&self) -> FeedStatus {
        let inner = &self.inner;
        let last = inner.last.lock().expect("feed state");
        let since_success = last.success.elapsed();
        // With Redis's breaker open nothing cached is served, so a feed that
        // waits for Redis is not stuck.
        let cache_usable = inner.cache.breaker().is_none_or(|b| b.allows());
        FeedStatus {
            applied: inner.applied.load(Ordering::Relaxed),
            coalesced: inner.coalesced.load(Ordering::Relaxed),
            failures: inner.failures.load(Ordering::Relaxed),
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
            s.last_change
                .map(|t| t.and_utc().timestamp_millis() as f64 / 1000.0)
                .unwrap_or(0.0),
            s.since_success.as_secs_f64(),
            u8::from(s.stuck),
        );
        self.inner
            .lag
            .render(out, "folio_change_feed_lag_seconds", "");
        if let Some(edge) = &self.inner.edge {
            edge.render_metrics(out);
        }
    }
}

/// The tags of a batch of subjects, as the policy declares them; past
/// [`MAX_SUBJECTS`], `all`.
fn tags_of(rows: &[PendingChange]) -> Vec<Tag> {
    if rows.len() > MAX_SUBJECTS {
        return Change::Everything.touches();
    }
    let mut tags: Vec<Tag> = rows
        .iter()
        .flat_map(|r| Change::parse(&r.subject).touches())
        .collect();
    tags.sort_by_key(Tag::to_string);
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(subject: &str, seq: i64) -> PendingChange {
        PendingChange {
            subject: subject.into(),
            seq,
            changed_at: Utc::now().naive_utc(),
            coalesced: 1,
        }
    }

    #[test]
    fn a_batch_bumps_the_union_of_its_subjects_tags_once_each() {
        let tags = tags_of(&[row("book:1", 1), row("book:2", 2), row("ratings:1", 3)]);
        assert_eq!(
            tags,
            vec![
                Tag::Book(1),
                Tag::Book(2),
                Tag::Books,
                Tag::AnyRatings,
                Tag::Ratings(1)
            ]
        );
    }

    #[test]
    fn too_many_subjects_are_applied_as_everything() {
        let rows: Vec<_> = (0..=MAX_SUBJECTS as i64)
            .map(|i| row(&format!("book:{i}"), i))
            .collect();
        assert_eq!(tags_of(&rows), vec![Tag::All]);
        assert_eq!(tags_of(&rows[..MAX_SUBJECTS]).len(), MAX_SUBJECTS + 1);
    }
}
