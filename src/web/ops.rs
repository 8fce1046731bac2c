//! For operators: `/metrics`, `/healthz`, `/readyz`, the admin's cache page,
//! and the benchmark's constant route.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::LazyLock;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use bytes::Bytes;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::admin::chrome;
use super::auth::see_other;
use super::error::{bad_request, WebError};
use super::input::Form;
use super::session::{verify_csrf, AdminSession};
use super::views::{human_duration, CachePage, FeedView, FragmentRow};
use super::{private_html, AppState};
use crate::auth::session::{Flash, FlashKind};
use crate::cache::{BreakerState, Tag};

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

pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
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

/// VmRSS from /proc (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "status": "up" }))
}

fn breaker_name(state: Option<BreakerState>) -> &'static str {
    match state {
        None => "none",
        Some(BreakerState::Closed) => "closed",
        Some(BreakerState::Open) => "open",
        Some(BreakerState::Recovering) => "recovering",
    }
}

/// Ready to serve: 503 when the database is down (the cache being down
/// only makes folio slower, so it is reported but not fatal).
pub async fn readyz(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
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
            "last_lag_ms": feed.last_lag.map(|d| d.as_millis() as u64),
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

pub async fn cache_page(
    state: web::Data<AppState>,
    mut session: AdminSession,
) -> Result<HttpResponse, WebError> {
    let cache = state.cache();
    let metrics = cache.metrics();
    let fragments = metrics
        .by_name()
        .map(|(name, m)| {
            use crate::cache::metrics::Event;
            FragmentRow {
                name,
                hits: m.get(Event::HitLocal) + m.get(Event::HitShared),
                misses: m.get(Event::Miss),
                stale: m.get(Event::Stale) + m.get(Event::StaleOnError),
                errors: m.get(Event::StoreError),
                computes: m.computes(),
                useless: m.get(Event::Useless),
                hit_ratio: m
                    .hit_ratio()
                    .map(|r| format!("{:.1}%", r * 100.0))
                    .unwrap_or_else(|| "–".into()),
            }
        })
        .collect();
    let keys = cache.list_keys(300).await.unwrap_or_default();
    let feed = state.editor.feed().status();
    let page = CachePage {
        feed: FeedView {
            status: if feed.stuck {
                "stuck"
            } else {
                "following the database"
            },
            last_change: feed
                .last_change
                .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
                .unwrap_or_else(|| "none since start".into()),
            last_lag: feed
                .last_lag
                .map(|d| format!("{} ms", d.as_millis()))
                .unwrap_or_else(|| "–".into()),
            since_success: human_duration(Some(feed.since_success)),
            applied: feed.applied,
            coalesced: feed.coalesced,
            failures: feed.failures,
        },
        chrome: chrome(&state, &mut session).await,
        backend: cache.backend_name(),
        breaker: breaker_name(cache.breaker().map(|b| b.state())),
        local: cache.local_size().map(|(n, bytes)| {
            format!(
                "{n} entries, {:.1} KiB ({})",
                bytes as f64 / 1024.0,
                if cache.local_usable() {
                    "in use"
                } else {
                    "not in use"
                }
            )
        }),
        fragments,
        keys: keys
            .into_iter()
            .map(|k| (k.key, human_duration(k.ttl), k.bytes))
            .collect(),
        useless: metrics
            .useless_recent()
            .into_iter()
            .rev()
            .map(|u| (u.key, u.fragment, human_duration(Some(u.lived)), u.why))
            .collect(),
    };
    Ok(private_html(HttpResponse::Ok(), page.render()?))
}

#[derive(Deserialize)]
pub struct FlushForm {
    tag: Option<String>,
    csrf_token: Option<String>,
}

/// Invalidates one tag (`all`: everything).
pub async fn flush(
    state: web::Data<AppState>,
    mut session: AdminSession,
    form: Form<FlushForm>,
) -> Result<HttpResponse, WebError> {
    verify_csrf(Some(&session.data), form.csrf_token.as_deref())?;
    let raw = form.tag.as_deref().unwrap_or("").trim();
    let cache = state.cache();
    let tag = Tag::parse(raw).ok_or_else(|| {
        bad_request("the tag must be chart, books, ratings, book:ID, ratings:ID or all")
    })?;
    cache
        .invalidate_tags(&[tag])
        .await
        .map_err(super::error::cache_unavailable)?;
    let (kind, text) = match state.editor.feed().purge_edges(&[tag]).await {
        Ok(()) => (
            FlashKind::Success,
            format!("Invalidated everything that depends on {tag}."),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cache flushed; the edges were not purged");
            (
                FlashKind::Error,
                format!("Invalidated everything that depends on {tag} in folio, but not at every edge ({e}). Try again."),
            )
        }
    };
    tracing::info!(admin = ?session.admin().email, tag = ?raw, "cache flushed");
    session
        .flash(
            &state,
            Flash {
                kind,
                text,
                link: None,
            },
        )
        .await?;
    Ok(see_other("/admin/cache"))
}

static CONSTANT: LazyLock<Bytes> = LazyLock::new(|| Bytes::from(vec![b'x'; 1 << 20]));

#[derive(Deserialize)]
pub struct ConstantQuery {
    bytes: Option<usize>,
}

/// The benchmark's baseline: a constant body of the asked size, from the
/// same server and stack as the cached pages (`FOLIO_BENCH_ROUTES=on`).
pub async fn constant(query: web::Query<ConstantQuery>) -> HttpResponse {
    let n = query.bytes.unwrap_or(4096).min(CONSTANT.len());
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(CONSTANT.slice(..n))
}
