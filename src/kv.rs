//! A small shared key-value store for sessions and rate-limit counters:
//! Redis when it is configured (so every instance sees the same sessions),
//! process memory otherwise. Unlike the cache, its contents are state:
//! they are never served to anyone but their owner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_redis::{Config, Pool, Runtime};

use crate::cache::{Breaker, StoreError};

/// A Redis pool whose every wait is bounded by `timeout`.
pub fn redis_pool(url: &str, timeout: Duration) -> Result<Pool, StoreError> {
    Config::from_url(url)
        .builder()
        .map_err(|e| StoreError::Pool(e.to_string()))?
        .max_size(16)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout.max(Duration::from_millis(200))))
        .recycle_timeout(Some(timeout))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Pool(e.to_string()))
}

/// Memory holds at most this many keys; past it, expired ones are purged and
/// then the store refuses new keys rather than grow without bound.
const MEMORY_MAX_KEYS: usize = 200_000;

pub enum Kv {
    Redis {
        pool: Pool,
        timeout: Duration,
        breaker: Arc<Breaker>,
    },
    Memory(Mutex<HashMap<String, (Vec<u8>, Instant)>>),
}

impl Kv {
    pub fn memory() -> Self {
        Kv::Memory(Mutex::new(HashMap::new()))
    }

    /// One Redis round trip, within the timeout and through the breaker.
    async fn redis<T>(
        pool: &Pool,
        timeout: Duration,
        breaker: &Breaker,
        pipe: redis::Pipeline,
    ) -> Result<T, StoreError>
    where
        T: redis::FromRedisValue,
    {
        if !breaker.allows() {
            return Err(StoreError::BreakerOpen);
        }
        let work = async {
            let mut conn = pool
                .get()
                .await
                .map_err(|e| StoreError::Pool(e.to_string()))?;
            pipe.query_async::<T>(&mut conn)
                .await
                .map_err(StoreError::from)
        };
        let result = tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| StoreError::Timeout(timeout))
            .and_then(|r| r);
        match &result {
            Ok(_) => breaker.on_success(),
            Err(_) => breaker.on_failure(),
        }
        result
    }

    fn with_map<T>(
        map: &Mutex<HashMap<String, (Vec<u8>, Instant)>>,
        f: impl FnOnce(&mut HashMap<String, (Vec<u8>, Instant)>) -> T,
    ) -> T {
        let mut guard = map.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Kv::Redis {
                pool,
                timeout,
                breaker,
            } => {
                let mut pipe = redis::pipe();
                pipe.cmd("GET").arg(key);
                let (value,): (Option<Vec<u8>>,) =
                    Self::redis(pool, *timeout, breaker, pipe).await?;
                Ok(value)
            }
            Kv::Memory(map) => Ok(Self::with_map(map, |m| {
                m.get(key)
                    .filter(|(_, exp)| *exp > Instant::now())
                    .map(|(v, _)| v.clone())
            })),
        }
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        match self {
            Kv::Redis {
                pool,
                timeout,
                breaker,
            } => {
                let mut pipe = redis::pipe();
                pipe.cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(millis(ttl))
                    .ignore();
                Self::redis(pool, *timeout, breaker, pipe).await
            }
            Kv::Memory(map) => Self::with_map(map, |m| {
                make_room(m)?;
                m.insert(key.to_owned(), (value.to_vec(), Instant::now() + ttl));
                Ok(())
            }),
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Kv::Redis {
                pool,
                timeout,
                breaker,
            } => {
                let mut pipe = redis::pipe();
                pipe.cmd("DEL").arg(key).ignore();
                Self::redis(pool, *timeout, breaker, pipe).await
            }
            Kv::Memory(map) => {
                Self::with_map(map, |m| m.remove(key));
                Ok(())
            }
        }
    }

    /// Adds one to a counter that lives for `window` from its first count
    /// (a fixed window); returns the new count.
    pub async fn incr(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        match self {
            Kv::Redis {
                pool,
                timeout,
                breaker,
            } => {
                let mut pipe = redis::pipe();
                pipe.atomic()
                    .cmd("INCR")
                    .arg(key)
                    .cmd("PEXPIRE")
                    .arg(key)
                    .arg(millis(window))
                    .arg("NX")
                    .ignore();
                let (n,): (u64,) = Self::redis(pool, *timeout, breaker, pipe).await?;
                Ok(n)
            }
            Kv::Memory(map) => Self::with_map(map, |m| {
                let now = Instant::now();
                let current = m
                    .get(key)
                    .filter(|(_, exp)| *exp > now)
                    .and_then(|(v, exp)| {
                        Some((std::str::from_utf8(v).ok()?.parse::<u64>().ok()?, *exp))
                    });
                let (n, expires) = match current {
                    Some((n, exp)) => (n + 1, exp),
                    None => {
                        make_room(m)?;
                        (1, now + window)
                    }
                };
                m.insert(key.to_owned(), (n.to_string().into_bytes(), expires));
                Ok(n)
            }),
        }
    }

    /// Stores `value` unless the key exists (no expiry).
    pub async fn set_if_absent(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        match self {
            Kv::Redis {
                pool,
                timeout,
                breaker,
            } => {
                let mut pipe = redis::pipe();
                pipe.cmd("SET").arg(key).arg(value).arg("NX").ignore();
                Self::redis(pool, *timeout, breaker, pipe).await
            }
            Kv::Memory(map) => Self::with_map(map, |m| {
                m.entry(key.to_owned()).or_insert_with(|| {
                    (
                        value.to_vec(),
                        Instant::now() + Duration::from_secs(u32::MAX.into()),
                    )
                });
                Ok(())
            }),
        }
    }

    /// Takes one off a counter (never below zero, never creating one).
    pub async fn decr(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Kv::Redis {
                pool,
                timeout,
                breaker,
            } => {
                let mut pipe = redis::pipe();
                pipe.cmd("EVAL")
                    .arg("local n = tonumber(redis.call('GET', KEYS[1]) or '0') if n > 0 then redis.call('DECR', KEYS[1]) end return 0")
                    .arg(1)
                    .arg(key)
                    .ignore();
                Self::redis(pool, *timeout, breaker, pipe).await
            }
            Kv::Memory(map) => {
                Self::with_map(map, |m| {
                    if let Some((v, _)) = m.get_mut(key) {
                        let n: u64 = std::str::from_utf8(v)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0);
                        *v = n.saturating_sub(1).to_string().into_bytes();
                    }
                });
                Ok(())
            }
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn make_room(m: &mut HashMap<String, (Vec<u8>, Instant)>) -> Result<(), StoreError> {
    if m.len() >= MEMORY_MAX_KEYS {
        let now = Instant::now();
        m.retain(|_, (_, exp)| *exp > now);
    }
    if m.len() >= MEMORY_MAX_KEYS {
        return Err(StoreError::Full);
    }
    Ok(())
}
