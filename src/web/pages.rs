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
use super::views::{
    AdminBookLinks, BookPage, BookRow, BooksPage, FlashView, HomePage, SamplePage, YourRating,
};
use super::{client_ip, AppState};
use crate::auth::visitor::VisitorTokens;
use crate::cache::{Cache, Fragment};
use crate::catalogue::{Catalogue, CatalogueError};
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
        other => other.into(),
    }
}

/// The book page is cached whole, for everyone; the reader's own parts (the
/// rating form's token and visitor id, their own rating, a flash message, an
/// admin's Edit link) fill slots in the stored bytes.
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
    let mut is_admin = false;
    // An admin's "Saved …" after an edit, or a reader's thanks.
    let admin_flash = match maybe.current {
        Some((sid, mut data)) => {
            // Without an answer from the database, no link (the page itself
            // may still come from the cache).
            if let Some(admin) = &data.admin {
                is_admin = state.accounts.still_signed_in(admin).await.unwrap_or(false);
            }
            let flash = data.flash.take();
            if flash.is_some() {
                let _ = state.accounts.sessions.save(&sid, &data).await;
            }
            flash
        }
        None => None,
    };
    let reader_flash = reader_flash(&req);
    let flash = admin_flash.or(reader_flash.clone());
    let flash_html = match &flash {
        Some(flash) => FlashView { flash }.render()?,
        None => String::new(),
    };
    // A new visitor has rated nothing yet: no query. While the database
    // cannot answer, the page (perhaps a grace copy) goes without it.
    let yours = match visitor.new_cookie {
        Some(_) => None,
        None => {
            let reader = VisitorTokens::reader_of(&visitor.id);
            match state.catalogue.reader_rating(id, reader).await {
                Ok(stars) => stars,
                Err(e) => {
                    tracing::warn!(error = %e, book = id.get(), "the reader's own rating could not be read");
                    None
                }
            }
        }
    };
    let yours_html = match yours {
        Some(stars) => YourRating { stars }.render()?,
        None => String::new(),
    };
    let admin_html = if is_admin {
        AdminBookLinks { id: id.get() }.render()?
    } else {
        String::new()
    };
    let body = fill_slots(
        &cached.body,
        &Slots {
            csrf_token: &visitor.token(&state),
            reader: &visitor.id,
            flash: &flash_html,
            yours: &yours_html,
            admin: &admin_html,
        },
    );
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

/// What one request puts into a cached book page.
struct Slots<'a> {
    csrf_token: &'a str,
    /// The visitor id the rating form speaks for (a hex id: no escaping).
    reader: &'a str,
    flash: &'a str,
    yours: &'a str,
    admin: &'a str,
}

const CSRF_SLOT: &str = "__FOLIO_CSRF__";
const READER_SLOT: &str = "__FOLIO_READER__";
const FLASH_SLOT: &str = "<!--folio:flash-->";
const YOURS_SLOT: &str = "<!--folio:yours-->";
const ADMIN_SLOT: &str = "<!--folio:admin-->";

/// Fills the page's slots. The comment slots cannot come from a book's text
/// (askama escapes `<`), so their first place is theirs; the attribute slots
/// could, so they take their last place (the form comes after anything a
/// book's own text puts on the page).
fn fill_slots(page: &[u8], slots: &Slots<'_>) -> String {
    let mut html = String::from_utf8_lossy(page).into_owned();
    for (slot, value) in [(CSRF_SLOT, slots.csrf_token), (READER_SLOT, slots.reader)] {
        if let Some(at) = html.rfind(slot) {
            html.replace_range(at..at + slot.len(), value);
        }
    }
    for (slot, value) in [
        (FLASH_SLOT, slots.flash),
        (YOURS_SLOT, slots.yours),
        (ADMIN_SLOT, slots.admin),
    ] {
        if let Some(at) = html.find(slot) {
            html.replace_range(at..at + slot.len(), value);
        }
    }
    html
}

#[derive(serde::Deserialize)]
pub struct RatingForm {
    stars: Option<String>,
    csrf_token: Option<String>,
    /// The visitor id the page was made for (used without a cookie only).
    reader: Option<String>,
}

pub async fn rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: Form<RatingForm>,
) -> Result<HttpResponse, WebError> {
    let visitor = Visitor::of(&req, &state);
    let visitor_id = visitor
        .verify_rating(&state, form.csrf_token.as_deref(), form.reader.as_deref())
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
    let reader = VisitorTokens::reader_of(&visitor_id);
    match state.editor.rate(id, stars, Some(reader)).await {
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
    // A reader without a cookie is known by the form's id from now on.
    if visitor.new_cookie.is_some() {
        response
            .add_cookie(&Visitor::cookie_for(&state, &visitor_id))
            .map_err(|e| internal(e.to_string()))?;
    }
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
    let ttl = state.settings.cache.ttl.as_secs();
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
