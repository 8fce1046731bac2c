//! The HTML pages. Each handler parses its input, asks the catalogue through
//! the cache, and renders; a hit skips both the query and the rendering.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use bytes::Bytes;

use super::auth::see_other;
use super::error::{
    bad_request, internal, not_found, sessions_unavailable, too_many_requests, WebError,
};
use super::input::Form;
use super::respond::{self, HTML};
use super::session::{
    reader_flash, reader_flash_cookie, reader_flash_removal, MaybeSession, Visitor,
};
use super::views::{BookPage, BookRow, BooksPage, FlashView, HomePage, SamplePage};
use super::{client_ip, AppState};
use crate::cache::{Cache, Fragment};
use crate::catalogue::Catalogue;
use crate::db::writes::BookWriteError;
use crate::domain::{BookId, CatalogueSort, PageNumber, Stars};

fn render(template: &impl Template) -> Result<Bytes, WebError> {
    Ok(Bytes::from(template.render()?))
}

fn book_id(raw: &str) -> Result<BookId, WebError> {
    BookId::parse(raw).ok_or_else(|| not_found(format!("there is no book with id {raw}")))
}

pub async fn home(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let catalogue = state.catalogue.clone();
    let page = state
        .cache()
        .get_or_compute(Fragment::HomePage, move |deps| async move {
            let chart = catalogue.chart(&deps).await?;
            render(&HomePage {
                chart: &chart,
                uncached: false,
            })
        })
        .await?;
    Ok(respond::public(
        &req,
        &state,
        Fragment::HomePage,
        page,
        HTML,
    ))
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
    // The query string is read once for both parameters.
    let pairs: Vec<(String, String)> = super::input::query(&req)?;
    let page = super::page_of(&pairs)?;
    let sort = super::browse::sort_of(&pairs)?;
    let fragment = match sort {
        CatalogueSort::Title => Fragment::CataloguePage(page.get()),
        sort => Fragment::CatalogueSorted {
            sort,
            page: page.get(),
        },
    };
    let catalogue = state.catalogue.clone();
    let cached = state
        .cache()
        .get_or_compute(fragment, move |_| catalogue_html(catalogue, page, sort))
        .await?;
    Ok(respond::public(&req, &state, fragment, cached, HTML))
}

/// A catalogue page of cached rows (Russian dolls): each row's key carries
/// its book's version, all rows come in one round trip, and only the rows
/// of books changed since are rendered again.
async fn catalogue_html(
    catalogue: Catalogue,
    page: PageNumber,
    sort: CatalogueSort,
) -> Result<Bytes, WebError> {
    let listing = catalogue.page_by(page, sort).await?;
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

/// The book page is cached whole, for everyone; the reader's own parts (the
/// rating form's token, a flash message) fill slots in the stored bytes.
pub async fn book(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    maybe: MaybeSession,
) -> Result<HttpResponse, WebError> {
    let id = book_id(&path)?;
    let catalogue = state.catalogue.clone();
    let cached = state
        .cache()
        .get_or_compute(Fragment::BookPage(id.get()), move |_| async move {
            let detail = catalogue.book(id).await?;
            render(&BookPage { detail: &detail })
        })
        .await?;

    // The reader's own parts: nothing of theirs is stored, nothing of theirs
    // enters the shared entry.
    let visitor = Visitor::of(&req, &state);
    // An admin's "Saved …" after an edit, or a reader's thanks.
    let admin_flash = match maybe.current {
        Some((sid, mut data)) if data.flash.is_some() => {
            let flash = data.flash.take();
            let _ = state.accounts.sessions.save(&sid, &data).await;
            flash
        }
        _ => None,
    };
    let reader_flash = reader_flash(&req);
    let flash = admin_flash.or(reader_flash.clone());
    let flash_html = match &flash {
        Some(flash) => FlashView { flash }.render()?,
        None => String::new(),
    };
    let body = fill_slots(&cached.body, &visitor.token(&state), &flash_html);
    let mut response = respond::private(cached, body, HTML);
    if let Some(cookie) = visitor.new_cookie {
        response
            .add_cookie(&cookie)
            .map_err(|e| internal(e.to_string()))?;
    }
    if reader_flash.is_some() {
        response
            .add_cookie(&reader_flash_removal(&state))
            .map_err(|e| internal(e.to_string()))?;
    }
    Ok(response)
}

const CSRF_SLOT: &str = "__FOLIO_CSRF__";
const FLASH_SLOT: &str = "<!--folio:flash-->";

/// Fills the page's slots: the token at its last place (the form comes after
/// anything a book's own text puts on the page), the flash at its first
/// (before it).
fn fill_slots(page: &[u8], csrf_token: &str, flash_html: &str) -> String {
    let mut html = String::from_utf8_lossy(page).into_owned();
    if let Some(at) = html.rfind(CSRF_SLOT) {
        html.replace_range(at..at + CSRF_SLOT.len(), csrf_token);
    }
    if let Some(at) = html.find(FLASH_SLOT) {
        html.replace_range(at..at + FLASH_SLOT.len(), flash_html);
    }
    html
}

#[derive(serde::Deserialize)]
pub struct RatingForm {
    stars: Option<String>,
    csrf_token: Option<String>,
}

pub async fn rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: Form<RatingForm>,
) -> Result<HttpResponse, WebError> {
    Visitor::of(&req, &state)
        .verify(&state, form.csrf_token.as_deref())
        .await?;
    let id = book_id(&path)?;
    let stars = Stars::parse(form.stars.as_deref().unwrap_or("")).map_err(bad_request)?;
    let allowed = state
        .accounts
        .limits
        .take_rating(client_ip(&req))
        .await
        .map_err(sessions_unavailable)?;
    if !allowed {
        return Err(too_many_requests(
            "You have rated many books in the last hour. Please try again later.",
        ));
    }
    match state.editor.rate(id, stars).await {
        Ok(()) => {}
        Err(BookWriteError::NotFound) => {
            return Err(not_found(format!("there is no book with id {id}")))
        }
        Err(BookWriteError::DuplicateIsbn) => {
            return Err(internal("a rating reported a duplicate ISBN"))
        }
        Err(BookWriteError::Data(e)) => return Err(e.into()),
    }
    let mut response = see_other(&format!("/books/{id}"));
    response
        .add_cookie(&reader_flash_cookie(
            &state,
            &format!("rated-{}", stars.get()),
        ))
        .map_err(|e| internal(e.to_string()))?;
    Ok(response)
}

pub async fn sample_uncached(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let books = state.catalogue.sample().await?;
    let body = render(&SamplePage {
        books: &books,
        cached_for_secs: None,
    })?;
    Ok(HttpResponse::Ok().content_type(HTML).body(body))
}

pub async fn sample_cached(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let catalogue = state.catalogue.clone();
    let ttl = state.settings.cache_ttl.as_secs();
    let cached = state
        .cache()
        .get_or_compute(Fragment::SampleList, move |_| async move {
            let books = catalogue.sample().await?;
            render(&SamplePage {
                books: &books,
                cached_for_secs: Some(ttl),
            })
        })
        .await?;
    Ok(respond::public(
        &req,
        &state,
        Fragment::SampleList,
        cached,
        HTML,
    ))
}
