//! The cache engine: get-or-compute by fragment, over a pluggable store.
//!
//! Framework-agnostic: it knows fragments, tags and bytes, not HTTP.
//!
//! * A hit is served as stored bytes: no query, no rendering.
//! * Every entry records the version of each tag it depends on, read before
//!   the database is; [`Cache::invalidate`] bumps tags after a write commits.
//!   An entry computed from data older than the bump can never pass as
//!   fresh, whatever the interleaving.
//! * Within a process one request computes a missing fragment while the
//!   others wait for its result (single-flight).
//! * The cache fails open: when the store errs, the value is computed from
//!   the database and the request succeeds.

mod entry;
pub mod key;
mod memory;
pub mod policy;
mod redis;
mod store;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

pub use self::entry::Entry;
pub use self::key::KeySpace;
pub use self::memory::MemoryStore;
pub use self::policy::{Fragment, Tag, Ttls, Write};
pub use self::redis::RedisStore;
pub use self::store::{CacheStore, Lookup, StoreError};

/// Where a response came from, for the `X-Cache` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    Miss,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "HIT",
            Outcome::Miss => "MISS",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    pub outcome: Outcome,
}

/// Collects the tags a computation depends on, each with the version it had
/// before the computation read the database.
#[derive(Clone)]
pub struct Deps {
    store: Arc<dyn CacheStore>,
    recorded: Arc<Mutex<DepState>>,
}

#[derive(Default)]
struct DepState {
    tags: Vec<(String, u64)>,
    /// Set when a version could not be read: the value is then served but
    /// not stored, since nothing could prove it fresh later.
    unknown: bool,
}

impl Deps {
    fn new(store: Arc<dyn CacheStore>) -> Self {
        Self {
            store,
            recorded: Arc::new(Mutex::new(DepState::default())),
        }
    }

    /// Records `tags` at their current versions. Call it before reading the
    /// data those tags stand for.
    pub async fn depend_on(&self, tags: &[Tag]) {
        let versions = self.store.tag_versions(tags).await;
        let Ok(mut state) = self.recorded.lock() else {
            return;
        };
        match versions {
            Ok(versions) => {
                for (tag, version) in tags.iter().zip(versions) {
                    let name = tag.to_string();
                    if !state.tags.iter().any(|(t, _)| *t == name) {
                        state.tags.push((name, version));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cache: could not read tag versions; the value will not be stored");
                state.unknown = true;
            }
        }
    }

    fn into_recorded(self) -> Option<Vec<(String, u64)>> {
        let state = self.recorded.lock().ok()?;
        (!state.unknown).then(|| state.tags.clone())
    }
}

/// Per-key locks so that one caller computes while the others wait.
#[derive(Default)]
struct SingleFlight {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl SingleFlight {
    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(key.to_owned()).or_default().clone()
    }

    /// Drops the key's lock once nobody holds or waits for it.
    fn release(&self, key: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        drop(lock);
        if locks.get(key).is_some_and(|l| Arc::strong_count(l) == 1) {
            locks.remove(key);
        }
    }
}

/// Counters per fragment name, since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragmentStats {
    pub hits: u64,
    pub misses: u64,
    /// How often the value was computed (misses that waited for another
    /// request's computation are hits of that computation, not computes).
    pub computes: u64,
    pub store_errors: u64,
}

pub struct Cache {
    store: Arc<dyn CacheStore>,
    keys: KeySpace,
    ttls: Ttls,
    inflight: SingleFlight,
    stats: Mutex<HashMap<&'static str, FragmentStats>>,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Cache {
    pub fn new(store: Arc<dyn CacheStore>, keys: KeySpace, ttls: Ttls) -> Self {
        Self {
            store,
            keys,
            ttls,
            inflight: SingleFlight::default(),
            stats: Mutex::new(HashMap::new()),
        }
    }

    fn count(&self, fragment: Fragment, f: impl FnOnce(&mut FragmentStats)) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        f(stats.entry(fragment.name()).or_default());
    }

    /// A snapshot of the counters, by fragment name.
    pub fn stats(&self) -> HashMap<&'static str, FragmentStats> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn backend_name(&self) -> &'static str {
        self.store.name()
    }

    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    pub fn store(&self) -> &Arc<dyn CacheStore> {
        &self.store
    }

    /// The fragment's stored bytes if they are fresh, or the result of
    /// `compute`, stored for the fragment's TTL.
    ///
    /// `compute` receives a [`Deps`] to add tags known only while computing
    /// (call `depend_on` before reading their data).
    pub async fn get_or_compute<E, F, Fut>(
        &self,
        fragment: Fragment,
        compute: F,
    ) -> Result<Cached, E>
    where
        F: FnOnce(Deps) -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        self.get_or_compute_checked(fragment, |_| true, compute)
            .await
    }

    /// A cached value that the caller decodes (JSON). A stored value that no
    /// longer decodes (written by a build that forgot to bump the format
    /// version) counts as a miss, not as an error.
    pub async fn get_or_compute_json<T, E, F, Fut>(
        &self,
        fragment: Fragment,
        compute: F,
    ) -> Result<T, E>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
        E: From<serde_json::Error>,
        F: FnOnce(Deps) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let decodes = |body: &Bytes| serde_json::from_slice::<T>(body).is_ok();
        let cached = self
            .get_or_compute_checked(fragment, decodes, |deps| async move {
                let value = compute(deps).await?;
                Ok::<_, E>(Bytes::from(serde_json::to_vec(&value)?))
            })
            .await?;
        Ok(serde_json::from_slice(&cached.body)?)
    }

    async fn get_or_compute_checked<E, F, Fut>(
        &self,
        fragment: Fragment,
        usable: impl Fn(&Bytes) -> bool,
        compute: F,
    ) -> Result<Cached, E>
    where
        F: FnOnce(Deps) -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        let key = self.keys.fragment(&fragment);
        if let Some(body) = self.fresh(&key, fragment, &usable).await {
            self.count(fragment, |s| s.hits += 1);
            return Ok(Cached {
                body,
                outcome: Outcome::Hit,
            });
        }

        let lock = self.inflight.lock_for(&key);
        let result = async {
            let _turn = lock.lock().await;
            // Whoever held the lock before us may have stored it.
            if let Some(body) = self.fresh(&key, fragment, &usable).await {
                self.count(fragment, |s| s.hits += 1);
                return Ok(Cached {
                    body,
                    outcome: Outcome::Hit,
                });
            }
            self.count(fragment, |s| {
                s.misses += 1;
                s.computes += 1;
            });
            let deps = Deps::new(self.store.clone());
            deps.depend_on(&fragment.depends_on()).await;
            let started = Instant::now();
            let body = compute(deps.clone()).await?;
            let compute_us = started.elapsed().as_micros() as u64;
            if let Some(recorded) = deps.into_recorded() {
                self.store_entry(&key, fragment, recorded, compute_us, body.clone())
                    .await;
            }
            Ok(Cached {
                body,
                outcome: Outcome::Miss,
            })
        }
        .await;
        self.inflight.release(&key, lock);
        result
    }

    async fn fresh(
        &self,
        key: &str,
        fragment: Fragment,
        usable: &impl Fn(&Bytes) -> bool,
    ) -> Option<Bytes> {
        match self.store.read(key).await {
            Ok(Some(lookup)) if lookup.deps_current => {
                let entry = Entry::decode(lookup.raw)?;
                let live = entry.expires_ms > unix_ms();
                if live && !usable(&entry.body) {
                    tracing::warn!(key, "cached value does not decode; recomputing it");
                    return None;
                }
                live.then_some(entry.body)
            }
            Ok(_) => None,
            Err(e) => {
                self.count(fragment, |s| s.store_errors += 1);
                tracing::warn!(key, error = %e, "cache read failed; computing from the database");
                None
            }
        }
    }

    async fn store_entry(
        &self,
        key: &str,
        fragment: Fragment,
        deps: Vec<(String, u64)>,
        compute_us: u64,
        body: Bytes,
    ) {
        let ttl = fragment.ttl(&self.ttls);
        let created_ms = unix_ms();
        let entry = Entry {
            created_ms,
            expires_ms: created_ms + ttl.as_millis() as u64,
            compute_us,
            deps,
            body,
        };
        if let Err(e) = self.store.write(key, entry.encode(), ttl).await {
            tracing::warn!(key, error = %e, "cache write failed");
        }
    }

    /// Marks everything `write` touched as changed. Call it after the
    /// write's transaction has committed.
    pub async fn invalidate(&self, write: Write) -> Result<(), StoreError> {
        let tags = write.touches();
        self.invalidate_tags(&tags).await
    }

    pub async fn invalidate_tags(&self, tags: &[Tag]) -> Result<(), StoreError> {
        self.store.bump(tags).await?;
        tracing::info!(tags = ?tags.iter().map(Tag::to_string).collect::<Vec<_>>(), "cache invalidated");
        Ok(())
    }

    /// Time left on a fragment's entry (for tests and the admin page).
    pub async fn ttl_of(&self, fragment: Fragment) -> Result<Option<Duration>, StoreError> {
        self.store.ttl(&self.keys.fragment(&fragment)).await
    }

    /// Removes every entry of this namespace.
    pub async fn clear(&self) -> Result<u64, StoreError> {
        self.store.clear().await
    }
}
