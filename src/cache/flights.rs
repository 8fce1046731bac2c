//! The look-ups in flight in this process, one per key: the first caller
//! for a key leads (it looks the key up, and computes it if need be), later
//! ones follow and are handed its result. How the engine follows one is in
//! `single_flight.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::cached::Cached;

/// A finished computation, and whether its versions were still current
/// when the first waiter checked.
#[derive(Clone)]
pub(super) struct FlightDone {
    pub(super) cached: Cached,
    pub(super) current: Arc<tokio::sync::OnceCell<bool>>,
}

pub(super) type FlightResult = Option<Option<FlightDone>>;

/// In-flight computations: the first caller for a key computes, later ones
/// wait for its result.
#[derive(Default)]
pub(super) struct Flights {
    map: Mutex<HashMap<String, (u64, watch::Receiver<FlightResult>)>>,
    /// The number the next flight gets: a request that notes it on arrival
    /// knows which flights began after it did.
    next: AtomicU64,
}

pub(super) enum Join {
    Leader(FlightGuard),
    /// The flight's number, and where its result will come.
    Follower(u64, watch::Receiver<FlightResult>),
}

/// The leader's duty to hand over a result; dropping it hands over none.
pub(super) struct FlightGuard {
    flights: Arc<Flights>,
    key: String,
    tx: Option<watch::Sender<FlightResult>>,
}

impl FlightGuard {
    /// Hands the result to the waiters (`None`: they must try themselves).
    pub(super) fn finish(mut self, result: Option<Cached>) {
        self.end(result);
    }

    fn end(&mut self, result: Option<Cached>) {
        if let Some(tx) = self.tx.take() {
            let mut map = self
                .flights
                .map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.remove(&self.key);
            let _ = tx.send(Some(result.map(|cached| FlightDone {
                cached,
                current: Arc::default(),
            })));
        }
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        self.end(None);
    }
}

impl Flights {
    /// Flights numbered from this one on begin after now.
    pub(super) fn arrival(&self) -> u64 {
        self.next.load(Ordering::Acquire)
    }

    pub(super) fn join(self: &Arc<Self>, key: &str) -> Join {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((number, rx)) = map.get(key) {
            return Join::Follower(*number, rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        let number = self.next.fetch_add(1, Ordering::AcqRel);
        map.insert(key.to_owned(), (number, rx));
        Join::Leader(FlightGuard {
            flights: self.clone(),
            key: key.to_owned(),
            tx: Some(tx),
        })
    }

    pub(super) fn active(&self, key: &str) -> bool {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(key)
    }
}
