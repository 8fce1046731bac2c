//! Computing a value and storing it: once per key across instances (a
//! short Redis lock; the others wait briefly for the value), compressed
//! once, with its tag versions and its lifetimes.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;

use super::cached::{etag_of, Cached, Outcome, Source};
use super::deps::Deps;
use super::encoding::{self, Encodings};
use super::engine::Cache;
use super::entry::Entry;
use super::lifetimes::Lifetimes;
use super::policy_trait::CachePolicy;
use super::stored::StoreError;
use crate::clock::{micros, unix_ms};

/// Errors of a computation say whether an old copy may stand in for the
/// value (the database is down: yes; the book is gone: no).
pub trait MayServeStale: Send + 'static {
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

/// A computation of a `T`, handed a [`Deps`]. It may run in the background
/// (to refresh an expiring entry), hence `'static`. Any such closure is one.
pub trait Compute<T, E>: FnOnce(Deps) -> <Self as Compute<T, E>>::Fut + Send + 'static {
    type Fut: Future<Output = Result<T, E>> + Send + 'static;

    /// The computation behind one pointer, as the engine passes it on.
    fn boxed(self) -> BoxedCompute<T, E>
    where
        Self: Sized,
    {
        Box::new(move |deps| Box::pin(self(deps)))
    }
}

impl<T, E, F, Fut> Compute<T, E> for F
where
    F: FnOnce(Deps) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    type Fut = Fut;
}

pub(super) type BoxedCompute<T, E> =
    Box<dyn FnOnce(Deps) -> BoxFuture<'static, Result<T, E>> + Send>;

/// Whether a stored body is one this build can use (JSON that decodes).
pub(super) type Usable = fn(&[u8]) -> bool;

impl<P: CachePolicy> Cache<P> {
    /// With Redis, one instance computes while the others wait (briefly) for
    /// its value; on any doubt, compute.
    pub(super) async fn compute_across_instances<E: MayServeStale>(
        &self,
        fragment: P::Fragment,
        key: &str,
        usable: Usable,
        compute: BoxedCompute<Bytes, E>,
    ) -> Result<Cached, E> {
        // Whoever computed just before us may have stored it since this
        // request looked: check again once it is our turn (here, after the
        // single-flight; with Redis, once the lock is ours).
        let Some(redis) = self.backend.redis() else {
            if let Ok(Some(found)) = self.read_fresh(key, usable).await {
                return Ok(found);
            }
            return self.compute_and_store(fragment, key, compute).await;
        };
        let lock = self.keys.lock(key);
        match redis.store.try_lock(&lock, self.config.lock_ttl).await {
            Ok(Some(token)) => {
                let result = match self.read_fresh(key, usable).await {
                    Ok(Some(found)) => Ok(found),
                    _ => self.compute_and_store(fragment, key, compute).await,
                };
                let _ = redis.store.unlock(&lock, &token).await;
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

    async fn wait_for_other_instance(&self, key: &str, usable: Usable) -> Option<Cached> {
        let deadline = Instant::now() + self.config.lock_wait;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(15)).await;
            match self.read_fresh(key, usable).await {
                Ok(Some(found)) => return Some(found),
                // Redis is out of reach: waiting is pointless.
                Err(StoreError::BreakerOpen) => return None,
                // Not there yet, or one slow answer, which says little: keep
                // waiting, to the deadline.
                Ok(None) | Err(_) => {}
            }
        }
        None
    }

    /// A fresh copy in the shared store, if there is one now.
    async fn read_fresh(&self, key: &str, usable: Usable) -> Result<Option<Cached>, StoreError> {
        let epoch = self.usable_local().map(|l| l.epoch());
        let Some(lookup) = self.backend.read(key).await? else {
            return Ok(None);
        };
        if !lookup.deps_current {
            return Ok(None);
        }
        let Some(entry) =
            Entry::decode(&lookup.raw).filter(|e| usable(&e.body) && e.stale_at_ms > unix_ms())
        else {
            return Ok(None);
        };
        let etag = etag_of(key, entry.created_ms, entry.compute_us);
        self.keep_local(key, &entry, etag.clone(), epoch, None);
        let deps = Some(Arc::new(entry.deps.clone()));
        Ok(Some(Cached::of(
            &entry,
            etag,
            Outcome::Miss,
            Source::Coalesced,
            deps,
        )))
    }

    pub(super) async fn compute_and_store<E>(
        &self,
        fragment: P::Fragment,
        key: &str,
        compute: BoxedCompute<Bytes, E>,
    ) -> Result<Cached, E> {
        let epoch = self.usable_local().map(|l| l.epoch());
        let deps = Deps::new(self.backend.clone());
        deps.depend_on_requested(
            &P::depends_on(&fragment),
            P::requested_id,
            self.exists.get(),
        )
        .await;
        let started = Instant::now();
        let body = compute(deps.clone()).await?;
        let took = started.elapsed();
        self.metrics.computed(P::kind_index(&fragment), took);
        // Compressed once here, so that no hit ever compresses.
        let encodings = if P::precompressed(&fragment) && body.len() >= encoding::MIN_BYTES {
            let plain = body.clone();
            tokio::task::spawn_blocking(move || Encodings::of(&plain))
                .await
                .unwrap_or_default()
        } else {
            Encodings::default()
        };

        let created_ms = unix_ms();
        let (recorded, stale_by) = deps.into_recorded();
        let lifetimes = Lifetimes::of_new(self.policy.ttl(&fragment), created_ms, stale_by);
        let entry = Entry {
            created_ms,
            stale_at_ms: lifetimes.stale_at_ms,
            compute_us: micros(took),
            expires_at_ms: lifetimes.expires_at_ms,
            deps: recorded.clone().unwrap_or_default(),
            body,
            encodings,
        };
        let etag = etag_of(key, entry.created_ms, entry.compute_us);
        if recorded.is_some() {
            // Kept past its TTL for the grace period: a last good copy.
            let kept = lifetimes.hard + self.policy.grace();
            match self.backend.write(key, entry.encode(), kept).await {
                Ok(()) => {
                    let read =
                        self.written
                            .record(key, P::kind_index(&fragment), P::name(&fragment));
                    self.keep_local(key, &entry, etag.clone(), epoch, Some(read));
                }
                Err(e) => self.store_failed(fragment, key, &e),
            }
        }
        let mut cached = Cached::of(
            &entry,
            etag,
            Outcome::Miss,
            Source::Computed,
            recorded.map(Arc::new),
        );
        cached.compute = Some(took);
        Ok(cached)
    }
}
