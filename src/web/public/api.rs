//! The JSON twins of the pages, for API users. Errors answer as JSON too.

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Serialize;

use super::pages::catalogue_fragment;
use crate::cache::Fragment;
use crate::web::error::WebError;
use crate::web::extract::{page_of, query, sort_of, BookIdPath};
use crate::web::respond::{cached, JSON};
use crate::web::AppState;

fn to_json(value: &impl Serialize) -> Result<Bytes, WebError> {
    Ok(Bytes::from(serde_json::to_vec(value)?))
}

pub(crate) async fn top_books(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    cached(
        &req,
        &state,
        Fragment::TopBooksJson,
        JSON,
        |catalogue, deps| async move { to_json(&catalogue.chart(&deps).await?) },
    )
    .await
}

pub(crate) async fn catalogue(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let pairs: Vec<(String, String)> = query(&req).map_err(WebError::json)?;
    let page = page_of(&pairs).map_err(WebError::json)?;
    // The same orders as `/books?sort=`.
    let sort = sort_of(&pairs).map_err(WebError::json)?;
    let fragment = catalogue_fragment(sort, page, JSON);
    cached(
        &req,
        &state,
        fragment,
        JSON,
        move |catalogue, _| async move { to_json(&catalogue.page_by(page, sort).await?) },
    )
    .await
}

pub(crate) async fn book(
    state: web::Data<AppState>,
    req: HttpRequest,
    BookIdPath(id): BookIdPath,
) -> Result<HttpResponse, WebError> {
    cached(
        &req,
        &state,
        Fragment::BookJson(id.get()),
        JSON,
        move |catalogue, _| async move { to_json(&catalogue.book(id).await?) },
    )
    .await
}

/// `/api/sample`: the tutorial's list (the first 1,000 books) as JSON, read
/// from the database on every request, like `/sample`.
pub(crate) async fn sample_uncached(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let books = state
        .catalogue
        .sample()
        .await
        .map_err(|e| WebError::from(e).json())?;
    Ok(HttpResponse::Ok()
        .content_type(JSON)
        .body(to_json(&books).map_err(WebError::json)?))
}

/// `/api/cache`: the same list, cached for `CACHE_TTL`, like `/cache`.
pub(crate) async fn sample_cached(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    cached(
        &req,
        &state,
        Fragment::SampleJson,
        JSON,
        move |catalogue, _| async move { to_json(&catalogue.sample().await?) },
    )
    .await
}
