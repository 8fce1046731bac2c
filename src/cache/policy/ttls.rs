//! The TTLs that come from settings, and how long tag keys live so that they
//! outlive every entry that recorded them.

use std::time::Duration;

use super::{PAGE_TTL, ROW_TTL};

/// How long past its TTL a last-known-good copy is kept for outages.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2 * 24 * 3600);
/// Margin by which tag keys outlive the longest-lived entry.
const TAG_MARGIN: Duration = Duration::from_secs(24 * 3600);

/// The TTLs that come from settings.
#[derive(Debug, Clone, Copy)]
pub struct Ttls {
    pub top_books: Duration,
    pub sample: Duration,
    /// Kept this long past the TTL, for outages (see "Grace" in `policy.rs`).
    pub grace: Duration,
}

/// How long a tag key lives: longer than every entry that could record it
/// (the longest TTL plus the grace period), with a day to spare. Reading a
/// version renews it, so an entry computed late in a tag's life is still
/// outlived by it.
pub fn tag_ttl(ttls: &Ttls) -> Duration {
    [ttls.top_books, ttls.sample, PAGE_TTL, ROW_TTL]
        .into_iter()
        .max()
        .unwrap_or(ROW_TTL)
        + ttls.grace
        + TAG_MARGIN
}
