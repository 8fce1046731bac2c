//! The admin's book list: every book, paged and sorted, or the matches of
//! a search (the readers' search: every word as a prefix, ISBNs with or
//! without hyphens), paged. Always from the database, never cached.

use super::{Catalogue, CatalogueError, PER_PAGE};
use crate::db::models::BookListItem;
use crate::db::search as q;
use crate::domain::{CatalogueSort, PageNumber, SearchQuery};

/// One page of the admin's list.
pub(crate) struct AdminListing {
    /// Books in the list (all of them, or all the matches).
    pub(crate) total: i64,
    pub(crate) page: u32,
    pub(crate) total_pages: u32,
    pub(crate) books: Vec<BookListItem>,
}

fn pages_for(total: i64) -> u32 {
    u32::try_from((total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
        .unwrap_or(u32::MAX)
        .max(1)
}

impl Catalogue {
    /// `query` None: the whole catalogue in `sort` order; else the matches,
    /// best first.
    pub(crate) async fn admin_list(
        &self,
        query: Option<SearchQuery>,
        page: PageNumber,
        sort: CatalogueSort,
    ) -> Result<AdminListing, CatalogueError> {
        let Some(query) = query else {
            let listing = self.page_by(page, sort).await?;
            return Ok(AdminListing {
                total: listing.total_books,
                page: listing.page,
                total_pages: listing.total_pages,
                books: listing.books,
            });
        };
        let n = page.get();
        let offset = i64::from(n - 1) * i64::from(PER_PAGE);
        let hits = self
            .db()
            .run(move |c| q::search_page(c, &query, i64::from(PER_PAGE), offset))
            .await?;
        let total_pages = pages_for(hits.total);
        if hits.books.is_empty() && n > 1 {
            return Err(CatalogueError::NoSuchPage {
                page: n,
                total_pages,
            });
        }
        Ok(AdminListing {
            total: hits.total,
            page: n,
            total_pages,
            books: hits.books,
        })
    }
}
