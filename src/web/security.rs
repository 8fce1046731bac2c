//! What every response says to browsers, and the bounds on connections.

use std::time::Duration;

use actix_web::http::header::{self, HeaderName};
use actix_web::middleware::DefaultHeaders;

use crate::config::Settings;

/// folio's pages need no script and no inline style: everything comes from
/// this origin's stylesheet, forms post only here, and no other site may
/// frame a page (clickjacking).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers added to every response that lacks them.
pub fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // For browsers older than CSP's frame-ancestors.
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
}

/// The server's connection bounds, from the settings.
pub struct ConnectionLimits {
    pub workers: usize,
    /// `FOLIO_MAX_CONNECTIONS` shared among the workers (actix counts per
    /// worker); past it, connections wait in the kernel's listen queue.
    pub per_worker: usize,
    /// A request's head must arrive within this (else 408 and close).
    pub header_timeout: Duration,
    /// How long a closing connection may take to shut down.
    pub disconnect_timeout: Duration,
}

impl ConnectionLimits {
    pub fn of(settings: &Settings) -> Self {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            workers,
            per_worker: settings.max_connections.div_ceil(workers).max(1),
            header_timeout: settings.header_timeout,
            disconnect_timeout: Duration::from_secs(1),
        }
    }
}
