//! The JSON twins of the pages, for API users. Errors answer as JSON too.

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Serialize;

use super::error::{internal, not_found, WebError};
use super::respond::{self, JSON};
use super::{page_param, AppState};
use crate::cache::Fragment;
use crate::domain::BookId;

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
    let page = page_param(&req).map_err(WebError::json)?;
    let catalogue = state.catalogue.clone();
    let cached = state
        .cache()
        .get_or_compute(Fragment::CatalogueJson(page.get()), move |_| async move {
            to_json(&catalogue.page(page).await?)
        })
        .await
        .map_err(WebError::json)?;
    Ok(respond::public(
        &req,
        &state,
        Fragment::CatalogueJson(page.get()),
        cached,
        JSON,
    ))
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
