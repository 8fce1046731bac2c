//! One look-up per key per process: the first request for a key looks it up
//! (and computes it if need be); requests that arrive meanwhile wait for its
//! result instead of asking the store and the database themselves. The
//! flights themselves are kept in `flights.rs`.

use std::time::Instant;

use super::cached::{Cached, Outcome, Source};
use super::engine::Cache;
use super::flights::{FlightGuard, Join};
use super::metrics::Event;
use super::policy_trait::CachePolicy;

impl<P: CachePolicy> Cache<P> {
    /// Waits for the request of this process that is already looking `key`
    /// up, and takes what it found; or, if there is none, makes this request
    /// that one (`Err(Some(guard))`). `Err(None)`: look it up alone.
    pub(super) async fn join_flight(
        &self,
        fragment: P::Fragment,
        key: &str,
        started: Instant,
    ) -> Result<Cached, Option<FlightGuard>> {
        let arrival = self.flights.arrival();
        let mut rounds = 0;
        loop {
            let (number, mut rx) = match self.flights.join(key) {
                Join::Leader(guard) => return Err(Some(guard)),
                Join::Follower(number, rx) => (number, rx),
            };
            let done = rx
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|d| d.clone())
                .flatten();
            if let Some(shared) = done {
                // A flight that began after this request arrived read the
                // store and the database after it: good for this request as
                // it is. One that began before may have read them before a
                // write that has returned since: checked once per flight,
                // after every follower had joined. A check that cannot be
                // made counts as failed; the next flight needs none.
                let current = number >= arrival
                    || shared.cached.outcome == Outcome::StaleOnError
                    || *shared
                        .current
                        .get_or_init(|| self.still_current(&shared.cached))
                        .await;
                if current {
                    let mut cached = shared.cached.clone();
                    let event = match cached.outcome {
                        Outcome::Hit => Event::HitShared,
                        Outcome::Miss => {
                            cached.source = Source::Coalesced;
                            cached.compute = None;
                            Event::Miss
                        }
                        Outcome::Stale => Event::Stale,
                        Outcome::StaleOnError => Event::StaleOnError,
                    };
                    self.metrics.record(P::kind_index(&fragment), event);
                    cached.elapsed = started.elapsed();
                    return Ok(cached);
                }
            }
            // The leader found nothing it could hand over (it failed): try
            // again, as a bounded number of flights, then alone.
            rounds += 1;
            if rounds >= 3 {
                return Err(None);
            }
        }
    }

    /// Whether a computed value's recorded tag versions are still current.
    async fn still_current(&self, cached: &Cached) -> bool {
        let Some(deps) = &cached.deps else {
            return true;
        };
        let Some(tags) = deps.tags(P::parse_tag) else {
            return false;
        };
        match self.backend.tag_versions(&tags).await {
            Ok(now) => now
                .iter()
                .zip(deps.iter())
                .all(|(v, (_, recorded))| *v == recorded),
            Err(_) => false,
        }
    }
}
