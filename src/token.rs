//! Random tokens: session ids, CSRF tokens, lock tokens, message nonces.
//!
//! A module of its own (it depends on nothing in folio) so that the cache,
//! the Redis layer and sign-in can all use it without importing each other.

use rand::RngCore;

/// 32 random bytes from the thread's CSPRNG (seeded by the OS), hex-encoded.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Bytes as lower-case hex (tokens, digests of rate-limit keys and sessions).
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The first `len` hex digits of a fresh token (at most 64): enough to name
/// an instance or one message, where a full token is longer than needed.
pub(crate) fn random_id(len: usize) -> String {
    let mut token = random_token();
    token.truncate(len.min(64));
    token
}

/// Whether `raw` could be a token [`random_token`] made (64 hex digits):
/// checked before anything from outside is used as part of a key.
pub(crate) fn looks_like_token(raw: &str) -> bool {
    raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_digits_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert!(looks_like_token(&a) && looks_like_token(&b));
        assert_ne!(a, b);
        assert_eq!(random_id(16).len(), 16);
        assert!(!looks_like_token("../../etc"));
    }
}
