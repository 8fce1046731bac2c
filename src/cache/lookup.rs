//! Get-or-compute: the engine's public calls, and one look-up over the
//! three tiers: this process's memory, the shared store, the database.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::cached::{etag_of, Cached, Outcome, Source};
use super::compute::{Compute, MayServeStale, Usable};
use super::deps::Deps;
use super::engine::Cache;
use super::entry::Entry;
use super::flights::FlightGuard;
use super::grace::Standing;
use super::metrics::Event;
use super::policy_trait::CachePolicy;
use crate::clock::unix_ms;

/// A value cached as JSON (see [`Cache::get_or_compute_json`]).
pub trait JsonValue: serde::Serialize + serde::de::DeserializeOwned + Send + 'static {}

impl<T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static> JsonValue for T {}

/// What a JSON fragment's computation fails with: an error that may be
/// served stale, and that a value which does not encode becomes.
pub trait JsonError: MayServeStale + From<serde_json::Error> {}

impl<E: MayServeStale + From<serde_json::Error>> JsonError for E {}

/// What one tier held for a key.
enum Found {
    /// A hit; `refresh`: due for an early refresh (`XFetch`).
    Fresh {
        copy: Cached,
        refresh: bool,
    },
    /// Expired but not invalidated: served while it is refreshed.
    Expiring(Cached),
    /// Only good should computing fail (see "Grace" in `policy.rs`).
    StandIn(Cached, Standing),
    Nothing,
}

impl<P: CachePolicy> Cache<P> {
    /// The fragment's stored bytes if they are fresh, or the result of
    /// `compute`, stored for the fragment's TTL.
    ///
    /// `compute` receives a [`Deps`] to add tags known only while computing
    /// (call `depend_on` before reading their data). It may run in the
    /// background (to refresh an expiring entry), hence `'static`.
    pub async fn get_or_compute<E: MayServeStale>(
        self: &Arc<Self>,
        fragment: P::Fragment,
        compute: impl Compute<Bytes, E>,
    ) -> Result<Cached, E> {
        self.get_checked(fragment, |_| true, compute).await
    }

    /// A cached value that the caller decodes (JSON). A stored value that no
    /// longer decodes (written by a build that forgot to bump the format
    /// version) counts as a miss, not as an error.
    pub(crate) async fn get_or_compute_json<T: JsonValue, E: JsonError>(
        self: &Arc<Self>,
        fragment: P::Fragment,
        compute: impl Compute<T, E>,
    ) -> Result<T, E> {
        self.json(fragment, None, compute).await
    }

    /// The same for a fragment used inside another's computation (`outer`):
    /// the outer value expires no later than this one, and is not stored if
    /// this one was an old copy.
    pub(crate) async fn get_nested_json<T: JsonValue, E: JsonError>(
        self: &Arc<Self>,
        outer: &Deps,
        fragment: P::Fragment,
        compute: impl Compute<T, E>,
    ) -> Result<T, E> {
        self.json(fragment, Some(outer), compute).await
    }

    async fn json<T: JsonValue, E: JsonError>(
        self: &Arc<Self>,
        fragment: P::Fragment,
        outer: Option<&Deps>,
        compute: impl Compute<T, E>,
    ) -> Result<T, E> {
        fn decodes<T: serde::de::DeserializeOwned>(body: &[u8]) -> bool {
            serde_json::from_slice::<T>(body).is_ok()
        }
        let as_bytes = move |deps| async move {
            let value = compute(deps).await?;
            Ok::<_, E>(Bytes::from(serde_json::to_vec(&value)?))
        };
        let cached = self.get_checked(fragment, decodes::<T>, as_bytes).await?;
        if let Some(outer) = outer {
            outer.nested(&cached);
        }
        Ok(serde_json::from_slice(&cached.body)?)
    }

    /// The look-up. `compute` is boxed only once it is needed (a hit
    /// allocates nothing for it).
    async fn get_checked<E: MayServeStale>(
        self: &Arc<Self>,
        fragment: P::Fragment,
        usable: Usable,
        compute: impl Compute<Bytes, E>,
    ) -> Result<Cached, E> {
        let started = Instant::now();
        let key = self.keys.fragment(&fragment);
        let now = unix_ms();
        let mut expired: Option<Cached> = None;

        // 1. This process's memory.
        match self.in_local_tier(fragment, &key, now, started) {
            Found::Fresh { copy, refresh } => {
                if refresh {
                    self.spawn_refresh(fragment, key, compute.boxed());
                }
                return Ok(copy);
            }
            Found::Expiring(copy) => expired = Some(copy),
            Found::StandIn(..) | Found::Nothing => {}
        }

        // 2. One request per key in this process looks further; those that
        // arrive meanwhile share what it finds.
        let guard = match self.join_flight(fragment, &key, started).await {
            Ok(shared) => return Ok(shared),
            Err(guard) => guard,
        };
        let finish = |guard: Option<FlightGuard>, cached: &Cached| {
            if let Some(guard) = guard {
                guard.finish(Some(cached.clone()));
            }
        };

        // 3. The shared store.
        let mut stand_in: Option<(Cached, Standing)> = None;
        match self
            .in_shared_store(fragment, &key, now, started, usable)
            .await
        {
            Found::Fresh { copy, refresh } => {
                finish(guard, &copy);
                if refresh {
                    self.spawn_refresh(fragment, key, compute.boxed());
                }
                return Ok(copy);
            }
            Found::Expiring(copy) => expired = expired.or(Some(copy)),
            Found::StandIn(copy, standing) => stand_in = Some((copy, standing)),
            Found::Nothing => {}
        }

        // 4. Expired but not invalidated: serve it, refresh behind it (once
        // this flight is over, so that the refresh may start its own).
        if let Some(mut copy) = expired {
            self.metrics.record(P::kind_index(&fragment), Event::Stale);
            copy.outcome = Outcome::Stale;
            copy.elapsed = started.elapsed();
            finish(guard, &copy);
            self.spawn_refresh(fragment, key, compute.boxed());
            return Ok(copy);
        }

        // 5. Compute, once here and, with Redis, once across instances.
        self.metrics.record(P::kind_index(&fragment), Event::Miss);
        match self
            .compute_across_instances(fragment, &key, usable, compute.boxed())
            .await
        {
            Ok(mut cached) => {
                cached.elapsed = started.elapsed();
                finish(guard, &cached);
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
                        self.metrics
                            .record(P::kind_index(&fragment), Event::StaleOnError);
                        tracing::warn!(
                            key,
                            "computing failed; serving the last good copy (stale-if-error)"
                        );
                        finish(guard, &copy);
                        Ok(copy)
                    }
                    None => Err(e),
                }
            }
        }
    }

    /// The in-process tier's copy, if it is current.
    fn in_local_tier(&self, fragment: P::Fragment, key: &str, now: u64, started: Instant) -> Found {
        let Some(local) = self.usable_local() else {
            return Found::Nothing;
        };
        let Some(kept) = local.get(key).filter(|e| local.is_current(e)) else {
            return Found::Nothing;
        };
        if let Some(read) = &kept.read {
            read.store(true, Ordering::Relaxed);
        }
        let entry = &kept.entry;
        let mut copy = Cached::of(entry, kept.etag.clone(), Outcome::Hit, Source::Local, None);
        copy.elapsed = started.elapsed();
        match Standing::of(now, entry.stale_at_ms, entry.expires_at_ms, true) {
            Standing::Fresh => {
                self.metrics
                    .record(P::kind_index(&fragment), Event::HitLocal);
                let refresh = self.due_early(now, entry.stale_at_ms, entry.compute_us);
                Found::Fresh { copy, refresh }
            }
            Standing::Expiring => Found::Expiring(copy),
            Standing::Grace | Standing::Invalidated => Found::Nothing,
        }
    }

    /// The shared store's copy, with its standing; a usable one is also
    /// kept in the in-process tier.
    async fn in_shared_store(
        &self,
        fragment: P::Fragment,
        key: &str,
        now: u64,
        started: Instant,
        usable: Usable,
    ) -> Found {
        let epoch = self.usable_local().map(|l| l.epoch());
        let lookup = match self.backend.read(key).await {
            Ok(Some(lookup)) => lookup,
            Ok(None) => return Found::Nothing,
            Err(e) => {
                self.store_failed(fragment, key, &e);
                return Found::Nothing;
            }
        };
        let Some(entry) = Entry::decode(&lookup.raw).filter(|e| usable(&e.body)) else {
            tracing::debug!(key, "cache: a value of another format; recomputing");
            return Found::Nothing;
        };
        let etag = etag_of(key, entry.created_ms, entry.compute_us);
        let deps = Some(Arc::new(entry.deps.clone()));
        let mut copy = Cached::of(&entry, etag.clone(), Outcome::Hit, Source::Shared, deps);
        copy.elapsed = started.elapsed();
        let standing = Standing::of(
            now,
            entry.stale_at_ms,
            entry.expires_at_ms,
            lookup.deps_current,
        );
        match standing {
            Standing::Fresh => {
                self.written.mark_read(key);
                self.keep_local(key, &entry, etag, epoch, None);
                self.metrics
                    .record(P::kind_index(&fragment), Event::HitShared);
                let refresh = self.due_early(now, entry.stale_at_ms, entry.compute_us);
                Found::Fresh { copy, refresh }
            }
            Standing::Expiring => {
                self.written.mark_read(key);
                self.keep_local(key, &entry, etag, epoch, None);
                Found::Expiring(copy)
            }
            Standing::Grace | Standing::Invalidated => Found::StandIn(copy, standing),
        }
    }
}
