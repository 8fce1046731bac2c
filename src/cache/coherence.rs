//! Keeping every instance's in-process tier exact, over Redis Pub/Sub.
//!
//! * A write bumps its tags in Redis, then publishes `inv <nonce> <tag>=<v>…`
//!   on the channel. Each instance applies the new versions to its view and
//!   acknowledges with `SADD ack:<nonce> <id>`. The write returns once as many
//!   acknowledgements as PUBLISH reported receivers have arrived.
//! * Each instance also publishes `hb <id> <n>` heartbeats on the same
//!   channel. Receiving its own heartbeat proves it has processed every
//!   message published before it was sent (one channel, one ordered
//!   stream), and renews its lease until send time + `LEASE`.
//! * So a write that gets no acknowledgement from some instance still ends
//!   safely: it waits `LEASE`, after which that instance either has
//!   processed the message or holds no valid lease and reads through to
//!   Redis. Any subscription loss resets the tier, and so does a Sentinel
//!   master switch (the subscription moves to the new master).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::local::LocalTier;
use super::metrics::CacheMetrics;
use super::stored::StoreError;
use super::tag_versions::TagVersions;
use crate::redis::{KeySpace, Redis};

/// How long one heartbeat keeps the in-process tier usable.
pub(crate) const LEASE: Duration = Duration::from_secs(1);
const HEARTBEAT_EVERY: Duration = Duration::from_millis(200);
/// Allowance for clock differences between machines.
const CLOCK_MARGIN: Duration = Duration::from_millis(50);

pub(crate) struct Coherence {
    id: String,
    redis: Arc<Redis>,
    keys: KeySpace,
    local: Arc<LocalTier>,
    metrics: Arc<CacheMetrics>,
    /// Heartbeats in flight: number -> when it was sent.
    beats: Mutex<HashMap<u64, Instant>>,
}

impl Coherence {
    pub(crate) fn new(
        redis: Arc<Redis>,
        local: Arc<LocalTier>,
        metrics: Arc<CacheMetrics>,
    ) -> Self {
        Self {
            id: crate::token::random_id(16),
            keys: redis.keys().clone(),
            redis,
            local,
            metrics,
            beats: Mutex::new(HashMap::new()),
        }
    }

    /// Starts the subscriber and the heartbeat; both run for the process's life.
    pub(crate) fn start(self: &Arc<Self>) {
        tokio::spawn(self.clone().subscribe_forever());
        tokio::spawn(self.clone().beat_forever());
    }

    async fn subscribe_forever(self: Arc<Self>) {
        loop {
            match self.subscribe().await {
                Ok(()) => tracing::warn!("cache coherence: the subscription ended; resubscribing"),
                Err(e) => tracing::debug!(error = %e, "cache coherence: cannot subscribe"),
            }
            self.local.reset();
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn subscribe(&self) -> Result<(), StoreError> {
        let mut switches = self.redis.switches();
        switches.mark_unchanged();
        let mut pubsub = self.redis.pubsub().await?;
        pubsub.subscribe(self.keys.channel()).await?;
        // Whatever happened before this subscription is unknown here.
        self.local.reset();
        tracing::info!(instance = %self.id, "cache coherence: subscribed; the in-process tier is on");
        let mut stream = pubsub.on_message();
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { return Ok(()) };
                    let Ok(payload) = msg.get_payload::<String>() else {
                        continue;
                    };
                    self.handle(&payload);
                }
                // The old master may still be up (demoted): its channel
                // hears nothing of the new one's writes.
                _ = switches.changed() => {
                    tracing::info!("cache coherence: the Redis master changed; subscribing there");
                    return Ok(());
                }
            }
        }
    }

    fn handle(&self, payload: &str) {
        let mut parts = payload.split(' ');
        match parts.next() {
            // Other instances' heartbeats are theirs alone.
            Some("hb") if parts.next() == Some(self.id.as_str()) => {
                let n: Option<u64> = parts.next().and_then(|n| n.parse().ok());
                let sent = n.and_then(|n| self.beats.lock().ok()?.remove(&n));
                if let Some(sent) = sent {
                    self.local.renew(sent, LEASE);
                }
            }
            Some(kind @ ("inv" | "flush")) => {
                let Some(nonce) = parts.next() else { return };
                if kind == "flush" {
                    self.local.reset();
                } else {
                    // `inv <nonce> <tag versions>`
                    let versions = payload.splitn(3, ' ').nth(2).unwrap_or_default();
                    self.local.apply(&TagVersions::parse_lenient(versions));
                }
                // Acknowledge after applying; off the message loop.
                let (redis, key, id) = (self.redis.clone(), self.keys.acks(nonce), self.id.clone());
                tokio::spawn(async move {
                    let mut pipe = redis::pipe();
                    // A set: a message delivered twice (a retried bump) still
                    // counts each instance once.
                    pipe.cmd("SADD")
                        .arg(&key)
                        .arg(&id)
                        .ignore()
                        .cmd("PEXPIRE")
                        .arg(&key)
                        .arg(10_000)
                        .ignore();
                    if let Err(e) = redis
                        .run_unguarded(|mut c| async move { pipe.query_async::<()>(&mut c).await })
                        .await
                    {
                        tracing::debug!(error = %e, "cache coherence: could not acknowledge");
                    }
                });
            }
            _ => {}
        }
    }

    async fn beat_forever(self: Arc<Self>) {
        let mut n: u64 = 0;
        loop {
            n += 1;
            let sent = Instant::now();
            if let Ok(mut beats) = self.beats.lock() {
                beats.retain(|_, at| at.elapsed() < LEASE * 2);
                beats.insert(n, sent);
            }
            let message = format!("hb {} {n}", self.id);
            let channel = self.keys.channel();
            let _ = self
                .redis
                .run_unguarded(|mut c| async move {
                    redis::cmd("PUBLISH")
                        .arg(channel)
                        .arg(message)
                        .query_async::<i64>(&mut c)
                        .await
                })
                .await;
            tokio::time::sleep(HEARTBEAT_EVERY).await;
        }
    }

    /// Tells every instance to drop its whole in-process tier, and waits.
    pub(crate) async fn broadcast_flush(&self) -> Result<(), StoreError> {
        let nonce = crate::token::random_id(20);
        let message = format!("flush {nonce}");
        let channel = self.keys.channel();
        let receivers: i64 = self
            .redis
            .run_unguarded(|mut c| async move {
                redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(message)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        self.await_acks(&nonce, receivers, Instant::now()).await;
        Ok(())
    }

    /// Waits until `receivers` instances acknowledged message `nonce`
    /// (published, atomically with its bump, at `published`), or until a
    /// silent instance's lease must have lapsed.
    pub(crate) async fn await_acks(&self, nonce: &str, receivers: i64, published: Instant) {
        // Redis had processed the message when it answered: a heartbeat sent
        // after `published` reaches every subscriber after it.
        let acks_key = self.keys.acks(nonce);
        let deadline = published + LEASE + CLOCK_MARGIN;
        let mut pause = Duration::from_micros(200);
        loop {
            let key = acks_key.clone();
            let acked: i64 = self
                .redis
                .run_unguarded(|mut c| async move {
                    redis::cmd("SCARD").arg(key).query_async(&mut c).await
                })
                .await
                .unwrap_or(0);
            if acked >= receivers {
                break;
            }
            if Instant::now() >= deadline {
                tracing::warn!(
                    acked,
                    receivers,
                    "cache coherence: an instance did not acknowledge; its lease has lapsed"
                );
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(10));
        }
        self.metrics.invalidation_wait.observe(published.elapsed());
    }
}
