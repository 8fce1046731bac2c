//! Tag-free fragments (catalogue rows, Russian-doll style) by many keys at
//! once: one round trip for a whole page's rows.

use std::time::Duration;

use bytes::Bytes;

use super::cached::etag_of;
use super::encoding::Encodings;
use super::engine::Cache;
use super::entry::Entry;
use super::metrics::Event;
use super::policy_trait::CachePolicy;
use super::tag_versions::TagVersions;
use crate::clock::{millis, unix_ms};

impl<P: CachePolicy> Cache<P> {
    /// Tag-free fragments (catalogue rows) by many keys in one round trip:
    /// the bodies found, in order.
    pub(crate) async fn get_many(&self, fragments: &[P::Fragment]) -> Vec<Option<Bytes>> {
        let keys: Vec<String> = fragments.iter().map(|f| self.keys.fragment(f)).collect();
        let mut found: Vec<Option<Bytes>> = vec![None; keys.len()];
        let local = self.usable_local();
        let mut missing = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            match local.and_then(|l| l.get(key)) {
                Some(e) => found[i] = Some(e.entry.body.clone()),
                None => missing.push(i),
            }
        }
        if missing.is_empty() {
            return found;
        }
        let epoch = local.map(|l| l.epoch());
        let wanted: Vec<String> = missing.iter().map(|&i| keys[i].clone()).collect();
        match self.backend.read_many(&wanted).await {
            Ok(values) => {
                for (&i, raw) in missing.iter().zip(values) {
                    if let Some(entry) = raw.as_ref().and_then(Entry::decode) {
                        let etag = etag_of(&keys[i], entry.created_ms, entry.compute_us);
                        self.keep_local(&keys[i], &entry, etag, epoch, None);
                        found[i] = Some(entry.body);
                    }
                }
            }
            Err(e) => self.store_failed(fragments[0], &keys[0], &e),
        }
        for (fragment, hit) in fragments.iter().zip(&found) {
            self.metrics.record(
                P::kind_index(fragment),
                if hit.is_some() {
                    Event::HitShared
                } else {
                    Event::Miss
                },
            );
        }
        found
    }

    /// Stores tag-free fragments in one round trip.
    pub(crate) async fn put_many(&self, items: Vec<(P::Fragment, Bytes)>) {
        let now = unix_ms();
        let epoch = self.usable_local().map(|l| l.epoch());
        let mut batch = Vec::with_capacity(items.len());
        for (fragment, body) in items {
            let key = self.keys.fragment(&fragment);
            let ttl = self.policy.ttl(&fragment);
            let entry = Entry {
                created_ms: now,
                stale_at_ms: now + millis(ttl),
                compute_us: 0,
                expires_at_ms: now + millis(ttl),
                deps: TagVersions::default(),
                body,
                encodings: Encodings::default(),
            };
            self.metrics
                .computed(P::kind_index(&fragment), Duration::ZERO);
            self.keep_local(&key, &entry, etag_of(&key, now, 0), epoch, None);
            batch.push((key, entry.encode(), ttl));
        }
        if let Err(e) = self.backend.write_many(batch).await {
            tracing::debug!(error = %e, "cache: could not store rows");
        }
    }
}
