//! folio: a server-rendered book catalogue whose heart is caching done right.
//!
//! * `cache`     — the cache engine, its policy and its backends
//! * `auth`      — admin accounts, sessions, rate limits
//! * `kv`        — the shared store for sessions and counters
//! * `redis`     — the one Redis layer: pool, timeouts, breaker, key space, Sentinel
//! * `token`     — random tokens (sessions, CSRF, locks, nonces)
//! * `db`        — the data layer (diesel; SQLite or PostgreSQL)
//! * `catalogue` — what the pages show, read through the cache
//! * `domain`    — values from outside, parsed
//! * `web`       — routes, handlers and the error mapping; `templates/` beside
//! * `edge`      — surrogate keys and purges for Varnish or a CDN in front
//! * `startup`   — wiring it all into a server
//! * `cli`       — the `folio` command (`src/main.rs` only calls `cli::run`)

pub mod auth;
pub mod cache;
pub mod catalogue;
pub mod changes;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod edge;
pub(crate) mod kv;
pub(crate) mod redis;
pub mod startup;
pub(crate) mod token;
pub mod web;
