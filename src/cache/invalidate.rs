//! Invalidation: a write's tags get new versions after its transaction
//! commits, and every instance drops its copies before the write returns.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::coherence;
use super::engine::Cache;
use super::policy_trait::CachePolicy;
use super::store::Backend;
use super::stored::StoreError;
use super::tag_versions::TagVersions;

impl<P: CachePolicy> Cache<P> {
    /// Marks everything `change` touched as changed. Call it after the
    /// change's transaction has committed.
    pub async fn invalidate(&self, change: P::Change) -> Result<(), StoreError> {
        self.invalidate_tags(&P::touches(&change)).await
    }

    /// Opens the Redis breaker until the recovery hook has run (the change
    /// log could not be applied at start). Without Redis: nothing to do.
    pub(crate) fn hold_until_recovered(&self) {
        if let Some(redis) = self.backend.redis() {
            if let Some(local) = &redis.local {
                local.reset();
            }
            redis.breaker.trip();
        }
    }

    /// Bumps `tags`; returns once every instance has dropped its copies.
    pub async fn invalidate_tags(&self, tags: &[P::Tag]) -> Result<(), StoreError> {
        self.bump(tags, true).await
    }

    /// The same, past the breaker: for the recovery hook, which runs before
    /// the breaker closes.
    pub(crate) async fn invalidate_tags_recovering(
        &self,
        tags: &[P::Tag],
    ) -> Result<(), StoreError> {
        self.bump(tags, false).await
    }

    async fn bump(&self, tags: &[P::Tag], guarded: bool) -> Result<(), StoreError> {
        let names: Vec<String> = tags.iter().map(ToString::to_string).collect();
        let result = match self.backend.as_ref() {
            Backend::Redis(shared) => {
                // Bump and announcement are one atomic script: no bump can
                // go unannounced.
                let nonce = crate::token::random_id(20);
                let mut attempt = shared.store.bump_announced(tags, &nonce, guarded).await;
                // A passing hiccup (a timeout) is retried a little before the
                // change stays in the database's change log; an open breaker
                // is not.
                for _ in 0..2 {
                    match &attempt {
                        Err(StoreError::BreakerOpen) | Ok(_) => break,
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            attempt = shared.store.bump_announced(tags, &nonce, guarded).await;
                        }
                    }
                }
                match attempt {
                    Ok(announced) => {
                        let bumped = TagVersions::of(tags, announced.versions);
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
            Backend::Memory(memory) => {
                memory.bump(tags);
                Ok(())
            }
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
        if let Some(local) = self.backend.redis().and_then(|r| r.local.as_ref()) {
            local.reset();
            tokio::time::sleep(coherence::LEASE).await;
        }
    }

    /// Removes every cache entry of this namespace (any format version).
    pub async fn clear(&self) -> Result<u64, StoreError> {
        let removed = self.backend.clear(&self.keys.namespace_pattern()).await?;
        if let Some(redis) = self.backend.redis() {
            if let Some(local) = &redis.local {
                local.reset();
            }
            if let Some(coherence) = &redis.coherence {
                // Other instances keep their copies until told: say so.
                coherence.broadcast_flush().await?;
            }
        }
        Ok(removed)
    }
}
