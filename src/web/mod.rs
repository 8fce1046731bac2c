//! HTTP: routes, handlers, templates' data and the error mapping.

pub mod access_log;
pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod browse;
pub mod compress;
pub mod error;
pub mod import;
pub mod input;
pub mod methods;
pub mod middleware;
pub mod multipart;
pub mod ops;
pub mod pages;
pub mod respond;
pub mod search;
pub mod security;
pub mod session;
pub mod site;
pub mod views;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::Accounts;
use crate::cache::Cache;
use crate::catalogue::editor::Editor;
use crate::catalogue::Catalogue;
use crate::config::Settings;
use crate::domain::PageNumber;
use error::{bad_request, not_found, WebError};

/// Everything a handler may need, shared by all workers.
pub struct AppState {
    pub settings: Settings,
    pub catalogue: Catalogue,
    pub editor: Editor,
    pub accounts: Accounts,
    /// `Cache-Control` of public pages, made once from the settings.
    pub public_cache_control: header::HeaderValue,
    /// Surrogate keys and `Surrogate-Control` of public pages.
    pub edge: crate::edge::EdgeHeaders,
}

impl AppState {
    pub fn cache(&self) -> &Arc<Cache> {
        self.catalogue.cache()
    }
}

pub use respond::{HTML, JSON, X_CACHE};

/// A page for one visitor (a form token, a flash, an admin's data): no
/// shared cache may keep it.
pub fn private_html(mut builder: actix_web::HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .content_type(HTML)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body)
}

/// The address the request came from: the TCP peer, or, when that is a
/// proxy of `FOLIO_TRUSTED_PROXIES`, the client it forwarded for.
pub fn client_ip(req: &HttpRequest) -> std::net::IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return peer;
    };
    let trusted = &state.settings.http.trusted_proxies;
    if trusted.is_empty() {
        return peer;
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    trusted.client_addr(peer, &forwarded)
}

/// The `page` parameter among a query's pairs; a missing one is the first
/// page.
pub fn page_of(pairs: &[(String, String)]) -> Result<PageNumber, WebError> {
    let page = pairs
        .iter()
        .find(|(k, _)| k == "page")
        .map(|(_, v)| v.as_str());
    PageNumber::parse(page).map_err(bad_request)
}

pub fn routes(cfg: &mut web::ServiceConfig, settings: &Settings) {
    use methods::{at, get, post};
    at(cfg, "/", [get(pages::home)]);
    at(cfg, "/books", [get(pages::catalogue)]);
    at(cfg, "/books/{id}", [get(pages::book)]);
    at(cfg, "/cache", [get(pages::sample_cached)]);
    at(cfg, "/search", [get(search::search)]);
    at(cfg, "/books/from/{letter}", [get(browse::jump)]);
    at(cfg, "/authors/{name}", [get(browse::author)]);
    at(cfg, "/api/top-books", [get(api::top_books)]);
    at(cfg, "/api/books", [get(api::catalogue)]);
    at(cfg, "/api/books/{id}", [get(api::book)]);
    at(cfg, "/api/cache", [get(api::sample_cached)]);
    at(cfg, "/robots.txt", [get(site::robots)]);
    at(cfg, "/sitemap.xml", [get(site::sitemap_index)]);
    at(cfg, "/sitemaps/{file}", [get(site::sitemap)]);
    at(cfg, "/favicon.ico", [get(site::favicon)]);
    at(cfg, "/books/{id}/ratings", [post(pages::rate)]);
    at(cfg, "/static/style.css", [get(assets::stylesheet)]);
    at(cfg, "/metrics", [get(ops::metrics)]);
    at(cfg, "/healthz", [get(ops::healthz)]);
    at(cfg, "/readyz", [get(ops::readyz)]);
    at(cfg, "/admin/cache", [get(ops::cache_page)]);
    at(cfg, "/admin/cache/flush", [post(ops::flush)]);
    at(
        cfg,
        "/admin/login",
        [get(auth::login_form), post(auth::login)],
    );
    at(
        cfg,
        "/admin/logout",
        [get(auth::logout_form), post(auth::logout)],
    );
    at(cfg, "/admin", [get(admin::dashboard)]);
    at(
        cfg,
        "/admin/books",
        [get(admin::books), post(admin::create_book)],
    );
    at(cfg, "/admin/books/new", [get(admin::new_book)]);
    at(cfg, "/admin/books/{id}", [post(admin::update_book)]);
    at(cfg, "/admin/books/{id}/edit", [get(admin::edit_book)]);
    at(
        cfg,
        "/admin/books/{id}/delete",
        [get(admin::confirm_delete), post(admin::delete_book)],
    );
    at(
        cfg,
        import::UPLOAD_PATH,
        [get(import::form), post(import::upload)],
    );
    at(cfg, "/admin/export", [get(import::download)]);
    at(
        cfg,
        "/admin/chart/recompute",
        [post(admin::recompute_chart)],
    );
    // These read the database on every request: anyone could load it through
    // them, so production turns them off.
    if settings.http.bench_routes {
        at(cfg, "/_bench/constant", [get(ops::constant)]);
    }
    if settings.cache.uncached_routes {
        at(cfg, "/sample", [get(pages::sample_uncached)]);
        at(cfg, "/api/sample", [get(api::sample_uncached)]);
        at(cfg, "/top/uncached", [get(pages::home_uncached)]);
    }
}

/// Any path no route claims.
pub async fn no_route(req: HttpRequest) -> Result<HttpResponse, WebError> {
    let e = not_found(format!("there is no page at {}", req.path()));
    Err(if req.path().starts_with("/api/") {
        e.json()
    } else {
        e
    })
}
