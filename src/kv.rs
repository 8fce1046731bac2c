//! A small shared key-value store for sessions and rate-limit counters:
//! Redis when it is configured (so every instance sees the same sessions),
//! process memory otherwise. Unlike the cache, its contents are state:
//! they are never served to anyone but their owner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::redis::{millis, Redis, RedisError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum KvError {
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error("the in-process store is full")]
    Full,
}

/// Memory holds at most this many keys and bytes; past either, expired
/// entries are purged and then the store refuses new ones rather than grow
/// without bound. Only sign-ins make sessions and only validated input makes
/// counters, so these are far above what folio ever keeps.
pub(crate) const MEMORY_MAX_KEYS: usize = 200_000;
pub(crate) const MEMORY_MAX_BYTES: usize = 32 * 1024 * 1024;

/// What an entry costs beyond its key and value: the map's slot, the
/// allocations' headers, the expiry.
const ENTRY_OVERHEAD: usize = 64;

/// What one entry counts against the byte bound.
fn entry_cost(key: &str, value: &[u8]) -> usize {
    key.len() + value.len() + ENTRY_OVERHEAD
}

/// Process memory, counted in keys and bytes.
pub(crate) struct MemoryMap {
    entries: HashMap<String, (Vec<u8>, Instant)>,
    bytes: usize,
    max_keys: usize,
    max_bytes: usize,
}

impl MemoryMap {
    fn get(&self, key: &str, now: Instant) -> Option<&Vec<u8>> {
        self.entries
            .get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(v, _)| v)
    }

    fn fits(&self, key: &str, cost: usize) -> bool {
        let old = self.entries.get(key).map_or(0, |(v, _)| entry_cost(key, v));
        (old > 0 || self.entries.len() < self.max_keys) && self.bytes - old + cost <= self.max_bytes
    }

    /// Stores `value` if the bounds allow it (purging expired entries first
    /// when they would not).
    fn insert(&mut self, key: &str, value: Vec<u8>, expires: Instant) -> Result<(), KvError> {
        let cost = entry_cost(key, &value);
        if !self.fits(key, cost) {
            self.purge_expired();
            if !self.fits(key, cost) {
                return Err(KvError::Full);
            }
        }
        self.remove(key);
        self.bytes += cost;
        self.entries.insert(key.to_owned(), (value, expires));
        Ok(())
    }

    fn remove(&mut self, key: &str) {
        if let Some((v, _)) = self.entries.remove(key) {
            self.bytes -= entry_cost(key, &v);
        }
    }

    fn purge_expired(&mut self) {
        let now = Instant::now();
        let mut freed = 0;
        self.entries.retain(|k, (v, exp)| {
            let keep = *exp > now;
            if !keep {
                freed += entry_cost(k, v);
            }
            keep
        });
        self.bytes -= freed;
    }

    /// (keys, bytes) held now, expired ones included until purged (read by
    /// the unit tests only).
    #[cfg(test)]
    pub(crate) fn usage(&self) -> (usize, usize) {
        (self.entries.len(), self.bytes)
    }
}

pub(crate) enum Kv {
    Redis(Arc<Redis>),
    Memory(Mutex<MemoryMap>),
}

/// Counts one in each counter below its limit; a counter at its limit stays
/// there (counting stops at the limit, so a flood costs no more than the
/// allowance). A counter lives ARGV[1] ms from its first count; ARGV[i + 1]
/// is KEYS[i]'s limit. Returns 1 when every counter was below its limit.
const TAKE_SCRIPT: &str = r"
local allowed = 1
for i, k in ipairs(KEYS) do
  if tonumber(redis.call('GET', k) or '0') >= tonumber(ARGV[i + 1]) then
    allowed = 0
  elseif redis.call('INCR', k) == 1 then
    redis.call('PEXPIRE', k, ARGV[1])
  end
end
return allowed
";

impl Kv {
    pub(crate) fn memory() -> Self {
        Self::memory_bounded(MEMORY_MAX_KEYS, MEMORY_MAX_BYTES)
    }

    pub(crate) fn memory_bounded(max_keys: usize, max_bytes: usize) -> Self {
        Kv::Memory(Mutex::new(MemoryMap {
            entries: HashMap::new(),
            bytes: 0,
            max_keys,
            max_bytes,
        }))
    }

    /// (keys, bytes) of the in-process store; None with Redis (read by the
    /// unit tests only).
    #[cfg(test)]
    pub(crate) fn memory_usage(&self) -> Option<(usize, usize)> {
        match self {
            Kv::Memory(map) => Some(Self::with_map(map, |m| m.usage())),
            Kv::Redis { .. } => None,
        }
    }

    fn with_map<T>(map: &Mutex<MemoryMap>, f: impl FnOnce(&mut MemoryMap) -> T) -> T {
        let mut guard = map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        match self {
            Kv::Redis(redis) => {
                let mut pipe = redis::pipe();
                pipe.cmd("GET").arg(key);
                let (value,): (Option<Vec<u8>>,) = redis.query(pipe).await?;
                Ok(value)
            }
            Kv::Memory(map) => Ok(Self::with_map(map, |m| m.get(key, Instant::now()).cloned())),
        }
    }

    pub(crate) async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), KvError> {
        match self {
            Kv::Redis(redis) => {
                let mut pipe = redis::pipe();
                pipe.cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(millis(ttl))
                    .ignore();
                Ok(redis.query(pipe).await?)
            }
            Kv::Memory(map) => {
                Self::with_map(map, |m| m.insert(key, value.to_vec(), Instant::now() + ttl))
            }
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), KvError> {
        match self {
            Kv::Redis(redis) => {
                let mut pipe = redis::pipe();
                pipe.cmd("DEL").arg(key).ignore();
                Ok(redis.query(pipe).await?)
            }
            Kv::Memory(map) => {
                Self::with_map(map, |m| m.remove(key));
                Ok(())
            }
        }
    }

    /// Counts one in every counter of `counters` (key, limit) below its
    /// limit; true when all were (the attempt is allowed). A counter lives
    /// for `window` from its first count (a fixed window).
    pub(crate) async fn take(
        &self,
        counters: &[(&str, u64)],
        window: Duration,
    ) -> Result<bool, KvError> {
        match self {
            Kv::Redis(redis) => {
                let mut pipe = redis::pipe();
                let cmd = pipe.cmd("EVAL").arg(TAKE_SCRIPT).arg(counters.len());
                for (key, _) in counters {
                    cmd.arg(*key);
                }
                cmd.arg(millis(window));
                for (_, limit) in counters {
                    cmd.arg(*limit);
                }
                let (counted,): (i64,) = redis.query(pipe).await?;
                Ok(counted == 1)
            }
            Kv::Memory(map) => Self::with_map(map, |m| {
                let now = Instant::now();
                let current = |m: &MemoryMap, key: &str| -> u64 {
                    m.get(key, now)
                        .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
                        .unwrap_or(0)
                };
                let mut allowed = true;
                for (key, limit) in counters {
                    let n = current(m, key);
                    if n >= *limit {
                        allowed = false;
                        continue;
                    }
                    let expires = match m.entries.get(*key) {
                        Some((_, exp)) if n > 0 => *exp,
                        _ => now + window,
                    };
                    m.insert(key, (n + 1).to_string().into_bytes(), expires)?;
                }
                Ok(allowed)
            }),
        }
    }

    /// Stores `value` unless the key exists (no expiry).
    pub(crate) async fn set_if_absent(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        match self {
            Kv::Redis(redis) => {
                let mut pipe = redis::pipe();
                pipe.cmd("SET").arg(key).arg(value).arg("NX").ignore();
                Ok(redis.query(pipe).await?)
            }
            Kv::Memory(map) => Self::with_map(map, |m| {
                if m.get(key, Instant::now()).is_some() {
                    return Ok(());
                }
                m.insert(
                    key,
                    value.to_vec(),
                    Instant::now() + Duration::from_secs(u32::MAX.into()),
                )
            }),
        }
    }

    /// Takes one off a counter (never below zero, never creating one).
    pub(crate) async fn decr(&self, key: &str) -> Result<(), KvError> {
        match self {
            Kv::Redis(redis) => {
                let mut pipe = redis::pipe();
                pipe.cmd("EVAL")
                    .arg("local n = tonumber(redis.call('GET', KEYS[1]) or '0') if n > 0 then redis.call('DECR', KEYS[1]) end return 0")
                    .arg(1)
                    .arg(key)
                    .ignore();
                Ok(redis.query(pipe).await?)
            }
            Kv::Memory(map) => Self::with_map(map, |m| {
                let Some((v, exp)) = m.entries.get(key).cloned() else {
                    return Ok(());
                };
                let n: u64 = std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                m.insert(key, n.saturating_sub(1).to_string().into_bytes(), exp)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_is_bounded_in_bytes_as_well_as_keys() {
        let kv = Kv::memory_bounded(1_000, 100_000);
        let big = vec![b'x'; 30_000];
        for i in 0..3 {
            kv.set(&format!("k{i}"), &big, Duration::from_secs(60))
                .await
                .unwrap();
        }
        assert!(matches!(
            kv.set("k3", &big, Duration::from_secs(60)).await,
            Err(KvError::Full)
        ));
        let (keys, bytes) = kv.memory_usage().unwrap();
        assert_eq!(keys, 3);
        assert!(bytes <= 100_000, "{bytes}");
        // Replacing a value frees what the old one took.
        kv.set("k0", b"small", Duration::from_secs(60))
            .await
            .unwrap();
        kv.set("k3", &big, Duration::from_secs(60)).await.unwrap();
        kv.delete("k1").await.unwrap();
        assert_eq!(kv.memory_usage().unwrap().0, 3);
        // Expired entries make room.
        kv.set("short", &big, Duration::from_millis(1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        kv.set("k4", &big, Duration::from_secs(60)).await.unwrap();
    }

    #[tokio::test]
    async fn counting_stops_at_the_limit_for_every_counter() {
        let kv = Kv::memory();
        let window = Duration::from_secs(60);
        let mut counted = 0;
        for _ in 0..10 {
            if kv.take(&[("a", 3), ("b", 5)], window).await.unwrap() {
                counted += 1;
            }
        }
        assert_eq!(counted, 3);
        // Each counter stopped at its own limit.
        assert_eq!(kv.get("a").await.unwrap().as_deref(), Some(&b"3"[..]));
        assert_eq!(kv.get("b").await.unwrap().as_deref(), Some(&b"5"[..]));
        kv.decr("b").await.unwrap();
        assert!(kv.take(&[("b", 5)], window).await.unwrap());
        assert!(!kv.take(&[("b", 5)], window).await.unwrap());
        assert_eq!(kv.get("b").await.unwrap().as_deref(), Some(&b"5"[..]));
    }
}
