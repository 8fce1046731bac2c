//! An admin's form: the session first, then the CSRF token, then the rest.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::form::{form_body, parse};
use super::session::{verify_csrf, AdminSession};
use crate::web::error::WebError;

/// A form an admin posted. Without a valid admin session the body is not
/// read; without the session's CSRF token no other field is: either way the
/// handler never runs, so nothing is written.
pub(crate) struct AdminForm<T> {
    pub(crate) session: AdminSession,
    pub(crate) fields: T,
}

/// The token alone, read before anything else of the form.
#[derive(Deserialize)]
struct Token {
    csrf_token: Option<String>,
}

/// A form whose only field is its token (a button: sign out, recompute).
#[derive(Deserialize)]
pub(crate) struct NoFields {}

impl<T: DeserializeOwned + 'static> FromRequest for AdminForm<T> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = AdminSession::from_request(req, payload);
        let body = form_body(req, payload);
        Box::pin(async move {
            let session = session.await?;
            let body = body.await?;
            let token: Token = parse(&body)?;
            verify_csrf(&session.data, token.csrf_token.as_deref())?;
            let fields = parse(&body)?;
            Ok(Self { session, fields })
        })
    }
}
