//! The Redis backend: the cache's scripts and commands, run through the
//! Redis layer (`crate::redis`: pool, timeout, breaker, key space), which
//! makes a slow or absent Redis cost a request at most the timeout, and
//! nothing at all once the breaker is open.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::Script;

mod scripts;

use self::scripts::Scripts;
use crate::cache::metrics::CacheMetrics;
use crate::cache::stored::{KeyInfo, Lookup, StoreError};
use crate::redis::{millis, KeySpace, Redis};

pub(crate) struct RedisStore {
    redis: Arc<Redis>,
    keys: KeySpace,
    /// How long a tag key lives: longer than any entry.
    tag_ttl: Duration,
    metrics: Arc<CacheMetrics>,
    scripts: Scripts,
}

/// A bump announced on the invalidation channel.
pub(crate) struct Announced {
    pub(crate) versions: Vec<u64>,
    /// Subscribers that received the message (PUBLISH's answer).
    pub(crate) receivers: i64,
    /// When Redis had processed it.
    pub(crate) at: Instant,
}

impl RedisStore {
    pub(crate) fn new(redis: Arc<Redis>, tag_ttl: Duration, metrics: Arc<CacheMetrics>) -> Self {
        Self {
            keys: redis.keys().clone(),
            redis,
            tag_ttl,
            metrics,
            scripts: Scripts::new(),
        }
    }

    pub(crate) fn redis(&self) -> &Arc<Redis> {
        &self.redis
    }

    /// Runs `op` through the Redis layer (timeout, breaker) and records its
    /// round trip.
    async fn with_conn<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnOnce(deadpool_redis::Connection) -> Fut,
        Fut: Future<Output = Result<T, redis::RedisError>>,
    {
        let started = Instant::now();
        let result = self.redis.run(op).await;
        if result.is_ok() {
            self.metrics.redis_rtt.observe(started.elapsed());
        }
        result
    }

    /// Past the breaker: how the breaker learns Redis is back.
    pub(crate) async fn probe(&self) -> Result<(), StoreError> {
        self.redis.probe().await
    }

    /// Bumps tags and announces them on the channel, atomically. `guarded`
    /// false goes past the breaker (the recovery path runs before it closes).
    pub(crate) async fn bump_announced(
        &self,
        tags: &[impl Display],
        nonce: &str,
        guarded: bool,
    ) -> Result<Announced, StoreError> {
        let keys: Vec<String> = tags.iter().map(|t| self.keys.tag(t)).collect();
        let names: Vec<String> = tags.iter().map(ToString::to_string).collect();
        let channel = self.keys.channel();
        let op = |mut c: deadpool_redis::Connection| async move {
            bump(
                &self.scripts.bump,
                &keys,
                self.tag_ttl,
                &channel,
                nonce,
                &names,
                &mut c,
            )
            .await
        };
        let (receivers, versions) = if guarded {
            self.with_conn(op).await?
        } else {
            self.redis.run_unguarded(op).await?
        };
        Ok(Announced {
            versions,
            receivers,
            at: Instant::now(),
        })
    }
}

/// Runs the bump script; returns (receivers, new versions).
async fn bump(
    script: &Script,
    keys: &[String],
    tag_ttl: Duration,
    channel: &str,
    nonce: &str,
    names: &[String],
    c: &mut deadpool_redis::Connection,
) -> Result<(i64, Vec<u64>), redis::RedisError> {
    let mut invocation = script.prepare_invoke();
    for key in keys {
        invocation.key(key);
    }
    invocation.arg(millis(tag_ttl)).arg(channel).arg(nonce);
    for name in names {
        invocation.arg(name);
    }
    let raw: Vec<redis::Value> = invocation.invoke_async(c).await?;
    let receivers = match raw.first() {
        Some(redis::Value::Int(n)) => *n,
        _ => 0,
    };
    let versions = raw
        .iter()
        .skip(1)
        .map(|v| {
            redis::from_redis_value::<String>(v.clone())
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    Ok((receivers, versions))
}

impl RedisStore {
    pub(crate) async fn read(&self, key: &str) -> Result<Option<Lookup>, StoreError> {
        let tag_prefix = self.keys.tag_prefix();
        let found: Option<(i64, Vec<u8>)> = self
            .with_conn(|mut c| async move {
                self.scripts
                    .read
                    .key(key)
                    .arg(tag_prefix)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(found.map(|(current, raw)| Lookup {
            raw: Bytes::from(raw),
            deps_current: current == 1,
        }))
    }

    pub(crate) async fn read_many(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<Bytes>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let raw: Vec<Option<Vec<u8>>> = self
            .with_conn(
                |mut c| async move { redis::cmd("MGET").arg(keys).query_async(&mut c).await },
            )
            .await?;
        Ok(raw.into_iter().map(|v| v.map(Bytes::from)).collect())
    }

    pub(crate) async fn write(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.with_conn(|mut c| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(value.as_ref())
                .arg("PX")
                .arg(millis(ttl))
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    pub(crate) async fn write_many(
        &self,
        entries: Vec<(String, Bytes, Duration)>,
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (key, value, ttl) in &entries {
            pipe.cmd("SET")
                .arg(key)
                .arg(value.as_ref())
                .arg("PX")
                .arg(millis(*ttl))
                .ignore();
        }
        self.with_conn(|mut c| async move { pipe.query_async::<()>(&mut c).await })
            .await
    }

    pub(crate) async fn tag_versions(&self, tags: &[impl Display]) -> Result<Vec<u64>, StoreError> {
        if tags.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = tags.iter().map(|t| self.keys.tag(t)).collect();
        let raw: Vec<String> = self
            .with_conn(|mut c| async move {
                let mut invocation = self.scripts.versions.prepare_invoke();
                for key in &keys {
                    invocation.key(key);
                }
                invocation.arg(millis(self.tag_ttl));
                invocation.invoke_async(&mut c).await
            })
            .await?;
        Ok(raw.iter().map(|v| v.parse().unwrap_or(0)).collect())
    }

    pub(crate) async fn peek_versions(
        &self,
        tags: &[impl Display],
    ) -> Result<Vec<Option<u64>>, StoreError> {
        if tags.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = tags.iter().map(|t| self.keys.tag(t)).collect();
        let raw: Vec<Option<String>> = self
            .with_conn(
                |mut c| async move { redis::cmd("MGET").arg(&keys).query_async(&mut c).await },
            )
            .await?;
        Ok(raw
            .into_iter()
            .map(|v| v.and_then(|v| v.parse().ok()))
            .collect())
    }

    pub(crate) async fn try_lock(
        &self,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<String>, StoreError> {
        let token = crate::token::random_token();
        let got: Option<String> = self
            .with_conn(|mut c| {
                let token = token.clone();
                async move {
                    redis::cmd("SET")
                        .arg(key)
                        .arg(token)
                        .arg("NX")
                        .arg("PX")
                        .arg(millis(ttl))
                        .query_async(&mut c)
                        .await
                }
            })
            .await?;
        Ok(got.map(|_| token))
    }

    pub(crate) async fn unlock(&self, key: &str, token: &str) -> Result<(), StoreError> {
        self.with_conn(|mut c| async move {
            self.scripts
                .unlock
                .key(key)
                .arg(token)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(|_| ())
    }

    pub(crate) async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        let ms: i64 = self
            .with_conn(|mut c| async move { redis::cmd("PTTL").arg(key).query_async(&mut c).await })
            .await?;
        // -2: no such key; -1: no expiry (never written by folio).
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    pub(crate) async fn list(
        &self,
        pattern: &str,
        limit: usize,
    ) -> Result<Vec<KeyInfo>, StoreError> {
        let keys = self.scan(pattern, limit).await?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.cmd("PTTL").arg(key).cmd("STRLEN").arg(key);
        }
        let raw: Vec<i64> = self
            .with_conn(|mut c| async move { pipe.query_async(&mut c).await })
            .await?;
        let mut infos: Vec<KeyInfo> = keys
            .into_iter()
            .zip(raw.chunks(2))
            .map(|(key, pair)| KeyInfo {
                key,
                ttl: u64::try_from(pair[0]).ok().map(Duration::from_millis),
                bytes: u64::try_from(pair[1]).unwrap_or(0),
            })
            .collect();
        infos.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(infos)
    }

    pub(crate) async fn clear(&self, pattern: &str) -> Result<u64, StoreError> {
        // SCAN in pages (never KEYS, which blocks Redis), UNLINK each page.
        let mut cursor: u64 = 0;
        let mut removed = 0u64;
        loop {
            let (next, keys) = self.scan_page(pattern, cursor).await?;
            if !keys.is_empty() {
                removed += self
                    .with_conn(|mut c| async move {
                        redis::cmd("UNLINK")
                            .arg(keys)
                            .query_async::<u64>(&mut c)
                            .await
                    })
                    .await?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

impl RedisStore {
    async fn scan_page(
        &self,
        pattern: &str,
        cursor: u64,
    ) -> Result<(u64, Vec<String>), StoreError> {
        self.with_conn(|mut c| async move {
            redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut c)
                .await
        })
        .await
    }

    async fn scan(&self, pattern: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let mut cursor = 0;
        let mut found = Vec::new();
        loop {
            let (next, keys) = self.scan_page(pattern, cursor).await?;
            found.extend(keys);
            if next == 0 || found.len() >= limit {
                found.truncate(limit);
                return Ok(found);
            }
            cursor = next;
        }
    }
}
