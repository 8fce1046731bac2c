//! The admin's cache page: what the cache holds and how it fares, and a
//! tag's invalidation by hand.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::views::{human_duration, CachePage, FeedView, FragmentRow};
use super::{chrome, flash};
use crate::auth::session::FlashKind;
use crate::cache::metrics::Event;
use crate::cache::Tag;
use crate::web::error::{bad_request, cache_unavailable, WebError};
use crate::web::extract::{AdminForm, AdminSession};
use crate::web::ops::breaker_name;
use crate::web::respond::{private_html, see_other};
use crate::web::AppState;

pub(crate) async fn cache_page(
    state: web::Data<AppState>,
    mut session: AdminSession,
) -> Result<HttpResponse, WebError> {
    let cache = state.cache();
    let metrics = cache.metrics();
    let fragments = metrics
        .by_name()
        .map(|(name, m)| FragmentRow {
            name,
            hits: m.get(Event::HitLocal) + m.get(Event::HitShared),
            misses: m.get(Event::Miss),
            stale: m.get(Event::Stale) + m.get(Event::StaleOnError),
            errors: m.get(Event::StoreError),
            computes: m.computes(),
            useless: m.get(Event::Useless),
            hit_ratio: m
                .hit_ratio()
                .map_or_else(|| "–".into(), |r| format!("{:.1}%", r * 100.0)),
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
            last_change: feed.last_change.map_or_else(
                || "none since start".into(),
                |t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
            ),
            last_lag: feed
                .last_lag
                .map_or_else(|| "–".into(), |d| format!("{} ms", d.as_millis())),
            since_success: human_duration(Some(feed.since_success)),
            applied: feed.applied,
            coalesced: feed.coalesced,
            failures: feed.failures,
        },
        chrome: chrome(&state, &mut session).await,
        backend: cache.backend_name(),
        breaker: breaker_name(cache.breaker().map(|b| b.state())),
        local: cache.local_size().map(|(n, bytes)| {
            #[expect(clippy::cast_precision_loss, reason = "shown to a tenth of a KiB")]
            let kib = bytes as f64 / 1024.0;
            format!(
                "{n} entries, {:.1} KiB ({})",
                kib,
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
pub(crate) struct FlushForm {
    tag: Option<String>,
}

/// Invalidates one tag (`all`: everything).
pub(crate) async fn flush(
    state: web::Data<AppState>,
    form: AdminForm<FlushForm>,
) -> Result<HttpResponse, WebError> {
    let AdminForm {
        mut session,
        fields,
    } = form;
    let raw = fields.tag.as_deref().unwrap_or("").trim();
    let cache = state.cache();
    let tag = Tag::parse(raw).ok_or_else(|| {
        bad_request("the tag must be chart, books, ratings, book:ID, ratings:ID or all")
    })?;
    cache
        .invalidate_tags(&[tag])
        .await
        .map_err(cache_unavailable)?;
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
    session.flash(&state, flash(kind, text)).await?;
    Ok(see_other("/admin/cache"))
}
