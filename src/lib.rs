//! folio: a server-rendered book catalogue whose heart is caching done right.
//!
//! * `cache`     — the cache engine, its policy and its backends
//! * `auth`      — admin accounts, sessions, rate limits
//! * `kv`        — the shared store for sessions and counters
//! * `redis`     — the one Redis layer: pool, timeouts, breaker, key space, Sentinel
//! * `token`     — random tokens (sessions, CSRF, locks, nonces)
//! * `clock`     — durations and the time as whole milliseconds or microseconds
//! * `db`        — the data layer (diesel; `SQLite` or `PostgreSQL`)
//! * `catalogue` — what the pages show, read through the cache
//! * `domain`    — values from outside, parsed
//! * `web`       — routes, handlers and the error mapping; `templates/` beside
//! * `edge`      — surrogate keys and purges for Varnish or a CDN in front
//! * `startup`   — wiring it all into a server
//! * `cli`       — the `folio` command (`src/main.rs` only calls `cli::run`)

// The pedantic lints allowed crate-wide, each with its reason; every other
// pedantic lint is fixed, or expected at its site with the reason it is wrong
// there. Only the library needs them: they fire on exported items, and the
// binaries, the tests and `build.rs` export none.
#![allow(
    clippy::missing_errors_doc,
    reason = "an application, not a published library: its callers are in this crate and \
              read the error type; an `# Errors` section per function would repeat it"
)]
#![allow(
    clippy::missing_panics_doc,
    reason = "the panics are invariants of folio's own, not contracts with a caller"
)]
#![allow(
    clippy::must_use_candidate,
    reason = "`#[must_use]` on every getter is noise; results whose loss matters are \
              `Result`s, already `#[must_use]`"
)]

pub mod auth;
pub mod cache;
pub mod catalogue;
pub mod changes;
pub mod cli;
pub(crate) mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod edge;
pub(crate) mod kv;
pub(crate) mod redis;
pub mod startup;
pub(crate) mod token;
pub mod web;
