//! The Redis backend (deadpool-redis; each pooled connection is multiplexed).
//!
//! Every command runs under a short timeout: a slow or absent Redis costs a
//! request at most that long, and the engine then falls back to the database.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use deadpool_redis::Pool;
use futures_util::future::{BoxFuture, FutureExt};
use redis::{AsyncCommands, Script};

use super::key::KeySpace;
use super::policy::Tag;
use super::store::{CacheStore, Lookup, StoreError};

/// Reads an entry and compares the tag versions on its second line with the
/// current ones, in one round trip. Returns nil, or {1|0, entry}.
const READ_SCRIPT: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return false end
local a = string.find(v, '\n', 1, true)
if not a then return {0, v} end
local b = string.find(v, '\n', a + 1, true)
if not b then return {0, v} end
local current = 1
for tag, ver in string.gmatch(string.sub(v, a + 1, b - 1), '([^ =]+)=(%d+)') do
  if (redis.call('GET', ARGV[1] .. tag) or '0') ~= ver then
    current = 0
    break
  end
end
return {current, v}
"#;

/// Sets each tag key to max(old + 1, server time in µs): strictly increasing,
/// and never back to an old value after Redis loses its data.
const BUMP_SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for _, k in ipairs(KEYS) do
  local next = math.max(tonumber(redis.call('GET', k) or '0') + 1, now)
  redis.call('SET', k, string.format('%.0f', next))
end
return #KEYS
"#;

pub struct RedisStore {
    pool: Pool,
    keys: KeySpace,
    timeout: Duration,
    read_script: Script,
    bump_script: Script,
}

impl RedisStore {
    /// Uses `pool` (see `kv::redis_pool`); connections are made on first
    /// use, so folio starts even while Redis is down.
    pub fn new(pool: Pool, keys: KeySpace, timeout: Duration) -> Self {
        Self {
            pool,
            keys,
            timeout,
            read_script: Script::new(READ_SCRIPT),
            bump_script: Script::new(BUMP_SCRIPT),
        }
    }

    /// Checks out a connection and runs `op` on it, all within the timeout.
    async fn with_conn<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnOnce(deadpool_redis::Connection) -> Fut,
        Fut: Future<Output = Result<T, redis::RedisError>>,
    {
        let work = async {
            let conn = self
                .pool
                .get()
                .await
                .map_err(|e| StoreError::Pool(e.to_string()))?;
            op(conn).await.map_err(StoreError::from)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| StoreError::Timeout(self.timeout))?
    }

    /// Answers PING, or says why not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.with_conn(
            |mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await },
        )
        .await
        .map(|_| ())
    }
}

impl CacheStore for RedisStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn read<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Lookup>, StoreError>> {
        async move {
            let tag_prefix = self.keys.tag_prefix();
            let found: Option<(i64, Vec<u8>)> = self
                .with_conn(|mut c| async move {
                    self.read_script
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
        .boxed()
    }

    fn write<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            self.with_conn(|mut c| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value.as_ref())
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await
        }
        .boxed()
    }

    fn tag_versions<'a>(&'a self, tags: &'a [Tag]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>> {
        async move {
            if tags.is_empty() {
                return Ok(Vec::new());
            }
            let keys: Vec<String> = tags.iter().map(|t| self.keys.tag(t)).collect();
            let raw: Vec<Option<String>> = self
                .with_conn(|mut c| async move { c.mget(keys).await })
                .await?;
            Ok(raw
                .into_iter()
                .map(|v| v.and_then(|s| s.parse().ok()).unwrap_or(0))
                .collect())
        }
        .boxed()
    }

    fn bump<'a>(&'a self, tags: &'a [Tag]) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            if tags.is_empty() {
                return Ok(());
            }
            let keys: Vec<String> = tags.iter().map(|t| self.keys.tag(t)).collect();
            self.with_conn(|mut c| async move {
                let mut invocation = self.bump_script.prepare_invoke();
                for key in &keys {
                    invocation.key(key);
                }
                invocation.invoke_async::<i64>(&mut c).await
            })
            .await
            .map(|_| ())
        }
        .boxed()
    }

    fn ttl<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>, StoreError>> {
        async move {
            let ms: i64 = self
                .with_conn(|mut c| async move { c.pttl(key).await })
                .await?;
            // -2: no such key; -1: no expiry (never written by folio).
            Ok(u64::try_from(ms).ok().map(Duration::from_millis))
        }
        .boxed()
    }

    fn clear(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        async move {
            // SCAN in pages (never KEYS, which blocks Redis), UNLINK each page.
            let pattern = self.keys.namespace_pattern();
            let mut cursor: u64 = 0;
            let mut removed = 0u64;
            loop {
                let pattern = pattern.clone();
                let (next, keys): (u64, Vec<String>) = self
                    .with_conn(|mut c| async move {
                        redis::cmd("SCAN")
                            .arg(cursor)
                            .arg("MATCH")
                            .arg(pattern)
                            .arg("COUNT")
                            .arg(1000)
                            .query_async(&mut c)
                            .await
                    })
                    .await?;
                if !keys.is_empty() {
                    removed += self
                        .with_conn(|mut c| async move { c.unlink::<_, u64>(keys).await })
                        .await?;
                }
                if next == 0 {
                    return Ok(removed);
                }
                cursor = next;
            }
        }
        .boxed()
    }
}
