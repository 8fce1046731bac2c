//! folio's integration tests: one binary, real `SQLite` files, the local
//! `PostgreSQL` and the local Redis, each test in its own namespace.

mod admin;
mod admin_list;
mod admin_sessions;
mod browse;
mod browser;
mod cache;
mod change_feed;
mod chart;
mod cli;
mod compression;
mod edge;
mod edge_vcl;
mod grace;
mod hostile;
mod http_caching;
mod import;
mod invalidation;
mod layers;
mod observability;
mod pages;
mod phone_width;
mod protocol;
mod ratings;
mod resilience;
mod restart;
mod rolling_restart;
mod search;
mod sentinel;
mod stampede;
mod support;
mod web_basics;
