//! Every route folio answers, by audience, and the answer where none does.

use actix_web::{web, HttpRequest, HttpResponse};

use super::error::{not_found, WebError};
use super::extract::UPLOAD_PATH;
use super::middleware::methods::{at, get, post};
use super::public::{api, book, browse, pages, search, site};
use super::{admin, assets, ops};
use crate::config::Settings;

pub(crate) fn routes(cfg: &mut web::ServiceConfig, settings: &Settings) {
    public(cfg);
    admin(cfg);
    at(cfg, "/metrics", [get(ops::metrics)]);
    at(cfg, "/healthz", [get(ops::healthz)]);
    at(cfg, "/readyz", [get(ops::readyz)]);
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

/// The readers' pages, the site's files and the JSON API.
fn public(cfg: &mut web::ServiceConfig) {
    at(cfg, "/", [get(pages::home)]);
    at(cfg, "/books", [get(pages::catalogue)]);
    at(cfg, "/books/{id}", [get(book::page)]);
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
    at(cfg, "/books/{id}/ratings", [post(book::rate)]);
    at(cfg, "/static/style.css", [get(assets::stylesheet)]);
}

/// The admin's pages.
fn admin(cfg: &mut web::ServiceConfig) {
    use admin::{books, cache, import, sign_in};
    at(cfg, "/admin/cache", [get(cache::cache_page)]);
    at(cfg, "/admin/cache/flush", [post(cache::flush)]);
    at(
        cfg,
        "/admin/login",
        [get(sign_in::login_form), post(sign_in::login)],
    );
    at(
        cfg,
        "/admin/logout",
        [get(sign_in::logout_form), post(sign_in::logout)],
    );
    at(cfg, "/admin", [get(books::dashboard)]);
    at(
        cfg,
        "/admin/books",
        [get(books::books), post(books::create_book)],
    );
    at(cfg, "/admin/books/new", [get(books::new_book)]);
    at(cfg, "/admin/books/{id}", [post(books::update_book)]);
    at(cfg, "/admin/books/{id}/edit", [get(books::edit_book)]);
    at(
        cfg,
        "/admin/books/{id}/delete",
        [get(books::confirm_delete), post(books::delete_book)],
    );
    at(cfg, UPLOAD_PATH, [get(import::form), post(import::upload)]);
    at(cfg, "/admin/export", [get(import::download)]);
    at(
        cfg,
        "/admin/chart/recompute",
        [post(books::recompute_chart)],
    );
}

/// Any path no route claims.
pub(crate) async fn no_route(req: HttpRequest) -> Result<HttpResponse, WebError> {
    let e = not_found(format!("there is no page at {}", req.path()));
    Err(if req.path().starts_with("/api/") {
        e.json()
    } else {
        e
    })
}
