//! Forms and query strings, read strictly, before any handler sees them.
//!
//! Every value must be well-formed `application/x-www-form-urlencoded`
//! (each `%` followed by two hex digits), decode to valid UTF-8, and hold no
//! NUL (which `PostgreSQL` cannot store and no folio field needs): anything
//! else is a 400 before it reaches the database or a log. (Every body has
//! been read, within a size limit and a deadline, by
//! `middleware::security::read_body`.)

use std::future::Future;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use bytes::BytesMut;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::body::read_within;
use crate::web::error::{bad_request, WebError};

/// The largest form body folio reads; its forms are far smaller.
pub(crate) const FORM_LIMIT: usize = 64 * 1024;

/// Checks that `raw` is strict urlencoded text whose values are strings a
/// database can hold.
pub(crate) fn check_urlencoded(raw: &[u8]) -> Result<(), String> {
    for part in raw.split(|b| *b == b'&' || *b == b';') {
        let mut decoded = Vec::with_capacity(part.len());
        let mut i = 0;
        while i < part.len() {
            match part[i] {
                b'%' => {
                    let hex = |b: u8| char::from(b).to_digit(16);
                    let (Some(hi), Some(lo)) = (
                        part.get(i + 1).copied().and_then(hex),
                        part.get(i + 2).copied().and_then(hex),
                    ) else {
                        return Err("a % must be followed by two hex digits".into());
                    };
                    decoded.push(u8::try_from(hi * 16 + lo).unwrap_or(u8::MAX));
                    i += 3;
                }
                b'+' => {
                    decoded.push(b' ');
                    i += 1;
                }
                b => {
                    decoded.push(b);
                    i += 1;
                }
            }
        }
        let text = std::str::from_utf8(&decoded).map_err(|_| "text must be valid UTF-8")?;
        if text.contains('\0') {
            return Err("text must not contain NUL characters".into());
        }
    }
    Ok(())
}

/// `raw` as `T`, read strictly (see the module's comment).
pub(super) fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, WebError> {
    check_urlencoded(raw).map_err(|e| bad_request(format!("the form could not be read: {e}")))?;
    // Checked above: ASCII escapes of valid UTF-8.
    let text = std::str::from_utf8(raw)
        .map_err(|_| bad_request("the form could not be read: text must be valid UTF-8"))?;
    web::Query::<T>::from_query(text)
        .map(web::Query::into_inner)
        .map_err(|e| bad_request(format!("the form could not be read: {e}")))
}

/// A form body, read strictly (see the module's comment).
pub(crate) struct Form<T>(pub(crate) T);

impl<T> Deref for Form<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = form_body(req, payload);
        Box::pin(async move { parse(&body.await?).map(Form) })
    }
}

/// The bytes of a form body, once it is known to be one (not yet parsed).
pub(super) fn form_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<BytesMut, WebError>> + 'static {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut payload = payload.take();
    async move {
        if !form_type {
            return Err(bad_request(
                "the form could not be read: expected application/x-www-form-urlencoded",
            ));
        }
        read_within(&mut payload, FORM_LIMIT, "the form").await
    }
}

/// A query string, read strictly.
pub(crate) struct Query<T>(pub(crate) T);

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = WebError;
    type Future = std::future::Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(query(req).map(Query))
    }
}

/// The request's query string as `T`, read strictly.
pub(crate) fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, WebError> {
    parse(req.query_string().as_bytes())
        .map_err(|_| bad_request("the query string could not be read"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strict_urlencoded_database_text_passes() {
        for good in [
            &b""[..],
            b"a=1&b=two+words",
            b"title=caf%C3%A9&x=",
            b"q=%25%2B",
            b"email=a%40b&password=%0D%0Aline",
        ] {
            assert_eq!(check_urlencoded(good), Ok(()), "{good:?}");
        }
        for bad in [
            &b"title=%ZZ"[..],
            b"title=%FF",
            b"title=%C3",
            b"q=a%00b",
            b"email=a%00",
            b"a=%4",
            b"a=%",
            b"%00=x",
            b"t=\xff",
        ] {
            assert!(check_urlencoded(bad).is_err(), "{bad:?}");
        }
    }
}
