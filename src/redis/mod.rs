//! The one Redis layer: every Redis call folio makes (the cache store, the
//! coherence channel, sessions and rate limits) goes through [`Redis`].
//!
//! * **Bounded.** Every call, the pool checkout included, is bounded by
//!   `REDIS_TIMEOUT_MS`; a slow or absent Redis costs a request at most that.
//! * **Fails fast.** One circuit breaker for every call (`breaker.rs`): once it
//!   is open, calls fail at once and readers are served from the database.
//! * **One key space.** Every key is built by [`KeySpace`] under the
//!   configured prefix (`keys.rs`).
//! * **Follows failovers.** With `redis+sentinel://`, folio connects to the
//!   master the sentinels name and follows it when it changes (`sentinel.rs`);
//!   a switch holds the breaker open until the cache has been invalidated on
//!   the new master (see [`Redis::unsettled_switch`]).

pub(crate) mod breaker;
pub(crate) mod error;
pub mod keys;
pub(crate) mod sentinel;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use deadpool_redis::{Config, Connection, Hook, HookError, Pool, Runtime};
use tokio::sync::watch;

// `pub`, in a crate-private module: the cache's public API re-exports them.
pub use self::breaker::{Breaker, BreakerState};
pub use self::error::RedisError;
pub use self::keys::KeySpace;
pub(crate) use self::sentinel::Target;

/// Redis failures in a row that open the circuit breaker.
pub(crate) const BREAKER_THRESHOLD: u32 = 3;

/// The server folio talks to now, and its connections.
#[derive(Clone)]
struct Master {
    url: String,
    pool: Pool,
}

pub(crate) struct Redis {
    target: Target,
    master: RwLock<Option<Master>>,
    timeout: Duration,
    breaker: Arc<Breaker>,
    keys: KeySpace,
    /// How many times the master changed since start.
    switches: watch::Sender<u64>,
    /// The last switch after which the cache was invalidated on the new
    /// master; below `switches`, Redis is held (breaker open).
    settled: AtomicU64,
}

/// A pool whose every wait is bounded by `timeout`; connections are made
/// on first use, so folio starts even while Redis is down. With Sentinel
/// (`masters_only`) a new connection must find a master: when a master is
/// demoted, its sentinels drop its clients, and a reconnection to the old
/// address (before folio learns the new one) must not read a replica's
/// copy, which may lack the last bumps.
fn pool_for(url: &str, timeout: Duration, masters_only: bool) -> Result<Pool, RedisError> {
    let mut builder = Config::from_url(url)
        .builder()
        .map_err(|e| RedisError::Pool(e.to_string()))?
        .max_size(16)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout.max(Duration::from_millis(200))))
        .recycle_timeout(Some(timeout))
        .runtime(Runtime::Tokio1);
    if masters_only {
        builder = builder.post_create(Hook::async_fn(|conn, _| {
            Box::pin(async move {
                match is_master(conn).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(HookError::message(
                        "not a master (a replica, or not promoted yet)",
                    )),
                    Err(e) => Err(HookError::Backend(e)),
                }
            })
        }));
    }
    builder.build().map_err(|e| RedisError::Pool(e.to_string()))
}

/// Whether the server says it is a master (`ROLE`).
async fn is_master<C: ::redis::aio::ConnectionLike + Send>(
    conn: &mut C,
) -> Result<bool, ::redis::RedisError> {
    let role: Vec<::redis::Value> = ::redis::cmd("ROLE").query_async(conn).await?;
    let first = role
        .into_iter()
        .next()
        .and_then(|v| ::redis::from_redis_value::<String>(v).ok());
    Ok(first.as_deref() == Some("master"))
}

/// How long connecting (a subscription, a sentinel) may take: more than one
/// command, as a new connection costs a few round trips.
fn connect_timeout(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(500))
}

/// Milliseconds for PX/PEXPIRE: at least 1 (0 is an error to Redis).
pub(crate) fn millis(d: Duration) -> u64 {
    crate::clock::millis(d).max(1)
}

impl Redis {
    /// Connects to `url` (`REDIS_URL`). With Sentinel, asks the sentinels
    /// for the master now; if none answers, starts with the breaker open and
    /// finds the master once `start` runs.
    pub(crate) async fn open(
        url: &str,
        keys: KeySpace,
        timeout: Duration,
    ) -> Result<Self, RedisError> {
        let target = Target::parse(url).map_err(RedisError::Pool)?;
        let master = match &target {
            Target::Direct(url) => Some(Master {
                url: url.clone(),
                pool: pool_for(url, timeout, false)?,
            }),
            Target::Sentinel { sentinels, service } => {
                let mut sentinels = sentinel::Sentinels::new(sentinels, service);
                match sentinels.master(connect_timeout(timeout)).await {
                    Some(addr) => {
                        let url = format!("redis://{addr}/");
                        let pool = pool_for(&url, timeout, true)?;
                        tracing::info!(master = %addr, service, "Redis Sentinel: master found");
                        Some(Master { url, pool })
                    }
                    None => None,
                }
            }
        };
        let breaker = Arc::new(Breaker::new(BREAKER_THRESHOLD));
        if master.is_none() {
            breaker.trip_because("no sentinel names a master yet");
        }
        Ok(Self {
            target,
            master: RwLock::new(master),
            timeout,
            breaker,
            keys,
            switches: watch::Sender::new(0),
            settled: AtomicU64::new(0),
        })
    }

    /// Starts following the sentinels (with Sentinel; nothing otherwise).
    pub(crate) fn start(self: &Arc<Self>) {
        if let Target::Sentinel { .. } = &self.target {
            tokio::spawn(self.clone().follow_master());
        }
    }

    pub(crate) fn keys(&self) -> &KeySpace {
        &self.keys
    }

    pub(crate) fn breaker(&self) -> &Arc<Breaker> {
        &self.breaker
    }

    /// Whether the sentinels choose the server.
    pub(crate) fn is_sentinel(&self) -> bool {
        matches!(self.target, Target::Sentinel { .. })
    }

    fn current(&self) -> Option<Master> {
        self.master
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The server in use (`redis://host:port/`), for logs and subscriptions.
    pub(crate) fn master_url(&self) -> Option<String> {
        self.current().map(|m| m.url)
    }

    fn pool(&self) -> Result<Pool, RedisError> {
        match self.current() {
            Some(master) => Ok(master.pool),
            None => Err(RedisError::NoMaster(self.service().to_owned())),
        }
    }

    fn service(&self) -> &str {
        match &self.target {
            Target::Sentinel { service, .. } => service,
            Target::Direct(_) => "",
        }
    }

    /// Runs `op` on a pooled connection within the timeout, unless the
    /// breaker is open; feeds the breaker.
    pub(crate) async fn run<T, F, Fut>(&self, op: F) -> Result<T, RedisError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = Result<T, ::redis::RedisError>>,
    {
        if !self.breaker.allows() {
            return Err(RedisError::BreakerOpen);
        }
        let result = self.run_unguarded(op).await;
        match &result {
            Ok(_) => self.breaker.on_success(),
            Err(_) => self.breaker.on_failure(),
        }
        result
    }

    /// The same past the breaker: for the probe, the recovery path (which
    /// runs while the breaker is still open) and the coherence channel's own
    /// traffic (heartbeats, acknowledgements).
    pub(crate) async fn run_unguarded<T, F, Fut>(&self, op: F) -> Result<T, RedisError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = Result<T, ::redis::RedisError>>,
    {
        let pool = self.pool()?;
        let work = async {
            let conn = pool
                .get()
                .await
                .map_err(|e| RedisError::Pool(e.to_string()))?;
            op(conn).await.map_err(RedisError::from)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| RedisError::Timeout(self.timeout))?
    }

    /// One pipeline, one round trip, through the breaker.
    pub(crate) async fn query<T: ::redis::FromRedisValue>(
        &self,
        pipe: ::redis::Pipeline,
    ) -> Result<T, RedisError> {
        self.run(|mut c| async move { pipe.query_async::<T>(&mut c).await })
            .await
    }

    /// Whether Redis answers, past the breaker. With Sentinel the server must
    /// also say it is a master: a sentinel may name a replica that is still
    /// being promoted, which would refuse writes.
    pub(crate) async fn probe(&self) -> Result<(), RedisError> {
        let sentinel = self.is_sentinel();
        self.run_unguarded(|mut c| async move {
            if sentinel && !is_master(&mut c).await? {
                return Err(::redis::RedisError::from((
                    ::redis::ErrorKind::Client,
                    "not a master yet",
                )));
            }
            ::redis::cmd("PING")
                .query_async::<String>(&mut c)
                .await
                .map(|_| ())
        })
        .await
    }

    /// A Pub/Sub connection to the server in use.
    pub(crate) async fn pubsub(&self) -> Result<::redis::aio::PubSub, RedisError> {
        let url = self
            .master_url()
            .ok_or_else(|| RedisError::NoMaster(self.service().to_owned()))?;
        let client = ::redis::Client::open(url.as_str())?;
        tokio::time::timeout(connect_timeout(self.timeout), client.get_async_pubsub())
            .await
            .map_err(|_| RedisError::Timeout(connect_timeout(self.timeout)))?
            .map_err(RedisError::from)
    }

    /// Changes whenever the master changes: a subscription to the old one
    /// must be renewed on the new one.
    pub(crate) fn switches(&self) -> watch::Receiver<u64> {
        self.switches.subscribe()
    }

    /// A master switch whose invalidation has not been done yet (its number),
    /// if any. While there is one, the breaker stays open.
    ///
    /// Why: replication is asynchronous, so a promoted replica may lack the
    /// last tag bumps the old master acknowledged (a write's change-log row is
    /// gone once its bump was acknowledged). Entries recording the versions
    /// before such a bump would then look current on the new master. So
    /// before Redis is used again the cache bumps `all`, which every entry
    /// but the versioned rows records, to `max(old + 1, server time in µs)`:
    /// above every version the new master holds, and above every version the
    /// old master ever gave out unless the clocks of the two servers differ
    /// by more than the time the failover took (sentinels wait
    /// `down-after-milliseconds` before they even start one). So no entry
    /// recorded before the switch can match `all` again. See
    /// `Cache::settle_master_switch`.
    pub(crate) fn unsettled_switch(&self) -> Option<u64> {
        let switches = *self.switches.borrow();
        (self.settled.load(Ordering::Acquire) < switches).then_some(switches)
    }

    /// Master switches followed since start (for `/metrics`).
    pub(crate) fn master_switches(&self) -> u64 {
        *self.switches.borrow()
    }

    /// The cache was invalidated on the master of switch `n`.
    pub(crate) fn settle(&self, n: u64) {
        self.settled.fetch_max(n, Ordering::AcqRel);
    }

    /// Asks the sentinels where the master is every `POLL_EVERY`; when it
    /// moved, holds Redis (breaker open) and connects to the new one.
    async fn follow_master(self: Arc<Self>) {
        let Target::Sentinel { sentinels, service } = &self.target else {
            return;
        };
        let mut sentinels = sentinel::Sentinels::new(sentinels, service);
        loop {
            tokio::time::sleep(sentinel::POLL_EVERY).await;
            let Some(addr) = sentinels.master(connect_timeout(self.timeout)).await else {
                continue;
            };
            let url = format!("redis://{addr}/");
            let previous = self.master_url();
            if previous.as_deref() == Some(url.as_str()) {
                continue;
            }
            let pool = match pool_for(&url, self.timeout, true) {
                Ok(pool) => pool,
                Err(e) => {
                    tracing::warn!(error = %e, master = %addr, "Redis Sentinel: cannot use the new master");
                    continue;
                }
            };
            // Hold first, then switch: nothing may use the new master before
            // the cache is invalidated there.
            if previous.is_some() {
                self.breaker.trip_because(
                    "the Sentinel master changed; the cache is invalidated on the new master first",
                );
            }
            *self
                .master
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Master { url, pool });
            if previous.is_some() {
                self.switches.send_modify(|n| *n += 1);
            }
            tracing::warn!(
                from = previous.as_deref().unwrap_or("none"),
                to = %addr,
                service,
                "Redis Sentinel: following the new master"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_absent_redis_opens_the_breaker_and_then_costs_nothing() {
        // Nothing listens on port 1: every call fails at once.
        let redis = Redis::open(
            "redis://127.0.0.1:1/",
            KeySpace::new("t"),
            Duration::from_millis(200),
        )
        .await
        .unwrap();
        for _ in 0..BREAKER_THRESHOLD {
            let failed = redis.query::<()>(::redis::pipe()).await;
            assert!(failed.is_err());
            assert!(!matches!(failed, Err(RedisError::BreakerOpen)));
        }
        assert_eq!(redis.breaker().state(), BreakerState::Open);
        assert!(matches!(
            redis.query::<()>(::redis::pipe()).await,
            Err(RedisError::BreakerOpen)
        ));
        // The probe goes past the breaker (and fails: Redis is still away).
        assert!(redis.probe().await.is_err());
        assert_eq!(redis.master_switches(), 0);
        assert!(redis.unsettled_switch().is_none());
    }

    #[tokio::test]
    async fn sentinels_that_do_not_answer_leave_no_master_and_the_breaker_open() {
        let redis = Redis::open(
            "redis+sentinel://127.0.0.1:1,127.0.0.1:2/folio",
            KeySpace::new("t"),
            Duration::from_millis(100),
        )
        .await
        .unwrap();
        assert!(redis.master_url().is_none());
        assert_eq!(redis.breaker().state(), BreakerState::Open);
        assert!(matches!(
            redis.run_unguarded(|mut c| async move {
                ::redis::cmd("PING").query_async::<String>(&mut c).await
            })
            .await,
            Err(RedisError::NoMaster(name)) if name == "folio"
        ));
    }
}
