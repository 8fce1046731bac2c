//! Compression of the responses handlers did not encode themselves
//! (uncached pages, JSON, the stylesheet, metrics, error pages), with
//! actix-http's encoder. Two kinds are sent as they are:
//!
//! * responses that already vary on `Accept-Encoding`: cached public pages,
//!   sent in the stored encoding the client accepts best (`respond::public`),
//!   so a hit compresses nothing;
//! * pages made for one visitor (`Cache-Control: private`): they carry a
//!   CSRF token, and compressing a secret beside text an attacker controls
//!   (a search term, a form value echoed back) leaks it byte by byte
//!   (BREACH). folio does not compress them rather than mask the tokens.

use actix_http::encoding::Encoder;
use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::http::StatusCode;

use crate::cache::{encoding::MIN_BYTES, Coding};

/// The response, compressed on the fly for a client that sent `accept`
/// (its `Accept-Encoding`) when it is worth it and allowed; see the
/// module's documentation. Run by `middleware::Envelope`.
pub(crate) fn encode<B: MessageBody + 'static>(
    accept: Option<HeaderValue>,
    response: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<B, Encoder<B>>> {
    let coding = accept
        .filter(|_| worth_compressing(&response))
        .and_then(|accept| accept.to_str().ok().map(Coding::preferred));
    let encoding = match coding {
        Some(Coding::Brotli) => ContentEncoding::Brotli,
        Some(Coding::Gzip) => ContentEncoding::Gzip,
        Some(Coding::Identity) | None => return response.map_into_left_body(),
    };
    response.map_body(|head, body| EitherBody::right(Encoder::response(encoding, head, body)))
}

fn worth_compressing<B: MessageBody>(response: &ServiceResponse<B>) -> bool {
    let res = response.response();
    let headers = res.headers();
    // A cache hit stops here: its encoding is chosen already.
    if headers
        .get(header::VARY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| has_token(v, "accept-encoding"))
    {
        return false;
    }
    let text = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/") || t.contains("json") || t.contains("javascript"));
    let big = match res.body().size() {
        BodySize::Sized(n) => n >= MIN_BYTES as u64,
        BodySize::Stream => true,
        BodySize::None => false,
    };
    text && big
        && !headers.contains_key(header::CONTENT_ENCODING)
        && !headers.get(header::CACHE_CONTROL).is_some_and(private)
        && !matches!(
            res.status(),
            StatusCode::NOT_MODIFIED | StatusCode::NO_CONTENT | StatusCode::PARTIAL_CONTENT
        )
}

fn private(cache_control: &HeaderValue) -> bool {
    cache_control
        .to_str()
        .map_or(true, |v| has_token(v, "private"))
}

/// Whether a comma-separated header value lists `token` (any case).
fn has_token(value: &str, token: &str) -> bool {
    // The usual case (a cached page's `Vary`) without splitting.
    if value.eq_ignore_ascii_case(token) {
        return true;
    }
    value
        .split(',')
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}
