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

use std::future::{ready, Ready};

use actix_http::encoding::Encoder;
use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;

use crate::cache::{encoding::MIN_BYTES, Coding};

/// The middleware; see the module's documentation.
pub struct Compress;

impl<S, B> Transform<S, ServiceRequest> for Compress
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, Encoder<B>>>;
    type Error = actix_web::Error;
    type Transform = CompressMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CompressMiddleware { service }))
    }
}

pub struct CompressMiddleware<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for CompressMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, Encoder<B>>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let accept = req.headers().get(header::ACCEPT_ENCODING).cloned();
        let response = self.service.call(req);
        Box::pin(async move {
            let response = response.await?;
            let coding = accept
                .filter(|_| worth_compressing(&response))
                .and_then(|accept| accept.to_str().ok().map(Coding::preferred));
            let encoding = match coding {
                Some(Coding::Brotli) => ContentEncoding::Brotli,
                Some(Coding::Gzip) => ContentEncoding::Gzip,
                Some(Coding::Identity) | None => return Ok(response.map_into_left_body()),
            };
            Ok(response
                .map_body(|head, body| EitherBody::right(Encoder::response(encoding, head, body))))
        })
    }
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
    value
        .split(',')
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}
