//! What every response says to browsers, and the bounds on connections and
//! request bodies.

use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};

use crate::config::Settings;
use crate::web::error::request_timeout;
use crate::web::extract::{read_within, reads_its_own_body, FORM_LIMIT};
use crate::web::AppState;

/// folio's pages need no script and no inline style: everything comes from
/// this origin's stylesheet, forms post only here, and no other site may
/// frame a page (clickjacking). `connect-src 'self'` costs nothing (no
/// script runs to connect anywhere) and lets auditors that fetch in the
/// page's context (Lighthouse reads `/robots.txt` so) do their work.
pub(crate) const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers every response carries (`add_headers`).
const HEADERS: [(HeaderName, HeaderValue); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    // For browsers older than CSP's frame-ancestors.
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
];

/// Adds the headers every response carries, where the handler did not set
/// them itself.
pub(crate) fn add_headers(headers: &mut HeaderMap) {
    for (name, value) in HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
}

/// The server's connection bounds, from the settings.
pub(crate) struct ConnectionLimits {
    pub(crate) workers: usize,
    /// `FOLIO_MAX_CONNECTIONS` shared among the workers (actix counts per
    /// worker); past it, connections wait in the kernel's listen queue.
    pub(crate) per_worker: usize,
    /// A request's head must arrive within this (else 408 and close).
    pub(crate) header_timeout: Duration,
    /// How long a closing connection may take to shut down.
    pub(crate) disconnect_timeout: Duration,
}

impl ConnectionLimits {
    pub(crate) fn of(settings: &Settings) -> Self {
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            workers,
            per_worker: settings.http.max_connections.div_ceil(workers).max(1),
            header_timeout: settings.http.header_timeout,
            disconnect_timeout: Duration::from_secs(1),
        }
    }
}

/// An answer's body that holds the request's unread body until the answer
/// is sent: actix then closes the connection (after a short linger) instead
/// of draining the rest, which a client could dribble for ever.
pub(crate) struct HoldingUnread {
    body: BoxBody,
    _unread: Payload,
}

impl MessageBody for HoldingUnread {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<bytes::Bytes, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// Reads every request body, whatever the route, within `FORM_LIMIT` bytes
/// and `FOLIO_BODY_TIMEOUT_MS`, before the handler runs (which then reads it
/// from memory). Too large: 413; too slow: 408; either way the connection
/// closes (the refusal is returned, to be sent instead of calling the
/// handler). So a body costs at most 64 KiB of memory for at most that long.
pub(crate) async fn read_body(req: &mut ServiceRequest) -> Result<(), HttpResponse<HoldingUnread>> {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    // The admin's upload reads its body itself, within its own limit, once
    // the session has been checked (`extract::AdminUpload`).
    if !has_body || reads_its_own_body(req.method(), req.path()) {
        return Ok(());
    }
    let deadline = req
        .app_data::<web::Data<AppState>>()
        .map_or(Duration::from_secs(10), |s| s.settings.http.body_timeout);
    let mut payload = req.take_payload();
    let read = read_within(&mut payload, FORM_LIMIT, "the body");
    let refused = match tokio::time::timeout(deadline, read).await {
        Ok(Ok(body)) => {
            let body = body.freeze();
            let stream = futures_util::stream::once(async move { Ok(body) });
            req.set_payload(Payload::from(
                Box::pin(stream) as std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>>
            ));
            return Ok(());
        }
        Ok(Err(e)) => e,
        Err(_) => request_timeout(),
    };
    let (response, body) = refused.error_response().into_parts();
    Err(response.set_body(HoldingUnread {
        body,
        _unread: payload,
    }))
}
