//! A book's page and its rating form. The page is cached whole, for
//! everyone; the reader's own parts fill slots in the stored bytes.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::pages::render;
use super::views::{AdminBookLinks, BookPage, FlashView, YourRating};
use crate::auth::session::Flash;
use crate::auth::visitor::VisitorTokens;
use crate::cache::Fragment;
use crate::domain::{BookId, Stars};
use crate::web::error::{bad_request, sessions_unavailable, too_many_requests, WebError};
use crate::web::extract::{
    client_ip, reader_flash, reader_flash_cookie, reader_flash_removal, BookIdPath, Form,
    MaybeSession, Visitor,
};
use crate::web::respond::{self, see_other, HTML};
use crate::web::AppState;

/// The book page is cached whole, for everyone; the reader's own parts (the
/// rating form's token and visitor id, their own rating, a flash message, an
/// admin's Edit link) fill slots in the stored bytes. (The id is a `Result`
/// read after the session, as it always was.)
pub(crate) async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: Result<BookIdPath, WebError>,
    maybe: MaybeSession,
) -> Result<HttpResponse, WebError> {
    let BookIdPath(id) = id?;
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
    let (is_admin, admin_flash) = admin_parts(&state, maybe).await;
    let reader_flash = reader_flash(&req);
    // An admin's "Saved …" after an edit, or a reader's thanks.
    let flash_html = match admin_flash.as_ref().or(reader_flash.as_ref()) {
        Some(flash) => FlashView { flash }.render()?,
        None => String::new(),
    };
    let yours_html = match own_rating(&state, &visitor, id).await {
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
    let mut response = respond::private(&cached, body, HTML);
    if let Some(cookie) = visitor.new_cookie {
        response.add_cookie(&cookie)?;
    }
    if reader_flash.is_some() {
        response.add_cookie(&reader_flash_removal(&state))?;
    }
    Ok(response)
}

/// Whether the visitor is a signed-in admin (the Edit link), and the flash
/// their session holds, taken (it shows once).
async fn admin_parts(state: &AppState, maybe: MaybeSession) -> (bool, Option<Flash>) {
    let Some((sid, mut data)) = maybe.current else {
        return (false, None);
    };
    // Without an answer from the database, no link (the page itself may
    // still come from the cache).
    let is_admin = match &data.admin {
        Some(admin) => state.accounts.still_signed_in(admin).await.unwrap_or(false),
        None => false,
    };
    let flash = data.flash.take();
    if flash.is_some() {
        let _ = state.accounts.sessions.save(&sid, &data).await;
    }
    (is_admin, flash)
}

/// The visitor's own rating of book `id`. A new visitor has rated nothing
/// yet: no query. While the database cannot answer, the page (perhaps a
/// grace copy) goes without it.
async fn own_rating(state: &AppState, visitor: &Visitor, id: BookId) -> Option<i32> {
    if visitor.new_cookie.is_some() {
        return None;
    }
    let reader = VisitorTokens::reader_of(&visitor.id);
    match state.catalogue.reader_rating(id, reader).await {
        Ok(stars) => stars,
        Err(e) => {
            tracing::warn!(error = %e, book = id.get(), "the reader's own rating could not be read");
            None
        }
    }
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
pub(crate) struct RatingForm {
    stars: Option<String>,
    csrf_token: Option<String>,
    /// The visitor id the page was made for (used without a cookie only).
    reader: Option<String>,
}

/// A reader's rating: the form's token first, then the book's id.
pub(crate) async fn rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: Result<BookIdPath, WebError>,
    form: Form<RatingForm>,
) -> Result<HttpResponse, WebError> {
    let visitor = Visitor::of(&req, &state);
    let visitor_id = visitor
        .verify_rating(&state, form.csrf_token.as_deref(), form.reader.as_deref())
        .await?;
    let BookIdPath(id) = id?;
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
    state.editor.rate(id, stars, Some(reader)).await?;
    let mut response = see_other(&format!("/books/{id}"));
    response.add_cookie(&reader_flash_cookie(
        &state,
        &format!("rated-{}", stars.get()),
    ))?;
    // A reader without a cookie is known by the form's id from now on.
    if visitor.new_cookie.is_some() {
        response.add_cookie(&Visitor::cookie_for(&state, &visitor_id))?;
    }
    Ok(response)
}
