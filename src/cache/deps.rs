//! What a computation depends on: the tags it reads, each at the version it
//! had before the database was read, and the nested fragments it is built
//! from.

use std::fmt::Display;
use std::sync::{Arc, Mutex};

use super::cached::{Cached, Outcome};
use super::store::Backend;
use super::tag_versions::TagVersions;
use crate::clock::unix_ms;

/// Collects the tags a computation depends on, each with the version it had
/// before the computation read the database.
#[derive(Clone)]
pub struct Deps {
    pub(super) store: Arc<Backend>,
    recorded: Arc<Mutex<DepState>>,
}

#[derive(Default)]
struct DepState {
    tags: TagVersions,
    /// Set when a version could not be read, or when a nested fragment was
    /// an old copy: the value is then served but not stored, since nothing
    /// could prove it fresh later.
    unknown: bool,
    /// The earliest expiry of the nested fragments used.
    stale_by_ms: Option<u64>,
}

impl Deps {
    pub(super) fn new(store: Arc<Backend>) -> Self {
        Self {
            store,
            recorded: Arc::new(Mutex::new(DepState::default())),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, DepState> {
        self.recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records `tags` at their current versions. Call it before reading the
    /// data those tags stand for.
    pub(crate) async fn depend_on(&self, tags: &[impl Display]) {
        match self.store.tag_versions(tags).await {
            Ok(versions) => self.record(tags, versions),
            Err(e) => {
                tracing::debug!(error = %e, "cache: tag versions unreadable; the value will not be stored");
                self.mark_unknown();
            }
        }
    }

    /// Records `tags` at `versions` (each tag once).
    pub(super) fn record(&self, tags: &[impl Display], versions: Vec<u64>) {
        let mut state = self.state();
        for (tag, version) in tags.iter().zip(versions) {
            state.tags.record(tag.to_string(), version);
        }
    }

    /// The value cannot be proved fresh later: serve it, store it not.
    pub(super) fn mark_unknown(&self) {
        self.state().unknown = true;
    }

    /// A nested fragment this value is built from: the value expires no
    /// later than it, and is not stored at all if it was an old copy.
    pub(super) fn nested(&self, inner: &Cached) {
        let mut state = self.state();
        // An expired inner value is being refreshed: give the outer value a
        // moment, not an expiry already past (it would be rebuilt on every
        // request until the refresh lands).
        let inner_stale_at = if inner.outcome == Outcome::Stale {
            unix_ms() + 1000
        } else {
            inner.stale_at_ms
        };
        state.stale_by_ms = Some(
            state
                .stale_by_ms
                .map_or(inner_stale_at, |s| s.min(inner_stale_at)),
        );
        if inner.outcome == Outcome::StaleOnError {
            state.unknown = true;
        }
    }

    /// (recorded tags unless unknown, earliest nested expiry)
    pub(super) fn into_recorded(self) -> (Option<TagVersions>, Option<u64>) {
        let state = self.state();
        (
            (!state.unknown).then(|| state.tags.clone()),
            state.stale_by_ms,
        )
    }
}
