//! HTTP: routes, handlers, templates' data and the error mapping.

pub mod access_log;
pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod compress;
pub mod error;
pub mod ops;
pub mod pages;
pub mod respond;
pub mod session;
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

/// The address the request came from (the TCP peer; folio trusts no
/// forwarding header).
pub fn client_ip(req: &HttpRequest) -> std::net::IpAddr {
    req.peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]))
}

/// Form bodies are small; a malformed one is a 400 page, not a plain-text error.
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(64 * 1024)
        .error_handler(|err, _req| bad_request(format!("the form could not be read: {err}")).into())
}

/// The `page` query parameter; a missing one is the first page.
pub fn page_param(req: &HttpRequest) -> Result<PageNumber, WebError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| bad_request("the query string could not be read"))?;
    let page = pairs
        .iter()
        .find(|(k, _)| k == "page")
        .map(|(_, v)| v.as_str());
    PageNumber::parse(page).map_err(bad_request)
}

pub fn routes(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.route("/", web::get().to(pages::home))
        .route("/books", web::get().to(pages::catalogue))
        .route("/books/{id}", web::get().to(pages::book))
        .route("/cache", web::get().to(pages::sample_cached))
        .route("/api/top-books", web::get().to(api::top_books))
        .route("/api/books", web::get().to(api::catalogue))
        .route("/api/books/{id}", web::get().to(api::book))
        .route("/books/{id}/ratings", web::post().to(pages::rate))
        .route("/static/style.css", web::get().to(assets::stylesheet))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/admin/cache", web::get().to(ops::cache_page))
        .route("/admin/cache/flush", web::post().to(ops::flush))
        .route("/admin/login", web::get().to(auth::login_form))
        .route("/admin/login", web::post().to(auth::login))
        .route("/admin/logout", web::get().to(auth::logout_form))
        .route("/admin/logout", web::post().to(auth::logout))
        .route("/admin", web::get().to(admin::dashboard))
        .route("/admin/books", web::get().to(admin::books))
        .route("/admin/books", web::post().to(admin::create_book))
        .route("/admin/books/new", web::get().to(admin::new_book))
        .route("/admin/books/{id}", web::post().to(admin::update_book))
        .route("/admin/books/{id}/edit", web::get().to(admin::edit_book))
        .route(
            "/admin/books/{id}/delete",
            web::get().to(admin::confirm_delete),
        )
        .route(
            "/admin/books/{id}/delete",
            web::post().to(admin::delete_book),
        )
        .route(
            "/admin/chart/recompute",
            web::post().to(admin::recompute_chart),
        );
    // These read the database on every request: anyone could load it through
    // them, so production turns them off.
    if settings.bench_routes {
        cfg.route("/_bench/constant", web::get().to(ops::constant));
    }
    if settings.uncached_routes {
        cfg.route("/sample", web::get().to(pages::sample_uncached))
            .route("/top/uncached", web::get().to(pages::home_uncached));
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
