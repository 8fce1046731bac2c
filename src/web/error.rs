//! The web layer's one error type, mapped to HTTP here and only here.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use super::error_page::ErrorPage;
use crate::catalogue::CatalogueError;
use crate::catalogue::FindBookError;
use crate::db::writes::{DeleteBookError, RateBookError};
use crate::db::{DataError, NoSuchBook};

/// How an error is shown: a page for browsers, JSON under `/api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Html,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ErrorKind {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("this page does not take that method; it takes {allow}")]
    MethodNotAllowed { allow: String },
    #[error("the request took too long to arrive")]
    RequestTimeout,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// At capacity (every password check taken): try again shortly.
    #[error("{0}")]
    Busy(String),
    /// No admin session: browsers go to the login page (and, signed in,
    /// back to `next`), other clients get 401.
    #[error("sign in as an admin first")]
    LoginRequired {
        browser: bool,
        next: Option<crate::domain::ReturnPath>,
    },
    /// A service folio needs is away; `what` says which, in the answer and
    /// the log.
    #[error("{}", what.message())]
    Unavailable { what: Service, detail: String },
    #[error("something went wrong on our side")]
    Internal(String),
}

/// What can be unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Database,
    /// Sessions, rate limits and the cache's operator commands need it;
    /// reading never does (the cache fails open).
    Redis,
}

impl Service {
    fn message(self) -> &'static str {
        match self {
            Service::Database => "the catalogue is temporarily unavailable",
            Service::Redis => {
                "Redis is temporarily unavailable: signing in and admin pages wait for it, reading does not"
            }
        }
    }

    fn log_line(self) -> &'static str {
        match self {
            Service::Database => "database unavailable",
            Service::Redis => "Redis unavailable",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub(crate) struct WebError {
    pub(crate) kind: ErrorKind,
    pub(crate) format: Format,
    /// The database could not be reached (not merely busy): see
    /// `MayServeStale::database_down`.
    pub(crate) database_down: bool,
    /// A way on, shown on the error page: (href, text).
    pub(crate) link: Option<(String, String)>,
}

impl WebError {
    fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            format: Format::Html,
            database_down: false,
            link: None,
        }
    }

    /// The same error, with a link on its page (e.g. to the last page).
    pub(crate) fn with_link(mut self, href: impl Into<String>, text: impl Into<String>) -> Self {
        self.link = Some((href.into(), text.into()));
        self
    }

    /// The same error, answered as JSON.
    pub(crate) fn json(mut self) -> Self {
        self.format = Format::Json;
        self
    }
}

pub(crate) fn bad_request(message: impl Into<String>) -> WebError {
    WebError::new(ErrorKind::BadRequest(message.into()))
}

pub(crate) fn not_found(message: impl Into<String>) -> WebError {
    WebError::new(ErrorKind::NotFound(message.into()))
}

pub(crate) fn forbidden(message: impl Into<String>) -> WebError {
    WebError::new(ErrorKind::Forbidden(message.into()))
}

pub(crate) fn too_many_requests(message: impl Into<String>) -> WebError {
    WebError::new(ErrorKind::TooManyRequests(message.into()))
}

pub(crate) fn method_not_allowed(allow: String) -> WebError {
    WebError::new(ErrorKind::MethodNotAllowed { allow })
}

pub(crate) fn request_timeout() -> WebError {
    WebError::new(ErrorKind::RequestTimeout)
}

pub(crate) fn payload_too_large(limit: usize) -> WebError {
    WebError::new(ErrorKind::PayloadTooLarge(limit))
}

pub(crate) fn busy(message: impl Into<String>) -> WebError {
    WebError::new(ErrorKind::Busy(message.into()))
}

pub(crate) fn login_required(browser: bool, next: Option<crate::domain::ReturnPath>) -> WebError {
    WebError::new(ErrorKind::LoginRequired { browser, next })
}

/// The session store could not be reached (Redis down): the reader's pages
/// still work, but nothing that needs a session does.
pub(crate) fn sessions_unavailable(e: impl std::fmt::Display) -> WebError {
    redis_unavailable(format!("session store: {e}"))
}

/// Redis could not be reached for an operator's cache command.
pub(crate) fn cache_unavailable(e: impl std::fmt::Display) -> WebError {
    redis_unavailable(format!("cache: {e}"))
}

fn redis_unavailable(detail: String) -> WebError {
    WebError::new(ErrorKind::Unavailable {
        what: Service::Redis,
        detail,
    })
}

pub(crate) fn internal(detail: impl Into<String>) -> WebError {
    WebError::new(ErrorKind::Internal(detail.into()))
}

impl From<DataError> for WebError {
    fn from(e: DataError) -> Self {
        if e.is_unavailable() {
            let mut error = WebError::new(ErrorKind::Unavailable {
                what: Service::Database,
                detail: e.to_string(),
            });
            error.database_down = e.is_unreachable();
            error
        } else {
            internal(e.to_string())
        }
    }
}

/// A copy from before may stand in when the failure is ours (a 5xx), never
/// when the answer itself is a 4xx (a deleted book stays deleted).
impl crate::cache::MayServeStale for WebError {
    fn may_serve_stale(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Unavailable { .. } | ErrorKind::Internal(_)
        )
    }

    fn database_down(&self) -> bool {
        self.database_down
    }
}

impl From<CatalogueError> for WebError {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::NoSuchPage { .. } => not_found(e.to_string()),
            CatalogueError::Data(data) => data.into(),
        }
    }
}

impl From<NoSuchBook> for WebError {
    fn from(e: NoSuchBook) -> Self {
        not_found(e.to_string())
    }
}

/// The errors of an operation on one book that must exist: a 404 when it
/// is not there, else the database's answer.
macro_rules! book_or_data_into_web_error {
    ($($error:ident),*) => {$(
        impl From<$error> for WebError {
            fn from(e: $error) -> Self {
                match e {
                    $error::NotFound(e) => e.into(),
                    $error::Data(e) => e.into(),
                }
            }
        }
    )*};
}

book_or_data_into_web_error!(FindBookError, DeleteBookError, RateBookError);

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        internal(format!("template: {e}"))
    }
}

impl From<serde_json::Error> for WebError {
    fn from(e: serde_json::Error) -> Self {
        internal(format!("json: {e}"))
    }
}

/// A header that could not be set (a cookie's value, say).
impl From<actix_web::error::HttpError> for WebError {
    fn from(e: actix_web::error::HttpError) -> Self {
        internal(e.to_string())
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self.kind {
            ErrorKind::BadRequest(_) => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound(_) => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden(_) => StatusCode::FORBIDDEN,
            ErrorKind::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::LoginRequired { browser: true, .. } => StatusCode::SEE_OTHER,
            ErrorKind::LoginRequired { browser: false, .. } => StatusCode::UNAUTHORIZED,
            ErrorKind::Busy(_) | ErrorKind::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match &self.kind {
            // Details may quote input: escaped (Debug), never raw.
            ErrorKind::Unavailable { what, detail } => {
                tracing::error!(?detail, "{}", what.log_line());
            }
            ErrorKind::Internal(detail) => tracing::error!(?detail, "internal error"),
            _ => {}
        }
        if let ErrorKind::LoginRequired {
            browser: true,
            next,
        } = &self.kind
        {
            let location = match next {
                Some(next) if !next.is_dashboard() => format!(
                    "/admin/login?next={}",
                    super::url::url_encode(next.as_str())
                ),
                _ => "/admin/login".to_owned(),
            };
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish();
        }
        // Only the public message leaves the server; details stay in the log.
        let message = self.kind.to_string();
        let mut response = match self.format {
            Format::Json => HttpResponse::build(status).json(serde_json::json!({
                "error": { "status": status.as_u16(), "message": message }
            })),
            Format::Html => {
                let mut page = ErrorPage::new(status, &message);
                page.link = self.link.as_ref().map(|(h, t)| (h.as_str(), t.as_str()));
                HttpResponse::build(status)
                    .content_type("text/html; charset=utf-8")
                    .body(page.render_or_plain())
            }
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if matches!(self.kind, ErrorKind::Unavailable { .. }) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if matches!(
            self.kind,
            ErrorKind::RequestTimeout | ErrorKind::PayloadTooLarge(_)
        ) {
            // The rest of the body is not read: the connection ends here.
            response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
        if let ErrorKind::MethodNotAllowed { allow } = &self.kind {
            if let Ok(value) = HeaderValue::from_str(allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
        }
        if matches!(self.kind, ErrorKind::Busy(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
