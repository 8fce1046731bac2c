//! The stylesheet, built into the binary and served under a URL that changes
//! with its content, so browsers may keep it for a year.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::HttpResponse;

const STYLE: &str = include_str!("../../static/style.css");

/// FNV-1a: a stable digest of the stylesheet, computed at compile time.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const STYLE_DIGEST: u64 = fnv1a(STYLE.as_bytes());

static STYLE_HREF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "/static/style.css?v={:012x}",
        STYLE_DIGEST & 0xffff_ffff_ffff
    )
});

pub fn style_href() -> &'static str {
    &STYLE_HREF
}

pub(crate) async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(STYLE)
}
