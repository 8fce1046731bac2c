//! What crawlers and browsers ask every site for: `/robots.txt`,
//! `/sitemap.xml` (an index) with `/sitemaps/{n}.xml`, and `/favicon.ico`.
//! Sitemaps are cached like pages (`cache::policy`: they depend on `books`,
//! so every book write, by any writer, renews them); their URLs are
//! absolute, from `FOLIO_PUBLIC_URL`, never from a request's `Host`.

use std::fmt::Write as _;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;

use crate::cache::policy::MAX_SITEMAPS;
use crate::cache::Fragment;
use crate::catalogue::sitemap::{SitemapPart, FIXED_PATHS};
use crate::domain::PublicUrl;
use crate::web::error::{not_found, WebError};
use crate::web::respond::cached;
use crate::web::AppState;

const XML: &str = "application/xml; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const FAVICON: &[u8] = include_bytes!("../../../static/favicon.ico");

pub(crate) async fn robots(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let url = state.settings.http.public_url();
    let uncached = state.settings.cache.uncached_routes;
    cached(
        &req,
        &state,
        Fragment::RobotsTxt,
        TEXT,
        move |_, _| async move { Ok(Bytes::from(robots_txt(&url, uncached))) },
    )
    .await
}

/// Everything may be crawled but the routes that read the database on
/// every request.
fn robots_txt(url: &PublicUrl, uncached_routes: bool) -> String {
    let mut text = String::from("User-agent: *\n");
    if uncached_routes {
        text.push_str("Disallow: /sample\nDisallow: /top/uncached\nDisallow: /api/sample\n");
    } else {
        text.push_str("Disallow:\n");
    }
    let _ = writeln!(text, "\nSitemap: {}", url.join("/sitemap.xml"));
    text
}

pub(crate) async fn sitemap_index(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let url = state.settings.http.public_url();
    cached(
        &req,
        &state,
        Fragment::SitemapIndex,
        XML,
        move |catalogue, _| async move {
            let count = catalogue.sitemap_count().await?;
            Ok(Bytes::from(index_xml(&url, count.min(MAX_SITEMAPS))))
        },
    )
    .await
}

fn index_xml(url: &PublicUrl, count: u32) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for n in 1..=count {
        let loc = url.join(&format!("/sitemaps/{n}.xml"));
        let _ = writeln!(xml, "<sitemap><loc>{}</loc></sitemap>", escape(&loc));
    }
    xml.push_str("</sitemapindex>\n");
    xml
}

/// `/sitemaps/{n}.xml`, n from 1; a 404 (never stored) past the last one.
pub(crate) async fn sitemap(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let missing = || not_found("there is no sitemap of that number");
    let n: u32 = path
        .strip_suffix(".xml")
        .filter(|n| !n.is_empty() && n.len() <= 5 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .filter(|n| (1..=MAX_SITEMAPS).contains(n))
        .ok_or_else(missing)?;
    let url = state.settings.http.public_url();
    cached(
        &req,
        &state,
        Fragment::Sitemap(n),
        XML,
        move |catalogue, _| async move {
            let part = catalogue.sitemap_part(n).await?.ok_or_else(missing)?;
            Ok(Bytes::from(urlset_xml(&url, &part)))
        },
    )
    .await
}

fn urlset_xml(url: &PublicUrl, part: &SitemapPart) -> String {
    let mut xml = String::with_capacity(120 * (part.books.len() + 2));
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    if part.fixed {
        for path in FIXED_PATHS {
            let _ = writeln!(xml, "<url><loc>{}</loc></url>", escape(&url.join(path)));
        }
    }
    for (id, updated) in &part.books {
        let _ = writeln!(
            xml,
            "<url><loc>{}</loc><lastmod>{}</lastmod></url>",
            escape(&url.join(&format!("/books/{id}"))),
            updated.format("%Y-%m-%dT%H:%M:%S+00:00")
        );
    }
    xml.push_str("</urlset>\n");
    xml
}

/// XML's five escapes (the address is checked, but a sitemap must be valid
/// whatever it holds).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub(crate) async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/x-icon")
        .insert_header((header::CACHE_CONTROL, "public, max-age=604800"))
        .body(FAVICON)
}
