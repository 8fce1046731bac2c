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
//!   `PostgreSQL`, `PRAGMA data_version` on `SQLite`), and every 2 s regardless;
//! * at start, before the server takes requests, and after a Redis outage,
//!   before Redis is used again.
//!
//! Nothing is lost: a row stays until its tags were bumped (and, with edges
//! configured, purged at every edge: `src/edge/`), whether folio was
//! down, frozen or killed meanwhile. Several instances may drain at once: a
//! bump twice is harmless, and a row is only deleted once bumped.
//!
//! Here: the feed and its loop; `apply.rs`: one drain of the log;
//! `edge_retry.rs`: rows bumped but not yet purged at every edge;
//! `status.rs`: its counters, `/readyz`'s "stuck" and `/metrics`.

mod apply;
mod edge_retry;
mod listen;
mod status;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::Notify;

use crate::cache::{Cache, StoreError, Tag};
use crate::db::{DataError, Database};
use crate::edge::{EdgePurger, PurgeError};

use self::edge_retry::AwaitingEdge;
pub use self::status::FeedStatus;
use self::status::Stats;

/// How often the log is read even when nothing woke the feed.
pub(crate) const SAFETY_POLL: Duration = Duration::from_secs(2);
/// More pending subjects than this in one read are applied as `all`: one
/// bump instead of thousands (a bulk load, a large script).
pub(crate) const MAX_SUBJECTS: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the change log cannot be read: {0}")]
    Database(#[from] DataError),
    #[error("the cache cannot take the changes: {0}")]
    Cache(#[from] StoreError),
    #[error("the edges cannot take the changes: {0}")]
    Edge(#[from] PurgeError),
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
    /// Rows this feed bumped that wait for an edge (`edge_retry.rs`).
    bumped: AwaitingEdge,
    /// One drain at a time in this process: a writer that waits for its
    /// turn drains after its own commit, so it sees its own rows.
    turn: tokio::sync::Mutex<()>,
    wake: Notify,
    /// Set by [`ChangeFeed::stop`]: the listener and the loop end.
    stopped: AtomicBool,
    listener: Mutex<Option<JoinHandle<()>>>,
    stats: Stats,
}

impl ChangeFeed {
    /// A feed that also purges the tags it bumps at the configured edges.
    pub(crate) fn with_edge(db: Database, cache: Arc<Cache>, edge: Option<EdgePurger>) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                cache,
                edge,
                bumped: AwaitingEdge::default(),
                turn: tokio::sync::Mutex::new(()),
                wake: Notify::new(),
                stopped: AtomicBool::new(false),
                listener: Mutex::new(None),
                stats: Stats::new(),
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
}
