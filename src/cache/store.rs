//! The storage behind the cache engine: Redis or process memory.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;

use super::policy::Tag;

/// What a store's call can fail with: only Redis fails (process memory
/// always answers), so it is the Redis layer's error.
pub use crate::redis::RedisError as StoreError;

/// An entry as read, with whether every tag it recorded still has the
/// version it was computed under.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub raw: Bytes,
    pub deps_current: bool,
}

/// One key as `/admin/cache` lists it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub key: String,
    pub ttl: Option<Duration>,
    pub bytes: u64,
}

/// A cache backend. Keys handed in are complete (prefix and format version
/// included). Implementations are cheap to share (`Arc<dyn CacheStore>`).
pub trait CacheStore: Send + Sync + 'static {
    /// A name for logs and metrics ("redis", "memory").
    fn name(&self) -> &'static str;

    /// Whether several processes share this store (then they coordinate
    /// with locks and invalidation messages).
    fn is_shared(&self) -> bool;

    /// Reads an entry and checks its recorded tag versions, at once.
    fn read<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Lookup>, StoreError>>;

    /// Reads many tag-free entries in one round trip (MGET).
    fn read_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Bytes>>, StoreError>>;

    fn write<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Writes many entries in one round trip (a pipeline).
    fn write_many(
        &self,
        entries: Vec<(String, Bytes, Duration)>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// The current version of each tag (0 for one never bumped).
    fn tag_versions<'a>(&'a self, tags: &'a [Tag]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>>;

    /// The version of each tag that has one, creating none (`None`: the tag
    /// has no key, so reading its version would create one). A store that
    /// never loses a version has one for every tag.
    fn peek_versions<'a>(
        &'a self,
        tags: &'a [Tag],
    ) -> BoxFuture<'a, Result<Vec<Option<u64>>, StoreError>> {
        Box::pin(async move {
            Ok(self
                .tag_versions(tags)
                .await?
                .into_iter()
                .map(Some)
                .collect())
        })
    }

    /// Gives each tag a new version, larger than any it had before, even
    /// across a Redis restart (versions are at least the server's clock in
    /// µs); returns the new versions.
    fn bump<'a>(&'a self, tags: &'a [Tag]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>>;

    /// Takes a short lock (SET NX PX); returns its token if this caller got it.
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>>;

    /// Releases a lock if it still holds `token`.
    fn unlock<'a>(&'a self, key: &'a str, token: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The time an entry has left, if it exists.
    fn ttl<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>, StoreError>>;

    /// Up to `limit` keys matching `pattern` (a glob), with TTL and size.
    fn list<'a>(
        &'a self,
        pattern: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<KeyInfo>, StoreError>>;

    /// Removes every key matching `pattern`; returns how many.
    fn clear<'a>(&'a self, pattern: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;
}
