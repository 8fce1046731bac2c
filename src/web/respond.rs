//! How a cached fragment becomes an HTTP response: `X-Cache`,
//! `Server-Timing`, the stored encoding the client accepts, validators
//! (`ETag` per encoding, Last-Modified) and 304s, and `Cache-Control` by who
//! may keep the page.

use std::fmt::Write as _;
use std::future::Future;
use std::time::{Duration, UNIX_EPOCH};

use actix_web::http::header::{self, HeaderMap, HeaderValue, HttpDate, TryIntoHeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use super::AppState;
use bytes::Bytes;

use super::error::WebError;
use crate::cache::{Cached, Coding, Deps, Fragment, Outcome, Source};
use crate::catalogue::Catalogue;

pub(crate) const HTML: &str = "text/html; charset=utf-8";
pub(crate) const JSON: &str = "application/json";
pub(crate) const X_CACHE: header::HeaderName = header::HeaderName::from_static("x-cache");
const SERVER_TIMING: header::HeaderName = header::HeaderName::from_static("server-timing");
const SURROGATE_CONTROL: header::HeaderName = header::HeaderName::from_static("surrogate-control");

/// `cache;desc="local";dur=0.02, compute;dur=12.3` (milliseconds).
fn server_timing(cached: &Cached) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut value = format!(
        "cache;desc=\"{} {}\";dur={:.3}",
        cached.outcome.as_str().to_lowercase(),
        cached.source.as_str(),
        ms(cached.elapsed)
    );
    if let Some(compute) = cached.compute {
        let _ = write!(value, ", compute;dur={:.3}", ms(compute));
    }
    value
}

fn common(headers: &mut HeaderMap, cached: &Cached) {
    headers.insert(X_CACHE, HeaderValue::from_static(cached.outcome.as_str()));
    // A hit from process memory takes microseconds: nothing to explain, and
    // the most frequent response need not carry (nor format) it.
    if !(cached.outcome == Outcome::Hit && cached.source == Source::Local) {
        if let Ok(timing) = HeaderValue::try_from(server_timing(cached)) {
            headers.insert(SERVER_TIMING, timing);
        }
    }
    let warning = match cached.outcome {
        Outcome::StaleOnError => "111 folio \"Revalidation Failed: the database is unavailable\"",
        Outcome::Stale => "110 folio \"Response is Stale\"",
        Outcome::Hit | Outcome::Miss => return,
    };
    let age_secs = crate::cache::unix_ms().saturating_sub(cached.created_ms) / 1000;
    headers.insert(header::WARNING, HeaderValue::from_static(warning));
    headers.insert(header::AGE, HeaderValue::from(age_secs));
}

/// The stored encoding this request accepts best, and its `ETag`.
fn representation(req: &HttpRequest, cached: &Cached) -> (Coding, String) {
    let coding = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map_or(Coding::Identity, |accept| {
            Coding::choose(accept, &cached.encodings)
        });
    let base = cached.etag.trim_end_matches('"');
    let suffix = coding.etag_suffix();
    let mut etag = String::with_capacity(base.len() + suffix.len() + 1);
    etag.push_str(base);
    etag.push_str(suffix);
    etag.push('"');
    (coding, etag)
}

/// Whether the client's copy is this entry in this encoding (RFC 9110:
/// If-None-Match wins over If-Modified-Since).
fn not_modified(req: &HttpRequest, cached: &Cached, etag: &str) -> bool {
    if let Some(inm) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag);
    }
    let since = req
        .headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<HttpDate>().ok());
    match since {
        Some(since) => {
            let since: std::time::SystemTime = since.into();
            let modified_secs = cached.created_ms / 1000;
            since
                .duration_since(UNIX_EPOCH)
                .is_ok_and(|d| d.as_secs() >= modified_secs)
        }
        None => false,
    }
}

/// A page anyone may see and any cache may keep (and revalidate), sent in
/// the stored encoding the client accepts best (no compression work here),
/// named by its surrogate keys for the edges.
pub(crate) fn public(
    req: &HttpRequest,
    state: &AppState,
    fragment: Fragment,
    cached: &Cached,
    content_type: &'static str,
) -> HttpResponse {
    let (coding, etag) = representation(req, cached);
    let not_modified = not_modified(req, cached, &etag);
    // Headers go straight into the map, as values made once where they can
    // be: this runs on every hit, and the builder's conversions showed.
    let mut response = if not_modified {
        HttpResponse::new(StatusCode::NOT_MODIFIED)
    } else {
        let body = match cached.encodings.get(coding) {
            Some(stored) => stored.clone(),
            None => cached.body.clone(),
        };
        HttpResponse::with_body(StatusCode::OK, body).map_into_boxed_body()
    };
    let headers = response.headers_mut();
    common(headers, cached);
    if let Ok(etag) = HeaderValue::try_from(etag) {
        headers.insert(header::ETAG, etag);
    }
    let last_modified = HttpDate::from(UNIX_EPOCH + Duration::from_millis(cached.created_ms));
    if let Ok(value) = last_modified.try_into_value() {
        headers.insert(header::LAST_MODIFIED, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    headers.insert(header::CACHE_CONTROL, state.public_cache_control.clone());
    headers.insert(state.edge.key_header.name(), state.edge.keys_of(&fragment));
    if let Some(surrogate) = &state.edge.surrogate_control {
        headers.insert(SURROGATE_CONTROL, surrogate.clone());
    }
    if !not_modified {
        if let Some(name) = coding.header() {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
        }
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// `fragment` through the cache, computed from the catalogue on a miss, as
/// a [`public`] response; errors answer as JSON when the content is.
pub(crate) async fn cached<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    fragment: Fragment,
    content_type: &'static str,
    compute: F,
) -> Result<HttpResponse, WebError>
where
    F: FnOnce(Catalogue, Deps) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Bytes, WebError>> + Send + 'static,
{
    let catalogue = state.catalogue.clone();
    let cached = state
        .cache()
        .get_or_compute(fragment, move |deps| compute(catalogue, deps))
        .await
        .map_err(|e| if content_type == JSON { e.json() } else { e })?;
    Ok(public(req, state, fragment, &cached, content_type))
}

/// A page made for one visitor (it carries their form token or flash): no
/// shared cache may keep it, and no validator describes it.
pub(crate) fn private(cached: &Cached, body: String, content_type: &'static str) -> HttpResponse {
    let mut response = HttpResponse::Ok().content_type(content_type).body(body);
    common(response.headers_mut(), cached);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// A page for one visitor (a form token, a flash, an admin's data): no
/// shared cache may keep it.
pub(crate) fn private_html(mut builder: HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .content_type(HTML)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body)
}

/// After a form: on to `location`, a page of this site.
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}
