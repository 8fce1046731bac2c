//! The catalogue's HTML pages: the home page's chart, the catalogue's
//! pages, the sample list. Each handler parses its input, asks the catalogue
//! through the cache, and renders; a hit skips both the query and the
//! rendering.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use bytes::Bytes;

use super::views::{BookRow, BooksPage, HomePage, SamplePage};
use crate::cache::{Cache, Fragment};
use crate::catalogue::{Catalogue, CatalogueError};
use crate::domain::{CatalogueSort, PageNumber};
use crate::web::error::WebError;
use crate::web::extract::{page_of, query, sort_of};
use crate::web::respond::{cached, HTML, JSON};
use crate::web::AppState;

pub(super) fn render(template: &impl Template) -> Result<Bytes, WebError> {
    Ok(Bytes::from(template.render()?))
}

/// The fragment of a catalogue page in `sort` order, as HTML or JSON.
pub(super) fn catalogue_fragment(
    sort: CatalogueSort,
    page: PageNumber,
    content_type: &str,
) -> Fragment {
    let page = page.get();
    match (sort, content_type == JSON) {
        (CatalogueSort::Title, false) => Fragment::CataloguePage(page),
        (CatalogueSort::Title, true) => Fragment::CatalogueJson(page),
        (sort, false) => Fragment::CatalogueSorted { sort, page },
        (sort, true) => Fragment::CatalogueSortedJson { sort, page },
    }
}

pub(crate) async fn home(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    cached(
        &req,
        &state,
        Fragment::HomePage,
        HTML,
        move |catalogue, deps| async move {
            let chart = catalogue.chart(&deps).await?;
            render(&HomePage {
                chart: &chart,
                uncached: false,
            })
        },
    )
    .await
}

pub(crate) async fn home_uncached(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let chart = state.catalogue.chart_uncached().await?;
    let body = render(&HomePage {
        chart: &chart,
        uncached: true,
    })?;
    Ok(HttpResponse::Ok().content_type(HTML).body(body))
}

pub(crate) async fn catalogue(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    // The query string is read once for both parameters.
    let pairs: Vec<(String, String)> = query(&req)?;
    let page = page_of(&pairs)?;
    let sort = sort_of(&pairs)?;
    let fragment = catalogue_fragment(sort, page, HTML);
    cached(&req, &state, fragment, HTML, move |catalogue, _| {
        catalogue_html(catalogue, page, sort)
    })
    .await
}

/// A catalogue page of cached rows (Russian dolls): each row's key carries
/// its book's version, all rows come in one round trip, and only the rows
/// of books changed since are rendered again.
async fn catalogue_html(
    catalogue: Catalogue,
    page: PageNumber,
    sort: CatalogueSort,
) -> Result<Bytes, WebError> {
    let listing = catalogue
        .page_by(page, sort)
        .await
        .map_err(|e| past_the_end(e, sort))?;
    let cache: &Cache = catalogue.cache();
    let fragments: Vec<Fragment> = listing
        .books
        .iter()
        .map(|b| Fragment::BookRow {
            id: b.id,
            version: b.version,
        })
        .collect();
    let mut rows = cache.get_many(&fragments).await;
    let mut fresh = Vec::new();
    for ((book, fragment), row) in listing.books.iter().zip(&fragments).zip(rows.iter_mut()) {
        if row.is_none() {
            let rendered = render(&BookRow { book })?;
            fresh.push((*fragment, rendered.clone()));
            *row = Some(rendered);
        }
    }
    cache.put_many(fresh).await;
    let rows: Vec<&str> = rows
        .iter()
        .map(|r| std::str::from_utf8(r.as_deref().unwrap_or_default()).unwrap_or_default())
        .collect();
    render(&BooksPage {
        page: &listing,
        rows,
        sort,
    })
}

/// "Page past the end": a 404 that links to the last page, in the same order.
fn past_the_end(e: CatalogueError, sort: CatalogueSort) -> WebError {
    match e {
        CatalogueError::NoSuchPage { total_pages, .. } => {
            let last = format!("/books{}page={total_pages}", sort.query_prefix());
            WebError::from(e).with_link(last, format!("Go to the last page ({total_pages})"))
        }
        other @ CatalogueError::Data(_) => other.into(),
    }
}

pub(crate) async fn sample_uncached(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let books = state.catalogue.sample().await?;
    let body = render(&SamplePage {
        books: &books,
        cached_for_secs: None,
    })?;
    Ok(HttpResponse::Ok().content_type(HTML).body(body))
}

pub(crate) async fn sample_cached(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let ttl = state.settings.cache.ttl.as_secs();
    cached(
        &req,
        &state,
        Fragment::SampleList,
        HTML,
        move |catalogue, _| async move {
            let books = catalogue.sample().await?;
            render(&SamplePage {
                books: &books,
                cached_for_secs: Some(ttl),
            })
        },
    )
    .await
}
