//! One log line per request that did work: a cache hit is logged at
//! `debug` only (at `info` it would cost every hit a formatted line, which
//! is most of what a hit costs). Lines name the route's pattern, never the
//! raw path: logs carry no user input.

use std::time::Instant;

use actix_web::dev::ServiceResponse;

use crate::web::respond::X_CACHE;

/// Logs the answer to a request that arrived at `started` (called by
/// `middleware::Envelope` once the response is complete).
pub(crate) fn record<B>(response: &ServiceResponse<B>, started: Instant) {
    let status = response.status().as_u16();
    let x_cache = response
        .headers()
        .get(X_CACHE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let line = |response: &ServiceResponse<B>| {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "(no route)".to_owned());
        (route, response.request().method().to_string())
    };
    if x_cache == "HIT" && status < 500 {
        if tracing::enabled!(tracing::Level::DEBUG) {
            let (route, method) = line(response);
            tracing::debug!(%method, %route, status, x_cache, "request");
        }
    } else {
        let (route, method) = line(response);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::warn!(%method, %route, status, x_cache, ms, "request");
        } else {
            tracing::info!(%method, %route, status, x_cache, ms, "request");
        }
    }
}
