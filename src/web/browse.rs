//! Browsing: author pages (`/authors/{name}`) and the catalogue's A–Z jump
//! (`/books/from/{letter}`).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use bytes::Bytes;

use super::auth::see_other;
use super::error::{not_found, WebError};
use super::respond::{self, HTML};
use super::AppState;
use crate::cache::policy::author_digest;
use crate::cache::Fragment;
use crate::catalogue::browse::AuthorBooks;
use crate::domain::CatalogueSort;

/// Longer than any name the form takes (200), in case plain SQL stored one.
const MAX_AUTHOR_CHARS: usize = 1_000;

#[derive(Template)]
#[template(path = "author.html")]
struct AuthorPage<'a> {
    author: &'a AuthorBooks,
}

/// The `sort` parameter among a query's pairs; a missing one is by title.
pub fn sort_of(pairs: &[(String, String)]) -> Result<CatalogueSort, WebError> {
    let sort = pairs
        .iter()
        .find(|(k, _)| k == "sort")
        .map(|(_, v)| v.as_str());
    CatalogueSort::parse(sort).map_err(super::error::bad_request)
}

/// The path of an author's page (linked from every author's name).
pub fn author_href(name: &str) -> String {
    let encoded: String = url_encode(name);
    format!("/authors/{encoded}")
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub async fn author(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let name = path.into_inner();
    let unknown = || not_found("there is no author of that name in the catalogue");
    if name.is_empty() || name.chars().count() > MAX_AUTHOR_CHARS || name.contains('\0') {
        return Err(unknown());
    }
    let catalogue = state.catalogue.clone();
    let fragment = Fragment::AuthorPage(author_digest(&name));
    let cached = state
        .cache()
        .get_or_compute(fragment, move |_| async move {
            let author = catalogue.author(name).await?.ok_or_else(unknown)?;
            Ok::<_, WebError>(Bytes::from(AuthorPage { author: &author }.render()?))
        })
        .await?;
    Ok(respond::public(&req, &state, fragment, cached, HTML))
}

/// `/books/from/m`: to the catalogue page where titles filed under M begin.
pub async fn jump(
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
pub const LETTERS: [char; 26] = [
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S',
    'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
];

/// One numbered link of the pager.
pub struct PageLink {
    pub n: u32,
    pub current: bool,
}

/// The pager's links (`None` marks a gap), for the template.
pub fn pager(current: &u32, total: &u32) -> Vec<Option<PageLink>> {
    page_window(*current, *total)
        .into_iter()
        .map(|n| {
            n.map(|n| PageLink {
                n,
                current: n == *current,
            })
        })
        .collect()
}

/// The numbered pages a pager shows: the first, the last, and two either
/// side of the current one; `None` marks a gap.
fn page_window(current: u32, total: u32) -> Vec<Option<u32>> {
    let mut shown: Vec<Option<u32>> = Vec::new();
    let near = current.saturating_sub(2).max(1)..=current.saturating_add(2).min(total);
    for n in 1..=total {
        if n == 1 || n == total || near.contains(&n) {
            if shown
                .last()
                .is_some_and(|last| last.is_some_and(|l| l + 1 != n))
            {
                shown.push(None);
            }
            shown.push(Some(n));
        } else if n > *near.end() {
            // Skip straight to the last page.
            if shown.last().is_some_and(Option::is_some) {
                shown.push(None);
            }
            shown.push(Some(total));
            break;
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_shows_ends_and_neighbours_with_gaps() {
        let window = |c, t| -> Vec<u32> {
            page_window(c, t)
                .into_iter()
                .map(|p| p.unwrap_or(0))
                .collect()
        };
        assert_eq!(window(1, 1), [1]);
        assert_eq!(window(1, 3), [1, 2, 3]);
        assert_eq!(window(1, 40), [1, 2, 3, 0, 40]);
        assert_eq!(window(20, 40), [1, 0, 18, 19, 20, 21, 22, 0, 40]);
        assert_eq!(window(40, 40), [1, 0, 38, 39, 40]);
        assert_eq!(window(4, 7), [1, 2, 3, 4, 5, 6, 7]);
        // Cheap for any page number: the loop stops after the window.
        assert_eq!(window(3, 1_000_000).len(), 7);
    }

    #[test]
    fn author_paths_are_percent_encoded() {
        assert_eq!(author_href("Jane Austen"), "/authors/Jane%20Austen");
        assert_eq!(author_href("A/B & Ç"), "/authors/A%2FB%20%26%20%C3%87");
    }
}
