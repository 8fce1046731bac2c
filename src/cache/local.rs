//! The in-process tier in front of Redis: a hit here costs no round trip.
//!
//! It is only trusted while it is provably coherent with every other
//! instance (see `coherence.rs`): entries carry the tag versions they were
//! computed under and are checked against this process's view of the
//! current versions, which invalidation messages keep up to date; that view
//! is only used under a lease renewed by this instance's own heartbeats on
//! the same channel, so a process that stops hearing the channel stops
//! using its copies within the lease.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use moka::sync::Cache as Moka;
use moka::Expiry;

use super::entry::Entry;
use super::tag_versions::TagVersions;

/// A stored entry as this process keeps it: the entry itself, its
/// validator, and how long it may stay here.
pub(crate) struct LocalEntry {
    pub(crate) entry: Entry,
    pub(crate) etag: Arc<str>,
    expires_at: Instant,
    /// Shared with the write record, for the "useless cache" report.
    pub(crate) read: Option<Arc<AtomicBool>>,
}

impl LocalEntry {
    /// `entry`, kept here for `ttl`.
    pub(crate) fn of(
        entry: Entry,
        etag: Arc<str>,
        ttl: Duration,
        read: Option<Arc<AtomicBool>>,
    ) -> Self {
        Self {
            entry,
            etag,
            expires_at: Instant::now() + ttl,
            read,
        }
    }
}

struct UntilExpiry;

impl Expiry<String, Arc<LocalEntry>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _: &String,
        v: &Arc<LocalEntry>,
        now: Instant,
    ) -> Option<Duration> {
        Some(v.expires_at.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &String,
        v: &Arc<LocalEntry>,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(v.expires_at.saturating_duration_since(now))
    }
}

pub(crate) struct LocalTier {
    entries: Moka<String, Arc<LocalEntry>>,
    versions: RwLock<HashMap<String, u64>>,
    /// Copies may be used until this instant (ms since `origin`).
    lease_until_ms: AtomicU64,
    /// Bumped whenever coherence was lost: a value read before cannot be
    /// inserted after.
    epoch: AtomicU64,
    origin: Instant,
}

impl LocalTier {
    pub(crate) fn new(max_bytes: u64) -> Self {
        let entries = Moka::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &String, v: &Arc<LocalEntry>| {
                u32::try_from(k.len() + v.entry.body.len() + v.entry.encodings.bytes() + 128)
                    .unwrap_or(u32::MAX)
            })
            .expire_after(UntilExpiry)
            .build();
        Self {
            entries,
            versions: RwLock::new(HashMap::new()),
            lease_until_ms: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    /// Whether copies may be served now.
    pub(crate) fn leased(&self) -> bool {
        self.now_ms() < self.lease_until_ms.load(Ordering::Acquire)
    }

    /// Extends the lease to `sent + lease`, where `sent` is when this
    /// instance sent the heartbeat it just received.
    pub(crate) fn renew(&self, sent: Instant, lease: Duration) {
        let until = (sent.saturating_duration_since(self.origin) + lease).as_millis() as u64;
        self.lease_until_ms.fetch_max(until, Ordering::AcqRel);
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub(crate) fn get(&self, key: &str) -> Option<Arc<LocalEntry>> {
        self.entries.get(key)
    }

    /// Whether every tag the entry recorded still has that version here.
    pub(crate) fn is_current(&self, entry: &LocalEntry) -> bool {
        let Ok(versions) = self.versions.read() else {
            return false;
        };
        entry
            .entry
            .deps
            .iter()
            .all(|(tag, v)| versions.get(tag) == Some(&v))
    }

    /// Keeps a copy known current at the time of a read that began in
    /// `epoch`; its versions join the view (never lowering one).
    pub(crate) fn insert(&self, key: String, entry: LocalEntry, epoch: u64) {
        let Ok(mut versions) = self.versions.write() else {
            return;
        };
        if self.epoch() != epoch {
            return;
        }
        raise(&mut versions, &entry.entry.deps);
        drop(versions);
        self.entries.insert(key, Arc::new(entry));
    }

    /// New tag versions, from an invalidation here or from the channel.
    pub(crate) fn apply(&self, bumped: &TagVersions) {
        if let Ok(mut versions) = self.versions.write() {
            raise(&mut versions, bumped);
        }
    }

    /// Forgets everything: coherence was lost, messages may have been missed.
    pub(crate) fn reset(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.lease_until_ms.store(0, Ordering::Release);
        if let Ok(mut versions) = self.versions.write() {
            versions.clear();
        }
        self.entries.invalidate_all();
    }

    pub(crate) fn entry_count(&self) -> u64 {
        self.entries.entry_count()
    }

    pub(crate) fn weighted_size(&self) -> u64 {
        self.entries.weighted_size()
    }
}

/// Takes in newer versions, never lowering one.
fn raise(view: &mut HashMap<String, u64>, seen: &TagVersions) {
    for (tag, v) in seen.iter() {
        let slot = view.entry(tag.to_owned()).or_insert(0);
        *slot = (*slot).max(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::encoding::Encodings;
    use bytes::Bytes;

    fn entry(deps: &[(&str, u64)]) -> LocalEntry {
        let stored = Entry {
            created_ms: 0,
            stale_at_ms: u64::MAX,
            compute_us: 0,
            expires_at_ms: u64::MAX,
            deps: TagVersions::new(deps.iter().map(|(t, v)| (t.to_string(), *v)).collect()),
            body: Bytes::from_static(b"x"),
            encodings: Encodings::default(),
        };
        LocalEntry::of(stored, Arc::from("\"e\""), Duration::from_secs(60), None)
    }

    #[test]
    fn a_newer_version_makes_a_copy_stale_in_either_order() {
        let tier = LocalTier::new(1 << 20);
        // The message first, then a copy read before it: never current.
        tier.apply(&TagVersions::new(vec![("book:1".into(), 20)]));
        tier.insert("k".into(), entry(&[("book:1", 10)]), tier.epoch());
        assert!(!tier.is_current(&tier.get("k").unwrap()));
        // A copy first, then the message.
        tier.insert("j".into(), entry(&[("book:2", 10)]), tier.epoch());
        assert!(tier.is_current(&tier.get("j").unwrap()));
        tier.apply(&TagVersions::new(vec![("book:2".into(), 11)]));
        assert!(!tier.is_current(&tier.get("j").unwrap()));
    }

    #[test]
    fn nothing_read_before_a_reset_gets_in_after_it() {
        let tier = LocalTier::new(1 << 20);
        let epoch = tier.epoch();
        tier.reset();
        tier.insert("k".into(), entry(&[("chart", 1)]), epoch);
        assert!(tier.get("k").is_none());
    }

    #[test]
    fn the_lease_runs_from_the_heartbeat_sent() {
        let tier = LocalTier::new(1 << 20);
        assert!(!tier.leased());
        tier.renew(Instant::now(), Duration::from_millis(200));
        assert!(tier.leased());
        std::thread::sleep(Duration::from_millis(250));
        assert!(!tier.leased());
        tier.renew(Instant::now(), Duration::from_secs(5));
        tier.reset();
        assert!(!tier.leased());
    }
}
