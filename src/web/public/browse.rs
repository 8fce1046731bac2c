//! Browsing: author pages (`/authors/{name}`) and the catalogue's A–Z jump
//! (`/books/from/{letter}`).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use bytes::Bytes;

use crate::cache::policy::author_digest;
use crate::cache::Fragment;
use crate::catalogue::browse::AuthorBooks;
use crate::web::error::{not_found, WebError};
use crate::web::respond::{cached, see_other, HTML};
use crate::web::url::url_encode;
use crate::web::AppState;

/// Longer than any name the form takes (200), in case plain SQL stored one.
const MAX_AUTHOR_CHARS: usize = 1_000;

#[derive(Template)]
#[template(path = "author.html")]
struct AuthorPage<'a> {
    author: &'a AuthorBooks,
}

/// The path of an author's page (linked from every author's name).
pub(crate) fn author_href(name: &str) -> String {
    let encoded: String = url_encode(name);
    format!("/authors/{encoded}")
}

pub(crate) async fn author(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let name = path.into_inner();
    let unknown = || not_found("there is no author of that name in the catalogue");
    if name.is_empty() || name.chars().count() > MAX_AUTHOR_CHARS || name.contains('\0') {
        return Err(unknown());
    }
    let fragment = Fragment::AuthorPage(author_digest(&name));
    cached(
        &req,
        &state,
        fragment,
        HTML,
        move |catalogue, _| async move {
            let author = catalogue.author(name).await?.ok_or_else(unknown)?;
            Ok(Bytes::from(AuthorPage { author: &author }.render()?))
        },
    )
    .await
}

/// `/books/from/m`: to the catalogue page where titles filed under M begin.
pub(crate) async fn jump(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let mut chars = path.chars();
    let letter = match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => c,
        _ => return Err(not_found("the catalogue is indexed by the letters A to Z")),
    };
    let page = state.catalogue.page_of_letter(letter).await?;
    Ok(see_other(&format!("/books?page={page}")))
}

/// The letters of the A–Z jump.
pub(crate) const LETTERS: [char; 26] = [
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S',
    'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_paths_are_percent_encoded() {
        assert_eq!(author_href("Jane Austen"), "/authors/Jane%20Austen");
        assert_eq!(author_href("A/B & Ç"), "/authors/A%2FB%20%26%20%C3%87");
    }
}
