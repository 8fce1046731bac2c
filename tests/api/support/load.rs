//! Load for the fault-injection tests: workers request paths in turn, 5 ms
//! apart, until stopped; every answer is recorded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::TestApp;

/// One answer, its times counted from the start of the load.
#[derive(Debug)]
pub struct Sample {
    pub path: &'static str,
    /// When the request was sent.
    pub started: Duration,
    /// When its answer was read whole.
    pub at: Duration,
    pub status: u16,
    pub x_cache: Option<String>,
    /// Whether the body shows the load's `needle`.
    pub shows: bool,
}

impl Sample {
    pub fn took(&self) -> Duration {
        self.at.checked_sub(self.started).unwrap()
    }
}

/// Workers loading an app until [`Load::stop`].
pub struct Load {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Sample>>>,
    t0: Instant,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `workers` loops over `paths` (each starting at its own), recording
    /// whether each body contains `needle`.
    pub fn start(
        app: &TestApp,
        paths: &'static [&'static str],
        workers: usize,
        needle: Option<&'static str>,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let t0 = Instant::now();
        let workers = (0..workers)
            .map(|w| {
                let (client, base) = (app.client.clone(), app.address.clone());
                let (stop, log) = (stop.clone(), log.clone());
                tokio::spawn(async move {
                    let mut i = w;
                    while !stop.load(Ordering::SeqCst) {
                        let path = paths[i % paths.len()];
                        i += 1;
                        let started = t0.elapsed();
                        let response = client.get(format!("{base}{path}")).send().await.unwrap();
                        let status = response.status().as_u16();
                        let x_cache = response
                            .headers()
                            .get("x-cache")
                            .map(|v| v.to_str().unwrap().to_owned());
                        let body = response.text().await.unwrap_or_default();
                        log.lock().unwrap().push(Sample {
                            path,
                            started,
                            at: t0.elapsed(),
                            status,
                            x_cache,
                            shows: needle.is_some_and(|n| body.contains(n)),
                        });
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            log,
            t0,
            workers,
        }
    }

    /// The time since the load started (the clock of [`Sample`]'s times).
    pub fn elapsed(&self) -> Duration {
        self.t0.elapsed()
    }

    /// `f` of the samples so far.
    pub fn samples<T>(&self, f: impl FnOnce(&[Sample]) -> T) -> T {
        f(&self.log.lock().unwrap())
    }

    /// Stops the workers, waits for them, and returns every sample.
    pub async fn stop(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::SeqCst);
        for w in self.workers {
            w.await.unwrap();
        }
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}
