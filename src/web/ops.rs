//! For operators: `/metrics`, `/healthz`, `/readyz`, and the benchmark's
//! constant route.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::LazyLock;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::AppState;
use crate::cache::BreakerState;

/// With `FOLIO_METRICS_TOKEN` set, operators' endpoints answer only
/// `Authorization: Bearer <token>`: what they show (memory, the breaker)
/// would help an attacker tune a flood. Unset, they are public.
fn operator_refused(state: &AppState, req: &HttpRequest) -> Option<HttpResponse> {
    let expected = state.settings.auth.metrics_token.as_ref()?;
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
        return None;
    }
    Some(
        HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({
                "error": { "status": 401, "message": "this endpoint needs the operators' token" }
            })),
    )
}

pub(crate) async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Some(refused) = operator_refused(&state, &req) {
        return refused;
    }
    let mut text = state.cache().render_metrics();
    state.editor.feed().render_metrics(&mut text);
    let counts = state.catalogue.db().query_counts();
    let _ = writeln!(
        text,
        "# HELP folio_db_queries_total Queries sent to the database.\n# TYPE folio_db_queries_total counter\n\
         folio_db_queries_total{{query=\"all\"}} {}\nfolio_db_queries_total{{query=\"chart_ranking\"}} {}\n\
         folio_db_queries_total{{query=\"change_log\"}} {}",
        counts.total.load(Ordering::Relaxed) + counts.change_log.load(Ordering::Relaxed),
        counts.chart.load(Ordering::Relaxed),
        counts.change_log.load(Ordering::Relaxed)
    );
    if let Some(rss) = resident_bytes() {
        let _ = writeln!(
            text,
            "# HELP process_resident_memory_bytes Resident memory.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}"
        );
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text)
}

/// `VmRSS` from `/proc` (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The process is up.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "status": "up" }))
}

pub(crate) fn breaker_name(state: Option<BreakerState>) -> &'static str {
    match state {
        None => "none",
        Some(BreakerState::Closed) => "closed",
        Some(BreakerState::Open) => "open",
        Some(BreakerState::Recovering) => "recovering",
    }
}

/// Ready to serve: 503 when the database is down (the cache being down
/// only makes folio slower, so it is reported but not fatal).
pub(crate) async fn readyz(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Some(refused) = operator_refused(&state, &req) {
        return refused;
    }
    let db = state.catalogue.db();
    let database = matches!(
        tokio::time::timeout(Duration::from_secs(2), db.ping()).await,
        Ok(Ok(()))
    );
    let cache = state.cache();
    let feed = state.editor.feed().status();
    let body = serde_json::json!({
        "database": { "backend": db.backend_name(), "status": if database { "up" } else { "down" } },
        "cache": {
            "backend": cache.backend_name(),
            "breaker": breaker_name(cache.breaker().map(|b| b.state())),
            "local_tier": if cache.local_usable() { "on" } else { "off" },
        },
        "change_feed": {
            "status": if feed.stuck { "stuck" } else { "ok" },
            "seconds_since_success": (feed.since_success.as_secs_f64() * 1000.0).round() / 1000.0,
            "last_change": feed.last_change.map(|t| t.and_utc().to_rfc3339()),
            "last_lag_ms": feed.last_lag.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            "applied": feed.applied,
            "coalesced": feed.coalesced,
        },
    });
    let mut response = if database && !feed.stuck {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

static CONSTANT: LazyLock<Bytes> = LazyLock::new(|| Bytes::from(vec![b'x'; 1 << 20]));

#[derive(Deserialize)]
pub(crate) struct ConstantQuery {
    bytes: Option<usize>,
}

/// The benchmark's baseline: a constant body of the asked size, from the
/// same server and stack as the cached pages (`FOLIO_BENCH_ROUTES=on`).
pub(crate) async fn constant(query: web::Query<ConstantQuery>) -> HttpResponse {
    let n = query.bytes.unwrap_or(4096).min(CONSTANT.len());
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(CONSTANT.slice(..n))
}
