//! The JSON twins of the pages, for API users. Errors answer as JSON too.

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Serialize;

use super::error::{internal, not_found, WebError};
use super::respond::{self, JSON};
use super::AppState;
use crate::cache::Fragment;
use crate::domain::{BookId, CatalogueSort};

fn to_json(value: &impl Serialize) -> Result<Bytes, WebError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| internal(format!("json: {e}")))
}

pub async fn top_books(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let catalogue = state.catalogue.clone();
    let cached = state
        .cache()
        .get_or_compute(Fragment::TopBooksJson, move |deps| async move {
            to_json(&catalogue.chart(&deps).await?)
        })
        .await
        .map_err(WebError::json)?;
    Ok(respond::public(
        &req,
        &state,
        Fragment::TopBooksJson,
        cached,
        JSON,
    ))
}

pub async fn catalogue(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let pairs: Vec<(String, String)> = super::input::query(&req).map_err(WebError::json)?;
    let page = super::page_of(&pairs).map_err(WebError::json)?;
    // The same orders as `/books?sort=`.
    let sort = super::browse::sort_of(&pairs).map_err(WebError::json)?;
    let fragment = match sort {
        CatalogueSort::Title => Fragment::CatalogueJson(page.get()),
        sort => Fragment::CatalogueSortedJson {
            sort,
            page: page.get(),
        },
    };
    let catalogue = state.catalogue.clone();
    let cached = state
        .cache()
        .get_or_compute(fragment, move |_| async move {
            to_json(&catalogue.page_by(page, sort).await?)
        })
        .await
        .map_err(WebError::json)?;
    Ok(respond::public(&req, &state, fragment, cached, JSON))
}

pub async fn book(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = BookId::parse(&path)
        .ok_or_else(|| not_found(format!("there is no book with id {}", path.as_str())).json())?;
    let catalogue = state.catalogue.clone();
    let cached = state
        .cache()
        .get_or_compute(Fragment::BookJson(id.get()), move |_| async move {
            to_json(&catalogue.book(id).await?)
        })
        .await
        .map_err(WebError::json)?;
    Ok(respond::public(
        &req,
        &state,
        Fragment::BookJson(id.get()),
        cached,
        JSON,
    ))
}

/// `/api/sample`: the tutorial's list (the first 1,000 books) as JSON, read
/// from the database on every request, like `/sample`.
pub async fn sample_uncached(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
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
pub async fn sample_cached(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let catalogue = state.catalogue.clone();
    let cached = state
        .cache()
        .get_or_compute(Fragment::SampleJson, move |_| async move {
            to_json(&catalogue.sample().await?)
        })
        .await
        .map_err(WebError::json)?;
    Ok(respond::public(
        &req,
        &state,
        Fragment::SampleJson,
        cached,
        JSON,
    ))
}
