//! `{id}` in a book's path, parsed by the domain's `BookId`.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::domain::BookId;
use crate::web::error::{not_found, WebError};

/// The book a path names. Anything but a book id is a 404 (JSON under
/// `/api/`): the handler never runs.
pub(crate) struct BookIdPath(pub(crate) BookId);

impl FromRequest for BookIdPath {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Decoded as `web::Path<String>` decodes it.
        let raw = req.match_info().load::<String>().unwrap_or_default();
        ready(BookId::parse(&raw).map(BookIdPath).ok_or_else(|| {
            let e = not_found(format!("there is no book with id {raw}"));
            if req.path().starts_with("/api/") {
                e.json()
            } else {
                e
            }
        }))
    }
}
