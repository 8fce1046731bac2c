//! Tags named by a request: nothing is stored for a book that does not exist.
//! (In the engine's terms: for a thing whose id the policy's
//! `requested_id` reads from a tag; folio's are books.)
//!
//! Why tag versions are created on read: an entry records the version of
//! each tag it depends on, read *before* the database. If a tag had no key
//! and the entry recorded "none", a write's bump followed by the loss of
//! that key (eviction) would bring "none" back, and the old entry would look
//! current again. So a tag without a key gets one at read time (Redis's
//! clock in µs), strictly older than any later bump; and a key that is gone
//! proves nothing (the read script counts it as "not current").
//!
//! Done for every id a client can type, that creates two keys per missing
//! book (`book:{id}`, `ratings:{id}`), each for a month. So for tags that
//! name a book, the engine first *peeks* (no key made):
//!
//! * every tag has a key: its versions are recorded, as before: nothing new
//!   is made;
//! * some tag has none: the engine asks whether the book exists (one index
//!   lookup). If it does, the versions are read and created as before, still
//!   before the computation reads the database, so the argument above holds
//!   unchanged. If it does not (or the answer is unknown), no key is made
//!   and the value is marked unknown: computed and served (a 404, almost
//!   always) but never stored, since nothing could prove it fresh later.
//!
//! A book created between the lookup and the computation is therefore shown
//! but not stored; its next request stores it. Tags that name no book
//! (`chart`, `books`) are two keys in all and are created on read as before;
//! tags added while computing (the chart's books) come from the database,
//! not from a request.

use std::fmt::Display;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::deps::Deps;

/// Whether the thing (folio: the book) with this id exists; false when that
/// cannot be known.
pub type Exists = Arc<dyn Fn(i32) -> BoxFuture<'static, bool> + Send + Sync>;

impl Deps {
    /// Records a fragment's own tags before computing it, making no tag key
    /// for a book that does not exist (see the module's comment).
    pub(super) async fn depend_on_requested<T: Display + Copy>(
        &self,
        tags: &[T],
        requested_id: impl Fn(&T) -> Option<i32>,
        exists: Option<&Exists>,
    ) {
        let (named, others): (Vec<T>, Vec<T>) =
            tags.iter().partition(|t| requested_id(t).is_some());
        let Some(exists) = exists.filter(|_| !named.is_empty()) else {
            return self.depend_on(tags).await;
        };
        let peeked = match self.store.peek_versions(&named).await {
            Ok(versions) => versions,
            Err(e) => {
                tracing::debug!(error = %e, "cache: tag versions unreadable; the value will not be stored");
                self.mark_unknown();
                return;
            }
        };
        if peeked.iter().all(Option::is_some) {
            self.record(&named, peeked.into_iter().flatten().collect());
            return self.depend_on(&others).await;
        }
        let mut ids: Vec<i32> = named.iter().filter_map(requested_id).collect();
        ids.dedup();
        for id in ids {
            if !exists(id).await {
                self.mark_unknown();
                return;
            }
        }
        self.depend_on(tags).await;
    }
}
