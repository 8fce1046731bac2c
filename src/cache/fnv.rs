//! FNV-1a: the one hash the engine needs at run time (entity tags), shared
//! with the build's template digests (`build/template_digest.rs`). Pure std,
//! without `crate::` paths, so that `build.rs` can include it.

/// FNV-1a, 64 bits.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}
