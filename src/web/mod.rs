//! HTTP, by audience: `public/` (the readers' pages, the site files and
//! the JSON API), `admin/` (the admin's pages), `ops` (operators'
//! endpoints); and the parts they share, by job: `extract/` (input, parsed
//! before a handler runs), `respond` (how a page becomes a response),
//! `error` (the one error type, mapped to HTTP), `middleware/` (what every
//! request passes through). `routes` is the table of them all.
//!
//! The audiences import only the shared parts, never one another.

pub(crate) mod admin;
pub mod assets;
pub(crate) mod error;
mod error_page;
pub(crate) mod extract;
pub(crate) mod middleware;
pub(crate) mod ops;
mod pager;
pub(crate) mod public;
pub(crate) mod respond;
mod routes;
mod state;
mod url;

pub(crate) use routes::{no_route, routes};
pub(crate) use state::AppState;
