//! Password hashes: argon2id with a random salt, in PHC string form, and the
//! small pool of threads that checks them.
//!
//! One check fills `M_COST_KIB` of memory, so the number of checks at once is
//! what bounds folio's memory under a sign-in flood: they run on `threads`
//! threads of their own, each with one buffer it reuses for every check
//! (argon2's own per-check allocation is 64-byte aligned, which glibc cannot
//! reuse: measured, every check kept its 19 MiB), and wait in a short queue
//! with a deadline; past it, or with the queue full, the answer is "busy"
//! (a 503), at once. Memory: `threads` x 19 MiB, whatever the traffic.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// OWASP's minimum for argon2id (Password Storage Cheat Sheet): 19 MiB of
/// memory, 2 passes, 1 lane: about 30 ms a check on one core (the README
/// says how it was measured).
pub(crate) const M_COST_KIB: u32 = 19 * 1024;
pub(crate) const T_COST: u32 = 2;
pub(crate) const P_COST: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub(crate) fn hash(password: &str) -> Result<String, String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("could not hash the password: {e}"))
}

/// A check's working memory, allocated once per checking thread.
fn memory() -> Vec<Block> {
    vec![Block::new(); M_COST_KIB as usize]
}

/// `verify`, in `memory`: a hash that needs more than it (parameters above
/// ours, which folio never writes) is not checked.
fn verify_in(password: &str, phc: &str, memory: &mut [Block]) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected), Ok(params), Ok(algorithm)) = (
        &parsed.salt,
        &parsed.hash,
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm.as_str()),
    ) else {
        return false;
    };
    let version = match parsed.version {
        Some(v) => Version::try_from(v),
        None => Ok(Version::default()),
    };
    let (Ok(version), Some(blocks)) = (version, memory.get_mut(..params.block_count())) else {
        tracing::warn!("a password hash names parameters folio does not check; run `folio admin create --reset-password`");
        return false;
    };
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
        .is_ok()
        && bool::from(out.ct_eq(expected.as_bytes()))
}

/// Checked against when the email is unknown, so that an unknown email costs
/// as much time as a wrong password and the two cannot be told apart: a hash
/// with our parameters that no password matches (its output is all zeros),
/// made without hashing anything.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    format!(
        "$argon2id$v=19$m={M_COST_KIB},t={T_COST},p={P_COST}$Zm9saW8tZHVtbXktc2FsdA${}",
        "A".repeat(43)
    )
});

/// What a session remembers of the password it was opened with: a digest of
/// the hash (which changes with every new password, by its salt). A session
/// whose credential no longer matches the account's ends.
pub(crate) fn credential(phc: &str) -> String {
    let hash = Sha256::new()
        .chain_update(b"folio session credential\0")
        .chain_update(phc.as_bytes())
        .finalize();
    crate::token::hex(&hash[..16])
}

/// The pool is at capacity: the check was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins are being checked; try again in a moment")]
pub(crate) struct Busy;

struct Job {
    password: String,
    /// None: the account is unknown; burn the same time.
    phc: Option<String>,
    deadline: Instant,
    reply: tokio::sync::oneshot::Sender<bool>,
}

/// `threads` checks at once, `queue` more waiting at most `wait`.
pub(crate) struct PasswordChecks {
    jobs: SyncSender<Job>,
    wait: Duration,
}

impl PasswordChecks {
    pub(crate) fn start(threads: usize, queue: usize, wait: Duration) -> Self {
        let (jobs, rx) = mpsc::sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("folio-password-{i}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-checking thread");
            }
        }
        Self { jobs, wait }
    }

    /// Whether `password` matches `phc` (None: an unknown account, which
    /// takes as long and never matches); `Busy` when the pool is full or the
    /// queue's deadline passed.
    pub(crate) async fn verify(&self, password: &str, phc: Option<String>) -> Result<bool, Busy> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            password: password.to_owned(),
            phc,
            deadline: Instant::now() + self.wait,
            reply,
        };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => return Err(Busy),
        }
        // A job past its deadline is dropped unanswered; one taken runs for a
        // bounded time, so this always ends.
        answer.await.map_err(|_| Busy)
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    // Allocated at the first check, kept for every later one.
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let rx = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        if Instant::now() > job.deadline || job.reply.is_closed() {
            continue;
        }
        if memory.is_empty() {
            memory = self::memory();
        }
        let matched = if let Some(phc) = &job.phc {
            verify_in(&job.password, phc, &mut memory)
        } else {
            let _ = verify_in(&job.password, &DUMMY_HASH, &mut memory);
            false
        };
        let _ = job.reply.send(matched);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use argon2::password_hash::PasswordVerifier;

    /// argon2's own check, to hold `verify_in` to.
    fn verify(password: &str, phc: &str) -> bool {
        PasswordHash::new(phc).is_ok_and(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    }

    #[test]
    fn the_dummy_hash_costs_a_real_check_and_matches_nothing() {
        let mut memory = memory();
        let real = hash("correct horse battery").unwrap();
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).unwrap().to_owned();
        assert_eq!(params(&DUMMY_HASH), params(&real));
        assert!(PasswordHash::new(&DUMMY_HASH).is_ok());
        assert!(!verify_in(
            "correct horse battery",
            &DUMMY_HASH,
            &mut memory
        ));
        assert!(!verify_in("", &DUMMY_HASH, &mut memory));
    }

    #[test]
    fn hashes_are_argon2id_with_the_stated_parameters_and_verify() {
        let phc = hash("correct horse battery").unwrap();
        assert!(
            phc.starts_with(&format!(
                "$argon2id$v=19$m={M_COST_KIB},t={T_COST},p={P_COST}$"
            )),
            "{phc}"
        );
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterx", &phc));
        assert!(!verify("anything", "not a hash"));
        assert_ne!(phc, hash("correct horse battery").unwrap(), "salts differ");
        assert_ne!(
            credential(&phc),
            credential(&hash("correct horse battery").unwrap())
        );
    }

    #[tokio::test]
    async fn a_full_pool_answers_busy_at_once() {
        let phc = hash("correct horse battery").unwrap();
        let pool = PasswordChecks::start(1, 1, Duration::from_secs(30));
        let started = Instant::now();
        let answers = futures_util::future::join_all(
            (0..6).map(|_| pool.verify("correct horse battery", Some(phc.clone()))),
        )
        .await;
        let matched = answers.iter().filter(|a| **a == Ok(true)).count();
        let busy = answers.iter().filter(|a| **a == Err(Busy)).count();
        // One runs, one waits; the other four are refused without waiting.
        assert!((1..=2).contains(&matched), "{answers:?}");
        assert_eq!(matched + busy, 6, "{answers:?}");
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[tokio::test]
    async fn a_check_waiting_past_its_deadline_is_not_made() {
        // A hash that names 20,000 passes: its check keeps the one thread
        // busy far longer than the 20 ms the others may wait.
        let slow = format!(
            "$argon2id$v=19$m=8,t=20000,p=1$c29tZXNhbHQ${}",
            "A".repeat(43)
        );
        let phc = hash("correct horse battery").unwrap();
        let pool = PasswordChecks::start(1, 4, Duration::from_millis(20));
        let first = pool.verify("x", Some(slow));
        let others = (0..2).map(|_| pool.verify("correct horse battery", Some(phc.clone())));
        let (first, others) =
            futures_util::future::join(first, futures_util::future::join_all(others)).await;
        assert_ne!(first, Ok(true));
        assert!(others.iter().all(|a| *a == Err(Busy)), "{others:?}");
    }
}
