//! What every request passes through, in one middleware: the body bound
//! (`security::read_body`), compression of what handlers did not encode
//! (`compress::encode`), the security headers (`security::add_headers`) and
//! the access log (`access_log::record`), in that order from the inside.
//!
//! One layer rather than four: each actix middleware layer costs every
//! request a boxed future and a dynamic call, and a cached hit is so cheap
//! that those showed (callgrind, instructions per hit).

use std::future::{ready, Ready};
use std::rc::Rc;
use std::time::Instant;

use actix_http::encoding::Encoder;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header;
use futures_util::future::LocalBoxFuture;

pub(crate) mod access_log;
pub(crate) mod compress;
pub(crate) mod methods;
pub(crate) mod security;

pub(crate) use security::ConnectionLimits;
use security::HoldingUnread;

/// The middleware; see the module's documentation.
pub(crate) struct Envelope;

/// A handler's body, or the refusal of a request's body.
type Inner<B> = EitherBody<B, HoldingUnread>;
type Body<B> = EitherBody<Inner<B>, Encoder<Inner<B>>>;

impl<S, B> Transform<S, ServiceRequest> for Envelope
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<Body<B>>;
    type Error = actix_web::Error;
    type Transform = EnvelopeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(EnvelopeService {
            service: Rc::new(service),
        }))
    }
}

pub(crate) struct EnvelopeService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for EnvelopeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<Body<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let service = Rc::clone(&self.service);
        let accept = req.headers().get(header::ACCEPT_ENCODING).cloned();
        Box::pin(async move {
            let response = match security::read_body(&mut req).await {
                Ok(()) => service.call(req).await?.map_into_left_body(),
                Err(refusal) => req.into_response(refusal).map_into_right_body(),
            };
            let mut response = compress::encode(accept, response);
            security::add_headers(response.headers_mut());
            access_log::record(&response, started);
            Ok(response)
        })
    }
}
