//! `/search?q=`: the reader's search, cached in a bounded number of slots
//! (`cache::policy::search_slot`): a query whose slot holds another query's
//! page is answered from the database and not stored.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use askama::Template;
use bytes::Bytes;

use crate::cache::policy::{search_marker, search_slot};
use crate::cache::Fragment;
use crate::catalogue::Catalogue;
use crate::db::search::SearchHits;
use crate::domain::{SearchQuery, MAX_QUERY_CHARS};
use crate::web::error::WebError;
use crate::web::extract::{param, query};
use crate::web::respond::{self, HTML, X_CACHE};
use crate::web::AppState;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage<'a> {
    /// What the box shows: the query as typed.
    query: &'a str,
    hits: Option<&'a SearchHits>,
    error: Option<&'a str>,
    /// Names the query a stored page answers (empty when not stored).
    marker: &'a str,
}

impl SearchPage<'_> {
    fn all_shown(&self) -> bool {
        self.hits
            .is_some_and(|h| usize::try_from(h.total).is_ok_and(|t| t <= h.books.len()))
    }
}

pub(crate) async fn search(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let pairs: Vec<(String, String)> = query(&req)?;
    let raw = param(&pairs, "q");
    let query = match SearchQuery::parse(raw) {
        Ok(Some(query)) => query,
        Ok(None) => {
            return Ok(uncached(
                &state,
                HttpResponse::Ok(),
                &page("", None, None, "")?,
            ))
        }
        Err(message) => {
            // The box keeps what fits of the input; the page says why.
            let kept: String = raw.unwrap_or("").chars().take(MAX_QUERY_CHARS).collect();
            let body = page(&kept, None, Some(&message), "")?;
            return Ok(uncached(&state, HttpResponse::BadRequest(), &body));
        }
    };
    // Keyed by the query as typed, which the page shows in its box.
    let marker = search_marker(query.typed());
    let slot = search_slot(query.typed(), state.settings.cache.search_slots);
    let catalogue = state.catalogue.clone();
    let (for_slot, stored_marker) = (query.clone(), marker.clone());
    let cached = state
        .cache()
        .get_or_compute(Fragment::SearchResults { slot }, move |_| async move {
            results_page(&catalogue, for_slot, &stored_marker).await
        })
        .await?;
    if contains(&cached.body, marker.as_bytes()) {
        return Ok(respond::public(
            &req,
            &state,
            Fragment::SearchResults { slot },
            &cached,
            HTML,
        ));
    }
    // The slot holds another query's page until it is invalidated or expires.
    tracing::debug!(slot, "search: slot held by another query; not stored");
    let body = results_page(&state.catalogue, query, "").await?;
    Ok(uncached(&state, HttpResponse::Ok(), &body))
}

async fn results_page(
    catalogue: &Catalogue,
    query: SearchQuery,
    marker: &str,
) -> Result<Bytes, WebError> {
    let typed = query.typed().to_owned();
    let hits = catalogue.search_catalogue(query).await?;
    page(&typed, Some(&hits), None, marker)
}

fn page(
    query: &str,
    hits: Option<&SearchHits>,
    error: Option<&str>,
    marker: &str,
) -> Result<Bytes, WebError> {
    let page = SearchPage {
        query,
        hits,
        error,
        marker,
    };
    Ok(Bytes::from(page.render()?))
}

/// A public page computed for this request and kept by no folio cache.
fn uncached(state: &AppState, mut builder: HttpResponseBuilder, body: &Bytes) -> HttpResponse {
    builder
        .content_type(HTML)
        .insert_header((X_CACHE, "MISS"))
        .insert_header((header::CACHE_CONTROL, state.public_cache_control.clone()))
        .body(body.clone())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
