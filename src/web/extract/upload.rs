//! The admin's upload of a catalogue file: the one body larger than
//! `form::FORM_LIMIT`. The general body bound (`middleware::security`)
//! leaves this route alone, and this extractor reads the body itself — only
//! once the admin's session was checked, within [`UPLOAD_LIMIT`] bytes and
//! `FOLIO_BODY_TIMEOUT_MS` — then checks the form's CSRF token.

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{FromRequest, HttpRequest};
use bytes::Bytes;
use futures_util::future::LocalBoxFuture;

use super::body::read_within;
use super::multipart;
use super::session::{state_of, verify_csrf, AdminSession};
use crate::web::error::{bad_request, request_timeout, WebError};

pub(crate) const UPLOAD_PATH: &str = "/admin/import";
/// The largest CSV file an admin may upload: about 100,000 Goodreads rows.
/// (`folio import FILE` has no such bound but the row count's.)
pub(crate) const UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

/// Whether the middleware's body bound must leave this request's body to
/// the handler.
pub(crate) fn reads_its_own_body(method: &Method, path: &str) -> bool {
    method == Method::POST && path == UPLOAD_PATH
}

/// An admin's upload form, its token checked.
pub(crate) struct AdminUpload {
    pub(crate) session: AdminSession,
    /// The file's bytes (not a copy of them); `None` when no file was chosen.
    pub(crate) file: Option<Bytes>,
}

impl FromRequest for AdminUpload {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = AdminSession::from_request(req, payload);
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let session = session.await?;
            let boundary = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(multipart::boundary)
                .ok_or_else(|| bad_request("the upload must be a multipart/form-data form"))?;
            let deadline = state_of(&req).settings.http.body_timeout;
            let read = read_within(&mut payload, UPLOAD_LIMIT, "the upload");
            let body = tokio::time::timeout(deadline, read)
                .await
                .map_err(|_| request_timeout())??
                .freeze();
            let parts = multipart::parse(&body, &boundary).map_err(bad_request)?;
            let field = |name: &str| parts.iter().find(|p| p.name == name);
            let token = field("csrf_token").and_then(|p| std::str::from_utf8(p.data).ok());
            verify_csrf(&session.data, token)?;
            let file = field("file")
                .filter(|part| !part.data.is_empty())
                .map(|part| body.slice_ref(part.data));
            Ok(Self { session, file })
        })
    }
}
