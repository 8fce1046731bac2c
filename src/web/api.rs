//! The JSON twins of the pages, for API users. Errors answer as JSON too.

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Serialize;

use super::error::{internal, not_found, WebError};
use super::{cached_response, page_param, AppState, JSON};
use crate::cache::Fragment;
use crate::domain::BookId;

fn to_json(value: &impl Serialize) -> Result<Bytes, WebError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| internal(format!("json: {e}")))
}

pub async fn top_books(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let catalogue = &state.catalogue;
    let cached = state
        .cache()
        .get_or_compute(Fragment::TopBooksJson, |deps| async move {
            to_json(&catalogue.chart(&deps).await?)
        })
        .await
        .map_err(WebError::json)?;
    Ok(cached_response(cached, JSON))
}

pub async fn catalogue(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let page = page_param(&req).map_err(WebError::json)?;
    let catalogue = &state.catalogue;
    let cached = state
        .cache()
        .get_or_compute(Fragment::CatalogueJson(page.get()), |_| async move {
            to_json(&catalogue.page(page).await?)
        })
        .await
        .map_err(WebError::json)?;
    Ok(cached_response(cached, JSON))
}

pub async fn book(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = BookId::parse(&path)
        .ok_or_else(|| not_found(format!("there is no book with id {}", path.as_str())).json())?;
    let catalogue = &state.catalogue;
    let cached = state
        .cache()
        .get_or_compute(Fragment::BookJson(id.get()), |_| async move {
            to_json(&catalogue.book(id).await?)
        })
        .await
        .map_err(WebError::json)?;
    Ok(cached_response(cached, JSON))
}
