//! After a Redis Sentinel failover, before the new master is used.
//!
//! Replication is asynchronous: the promoted replica may lack the last tag
//! bumps the old master acknowledged, and an entry recorded before such a
//! bump would look current there. The Redis layer holds the breaker open on
//! a master switch (`crate::redis::Redis::unsettled_switch` says why the
//! rule is sound); here the cache does its part: it bumps `all`, which every
//! entry but the versioned rows depends on, so that nothing written before
//! the switch can pass as fresh, and drops this instance's in-process tier.
//! Every instance follows the sentinels itself, so each does the same when it
//! sees the switch (a bump only ever raises `all` further), and the bump is
//! announced on the channel like any other, for instances already there.

use super::engine::Cache;
use super::policy_trait::CachePolicy;
use super::store::RedisTier;

impl<P: CachePolicy> Cache<P> {
    /// True when there is no unsettled master switch, or it is settled now.
    pub(super) async fn settle_master_switch(&self, shared: &RedisTier) -> bool {
        let redis = shared.store.redis();
        let Some(switch) = redis.unsettled_switch() else {
            return true;
        };
        tracing::warn!(
            switch,
            "Redis master switched: invalidating every cache entry on the new master before using it"
        );
        if let Err(e) = self.invalidate_tags_recovering(&[P::EVERYTHING]).await {
            tracing::warn!(error = %e, "Redis master switched: could not invalidate there yet; Redis stays unused");
            return false;
        }
        if let Some(local) = &shared.local {
            local.reset();
        }
        redis.settle(switch);
        true
    }
}
