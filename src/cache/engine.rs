//! The engine's parts and how they are put together: the store, and with
//! Redis the breaker, the in-process tier and its coherence channel; the
//! breaker's recovery.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::coherence::Coherence;
use super::entry::Entry;
use super::flights::Flights;
use super::key::KeySpace;
use super::local::{LocalEntry, LocalTier};
use super::metrics::CacheMetrics;
use super::policy_trait::CachePolicy;
use super::requested::Exists;
use super::store::memory::MemoryStore;
use super::store::redis::RedisStore;
use super::store::{Backend, RedisTier};
use super::writes::Writes;
use crate::clock::unix_ms;
use crate::redis::{Breaker, BreakerState, Redis};

/// Tuning knobs; the defaults suit folio.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Bytes of the in-process tier in front of Redis; 0 turns it off.
    pub(crate) local_bytes: u64,
    /// How long a computing instance holds a fragment's lock.
    pub(crate) lock_ttl: Duration,
    /// How long others wait for that instance's value before computing.
    pub(crate) lock_wait: Duration,
    /// `XFetch`'s beta: larger refreshes earlier.
    pub(crate) xfetch_beta: f64,
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

/// The engine: get-or-compute by fragment over the tiers, invalidation by
/// tag. Its work is spread over the files named for it (`lookup.rs`,
/// `compute.rs`, `invalidate.rs`, ...).
pub struct Cache<P: CachePolicy> {
    pub(super) backend: Arc<Backend>,
    pub(super) keys: KeySpace,
    /// The application's answers: keys, TTLs, tags.
    pub(super) policy: P,
    pub(super) config: CacheConfig,
    pub(super) flights: Arc<Flights>,
    pub(super) metrics: Arc<CacheMetrics>,
    pub(super) written: Writes,
    recovery: OnceLock<RecoveryHook>,
    pub(super) exists: OnceLock<Exists>,
}

impl<P: CachePolicy> Cache<P> {
    /// Everything in process memory (no Redis configured).
    pub(crate) fn in_memory(keys: KeySpace, policy: P, max_bytes: u64) -> Self {
        let metrics = Arc::new(CacheMetrics::new(P::FRAGMENT_NAMES));
        Self {
            backend: Arc::new(Backend::Memory(MemoryStore::new(max_bytes))),
            keys,
            policy,
            config: CacheConfig::default(),
            flights: Arc::default(),
            written: Writes::new(metrics.clone()),
            metrics,
            recovery: OnceLock::new(),
            exists: OnceLock::new(),
        }
    }

    /// Redis as the shared tier, with an in-process tier in front of it
    /// unless `config.local_bytes` is 0.
    pub(crate) fn with_redis(redis: Arc<Redis>, policy: P, config: CacheConfig) -> Self {
        let metrics = Arc::new(CacheMetrics::new(P::FRAGMENT_NAMES));
        let tag_ttl = policy.tag_ttl();
        let keys = redis.keys().clone();
        let breaker = redis.breaker().clone();
        let local = (config.local_bytes > 0).then(|| Arc::new(LocalTier::new(config.local_bytes)));
        let coherence = local
            .as_ref()
            .map(|l| Arc::new(Coherence::new(redis.clone(), l.clone(), metrics.clone())));
        let store = RedisStore::new(redis, tag_ttl, metrics.clone());
        Self {
            backend: Arc::new(Backend::Redis(RedisTier {
                store,
                breaker,
                local,
                coherence,
            })),
            keys,
            policy,
            config,
            flights: Arc::default(),
            written: Writes::new(metrics.clone()),
            metrics,
            recovery: OnceLock::new(),
            exists: OnceLock::new(),
        }
    }

    /// Starts the background work of the Redis tier: the coherence channel
    /// and the breaker's recovery probe. `on_recovery` runs after an outage,
    /// before Redis is used again (folio applies the changes the database
    /// recorded meanwhile).
    pub(crate) fn start(self: &Arc<Self>, on_recovery: RecoveryHook) {
        let _ = self.recovery.set(on_recovery);
        if let Some(redis) = self.backend.redis() {
            if let Some(coherence) = &redis.coherence {
                coherence.start();
            }
            tokio::spawn(self.clone().watch_breaker());
        }
    }

    /// While the breaker is open, probes Redis; once it answers, runs the
    /// recovery hook, forgets the in-process tier, and closes the breaker.
    async fn watch_breaker(self: Arc<Self>) {
        let Some(shared) = self.backend.redis() else {
            return;
        };
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if shared.breaker.state() != BreakerState::Open
                || shared.breaker.open_for() < Duration::from_millis(500)
            {
                continue;
            }
            if shared.store.probe().await.is_err() {
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

    /// How the engine learns whether the thing a requested tag names (a
    /// book) exists before it makes its tag keys (see `requested`); set
    /// once, by the catalogue.
    pub(crate) fn set_exists_check(&self, check: Exists) {
        let _ = self.exists.set(check);
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    pub fn metrics(&self) -> &Arc<CacheMetrics> {
        &self.metrics
    }

    pub fn breaker(&self) -> Option<&Arc<Breaker>> {
        self.backend.redis().map(|r| &r.breaker)
    }

    /// (entries, bytes) of the in-process tier, if there is one.
    pub(crate) fn local_size(&self) -> Option<(u64, u64)> {
        let local = self.backend.redis()?.local.as_ref()?;
        Some((local.entry_count(), local.weighted_size()))
    }

    /// Whether the in-process tier may answer now.
    pub(crate) fn local_usable(&self) -> bool {
        self.usable_local().is_some()
    }

    pub(super) fn usable_local(&self) -> Option<&Arc<LocalTier>> {
        self.backend.redis()?.usable_local()
    }

    /// Keeps a copy in the in-process tier, if there is one and the read
    /// that found `entry` began in its current `epoch`.
    pub(super) fn keep_local(
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
            LocalEntry::of(entry.clone(), etag, ttl, read),
            epoch,
        );
    }
}
