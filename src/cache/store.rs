//! The storage behind the cache engine: Redis or process memory.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;

use super::policy::Tag;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis pool: {0}")]
    Pool(String),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the in-process store is full")]
    Full,
}

/// An entry as read, with whether every tag it recorded still has the
/// version it was computed under.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub raw: Bytes,
    pub deps_current: bool,
}

/// A cache backend. Keys handed in are complete (prefix and format version
/// included). Implementations are cheap to share (`Arc<dyn CacheStore>`).
pub trait CacheStore: Send + Sync + 'static {
    /// A name for logs and metrics ("redis", "memory").
    fn name(&self) -> &'static str;

    /// Reads an entry and checks its recorded tag versions, at once.
    fn read<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Lookup>, StoreError>>;

    fn write<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The current version of each tag (0 for one never bumped).
    fn tag_versions<'a>(&'a self, tags: &'a [Tag]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>>;

    /// Gives each tag a new version, larger than any it had before, even
    /// across a Redis restart (versions are at least the server's clock in µs).
    fn bump<'a>(&'a self, tags: &'a [Tag]) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The time an entry has left, if it exists.
    fn ttl<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>, StoreError>>;

    /// Removes every key of this namespace; returns how many.
    fn clear(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
}
