//! The error page's data (`templates/error.html`), for `error::WebError`.

use actix_web::http::StatusCode;
use askama::Template;

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage<'a> {
    pub(crate) status: u16,
    pub(crate) reason: &'a str,
    pub(crate) message: &'a str,
    /// A way on: (href, text).
    pub(crate) link: Option<(&'a str, &'a str)>,
}

impl<'a> ErrorPage<'a> {
    pub(crate) fn new(status: StatusCode, message: &'a str) -> Self {
        Self {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message,
            link: None,
        }
    }

    /// The page's heading: what happened, in a reader's words.
    pub(crate) fn heading(&self) -> &str {
        match self.status {
            400 => "This address is not quite right",
            403 => "This form has expired",
            404 => "We could not find that",
            405 => "This page cannot do that",
            429 => "Too many requests",
            503 => "Back in a moment",
            _ => self.reason,
        }
    }

    /// The page, or plain text should the template itself fail.
    pub(crate) fn render_or_plain(&self) -> String {
        self.render()
            .unwrap_or_else(|_| format!("{} {}: {}", self.status, self.reason, self.message))
    }
}
