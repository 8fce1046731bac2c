//! What every response says to browsers, and the bounds on connections and
//! request bodies.

use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{web, HttpMessage, ResponseError};
use futures_util::StreamExt;

use super::error::{bad_request, payload_too_large, request_timeout};
use super::input::FORM_LIMIT;
use super::AppState;
use crate::config::Settings;

/// folio's pages need no script and no inline style: everything comes from
/// this origin's stylesheet, forms post only here, and no other site may
/// frame a page (clickjacking). `connect-src 'self'` costs nothing (no
/// script runs to connect anywhere) and lets auditors that fetch in the
/// page's context (Lighthouse reads `/robots.txt` so) do their work.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers added to every response that lacks them.
pub fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // For browsers older than CSP's frame-ancestors.
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
}

/// The server's connection bounds, from the settings.
pub struct ConnectionLimits {
    pub workers: usize,
    /// `FOLIO_MAX_CONNECTIONS` shared among the workers (actix counts per
    /// worker); past it, connections wait in the kernel's listen queue.
    pub per_worker: usize,
    /// A request's head must arrive within this (else 408 and close).
    pub header_timeout: Duration,
    /// How long a closing connection may take to shut down.
    pub disconnect_timeout: Duration,
}

impl ConnectionLimits {
    pub fn of(settings: &Settings) -> Self {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
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
struct HoldingUnread {
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
/// closes. So a body costs at most 64 KiB of memory for at most that long.
pub async fn bounded_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, impl MessageBody>>, actix_web::Error> {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    // The admin's upload reads its body itself, within its own limit, once
    // the session has been checked (`web::import`).
    if !has_body || super::import::reads_its_own_body(req.method(), req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let deadline = req
        .app_data::<web::Data<AppState>>()
        .map_or(Duration::from_secs(10), |s| s.settings.http.body_timeout);
    let mut payload = req.take_payload();
    let read = async {
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| bad_request(format!("the body could not be read: {e}")))?;
            if body.len() + chunk.len() > FORM_LIMIT {
                return Err(payload_too_large(FORM_LIMIT));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    let refused = match tokio::time::timeout(deadline, read).await {
        Ok(Ok(body)) => {
            let stream = futures_util::stream::once(async move { Ok(body) });
            req.set_payload(Payload::from(
                Box::pin(stream) as std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>>
            ));
            return Ok(next.call(req).await?.map_into_left_body());
        }
        Ok(Err(e)) => e,
        Err(_) => request_timeout(),
    };
    let (response, body) = refused.error_response().into_parts();
    let response = response.set_body(HoldingUnread {
        body,
        _unread: payload,
    });
    Ok(req.into_response(response).map_into_right_body())
}
