//! The in-process backend: bounded by bytes, with a TTL per entry. Used when
//! no Redis is configured (one instance).

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::sync::Cache as Moka;
use moka::Expiry;

use crate::cache::entry::Entry;
use crate::cache::stored::{KeyInfo, Lookup};
use crate::clock::unix_us;

#[derive(Clone)]
struct Stored {
    raw: Bytes,
    expires_at: Instant,
}

struct UntilExpiry;

impl Expiry<String, Stored> for UntilExpiry {
    fn expire_after_create(&self, _: &String, value: &Stored, now: Instant) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &Stored,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(now))
    }
}

pub(crate) struct MemoryStore {
    entries: Moka<String, Stored>,
    versions: RwLock<HashMap<String, u64>>,
}

/// `prefix*` globs, the only kind folio uses.
fn matches(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => key == pattern,
    }
}

impl MemoryStore {
    /// A store that holds at most `max_bytes` of keys and values.
    pub(crate) fn new(max_bytes: u64) -> Self {
        let entries = Moka::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, value: &Stored| {
                u32::try_from(key.len() + value.raw.len()).unwrap_or(u32::MAX)
            })
            .expire_after(UntilExpiry)
            .build();
        Self {
            entries,
            versions: RwLock::new(HashMap::new()),
        }
    }

    fn version(&self, tag: &str) -> u64 {
        self.versions
            .read()
            .map_or(0, |v| v.get(tag).copied().unwrap_or(0))
    }

    fn live(&self, key: &str) -> Option<Stored> {
        self.entries
            .get(key)
            .filter(|s| s.expires_at > Instant::now())
    }
}

impl MemoryStore {
    pub(crate) fn read(&self, key: &str) -> Option<Lookup> {
        self.live(key).map(|stored| {
            let deps_current = Entry::decode(&stored.raw)
                .is_some_and(|e| e.deps.iter().all(|(tag, v)| self.version(tag) == v));
            Lookup {
                raw: stored.raw,
                deps_current,
            }
        })
    }

    pub(crate) fn read_many(&self, keys: &[String]) -> Vec<Option<Bytes>> {
        keys.iter().map(|k| self.live(k).map(|s| s.raw)).collect()
    }

    pub(crate) fn write(&self, key: String, raw: Bytes, ttl: Duration) {
        self.entries.insert(
            key,
            Stored {
                raw,
                expires_at: Instant::now() + ttl,
            },
        );
    }

    pub(crate) fn tag_versions(&self, tags: &[impl Display]) -> Vec<u64> {
        tags.iter().map(|t| self.version(&t.to_string())).collect()
    }

    /// Gives each tag a new version, larger than any it had before.
    pub(crate) fn bump(&self, tags: &[impl Display]) -> Vec<u64> {
        let mut bumped = Vec::with_capacity(tags.len());
        if let Ok(mut versions) = self.versions.write() {
            let now = unix_us();
            for tag in tags {
                let slot = versions.entry(tag.to_string()).or_insert(0);
                *slot = (*slot + 1).max(now);
                bumped.push(*slot);
            }
        }
        bumped
    }

    pub(crate) fn ttl(&self, key: &str) -> Option<Duration> {
        self.live(key)
            .map(|s| s.expires_at.saturating_duration_since(Instant::now()))
            .filter(|d| !d.is_zero())
    }

    pub(crate) fn list(&self, pattern: &str, limit: usize) -> Vec<KeyInfo> {
        let now = Instant::now();
        let mut keys: Vec<KeyInfo> = self
            .entries
            .iter()
            .filter(|(k, s)| matches(pattern, k) && s.expires_at > now)
            .take(limit)
            .map(|(k, s)| KeyInfo {
                key: k.to_string(),
                ttl: Some(s.expires_at.saturating_duration_since(now)),
                bytes: s.raw.len() as u64,
            })
            .collect();
        keys.sort_by(|a, b| a.key.cmp(&b.key));
        keys
    }

    pub(crate) fn clear(&self, pattern: &str) -> u64 {
        let doomed: Vec<String> = self
            .entries
            .iter()
            .filter(|(k, _)| matches(pattern, k))
            .map(|(k, _)| k.to_string())
            .collect();
        for key in &doomed {
            self.entries.invalidate(key);
        }
        doomed.len() as u64
    }
}
