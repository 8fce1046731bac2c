//! The sitemaps' contents: the home page and the catalogue, then every
//! book, split into sitemaps of at most `SITEMAP_URLS` URLs (sitemaps.org).

use chrono::NaiveDateTime;

use super::Catalogue;
use crate::cache::policy::SITEMAP_URLS;
use crate::db::books::count_books;
use crate::db::sitemap::book_stamps;
use crate::db::DataError;

/// The pages every sitemap set starts with: `/` and `/books`.
pub(crate) const FIXED_PATHS: [&str; 2] = ["/", "/books"];
#[expect(clippy::cast_possible_wrap, reason = "two paths")]
const FIXED_COUNT: i64 = FIXED_PATHS.len() as i64;

/// One sitemap: whether it starts with the fixed pages, and its books.
pub(crate) struct SitemapPart {
    pub(crate) fixed: bool,
    pub(crate) books: Vec<(i32, NaiveDateTime)>,
}

/// How many sitemaps `books` books need, `per` URLs each (at least one).
pub(crate) fn sitemaps_for(books: i64, per: u32) -> u32 {
    let urls = books.max(0) + FIXED_COUNT;
    u32::try_from((urls + i64::from(per) - 1) / i64::from(per)).unwrap_or(u32::MAX)
}

/// Sitemap `n` (from 1): whether it holds the fixed pages, and which books
/// (offset, limit) in id order.
pub(crate) fn part_range(n: u32, per: u32) -> (bool, i64, i64) {
    let fixed = FIXED_COUNT;
    let start = i64::from(n.max(1) - 1) * i64::from(per);
    if n <= 1 {
        (true, 0, i64::from(per) - fixed)
    } else {
        (false, start - fixed, i64::from(per))
    }
}

impl Catalogue {
    /// How many sitemaps the catalogue needs now.
    pub(crate) async fn sitemap_count(&self) -> Result<u32, DataError> {
        let books = self.db().run(count_books).await?;
        Ok(sitemaps_for(books, SITEMAP_URLS))
    }

    /// Sitemap `n` (from 1); `None` past the last one.
    pub(crate) async fn sitemap_part(&self, n: u32) -> Result<Option<SitemapPart>, DataError> {
        let (fixed, offset, limit) = part_range(n, SITEMAP_URLS);
        let books = self
            .db()
            .run(move |c| book_stamps(c, offset, limit))
            .await?;
        if !fixed && books.is_empty() {
            return Ok(None);
        }
        Ok(Some(SitemapPart { fixed, books }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemaps_split_at_the_limit_and_cover_every_url_once() {
        // Three URLs each: `/`, `/books` and book 1; then books 2-4; ...
        assert_eq!(sitemaps_for(0, 3), 1);
        assert_eq!(sitemaps_for(1, 3), 1);
        assert_eq!(sitemaps_for(2, 3), 2);
        assert_eq!(sitemaps_for(4, 3), 2);
        assert_eq!(sitemaps_for(5, 3), 3);
        assert_eq!(part_range(1, 3), (true, 0, 1));
        assert_eq!(part_range(2, 3), (false, 1, 3));
        assert_eq!(part_range(3, 3), (false, 4, 3));
        // At the protocol's limit: 49,998 books fit in one sitemap, not 49,999.
        assert_eq!(sitemaps_for(49_998, SITEMAP_URLS), 1);
        assert_eq!(sitemaps_for(49_999, SITEMAP_URLS), 2);
        assert_eq!(part_range(2, SITEMAP_URLS), (false, 49_998, 50_000));
        for books in 0..40 {
            let n = sitemaps_for(books, 3);
            let mut covered = 0;
            for part in 1..=n {
                let (fixed, offset, limit) = part_range(part, 3);
                assert_eq!(offset, covered, "sitemap {part} of {books} books");
                let listed = limit.min(books - offset).max(0);
                assert!(listed + if fixed { 2 } else { 0 } <= 3);
                covered += listed;
            }
            assert_eq!(covered, books);
        }
    }
}
