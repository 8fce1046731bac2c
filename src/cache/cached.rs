//! What a look-up answers: the body and how it was found.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::encoding::Encodings;
use super::entry::Entry;
use super::tag_versions::TagVersions;

/// Where a response came from, for the `X-Cache` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    Miss,
    /// Expired, served while a refresh runs.
    Stale,
    /// Computing failed (the database is down): an old copy.
    StaleOnError,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "HIT",
            Outcome::Miss => "MISS",
            Outcome::Stale | Outcome::StaleOnError => "STALE",
        }
    }
}

/// Which tier answered, for `Server-Timing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Local,
    Shared,
    Computed,
    /// Waited for another request's computation.
    Coalesced,
}

impl Source {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Source::Local => "local",
            Source::Shared => "shared",
            Source::Computed => "computed",
            Source::Coalesced => "coalesced",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    pub(crate) outcome: Outcome,
    pub(crate) source: Source,
    /// A strong validator of this exact entry.
    pub(crate) etag: Arc<str>,
    /// When the entry was computed (Unix ms): its Last-Modified.
    pub(crate) created_ms: u64,
    /// Compressed copies of `body`, sent as they are.
    pub(crate) encodings: Encodings,
    /// From when the entry counts as expired (Unix ms).
    pub(crate) stale_at_ms: u64,
    /// Time spent answering, and in computing if this request computed.
    pub(crate) elapsed: Duration,
    pub(crate) compute: Option<Duration>,
    /// The tag versions a fresh computation recorded: callers who waited for
    /// it check them before taking its result.
    pub(super) deps: Option<Arc<TagVersions>>,
}

impl Cached {
    /// `entry` as found (or made) by `source`; `deps` are the versions a
    /// waiter must check before taking it (`None`: nothing to check).
    pub(super) fn of(
        entry: &Entry,
        etag: Arc<str>,
        outcome: Outcome,
        source: Source,
        deps: Option<Arc<TagVersions>>,
    ) -> Self {
        Self {
            body: entry.body.clone(),
            encodings: entry.encodings.clone(),
            outcome,
            source,
            etag,
            created_ms: entry.created_ms,
            stale_at_ms: entry.stale_at_ms,
            elapsed: Duration::ZERO,
            compute: None,
            deps,
        }
    }
}

/// A strong validator of one entry: its key, when it was made, and how long
/// that took.
pub(super) fn etag_of(key: &str, created_ms: u64, compute_us: u64) -> Arc<str> {
    let mut bytes = key.as_bytes().to_vec();
    bytes.extend_from_slice(&created_ms.to_le_bytes());
    bytes.extend_from_slice(&compute_us.to_le_bytes());
    Arc::from(format!("\"{:016x}\"", super::fnv::fnv1a64(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_differ_per_entry() {
        assert_ne!(etag_of("k", 1, 2), etag_of("k", 2, 2));
        assert_ne!(etag_of("k", 1, 2), etag_of("j", 1, 2));
        assert_eq!(etag_of("k", 1, 2), etag_of("k", 1, 2));
        assert!(etag_of("k", 1, 2).starts_with('"'));
    }
}
