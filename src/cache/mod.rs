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
//!   early refreshes in the manner of XFetch, and TTL jitter. Concurrent
//!   requests for one key in a process share one look-up of the store too,
//!   so a burst costs Redis a handful of commands, not a few per request
//!   (which, under load, would time out, open the breaker and turn the cache
//!   off for everyone).
//! * **Fails open.** Redis calls have a short timeout and a circuit breaker;
//!   without Redis pages come from the database. Without the database, a
//!   last-known-good copy is better than nothing: entries are kept for a
//!   grace period past their TTL (see "Grace" in `policy.rs`).

mod coherence;
pub(crate) mod encoding;
mod entry;
mod failover;
mod grace;
pub mod key;
mod local;
mod memory;
pub mod metrics;
pub mod policy;
mod redis;
mod requested;
mod store;
pub mod template_digest;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::watch;

use self::coherence::Coherence;
pub use self::encoding::{Coding, Encodings};
pub use self::entry::Entry;
use self::grace::Standing;
pub use self::key::KeySpace;
use self::local::{LocalEntry, LocalTier};
pub use self::memory::MemoryStore;
use self::metrics::{CacheMetrics, Event, UselessEntry};
pub use self::policy::{Change, Fragment, Tag, Ttls};
pub use self::redis::RedisStore;
pub use self::requested::BookExists;
pub use self::store::{CacheStore, KeyInfo, Lookup, StoreError};
pub use crate::redis::{Breaker, BreakerState};

/// Where a response came from, for the `X-Cache` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    Miss,
    /// Expired, served while a refresh runs.
    Stale,
    /// Computing failed (the database is down): an old copy.
    StaleOnError,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "HIT",
            Outcome::Miss => "MISS",
            Outcome::Stale | Outcome::StaleOnError => "STALE",
        }
    }
}

/// Which tier answered, for `Server-Timing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Local,
    Shared,
    Computed,
    /// Waited for another request's computation.
    Coalesced,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Local => "local",
            Source::Shared => "shared",
            Source::Computed => "computed",
            Source::Coalesced => "coalesced",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    pub outcome: Outcome,
    pub source: Source,
    /// A strong validator of this exact entry.
    pub etag: Arc<str>,
    /// When the entry was computed (Unix ms): its Last-Modified.
    pub created_ms: u64,
    /// Compressed copies of `body`, sent as they are.
    pub encodings: Encodings,
    /// From when the entry counts as expired (Unix ms).
    pub stale_at_ms: u64,
    /// Time spent answering, and in computing if this request computed.
    pub elapsed: Duration,
    pub compute: Option<Duration>,
    /// The tag versions a fresh computation recorded: callers who waited for
    /// it check them before taking its result.
    deps: Option<Arc<Vec<(String, u64)>>>,
}

/// Errors of a computation say whether an old copy may stand in for the
/// value (the database is down: yes; the book is gone: no).
pub trait MayServeStale {
    /// The database could not answer (unreachable, or its pool exhausted):
    /// a copy past its TTL may stand in.
    fn may_serve_stale(&self) -> bool;

    /// The database is unreachable, not merely busy: only then may a copy
    /// that a write invalidated stand in (see "Grace" in `policy.rs`).
    fn database_down(&self) -> bool {
        false
    }
}

impl MayServeStale for std::convert::Infallible {
    fn may_serve_stale(&self) -> bool {
        false
    }
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
    /// Set when a version could not be read, or when a nested fragment was
    /// an old copy: the value is then served but not stored, since nothing
    /// could prove it fresh later.
    unknown: bool,
    /// The earliest expiry of the nested fragments used.
    stale_by_ms: Option<u64>,
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
        let mut state = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
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
                tracing::debug!(error = %e, "cache: tag versions unreadable; the value will not be stored");
                state.unknown = true;
            }
        }
    }

    /// A nested fragment this value is built from: the value expires no
    /// later than it, and is not stored at all if it was an old copy.
    fn nested(&self, inner: &Cached) {
        let mut state = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        // An expired inner value is being refreshed: give the outer value a
        // moment, not an expiry already past (it would be rebuilt on every
        // request until the refresh lands).
        let inner_stale_at = if inner.outcome == Outcome::Stale {
            unix_ms() + 1000
        } else {
            inner.stale_at_ms
        };
        state.stale_by_ms = Some(
            state
                .stale_by_ms
                .map_or(inner_stale_at, |s| s.min(inner_stale_at)),
        );
        if inner.outcome == Outcome::StaleOnError {
            state.unknown = true;
        }
    }

    /// (recorded tags unless unknown, earliest nested expiry)
    fn into_recorded(self) -> (Option<Vec<(String, u64)>>, Option<u64>) {
        let state = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        (
            (!state.unknown).then(|| state.tags.clone()),
            state.stale_by_ms,
        )
    }
}

/// A finished computation, and whether its versions were still current
/// when the first waiter checked.
#[derive(Clone)]
struct FlightDone {
    cached: Cached,
    current: Arc<tokio::sync::OnceCell<bool>>,
}

type FlightResult = Option<Option<FlightDone>>;

/// In-flight computations: the first caller for a key computes, later ones
/// wait for its result.
#[derive(Default)]
struct Flights {
    map: Mutex<HashMap<String, (u64, watch::Receiver<FlightResult>)>>,
    /// The number the next flight gets: a request that notes it on arrival
    /// knows which flights began after it did.
    next: std::sync::atomic::AtomicU64,
}

enum Join {
    Leader(FlightGuard),
    /// The flight's number, and where its result will come.
    Follower(u64, watch::Receiver<FlightResult>),
}

struct FlightGuard {
    flights: Arc<Flights>,
    key: String,
    tx: Option<watch::Sender<FlightResult>>,
}

impl FlightGuard {
    /// Hands the result to the waiters (`None`: they must try themselves).
    fn finish(mut self, result: Option<Cached>) {
        self.end(result);
    }

    fn end(&mut self, result: Option<Cached>) {
        if let Some(tx) = self.tx.take() {
            let mut map = self.flights.map.lock().unwrap_or_else(|p| p.into_inner());
            map.remove(&self.key);
            let _ = tx.send(Some(result.map(|cached| FlightDone {
                cached,
                current: Arc::default(),
            })));
        }
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        self.end(None);
    }
}

impl Flights {
    /// Flights numbered from this one on begin after now.
    fn arrival(&self) -> u64 {
        self.next.load(Ordering::Acquire)
    }

    fn join(self: &Arc<Self>, key: &str) -> Join {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((number, rx)) = map.get(key) {
            return Join::Follower(*number, rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        let number = self.next.fetch_add(1, Ordering::AcqRel);
        map.insert(key.to_owned(), (number, rx));
        Join::Leader(FlightGuard {
            flights: self.clone(),
            key: key.to_owned(),
            tx: Some(tx),
        })
    }

    fn active(&self, key: &str) -> bool {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(key)
    }
}

/// A write this process made, for the "useless cache" report.
struct Written {
    fragment: Fragment,
    at: Instant,
    read: Arc<AtomicBool>,
}

/// Tuning knobs; the defaults suit folio.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Bytes of the in-process tier in front of Redis; 0 turns it off.
    pub local_bytes: u64,
    /// How long a computing instance holds a fragment's lock.
    pub lock_ttl: Duration,
    /// How long others wait for that instance's value before computing.
    pub lock_wait: Duration,
    /// XFetch's beta: larger refreshes earlier.
    pub xfetch_beta: f64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            local_bytes: 32 * 1024 * 1024,
            lock_ttl: Duration::from_secs(10),
            lock_wait: Duration::from_secs(3),
            xfetch_beta: 1.0,
        }
    }
}

/// Runs before Redis is used again after an outage; `false` (it could not
/// do its work) keeps the breaker open.
pub type RecoveryHook = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// The parts that exist only with Redis.
struct Shared {
    redis: Arc<RedisStore>,
    breaker: Arc<Breaker>,
    local: Option<Arc<LocalTier>>,
    coherence: Option<Arc<Coherence>>,
}

pub struct Cache {
    store: Arc<dyn CacheStore>,
    shared: Option<Shared>,
    keys: KeySpace,
    ttls: Ttls,
    config: CacheConfig,
    flights: Arc<Flights>,
    metrics: Arc<CacheMetrics>,
    written: moka::sync::Cache<String, Arc<Written>>,
    recovery: OnceLock<RecoveryHook>,
    book_exists: OnceLock<BookExists>,
}

pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn etag_of(key: &str, created_ms: u64, compute_us: u64) -> Arc<str> {
    let mut bytes = key.as_bytes().to_vec();
    bytes.extend_from_slice(&created_ms.to_le_bytes());
    bytes.extend_from_slice(&compute_us.to_le_bytes());
    Arc::from(format!("\"{:016x}\"", template_digest::fnv1a64(&bytes)))
}

/// XFetch: refresh early with a chance that grows as expiry nears and with
/// the time the value takes to compute.
fn refresh_early(now_ms: u64, stale_at_ms: u64, compute_us: u64, beta: f64) -> bool {
    let u: f64 = 1.0 - rand::random::<f64>(); // (0, 1]
    let gap_ms = (compute_us as f64 / 1000.0) * beta * -u.ln();
    now_ms as f64 + gap_ms >= stale_at_ms as f64
}

fn written_cache(metrics: Arc<CacheMetrics>) -> moka::sync::Cache<String, Arc<Written>> {
    moka::sync::Cache::builder()
        .max_capacity(20_000)
        .time_to_live(Duration::from_secs(24 * 3600))
        .eviction_listener(move |key: Arc<String>, w: Arc<Written>, cause| {
            let why = match cause {
                moka::notification::RemovalCause::Replaced => "replaced before anyone read it",
                moka::notification::RemovalCause::Expired => "expired before anyone read it",
                _ => return,
            };
            if !w.read.load(Ordering::Relaxed) {
                metrics.useless(
                    UselessEntry {
                        key: key.to_string(),
                        fragment: w.fragment.name(),
                        lived: w.at.elapsed(),
                        why,
                    },
                    w.fragment,
                );
            }
        })
        .build()
}

impl Cache {
    /// Everything in process memory (no Redis configured).
    pub fn in_memory(keys: KeySpace, ttls: Ttls, max_bytes: u64) -> Self {
        let metrics = Arc::new(CacheMetrics::default());
        Self {
            store: Arc::new(MemoryStore::new(max_bytes)),
            shared: None,
            keys,
            ttls,
            config: CacheConfig::default(),
            flights: Arc::default(),
            written: written_cache(metrics.clone()),
            metrics,
            recovery: OnceLock::new(),
            book_exists: OnceLock::new(),
        }
    }

    /// Redis as the shared tier, with an in-process tier in front of it
    /// unless `config.local_bytes` is 0.
    pub fn with_redis(redis: Arc<crate::redis::Redis>, ttls: Ttls, config: CacheConfig) -> Self {
        let metrics = Arc::new(CacheMetrics::default());
        let tag_ttl = policy::tag_ttl(&ttls);
        let keys = redis.keys().clone();
        let breaker = redis.breaker().clone();
        let local = (config.local_bytes > 0).then(|| Arc::new(LocalTier::new(config.local_bytes)));
        let coherence = local
            .as_ref()
            .map(|l| Arc::new(Coherence::new(redis.clone(), l.clone(), metrics.clone())));
        let redis = Arc::new(RedisStore::new(redis, tag_ttl, metrics.clone()));
        Self {
            store: redis.clone(),
            shared: Some(Shared {
                redis,
                breaker,
                local,
                coherence,
            }),
            keys,
            ttls,
            config,
            flights: Arc::default(),
            written: written_cache(metrics.clone()),
            metrics,
            recovery: OnceLock::new(),
            book_exists: OnceLock::new(),
        }
    }

    /// Starts the background work of the Redis tier: the coherence channel
    /// and the breaker's recovery probe. `on_recovery` runs after an outage,
    /// before Redis is used again (folio applies the changes the database
    /// recorded meanwhile).
    pub fn start(self: &Arc<Self>, on_recovery: RecoveryHook) {
        let _ = self.recovery.set(on_recovery);
        if let Some(shared) = &self.shared {
            if let Some(coherence) = &shared.coherence {
                coherence.start();
            }
            tokio::spawn(self.clone().watch_breaker());
        }
    }

    /// While the breaker is open, probes Redis; once it answers, runs the
    /// recovery hook, forgets the in-process tier, and closes the breaker.
    async fn watch_breaker(self: Arc<Self>) {
        let Some(shared) = &self.shared else { return };
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if shared.breaker.state() != BreakerState::Open
                || shared.breaker.open_for() < Duration::from_millis(500)
            {
                continue;
            }
            if shared.redis.probe().await.is_err() {
                continue;
            }
            if !shared
                .breaker
                .transition(BreakerState::Open, BreakerState::Recovering)
            {
                continue;
            }
            tracing::info!("Redis answers again: delivering pending invalidations before using it");
            if !self.settle_master_switch(shared).await {
                shared.breaker.trip();
                continue;
            }
            if let Some(hook) = self.recovery.get() {
                if !hook().await {
                    shared.breaker.trip();
                    continue;
                }
            }
            if let Some(local) = &shared.local {
                local.reset();
            }
            shared.breaker.close();
        }
    }

    /// How the engine learns whether a book exists before it makes tag
    /// keys named by a request (see `requested`); set once, by the catalogue.
    pub fn set_book_exists(&self, check: BookExists) {
        let _ = self.book_exists.set(check);
    }

    pub fn backend_name(&self) -> &'static str {
        self.store.name()
    }

    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    pub fn metrics(&self) -> &Arc<CacheMetrics> {
        &self.metrics
    }

    pub fn breaker(&self) -> Option<&Arc<Breaker>> {
        self.shared.as_ref().map(|s| &s.breaker)
    }

    /// (entries, bytes) of the in-process tier, if there is one.
    pub fn local_size(&self) -> Option<(u64, u64)> {
        let local = self.shared.as_ref()?.local.as_ref()?;
        Some((local.entry_count(), local.weighted_size()))
    }

    /// Whether the in-process tier may answer now.
    pub fn local_usable(&self) -> bool {
        self.usable_local().is_some()
    }

    fn usable_local(&self) -> Option<&Arc<LocalTier>> {
        let shared = self.shared.as_ref()?;
        let local = shared.local.as_ref()?;
        (shared.breaker.allows() && local.leased()).then_some(local)
    }

    /// The fragment's stored bytes if they are fresh, or the result of
    /// `compute`, stored for the fragment's TTL.
    ///
    /// `compute` receives a [`Deps`] to add tags known only while computing
    /// (call `depend_on` before reading their data). It may run in the
    /// background (to refresh an expiring entry), hence `'static`.
    pub async fn get_or_compute<E, F, Fut>(
        self: &Arc<Self>,
        fragment: Fragment,
        compute: F,
    ) -> Result<Cached, E>
    where
        E: MayServeStale + Send + 'static,
        F: FnOnce(Deps) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Bytes, E>> + Send + 'static,
    {
        self.get_checked(fragment, |_| true, compute).await
    }

    /// A cached value that the caller decodes (JSON). A stored value that no
    /// longer decodes (written by a build that forgot to bump the format
    /// version) counts as a miss, not as an error.
    pub async fn get_or_compute_json<T, E, F, Fut>(
        self: &Arc<Self>,
        fragment: Fragment,
        compute: F,
    ) -> Result<T, E>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
        E: MayServeStale + From<serde_json::Error> + Send + 'static,
        F: FnOnce(Deps) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.json(fragment, None, compute).await
    }

    /// The same for a fragment used inside another's computation (`outer`):
    /// the outer value expires no later than this one, and is not stored if
    /// this one was an old copy.
    pub async fn get_nested_json<T, E, F, Fut>(
        self: &Arc<Self>,
        outer: &Deps,
        fragment: Fragment,
        compute: F,
    ) -> Result<T, E>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
        E: MayServeStale + From<serde_json::Error> + Send + 'static,
        F: FnOnce(Deps) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.json(fragment, Some(outer), compute).await
    }

    async fn json<T, E, F, Fut>(
        self: &Arc<Self>,
        fragment: Fragment,
        outer: Option<&Deps>,
        compute: F,
    ) -> Result<T, E>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
        E: MayServeStale + From<serde_json::Error> + Send + 'static,
        F: FnOnce(Deps) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        fn decodes<T: serde::de::DeserializeOwned>(body: &[u8]) -> bool {
            serde_json::from_slice::<T>(body).is_ok()
        }
        let cached = self
            .get_checked(fragment, decodes::<T>, |deps| async move {
                let value = compute(deps).await?;
                Ok::<_, E>(Bytes::from(serde_json::to_vec(&value)?))
            })
            .await?;
        if let Some(outer) = outer {
            outer.nested(&cached);
        }
        Ok(serde_json::from_slice(&cached.body)?)
    }

    async fn get_checked<E, F, Fut>(
        self: &Arc<Self>,
        fragment: Fragment,
        usable: fn(&[u8]) -> bool,
        compute: F,
    ) -> Result<Cached, E>
    where
        E: MayServeStale + Send + 'static,
        F: FnOnce(Deps) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Bytes, E>> + Send + 'static,
    {
        let started = Instant::now();
        let key = self.keys.fragment(&fragment);
        let now = unix_ms();
        let mut expired: Option<Cached> = None;

        // 1. This process's memory.
        if let Some(local) = self.usable_local() {
            if let Some(e) = local.get(&key) {
                if local.is_current(&e) {
                    if let Some(read) = &e.read {
                        read.store(true, Ordering::Relaxed);
                    }
                    let copy = Cached {
                        body: e.body.clone(),
                        encodings: e.encodings.clone(),
                        outcome: Outcome::Hit,
                        source: Source::Local,
                        etag: e.etag.clone(),
                        created_ms: e.created_ms,
                        stale_at_ms: e.stale_at_ms,
                        elapsed: started.elapsed(),
                        compute: None,
                        deps: None,
                    };
                    match Standing::of(now, e.stale_at_ms, e.expires_at_ms, true) {
                        Standing::Fresh => {
                            self.metrics.record(fragment, Event::HitLocal);
                            if refresh_early(
                                now,
                                e.stale_at_ms,
                                e.compute_us,
                                self.config.xfetch_beta,
                            ) {
                                self.spawn_refresh(fragment, key, compute);
                            }
                            return Ok(copy);
                        }
                        Standing::Expiring => expired = Some(copy),
                        Standing::Grace | Standing::Invalidated => {}
                    }
                }
            }
        }

        // 2. One request per key in this process looks further; those that
        // arrive meanwhile share what it finds.
        let guard = match self.join_flight(fragment, &key, started).await {
            Ok(shared) => return Ok(shared),
            Err(guard) => guard,
        };
        let finish = |guard: Option<FlightGuard>, cached: Option<&Cached>| {
            if let Some(guard) = guard {
                guard.finish(cached.cloned());
            }
        };

        // 3. The shared store.
        let epoch = self.usable_local().map(|l| l.epoch());
        let mut stand_in: Option<(Cached, Standing)> = None;
        match self.store.read(&key).await {
            Ok(Some(lookup)) => {
                if let Some(entry) = Entry::decode(lookup.raw).filter(|e| usable(&e.body)) {
                    let etag = etag_of(&key, entry.created_ms, entry.compute_us);
                    let copy = Cached {
                        body: entry.body.clone(),
                        encodings: entry.encodings.clone(),
                        outcome: Outcome::Hit,
                        source: Source::Shared,
                        etag: etag.clone(),
                        created_ms: entry.created_ms,
                        stale_at_ms: entry.stale_at_ms,
                        elapsed: started.elapsed(),
                        compute: None,
                        deps: Some(Arc::new(entry.deps.clone())),
                    };
                    let standing = Standing::of(
                        now,
                        entry.stale_at_ms,
                        entry.expires_at_ms,
                        lookup.deps_current,
                    );
                    match standing {
                        Standing::Fresh => {
                            self.mark_read(&key);
                            self.keep_local(&key, &entry, etag, epoch, None);
                            self.metrics.record(fragment, Event::HitShared);
                            finish(guard, Some(&copy));
                            if refresh_early(
                                now,
                                entry.stale_at_ms,
                                entry.compute_us,
                                self.config.xfetch_beta,
                            ) {
                                self.spawn_refresh(fragment, key, compute);
                            }
                            return Ok(copy);
                        }
                        Standing::Expiring => {
                            self.mark_read(&key);
                            self.keep_local(&key, &entry, etag, epoch, None);
                            expired = expired.or(Some(copy));
                        }
                        Standing::Grace | Standing::Invalidated => {
                            stand_in = Some((copy, standing));
                        }
                    }
                } else {
                    tracing::debug!(key, "cache: a value of another format; recomputing");
                }
            }
            Ok(None) => {}
            Err(e) => self.store_failed(fragment, &key, &e),
        }

        // 4. Expired but not invalidated: serve it, refresh behind it (once
        // this flight is over, so that the refresh may start its own).
        if let Some(mut copy) = expired {
            self.metrics.record(fragment, Event::Stale);
            copy.outcome = Outcome::Stale;
            copy.elapsed = started.elapsed();
            finish(guard, Some(&copy));
            self.spawn_refresh(fragment, key, compute);
            return Ok(copy);
        }

        // 5. Compute, once here and, with Redis, once across instances.
        self.metrics.record(fragment, Event::Miss);
        match self
            .compute_across_instances(fragment, &key, usable, compute)
            .await
        {
            Ok(mut cached) => {
                cached.elapsed = started.elapsed();
                finish(guard, Some(&cached));
                Ok(cached)
            }
            Err(e) => {
                let copy = stand_in
                    .filter(|(_, standing)| {
                        e.may_serve_stale() && standing.may_stand_in(e.database_down())
                    })
                    .map(|(mut copy, _)| {
                        copy.outcome = Outcome::StaleOnError;
                        copy.elapsed = started.elapsed();
                        copy
                    });
                match copy {
                    Some(copy) => {
                        self.metrics.record(fragment, Event::StaleOnError);
                        tracing::warn!(
                            key,
                            "computing failed; serving the last good copy (stale-if-error)"
                        );
                        finish(guard, Some(&copy));
                        Ok(copy)
                    }
                    None => Err(e),
                }
            }
        }
    }

    /// Waits for the request of this process that is already looking `key`
    /// up, and takes what it found; or, if there is none, makes this request
    /// that one (`Err(Some(guard))`). `Err(None)`: look it up alone.
    async fn join_flight(
        &self,
        fragment: Fragment,
        key: &str,
        started: Instant,
    ) -> Result<Cached, Option<FlightGuard>> {
        let arrival = self.flights.arrival();
        let mut rounds = 0;
        loop {
            let (number, mut rx) = match self.flights.join(key) {
                Join::Leader(guard) => return Err(Some(guard)),
                Join::Follower(number, rx) => (number, rx),
            };
            let done = rx
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|d| d.clone())
                .flatten();
            if let Some(shared) = done {
                // A flight that began after this request arrived read the
                // store and the database after it: good for this request as
                // it is. One that began before may have read them before a
                // write that has returned since: checked once per flight,
                // after every follower had joined. A check that cannot be
                // made counts as failed; the next flight needs none.
                let current = number >= arrival
                    || shared.cached.outcome == Outcome::StaleOnError
                    || *shared
                        .current
                        .get_or_init(|| self.still_current(&shared.cached))
                        .await;
                if current {
                    let mut cached = shared.cached.clone();
                    let event = match cached.outcome {
                        Outcome::Hit => Event::HitShared,
                        Outcome::Miss => {
                            cached.source = Source::Coalesced;
                            cached.compute = None;
                            Event::Miss
                        }
                        Outcome::Stale => Event::Stale,
                        Outcome::StaleOnError => Event::StaleOnError,
                    };
                    self.metrics.record(fragment, event);
                    cached.elapsed = started.elapsed();
                    return Ok(cached);
                }
            }
            // The leader found nothing it could hand over (it failed): try
            // again, as a bounded number of flights, then alone.
            rounds += 1;
            if rounds >= 3 {
                return Err(None);
            }
        }
    }

    /// Whether a computed value's recorded tag versions are still current.
    async fn still_current(&self, cached: &Cached) -> bool {
        let Some(deps) = &cached.deps else {
            return true;
        };
        let tags: Vec<Tag> = deps
            .iter()
            .filter_map(|(name, _)| Tag::parse(name))
            .collect();
        if tags.len() != deps.len() {
            return false;
        }
        match self.store.tag_versions(&tags).await {
            Ok(now) => now
                .iter()
                .zip(deps.iter())
                .all(|(v, (_, recorded))| v == recorded),
            Err(_) => false,
        }
    }

    /// With Redis, one instance computes while the others wait (briefly) for
    /// its value; on any doubt, compute.
    async fn compute_across_instances<E, F, Fut>(
        &self,
        fragment: Fragment,
        key: &str,
        usable: fn(&[u8]) -> bool,
        compute: F,
    ) -> Result<Cached, E>
    where
        E: MayServeStale + Send + 'static,
        F: FnOnce(Deps) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Bytes, E>> + Send + 'static,
    {
        // Whoever computed just before us may have stored it since this
        // request looked: check again once it is our turn (here, after the
        // single-flight; with Redis, once the lock is ours).
        if !self.store.is_shared() {
            if let Ok(Some(found)) = self.read_fresh(key, usable).await {
                return Ok(found);
            }
            return self.compute_and_store(fragment, key, compute).await;
        }
        let lock = self.keys.lock(key);
        match self.store.try_lock(&lock, self.config.lock_ttl).await {
            Ok(Some(token)) => {
                let result = match self.read_fresh(key, usable).await {
                    Ok(Some(found)) => Ok(found),
                    _ => self.compute_and_store(fragment, key, compute).await,
                };
                let _ = self.store.unlock(&lock, &token).await;
                result
            }
            Ok(None) => {
                if let Some(found) = self.wait_for_other_instance(key, usable).await {
                    return Ok(found);
                }
                self.compute_and_store(fragment, key, compute).await
            }
            Err(_) => self.compute_and_store(fragment, key, compute).await,
        }
    }

    async fn wait_for_other_instance(
        &self,
        key: &str,
        usable: fn(&[u8]) -> bool,
    ) -> Option<Cached> {
        let deadline = Instant::now() + self.config.lock_wait;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(15)).await;
            match self.read_fresh(key, usable).await {
                Ok(Some(found)) => return Some(found),
                Ok(None) => {}
                // Redis is out of reach: waiting is pointless.
                Err(StoreError::BreakerOpen) => return None,
                // One slow answer says little: keep waiting, to the deadline.
                Err(_) => {}
            }
        }
        None
    }

    /// A fresh copy in the shared store, if there is one now.
    async fn read_fresh(
        &self,
        key: &str,
        usable: fn(&[u8]) -> bool,
    ) -> Result<Option<Cached>, StoreError> {
        let epoch = self.usable_local().map(|l| l.epoch());
        let Some(lookup) = self.store.read(key).await? else {
            return Ok(None);
        };
        if !lookup.deps_current {
            return Ok(None);
        }
        let Some(entry) =
            Entry::decode(lookup.raw).filter(|e| usable(&e.body) && e.stale_at_ms > unix_ms())
        else {
            return Ok(None);
        };
        let etag = etag_of(key, entry.created_ms, entry.compute_us);
        self.keep_local(key, &entry, etag.clone(), epoch, None);
        Ok(Some(Cached {
            body: entry.body,
            encodings: entry.encodings,
            outcome: Outcome::Miss,
            source: Source::Coalesced,
            etag,
            created_ms: entry.created_ms,
            stale_at_ms: entry.stale_at_ms,
            elapsed: Duration::ZERO,
            compute: None,
            deps: Some(Arc::new(entry.deps.clone())),
        }))
    }

    async fn compute_and_store<E, F, Fut>(
        &self,
        fragment: Fragment,
        key: &str,
        compute: F,
    ) -> Result<Cached, E>
    where
        F: FnOnce(Deps) -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        let epoch = self.usable_local().map(|l| l.epoch());
        let deps = Deps::new(self.store.clone());
        deps.depend_on_requested(&fragment.depends_on(), self.book_exists.get())
            .await;
        let started = Instant::now();
        let body = compute(deps.clone()).await?;
        let took = started.elapsed();
        self.metrics.computed(fragment, took);
        // Compressed once here, so that no hit ever compresses.
        let encodings = if fragment.precompressed() && body.len() >= encoding::MIN_BYTES {
            let plain = body.clone();
            tokio::task::spawn_blocking(move || Encodings::of(&plain))
                .await
                .unwrap_or_default()
        } else {
            Encodings::default()
        };

        let ttl = fragment.ttl(&self.ttls);
        let jitter_ms = policy::max_jitter(ttl).as_millis() as f64 * rand::random::<f64>();
        let hard = ttl
            .saturating_sub(Duration::from_millis(jitter_ms as u64))
            .max(Duration::from_millis(1));
        let created_ms = unix_ms();
        let (recorded, stale_by) = deps.into_recorded();
        let own_stale_at =
            created_ms + hard.saturating_sub(policy::stale_window(ttl)).as_millis() as u64;
        let entry = Entry {
            created_ms,
            // Never fresher than the nested fragments it was built from.
            stale_at_ms: stale_by.map_or(own_stale_at, |s| s.min(own_stale_at)),
            compute_us: took.as_micros() as u64,
            expires_at_ms: created_ms + hard.as_millis() as u64,
            deps: recorded.clone().unwrap_or_default(),
            body,
            encodings,
        };
        let etag = etag_of(key, entry.created_ms, entry.compute_us);
        if recorded.is_some() {
            // Kept past its TTL for the grace period: a last good copy.
            let kept = hard + self.ttls.grace;
            match self.store.write(key, entry.encode(), kept).await {
                Ok(()) => {
                    let read = Arc::new(AtomicBool::new(false));
                    self.written.insert(
                        key.to_owned(),
                        Arc::new(Written {
                            fragment,
                            at: Instant::now(),
                            read: read.clone(),
                        }),
                    );
                    self.keep_local(key, &entry, etag.clone(), epoch, Some(read));
                }
                Err(e) => self.store_failed(fragment, key, &e),
            }
        }
        Ok(Cached {
            stale_at_ms: entry.stale_at_ms,
            deps: recorded.map(Arc::new),
            body: entry.body,
            encodings: entry.encodings,
            outcome: Outcome::Miss,
            source: Source::Computed,
            etag,
            created_ms,
            elapsed: Duration::ZERO,
            compute: Some(took),
        })
    }

    /// Refreshes a fragment in the background, unless a refresh or a
    /// computation of it is already under way here or elsewhere.
    fn spawn_refresh<E, F, Fut>(self: &Arc<Self>, fragment: Fragment, key: String, compute: F)
    where
        E: MayServeStale + Send + 'static,
        F: FnOnce(Deps) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Bytes, E>> + Send + 'static,
    {
        // A flight of its own: requests meanwhile serve the expired copy
        // rather than wait for the refresh.
        let refresh = format!("{key} refresh");
        if self.flights.active(&refresh) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let Join::Leader(guard) = this.flights.join(&refresh) else {
                return;
            };
            let lock = this.keys.lock(&key);
            let token = if this.store.is_shared() {
                match this.store.try_lock(&lock, this.config.lock_ttl).await {
                    Ok(Some(token)) => Some(token),
                    _ => return,
                }
            } else {
                None
            };
            let result = this.compute_and_store(fragment, &key, compute).await;
            if let Some(token) = token {
                let _ = this.store.unlock(&lock, &token).await;
            }
            guard.finish(result.ok());
        });
    }

    fn keep_local(
        &self,
        key: &str,
        entry: &Entry,
        etag: Arc<str>,
        epoch: Option<u64>,
        read: Option<Arc<AtomicBool>>,
    ) {
        let (Some(local), Some(epoch)) = (self.usable_local(), epoch) else {
            return;
        };
        let ttl = Duration::from_millis(entry.stale_at_ms.saturating_sub(unix_ms()))
            + Duration::from_secs(1);
        local.insert(
            key.to_owned(),
            LocalEntry::of(entry, etag, ttl, read),
            epoch,
        );
    }

    fn mark_read(&self, key: &str) {
        if let Some(w) = self.written.get(key) {
            w.read.store(true, Ordering::Relaxed);
        }
    }

    fn store_failed(&self, fragment: Fragment, key: &str, e: &StoreError) {
        self.metrics.record(fragment, Event::StoreError);
        match e {
            StoreError::BreakerOpen => {}
            _ => tracing::warn!(key, error = %e, "cache store failed; serving from the database"),
        }
    }

    /// Tag-free fragments (catalogue rows) by many keys in one round trip:
    /// the bodies found, in order.
    pub async fn get_many(&self, fragments: &[Fragment]) -> Vec<Option<Bytes>> {
        let keys: Vec<String> = fragments.iter().map(|f| self.keys.fragment(f)).collect();
        let mut found: Vec<Option<Bytes>> = vec![None; keys.len()];
        let local = self.usable_local();
        let mut missing = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            match local.and_then(|l| l.get(key)) {
                Some(e) => found[i] = Some(e.body.clone()),
                None => missing.push(i),
            }
        }
        if missing.is_empty() {
            return found;
        }
        let epoch = local.map(|l| l.epoch());
        let wanted: Vec<String> = missing.iter().map(|&i| keys[i].clone()).collect();
        match self.store.read_many(&wanted).await {
            Ok(values) => {
                for (&i, raw) in missing.iter().zip(values) {
                    if let Some(entry) = raw.and_then(Entry::decode) {
                        let etag = etag_of(&keys[i], entry.created_ms, entry.compute_us);
                        self.keep_local(&keys[i], &entry, etag, epoch, None);
                        found[i] = Some(entry.body);
                    }
                }
            }
            Err(e) => self.store_failed(fragments[0], &keys[0], &e),
        }
        for (fragment, hit) in fragments.iter().zip(&found) {
            self.metrics.record(
                *fragment,
                if hit.is_some() {
                    Event::HitShared
                } else {
                    Event::Miss
                },
            );
        }
        found
    }

    /// Stores tag-free fragments in one round trip.
    pub async fn put_many(&self, items: Vec<(Fragment, Bytes)>) {
        let now = unix_ms();
        let epoch = self.usable_local().map(|l| l.epoch());
        let mut batch = Vec::with_capacity(items.len());
        for (fragment, body) in items {
            let key = self.keys.fragment(&fragment);
            let ttl = fragment.ttl(&self.ttls);
            let entry = Entry {
                created_ms: now,
                stale_at_ms: now + ttl.as_millis() as u64,
                compute_us: 0,
                expires_at_ms: now + ttl.as_millis() as u64,
                deps: Vec::new(),
                body,
                encodings: Encodings::default(),
            };
            self.metrics.computed(fragment, Duration::ZERO);
            self.keep_local(&key, &entry, etag_of(&key, now, 0), epoch, None);
            batch.push((key, entry.encode(), ttl));
        }
        if let Err(e) = self.store.write_many(batch).await {
            tracing::debug!(error = %e, "cache: could not store rows");
        }
    }

    /// Marks everything `change` touched as changed. Call it after the
    /// change's transaction has committed.
    pub async fn invalidate(&self, change: Change) -> Result<(), StoreError> {
        self.invalidate_tags(&change.touches()).await
    }

    /// Opens the Redis breaker until the recovery hook has run (the change
    /// log could not be applied at start). Without Redis: nothing to do.
    pub fn hold_until_recovered(&self) {
        if let Some(shared) = &self.shared {
            if let Some(local) = &shared.local {
                local.reset();
            }
            shared.breaker.trip();
        }
    }

    /// Bumps `tags`; returns once every instance has dropped its copies.
    pub async fn invalidate_tags(&self, tags: &[Tag]) -> Result<(), StoreError> {
        self.bump(tags, true).await
    }

    /// The same, past the breaker: for the recovery hook, which runs before
    /// the breaker closes.
    pub async fn invalidate_tags_recovering(&self, tags: &[Tag]) -> Result<(), StoreError> {
        self.bump(tags, false).await
    }

    async fn bump(&self, tags: &[Tag], guarded: bool) -> Result<(), StoreError> {
        let names: Vec<String> = tags.iter().map(Tag::to_string).collect();
        let result = match &self.shared {
            Some(shared) => {
                // Bump and announcement are one atomic script: no bump can
                // go unannounced.
                let nonce = crate::token::random_id(20);
                let mut attempt = shared.redis.bump_announced(tags, &nonce, guarded).await;
                // A passing hiccup (a timeout) is retried a little before the
                // change stays in the database's change log; an open breaker
                // is not.
                for _ in 0..2 {
                    match &attempt {
                        Err(StoreError::BreakerOpen) | Ok(_) => break,
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            attempt = shared.redis.bump_announced(tags, &nonce, guarded).await;
                        }
                    }
                }
                match attempt {
                    Ok(announced) => {
                        let bumped: Vec<(String, u64)> =
                            names.iter().cloned().zip(announced.versions).collect();
                        if let Some(local) = &shared.local {
                            local.apply(&bumped);
                        }
                        if let Some(coherence) = &shared.coherence {
                            coherence
                                .await_acks(&nonce, announced.receivers, announced.at)
                                .await;
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            None => self.store.bump(tags).await.map(|_| ()),
        };
        match result {
            Ok(()) => {
                self.metrics.invalidations.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    tags = names.len(),
                    first = ?&names[..names.len().min(5)],
                    "cache invalidated"
                );
                Ok(())
            }
            Err(e) => {
                self.bump_failed().await;
                Err(e)
            }
        }
    }

    /// The versions could not be bumped (Redis unreachable; the change log
    /// keeps them until they are). This process forgets its copies at once; the others
    /// cannot be told, so the write waits until their leases, which need
    /// the same Redis, must have lapsed.
    async fn bump_failed(&self) {
        if let Some(local) = self.shared.as_ref().and_then(|s| s.local.as_ref()) {
            local.reset();
            tokio::time::sleep(coherence::LEASE).await;
        }
    }

    /// Time left on a fragment's entry (for tests and the admin page).
    pub async fn ttl_of(&self, fragment: Fragment) -> Result<Option<Duration>, StoreError> {
        self.store.ttl(&self.keys.fragment(&fragment)).await
    }

    /// Up to `limit` current keys, with TTL and size.
    pub async fn list_keys(&self, limit: usize) -> Result<Vec<KeyInfo>, StoreError> {
        self.store.list(&self.keys.current_pattern(), limit).await
    }

    /// Removes every cache entry of this namespace (any format version).
    pub async fn clear(&self) -> Result<u64, StoreError> {
        let removed = self.store.clear(&self.keys.namespace_pattern()).await?;
        if let Some(shared) = &self.shared {
            if let Some(local) = &shared.local {
                local.reset();
            }
            if let Some(coherence) = &shared.coherence {
                // Other instances keep their copies until told: say so.
                coherence.broadcast_flush().await?;
            }
        }
        Ok(removed)
    }

    /// Per-fragment computations since start (tests and the admin page).
    pub fn computes(&self, fragment_name: &str) -> u64 {
        self.metrics
            .by_name()
            .find(|(name, _)| *name == fragment_name)
            .map(|(_, m)| m.computes())
            .unwrap_or(0)
    }

    /// `/metrics` in the Prometheus text format.
    pub fn render_metrics(&self) -> String {
        self.written.run_pending_tasks();
        let mut gauges: Vec<(&str, &str, f64)> = Vec::new();
        if let Some(shared) = &self.shared {
            gauges.push((
                "folio_cache_breaker_state",
                "Redis circuit breaker: 0 closed, 1 open, 2 recovering.",
                shared.breaker.state() as u8 as f64,
            ));
            gauges.push((
                "folio_cache_breaker_opens",
                "Times the breaker opened since start.",
                shared.breaker.opens() as f64,
            ));
            gauges.push((
                "folio_redis_master_switches",
                "Redis Sentinel master switches followed since start.",
                shared.redis.redis().master_switches() as f64,
            ));
            gauges.push((
                "folio_cache_local_usable",
                "1 while the in-process tier may answer.",
                f64::from(u8::from(self.local_usable())),
            ));
        }
        if let Some((entries, bytes)) = self.local_size() {
            gauges.push((
                "folio_cache_local_entries",
                "Entries in the in-process tier.",
                entries as f64,
            ));
            gauges.push((
                "folio_cache_local_bytes",
                "Bytes in the in-process tier.",
                bytes as f64,
            ));
        }
        self.metrics.render(&gauges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XFetch refreshes at t before expiry with probability exp(-t / (beta * delta)).
    #[test]
    fn early_refresh_grows_near_expiry_and_with_compute_time() {
        let share = |before_ms: u64, compute_us: u64| {
            let hits = (0..20_000)
                .filter(|_| refresh_early(1_000_000 - before_ms, 1_000_000, compute_us, 1.0))
                .count();
            hits as f64 / 20_000.0
        };
        // delta = 100 ms: 10 ms before expiry ~ 0.905, 500 ms before ~ 0.0067.
        assert!(share(10, 100_000) > 0.85);
        assert!(share(500, 100_000) < 0.03);
        // A value that takes ten times longer to compute is refreshed earlier.
        assert!(share(500, 1_000_000) > 0.5);
        // Past expiry, always.
        assert!(refresh_early(2_000_000, 1_000_000, 0, 1.0));
    }

    #[test]
    fn etags_differ_per_entry() {
        assert_ne!(etag_of("k", 1, 2), etag_of("k", 2, 2));
        assert_ne!(etag_of("k", 1, 2), etag_of("j", 1, 2));
        assert_eq!(etag_of("k", 1, 2), etag_of("k", 1, 2));
        assert!(etag_of("k", 1, 2).starts_with('"'));
    }
}
