//! What the stores hand the engine: an entry as read, a key as listed, and
//! what a store's call can fail with. Plain data, shared by the backends
//! (`store/memory.rs`, `store/redis.rs`), the `Backend` over them
//! (`store.rs`) and the engine's files, so that none of them has to import
//! another for it.

use std::time::Duration;

use bytes::Bytes;

/// What a store's call can fail with: only Redis fails (process memory
/// always answers), so it is the Redis layer's error.
pub use crate::redis::RedisError as StoreError;

/// An entry as read, with whether every tag it recorded still has the
/// version it was computed under.
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    pub(crate) raw: Bytes,
    pub(crate) deps_current: bool,
}

/// One key as `/admin/cache` lists it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub(crate) key: String,
    pub(crate) ttl: Option<Duration>,
    pub(crate) bytes: u64,
}
