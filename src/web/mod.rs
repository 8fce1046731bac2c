//! HTTP: routes, handlers, templates' data and the error mapping.

pub mod api;
pub mod assets;
pub mod error;
pub mod pages;
pub mod views;

use std::sync::Arc;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::cache::{Cache, Cached};
use crate::catalogue::Catalogue;
use crate::config::Settings;
use crate::domain::PageNumber;
use error::{bad_request, not_found, WebError};

/// Everything a handler may need, shared by all workers.
pub struct AppState {
    pub settings: Settings,
    pub catalogue: Catalogue,
}

impl AppState {
    pub fn cache(&self) -> &Arc<Cache> {
        self.catalogue.cache()
    }
}

pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// The answer for a cached fragment: its stored bytes and where they came from.
pub fn cached_response(cached: Cached, content_type: &'static str) -> HttpResponse {
    let mut response = HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(cached.body);
    response
        .headers_mut()
        .insert(X_CACHE, HeaderValue::from_static(cached.outcome.as_str()));
    response
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";

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

pub fn routes(cfg: &mut web::ServiceConfig, uncached_routes: bool) {
    cfg.route("/", web::get().to(pages::home))
        .route("/books", web::get().to(pages::catalogue))
        .route("/books/{id}", web::get().to(pages::book))
        .route("/cache", web::get().to(pages::sample_cached))
        .route("/api/top-books", web::get().to(api::top_books))
        .route("/api/books", web::get().to(api::catalogue))
        .route("/api/books/{id}", web::get().to(api::book))
        .route("/static/style.css", web::get().to(assets::stylesheet));
    // These read the database on every request: anyone could load it through
    // them, so production turns them off.
    if uncached_routes {
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
