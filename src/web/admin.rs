//! The admin pages. Every handler takes an [`AdminSession`] first, so
//! without one it never runs; every POST checks the CSRF token before it
//! reads anything else. Admin pages are never cached.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::auth::{see_other, TokenOnly};
use super::error::{bad_request, not_found, WebError};
use super::input::Form;
use super::session::{verify_csrf, AdminSession};
use super::views::{
    AdminBooksPage, AdminChrome, BookFormPage, DashboardPage, DashboardStats, DeletePage,
};
use super::{private_html, AppState};
use crate::auth::session::{Flash, FlashKind};
use crate::catalogue::CatalogueError;
use crate::db::writes::BookWriteError;
use crate::domain::{BookForm, BookFormInput, BookId, FieldErrors, SearchQuery};

/// The admin layout's data; takes the flash message, which shows once.
pub async fn chrome(state: &AppState, session: &mut AdminSession) -> AdminChrome {
    let flash = session.take_flash(state).await;
    AdminChrome {
        email: session.admin().email.clone(),
        csrf_token: session.data.csrf_token.clone(),
        flash,
    }
}

fn success(text: impl Into<String>) -> Flash {
    Flash {
        kind: FlashKind::Success,
        text: text.into(),
        link: None,
    }
}

/// "Saved “T”." with a link to the book's public page.
fn saved_flash(done: &str, title: &str, id: i32) -> Flash {
    let mut flash = success(format!("{done} “{title}”."));
    flash.link = Some((format!("/books/{id}"), "See it on the site".into()));
    flash
}

fn book_id(raw: &str) -> Result<BookId, WebError> {
    BookId::parse(raw).ok_or_else(|| not_found(format!("there is no book with id {raw}")))
}

fn this_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

pub async fn dashboard(
    state: web::Data<AppState>,
    mut session: AdminSession,
) -> Result<HttpResponse, WebError> {
    let overview = state.catalogue.overview().await?;
    let page = DashboardPage {
        chrome: chrome(&state, &mut session).await,
        stats: DashboardStats {
            books: overview.books,
            ratings: overview.ratings,
            ratings_30_days: overview.ratings_30_days,
            chart_ttl_days: state.settings.cache.top_books_ttl.as_secs() / 86_400,
        },
        recent: overview.recent,
    };
    Ok(private_html(HttpResponse::Ok(), page.render()?))
}

/// The admin's book list: `q` (the readers' search), `page`, `sort`.
pub async fn books(
    state: web::Data<AppState>,
    mut session: AdminSession,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let pairs: Vec<(String, String)> = super::input::query(&req)?;
    let page = super::page_of(&pairs)?;
    let sort = super::browse::sort_of(&pairs)?;
    let raw = pairs
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.as_str());
    let query = SearchQuery::parse(raw).map_err(bad_request)?;
    let typed = query
        .as_ref()
        .map(|q| q.typed().to_owned())
        .unwrap_or_default();
    let searching = query.is_some();
    let listing = match state.catalogue.admin_list(query, page, sort).await {
        Err(CatalogueError::NoSuchPage { total_pages, .. }) => {
            let last = AdminBooksPage::href(&typed, sort, total_pages);
            return Err(not_found(format!(
                "There is no page {page} of this list: it has {total_pages}."
            ))
            .with_link(last, format!("Go to the last page ({total_pages})")));
        }
        other => other?,
    };
    let page = AdminBooksPage {
        chrome: chrome(&state, &mut session).await,
        query: &typed,
        searching,
        sort,
        listing,
    };
    Ok(private_html(HttpResponse::Ok(), page.render()?))
}

/// The book form, empty or as the admin typed it, with a message per field.
async fn form_page(
    state: &AppState,
    session: &mut AdminSession,
    status: StatusCode,
    book_id: Option<BookId>,
    input: &BookFormInput,
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    let (heading, action) = match book_id {
        Some(id) => ("Edit the book", format!("/admin/books/{id}")),
        None => ("Add a book", "/admin/books".to_owned()),
    };
    let page = BookFormPage {
        chrome: chrome(state, session).await,
        heading,
        action,
        input,
        errors,
        book_id: book_id.map(BookId::get),
    };
    Ok(private_html(HttpResponse::build(status), page.render()?))
}

pub async fn new_book(
    state: web::Data<AppState>,
    mut session: AdminSession,
) -> Result<HttpResponse, WebError> {
    form_page(
        &state,
        &mut session,
        StatusCode::OK,
        None,
        &BookFormInput::default(),
        &FieldErrors::default(),
    )
    .await
}

/// The book form as posted, and which button saved it.
#[derive(serde::Deserialize)]
pub struct PostedBook {
    #[serde(flatten)]
    input: BookFormInput,
    /// `new`: "Save and add another".
    then: Option<String>,
}

pub async fn create_book(
    state: web::Data<AppState>,
    mut session: AdminSession,
    form: Form<PostedBook>,
) -> Result<HttpResponse, WebError> {
    verify_csrf(Some(&session.data), form.input.csrf_token.as_deref())?;
    save_book(&state, &mut session, None, form.into_inner()).await
}

pub async fn edit_book(
    state: web::Data<AppState>,
    mut session: AdminSession,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = book_id(&path)?;
    let book = state.catalogue.find(id).await?;
    let input = BookFormInput::from(book);
    form_page(
        &state,
        &mut session,
        StatusCode::OK,
        Some(id),
        &input,
        &FieldErrors::default(),
    )
    .await
}

pub async fn update_book(
    state: web::Data<AppState>,
    mut session: AdminSession,
    path: web::Path<String>,
    form: Form<PostedBook>,
) -> Result<HttpResponse, WebError> {
    verify_csrf(Some(&session.data), form.input.csrf_token.as_deref())?;
    let id = book_id(&path)?;
    save_book(&state, &mut session, Some(id), form.into_inner()).await
}

/// Adds (`id` None) or edits a book: the form again with a message on each
/// field when the input is invalid, else the write and a redirect.
async fn save_book(
    state: &AppState,
    session: &mut AdminSession,
    id: Option<BookId>,
    posted: PostedBook,
) -> Result<HttpResponse, WebError> {
    let PostedBook { input, then } = posted;
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let book = match BookForm::parse(&input, this_year()) {
        Ok(book) => book,
        Err(errors) => return form_page(state, session, invalid, id, &input, &errors).await,
    };
    let title = book.title.clone();
    let add_another = then.as_deref() == Some("new");
    let saved = match id {
        Some(id) => state.editor.update_book(id, book).await.map(|()| id.get()),
        None => state.editor.create_book(book).await,
    };
    match saved {
        Ok(saved_id) => {
            let done = if id.is_some() { "Saved" } else { "Added" };
            tracing::info!(admin = ?session.admin().email, book = saved_id, "{done} a book");
            session
                .flash(state, saved_flash(done, &title, saved_id))
                .await?;
            // The admin stays in the admin: on the book's form, or a new one.
            Ok(see_other(&match add_another {
                true => "/admin/books/new".to_owned(),
                false => format!("/admin/books/{saved_id}/edit"),
            }))
        }
        Err(BookWriteError::DuplicateIsbn) => {
            let errors = FieldErrors {
                isbn: Some("another book already has this ISBN".into()),
                ..Default::default()
            };
            form_page(state, session, invalid, id, &input, &errors).await
        }
        Err(BookWriteError::NotFound) => Err(not_found("there is no such book")),
        Err(BookWriteError::Data(e)) => Err(e.into()),
    }
}

pub async fn confirm_delete(
    state: web::Data<AppState>,
    mut session: AdminSession,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let book = state.catalogue.find(book_id(&path)?).await?;
    let page = DeletePage {
        chrome: chrome(&state, &mut session).await,
        book: &book,
    };
    Ok(private_html(HttpResponse::Ok(), page.render()?))
}

pub async fn delete_book(
    state: web::Data<AppState>,
    mut session: AdminSession,
    path: web::Path<String>,
    form: Form<TokenOnly>,
) -> Result<HttpResponse, WebError> {
    verify_csrf(Some(&session.data), form.csrf_token.as_deref())?;
    let id = book_id(&path)?;
    match state.editor.delete_book(id).await {
        Ok(()) => {
            tracing::info!(admin = ?session.admin().email, book = id.get(), "book deleted");
            session
                .flash(&state, success("The book was deleted."))
                .await?;
            Ok(see_other("/admin"))
        }
        Err(BookWriteError::NotFound) => Err(not_found(format!("there is no book with id {id}"))),
        Err(BookWriteError::DuplicateIsbn) => {
            Err(super::error::internal("delete reported a duplicate"))
        }
        Err(BookWriteError::Data(e)) => Err(e.into()),
    }
}

pub async fn recompute_chart(
    state: web::Data<AppState>,
    mut session: AdminSession,
    form: Form<TokenOnly>,
) -> Result<HttpResponse, WebError> {
    verify_csrf(Some(&session.data), form.csrf_token.as_deref())?;
    state.editor.recompute_chart().await?;
    // Compute it now, once, so the next reader gets a hit.
    state.catalogue.ranking(None).await?;
    tracing::info!(admin = ?session.admin().email, "chart recomputed");
    session
        .flash(&state, success("The chart was recomputed."))
        .await?;
    Ok(see_other("/admin"))
}
