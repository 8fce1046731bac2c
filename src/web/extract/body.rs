//! Reading a request body within a bound: the one loop behind every body
//! folio reads (the middleware's, a form's, the admin's upload).

use actix_web::error::PayloadError;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

use crate::web::error::{bad_request, payload_too_large, WebError};

/// The body's bytes, or 413 past `limit` bytes; `what` names the body in the
/// 400 of a broken one ("the form", "the upload").
pub(crate) async fn read_within<S>(
    payload: &mut S,
    limit: usize,
    what: &str,
) -> Result<BytesMut, WebError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| bad_request(format!("{what} could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
