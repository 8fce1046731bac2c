//! The admin's catalogue: the dashboard, the book list, adding, editing and
//! deleting books, recomputing the chart. A book's id is taken as a
//! `Result` and read only once the session (and, for a POST, the token) has
//! been checked: an id is never answered before the session is.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::views::{AdminBooksPage, BookFormPage, DashboardPage, DashboardStats, DeletePage};
use super::{chrome, success};
use crate::auth::session::Flash;
use crate::catalogue::CatalogueError;
use crate::db::writes::UpdateBookError;
use crate::domain::{BookForm, BookFormInput, BookId, FieldErrors, SearchQuery};
use crate::web::error::{bad_request, not_found, WebError};
use crate::web::extract::{
    page_of, param, query, sort_of, AdminForm, AdminSession, BookIdPath, NoFields,
};
use crate::web::respond::{private_html, see_other};
use crate::web::AppState;

/// "Saved “T”." with a link to the book's public page.
fn saved_flash(done: &str, title: &str, id: i32) -> Flash {
    let mut flash = success(format!("{done} “{title}”."));
    flash.link = Some((format!("/books/{id}"), "See it on the site".into()));
    flash
}

fn this_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

pub(crate) async fn dashboard(
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
pub(crate) async fn books(
    state: web::Data<AppState>,
    mut session: AdminSession,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let pairs: Vec<(String, String)> = query(&req)?;
    let page = page_of(&pairs)?;
    let sort = sort_of(&pairs)?;
    let query = SearchQuery::parse(param(&pairs, "q")).map_err(bad_request)?;
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

pub(crate) async fn new_book(
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
pub(crate) struct PostedBook {
    #[serde(flatten)]
    input: BookFormInput,
    /// `new`: "Save and add another".
    then: Option<String>,
}

pub(crate) async fn create_book(
    state: web::Data<AppState>,
    form: AdminForm<PostedBook>,
) -> Result<HttpResponse, WebError> {
    let AdminForm {
        mut session,
        fields,
    } = form;
    save_book(&state, &mut session, None, fields).await
}

pub(crate) async fn edit_book(
    state: web::Data<AppState>,
    mut session: AdminSession,
    id: Result<BookIdPath, WebError>,
) -> Result<HttpResponse, WebError> {
    let BookIdPath(id) = id?;
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

pub(crate) async fn update_book(
    state: web::Data<AppState>,
    form: AdminForm<PostedBook>,
    id: Result<BookIdPath, WebError>,
) -> Result<HttpResponse, WebError> {
    let AdminForm {
        mut session,
        fields,
    } = form;
    let BookIdPath(id) = id?;
    save_book(&state, &mut session, Some(id), fields).await
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
        None => state.editor.create_book(book).await.map_err(Into::into),
    };
    match saved {
        Ok(saved_id) => {
            let done = if id.is_some() { "Saved" } else { "Added" };
            tracing::info!(admin = ?session.admin().email, book = saved_id, "{done} a book");
            session
                .flash(state, saved_flash(done, &title, saved_id))
                .await?;
            // The admin stays in the admin: on the book's form, or a new one.
            Ok(see_other(&if add_another {
                "/admin/books/new".to_owned()
            } else {
                format!("/admin/books/{saved_id}/edit")
            }))
        }
        Err(UpdateBookError::DuplicateIsbn) => {
            let errors = FieldErrors {
                isbn: Some("another book already has this ISBN".into()),
                ..Default::default()
            };
            form_page(state, session, invalid, id, &input, &errors).await
        }
        Err(UpdateBookError::NotFound(_)) => Err(not_found("there is no such book")),
        Err(UpdateBookError::Data(e)) => Err(e.into()),
    }
}

pub(crate) async fn confirm_delete(
    state: web::Data<AppState>,
    mut session: AdminSession,
    id: Result<BookIdPath, WebError>,
) -> Result<HttpResponse, WebError> {
    let BookIdPath(id) = id?;
    let book = state.catalogue.find(id).await?;
    let page = DeletePage {
        chrome: chrome(&state, &mut session).await,
        book: &book,
    };
    Ok(private_html(HttpResponse::Ok(), page.render()?))
}

pub(crate) async fn delete_book(
    state: web::Data<AppState>,
    form: AdminForm<NoFields>,
    id: Result<BookIdPath, WebError>,
) -> Result<HttpResponse, WebError> {
    let mut session = form.session;
    let BookIdPath(id) = id?;
    state.editor.delete_book(id).await?;
    tracing::info!(admin = ?session.admin().email, book = id.get(), "book deleted");
    session
        .flash(&state, success("The book was deleted."))
        .await?;
    Ok(see_other("/admin"))
}

pub(crate) async fn recompute_chart(
    state: web::Data<AppState>,
    form: AdminForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let mut session = form.session;
    state.editor.recompute_chart().await?;
    // Compute it now, once, so the next reader gets a hit.
    state.catalogue.ranking(None).await?;
    tracing::info!(admin = ?session.admin().email, "chart recomputed");
    session
        .flash(&state, success("The chart was recomputed."))
        .await?;
    Ok(see_other("/admin"))
}
