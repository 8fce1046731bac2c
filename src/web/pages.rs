//! The HTML pages. Each handler parses its input, asks the catalogue through
//! the cache, and renders; a hit skips both the query and the rendering.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use bytes::Bytes;

use super::error::{not_found, WebError};
use super::views::{BookPage, BooksPage, HomePage, SamplePage};
use super::{cached_response, page_param, AppState, HTML};
use crate::cache::Fragment;
use crate::domain::BookId;

fn render(template: &impl Template) -> Result<Bytes, WebError> {
    Ok(Bytes::from(template.render()?))
}

pub async fn home(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let catalogue = &state.catalogue;
    let page = state
        .cache()
        .get_or_compute(Fragment::HomePage, |deps| async move {
            let chart = catalogue.chart(&deps).await?;
            render(&HomePage {
                chart: &chart,
                uncached: false,
            })
        })
        .await?;
    Ok(cached_response(page, HTML))
}

pub async fn home_uncached(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let chart = state.catalogue.chart_uncached().await?;
    let body = render(&HomePage {
        chart: &chart,
        uncached: true,
    })?;
    Ok(HttpResponse::Ok().content_type(HTML).body(body))
}

pub async fn catalogue(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let page = page_param(&req)?;
    let catalogue = &state.catalogue;
    let cached = state
        .cache()
        .get_or_compute(Fragment::CataloguePage(page.get()), |_| async move {
            let listing = catalogue.page(page).await?;
            render(&BooksPage { page: &listing })
        })
        .await?;
    Ok(cached_response(cached, HTML))
}

pub async fn book(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = BookId::parse(&path)
        .ok_or_else(|| not_found(format!("there is no book with id {}", path.as_str())))?;
    let catalogue = &state.catalogue;
    let cached = state
        .cache()
        .get_or_compute(Fragment::BookPage(id.get()), |_| async move {
            let detail = catalogue.book(id).await?;
            render(&BookPage { detail: &detail })
        })
        .await?;
    Ok(cached_response(cached, HTML))
}

pub async fn sample_uncached(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let books = state.catalogue.sample().await?;
    let body = render(&SamplePage {
        books: &books,
        cached_for_secs: None,
    })?;
    Ok(HttpResponse::Ok().content_type(HTML).body(body))
}

pub async fn sample_cached(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let catalogue = &state.catalogue;
    let ttl = state.settings.cache_ttl.as_secs();
    let cached = state
        .cache()
        .get_or_compute(Fragment::SampleList, |_| async move {
            let books = catalogue.sample().await?;
            render(&SamplePage {
                books: &books,
                cached_for_secs: Some(ttl),
            })
        })
        .await?;
    Ok(cached_response(cached, HTML))
}
