//! The in-process backend: bounded by bytes, with a TTL per entry.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::{BoxFuture, FutureExt};
use moka::sync::Cache as Moka;
use moka::Expiry;

use super::entry::Entry;
use super::policy::Tag;
use super::store::{CacheStore, Lookup, StoreError};

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

pub struct MemoryStore {
    entries: Moka<String, Stored>,
    versions: RwLock<HashMap<String, u64>>,
}

impl MemoryStore {
    /// A store that holds at most `max_bytes` of keys and values.
    pub fn new(max_bytes: u64) -> Self {
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
            .map(|v| v.get(tag).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

impl CacheStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn read<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Lookup>, StoreError>> {
        let found = self
            .entries
            .get(key)
            .filter(|s| s.expires_at > Instant::now());
        let lookup = found.map(|stored| {
            let deps_current = Entry::decode(stored.raw.clone())
                .map(|e| e.deps.iter().all(|(tag, v)| self.version(tag) == *v))
                .unwrap_or(false);
            Lookup {
                raw: stored.raw,
                deps_current,
            }
        });
        async move { Ok(lookup) }.boxed()
    }

    fn write<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.entries.insert(
            key.to_owned(),
            Stored {
                raw: value,
                expires_at: Instant::now() + ttl,
            },
        );
        async { Ok(()) }.boxed()
    }

    fn tag_versions<'a>(&'a self, tags: &'a [Tag]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>> {
        let versions = tags.iter().map(|t| self.version(&t.to_string())).collect();
        async move { Ok(versions) }.boxed()
    }

    fn bump<'a>(&'a self, tags: &'a [Tag]) -> BoxFuture<'a, Result<(), StoreError>> {
        if let Ok(mut versions) = self.versions.write() {
            let now = now_micros();
            for tag in tags {
                let slot = versions.entry(tag.to_string()).or_insert(0);
                *slot = (*slot + 1).max(now);
            }
        }
        async { Ok(()) }.boxed()
    }

    fn ttl<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>, StoreError>> {
        let left = self
            .entries
            .get(key)
            .map(|s| s.expires_at.saturating_duration_since(Instant::now()))
            .filter(|d| !d.is_zero());
        async move { Ok(left) }.boxed()
    }

    fn clear(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        let n = self.entries.entry_count();
        self.entries.invalidate_all();
        async move { Ok(n) }.boxed()
    }
}
