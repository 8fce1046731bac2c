//! Keys of fragments named by what a reader typed: a search's slot and
//! marker, an author's digest. Digests, so that no key or log line carries
//! raw input and any length in makes a key of one length. And the templates'
//! digests (computed by `build.rs`) that end rendered fragments' keys.

use sha2::{Digest, Sha256};

pub(super) use crate::token::hex;

mod generated {
    // `template_digest(name)`: a digest of a template and all it extends or
    // includes, computed by build.rs.
    include!(concat!(env!("OUT_DIR"), "/template_digests.rs"));
}

/// The digest of a template and all it extends or includes (`build.rs`).
pub(super) use generated::template_digest;

/// The slot of a search (its text as typed, trimmed) among `slots`: the
/// same on every instance, so instances share their entries.
pub fn search_slot(query: &str, slots: u32) -> u32 {
    let digest = Sha256::digest(query.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % slots.max(1)
}

/// The key of an author's page: a digest of the name (any length in, 16
/// bytes out; two names never meet in practice).
pub fn author_digest(name: &str) -> [u8; 16] {
    let digest = Sha256::digest(name.as_bytes());
    let mut out = [0; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// A comment in a stored search page: which query it answers (a
/// digest, so nothing a reader typed is matched or logged by it).
pub fn search_marker(query: &str) -> String {
    let digest = Sha256::digest(query.as_bytes());
    format!("<!--folio:search:{}-->", hex(&digest[..16]))
}
