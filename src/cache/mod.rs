//! The cache engine: get-or-compute by fragment, over two tiers.
//!
//! Framework-agnostic: it knows fragments, tags and bytes, not HTTP.
//!
//! * **Exact.** Every entry records the version of each tag it depends on,
//!   read before the database is; [`Cache::invalidate`] bumps tags after a
//!   write commits. An entry computed from older data can never pass as
//!   fresh, whatever the interleaving, on any instance (see `coherence.rs`
//!   for the in-process tier).
//! * **Fast.** A hit is served as stored bytes: no query, no rendering; from
//!   process memory when Redis is configured and the tier is coherent.
//! * **No stampede.** One computation per key per process (later callers
//!   wait for its result), one per key across processes (a short Redis
//!   lock), expired entries served stale while one request refreshes them,
//!   early refreshes in the manner of `XFetch`, and TTL jitter. Concurrent
//!   requests for one key in a process share one look-up of the store too,
//!   so a burst costs Redis a handful of commands, not a few per request
//!   (which, under load, would time out, open the breaker and turn the cache
//!   off for everyone).
//! * **Fails open.** Redis calls have a short timeout and a circuit breaker;
//!   without Redis pages come from the database. Without the database, a
//!   last-known-good copy is better than nothing: entries are kept for a
//!   grace period past their TTL (see "Grace" in `policy.rs`).
//!
//! The parts: `engine` (the [`Cache`] and what it is made of), `lookup`
//! (get-or-compute over the tiers), `single_flight` (over the `flights` in
//! progress), `compute` (computing and storing, once across instances),
//! `lifetimes` (TTL jitter, the stale window, early-refresh odds) and
//! `freshness` (early refresh), `invalidate`, `batch` (many rows at once),
//! `usage` (metrics and the "useless cache" report, over the `writes` it
//! watches); the stored form in `entry` and `tag_versions`; the stores in
//! `store` (the `Backend`, over its children `store::memory` and
//! `store::redis`), what they hand back in `stored`, with `local` and
//! `coherence` for the in-process tier.

mod batch;
mod cached;
mod coherence;
mod compute;
mod deps;
pub(crate) mod encoding;
mod engine;
mod entry;
mod failover;
mod flights;
mod fnv;
mod freshness;
mod grace;
mod invalidate;
pub(crate) mod key;
mod lifetimes;
mod local;
mod lookup;
pub mod metrics;
pub mod policy;
mod policy_trait;
mod requested;
mod single_flight;
mod store;
mod stored;
mod tag_versions;
#[cfg(test)]
#[path = "../../build/template_digest.rs"]
mod template_digest;
mod usage;
mod writes;

pub use self::cached::{Cached, Outcome, Source};
pub use self::compute::{Compute, MayServeStale};
pub use self::deps::Deps;
pub(crate) use self::encoding::Coding;
pub use self::encoding::Encodings;
pub use self::engine::{CacheConfig, RecoveryHook};
pub use self::key::KeySpace;
pub use self::lookup::JsonValue;
pub use self::policy::{Change, FolioPolicy, Fragment, Tag, Ttls};
pub use self::policy_trait::CachePolicy;
pub use self::requested::Exists;
pub(crate) use crate::clock::unix_ms;

/// The engine under folio's policy: what the app calls "the cache".
pub type Cache = self::engine::Cache<FolioPolicy>;
pub use self::stored::{KeyInfo, StoreError};
pub use crate::redis::{Breaker, BreakerState};
