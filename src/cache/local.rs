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
use crate::clock::millis;

/// A stored entry as this process keeps it: the entry itself, its
/// validator, and how long it may stay here.
pub(crate) struct LocalEntry {
    pub(crate) entry: Entry,
    pub(crate) etag: Arc<str>,
    expires_at: Instant,
    /// Shared with the write record, for the "useless cache" report.
    pub(crate) read: Option<Arc<AtomicBool>>,
    /// The tier's `changes` when this copy was last found current: until
    /// the view changes, a hit need not look its tags up again.
    current_as_of: AtomicU64,
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
            current_as_of: AtomicU64::new(NEVER_CHECKED),
        }
    }
}

/// No value of `LocalTier::changes` is this.
const NEVER_CHECKED: u64 = u64::MAX;

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
    /// Counts the writes to `versions` (bumped under its write lock): a copy
    /// current at one count stays current while it holds, since versions
    /// only grow and only a write can change them.
    changes: AtomicU64,
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
            changes: AtomicU64::new(0),
            lease_until_ms: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        millis(self.origin.elapsed())
    }

    /// Whether copies may be served now.
    pub(crate) fn leased(&self) -> bool {
        self.now_ms() < self.lease_until_ms.load(Ordering::Acquire)
    }

    /// Extends the lease to `sent + lease`, where `sent` is when this
    /// instance sent the heartbeat it just received.
    pub(crate) fn renew(&self, sent: Instant, lease: Duration) {
        let until = millis(sent.saturating_duration_since(self.origin) + lease);
        self.lease_until_ms.fetch_max(until, Ordering::AcqRel);
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub(crate) fn get(&self, key: &str) -> Option<Arc<LocalEntry>> {
        self.entries.get(key)
    }

    /// Whether every tag the entry recorded still has that version here.
    /// Checked once per change of the view, not once per hit: a hit on a
    /// page of 12 tags would otherwise hash 12 strings.
    pub(crate) fn is_current(&self, entry: &LocalEntry) -> bool {
        let Ok(versions) = self.versions.read() else {
            return false;
        };
        // Read under the read lock: no write is half done.
        let changes = self.changes.load(Ordering::Acquire);
        if entry.current_as_of.load(Ordering::Relaxed) == changes {
            return true;
        }
        let current = entry
            .entry
            .deps
            .iter()
            .all(|(tag, v)| versions.get(tag) == Some(&v));
        if current {
            entry.current_as_of.store(changes, Ordering::Relaxed);
        }
        current
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
        self.changes.fetch_add(1, Ordering::AcqRel);
        drop(versions);
        self.entries.insert(key, Arc::new(entry));
    }

    /// New tag versions, from an invalidation here or from the channel.
    pub(crate) fn apply(&self, bumped: &TagVersions) {
        if let Ok(mut versions) = self.versions.write() {
            raise(&mut versions, bumped);
            self.changes.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Forgets everything: coherence was lost, messages may have been missed.
    pub(crate) fn reset(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.lease_until_ms.store(0, Ordering::Release);
        if let Ok(mut versions) = self.versions.write() {
            versions.clear();
            self.changes.fetch_add(1, Ordering::AcqRel);
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
    fn a_copy_found_current_is_stale_after_any_later_bump_or_reset() {
        let tier = LocalTier::new(1 << 20);
        tier.insert("k".into(), entry(&[("chart", 1), ("all", 1)]), tier.epoch());
        let copy = tier.get("k").unwrap();
        // Twice: the second answer comes from the remembered check.
        assert!(tier.is_current(&copy));
        assert!(tier.is_current(&copy));
        // A bump of another tag leaves it current; one of its own does not.
        tier.apply(&TagVersions::new(vec![("books".into(), 5)]));
        assert!(tier.is_current(&copy));
        tier.apply(&TagVersions::new(vec![("all".into(), 2)]));
        assert!(!tier.is_current(&copy));
        assert!(!tier.is_current(&copy));

        tier.insert("j".into(), entry(&[("chart", 1)]), tier.epoch());
        let other = tier.get("j").unwrap();
        assert!(tier.is_current(&other));
        tier.reset();
        assert!(!tier.is_current(&other), "a reset forgets every version");
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
