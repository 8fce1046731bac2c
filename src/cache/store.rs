//! The storage behind the cache engine: Redis or process memory, one enum
//! ("is this Redis?" has one answer: [`Backend::redis`]). The two backends
//! are this module's children: `store/redis.rs` (its Lua scripts in
//! `store/redis/`) and `store/memory.rs`.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::coherence::Coherence;
use super::local::LocalTier;
use super::stored::{KeyInfo, Lookup, StoreError};
use crate::redis::Breaker;

pub(super) mod memory;
pub(super) mod redis;

use self::memory::MemoryStore;
use self::redis::RedisStore;

/// Where entries and tag versions live. Keys handed in are complete
/// (prefix and format version included).
pub(crate) enum Backend {
    /// One process: no locks, no messages; the engine's single-flight is
    /// the lock.
    Memory(MemoryStore),
    /// Shared by every instance, with what only Redis has.
    Redis(RedisTier),
}

/// Redis and what comes with it: the breaker, and the in-process tier in
/// front of it with the channel that keeps that tier exact.
pub(crate) struct RedisTier {
    pub(crate) store: RedisStore,
    pub(crate) breaker: Arc<Breaker>,
    pub(crate) local: Option<Arc<LocalTier>>,
    pub(crate) coherence: Option<Arc<Coherence>>,
}

impl Backend {
    /// The Redis tier, if this is Redis (then instances coordinate with
    /// locks and invalidation messages).
    pub(crate) fn redis(&self) -> Option<&RedisTier> {
        match self {
            Backend::Memory(_) => None,
            Backend::Redis(redis) => Some(redis),
        }
    }

    /// A name for logs and metrics.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    /// Reads an entry and checks its recorded tag versions, at once.
    pub(crate) async fn read(&self, key: &str) -> Result<Option<Lookup>, StoreError> {
        match self {
            Backend::Memory(m) => Ok(m.read(key)),
            Backend::Redis(r) => r.store.read(key).await,
        }
    }

    /// Reads many tag-free entries in one round trip (MGET).
    pub(crate) async fn read_many(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<Bytes>>, StoreError> {
        match self {
            Backend::Memory(m) => Ok(m.read_many(keys)),
            Backend::Redis(r) => r.store.read_many(keys).await,
        }
    }

    pub(crate) async fn write(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        match self {
            Backend::Memory(m) => {
                m.write(key.to_owned(), value, ttl);
                Ok(())
            }
            Backend::Redis(r) => r.store.write(key, value, ttl).await,
        }
    }

    /// Writes many entries in one round trip (a pipeline).
    pub(crate) async fn write_many(
        &self,
        entries: Vec<(String, Bytes, Duration)>,
    ) -> Result<(), StoreError> {
        match self {
            Backend::Memory(m) => {
                for (key, value, ttl) in entries {
                    m.write(key, value, ttl);
                }
                Ok(())
            }
            Backend::Redis(r) => r.store.write_many(entries).await,
        }
    }

    /// The current version of each tag (0 for one never bumped in memory;
    /// in Redis, one is made now for a tag that has none).
    pub(crate) async fn tag_versions(&self, tags: &[impl Display]) -> Result<Vec<u64>, StoreError> {
        match self {
            Backend::Memory(m) => Ok(m.tag_versions(tags)),
            Backend::Redis(r) => r.store.tag_versions(tags).await,
        }
    }

    /// The version of each tag that has one, creating none (`None`: the tag
    /// has no key, so reading its version would create one). Memory never
    /// loses a version: it has one for every tag.
    pub(crate) async fn peek_versions(
        &self,
        tags: &[impl Display],
    ) -> Result<Vec<Option<u64>>, StoreError> {
        match self {
            Backend::Memory(m) => Ok(m.tag_versions(tags).into_iter().map(Some).collect()),
            Backend::Redis(r) => r.store.peek_versions(tags).await,
        }
    }

    /// The time an entry has left, if it exists.
    pub(crate) async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        match self {
            Backend::Memory(m) => Ok(m.ttl(key)),
            Backend::Redis(r) => r.store.ttl(key).await,
        }
    }

    /// Up to `limit` keys matching `pattern` (a glob), with TTL and size.
    pub(crate) async fn list(
        &self,
        pattern: &str,
        limit: usize,
    ) -> Result<Vec<KeyInfo>, StoreError> {
        match self {
            Backend::Memory(m) => Ok(m.list(pattern, limit)),
            Backend::Redis(r) => r.store.list(pattern, limit).await,
        }
    }

    /// Removes every key matching `pattern`; returns how many.
    pub(crate) async fn clear(&self, pattern: &str) -> Result<u64, StoreError> {
        match self {
            Backend::Memory(m) => Ok(m.clear(pattern)),
            Backend::Redis(r) => r.store.clear(pattern).await,
        }
    }
}

impl RedisTier {
    /// The in-process tier, while it may answer.
    pub(crate) fn usable_local(&self) -> Option<&Arc<LocalTier>> {
        let local = self.local.as_ref()?;
        (self.breaker.allows() && local.leased()).then_some(local)
    }
}
