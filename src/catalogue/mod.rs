//! The catalogue's read side: what the pages show, fetched through the cache
//! where the data is expensive.

pub mod browse;
pub mod editor;
pub(crate) mod finder;
pub mod import;
pub(crate) mod search;
pub(crate) mod sitemap;

use std::sync::Arc;

use chrono::Utc;

use crate::cache::{Cache, Deps, Fragment, Tag};
use crate::db::books as q;
use crate::db::models::{Book, BookListItem, ChartEntry, ChartRank, RatingSummary};
use crate::db::{DataError, Database, NoSuchBook};
use crate::domain::{BookId, CatalogueSort, PageNumber};

pub(crate) const PER_PAGE: u32 = 50;
pub(crate) const SAMPLE_SIZE: i64 = 1000;

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct CataloguePage {
    pub(crate) page: u32,
    pub(crate) per_page: u32,
    pub(crate) total_books: i64,
    pub(crate) total_pages: u32,
    pub(crate) books: Vec<BookListItem>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct BookDetail {
    #[serde(flatten)]
    pub(crate) book: Book,
    pub(crate) ratings: RatingSummary,
}

/// Why a page of the catalogue cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("There is no page {page}: the list has {total_pages} pages.")]
    NoSuchPage { page: u32, total_pages: u32 },
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Why one book cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum FindBookError {
    #[error(transparent)]
    NotFound(#[from] NoSuchBook),
    #[error(transparent)]
    Data(#[from] DataError),
}

impl crate::cache::MayServeStale for CatalogueError {
    fn may_serve_stale(&self) -> bool {
        matches!(self, CatalogueError::Data(d) if d.is_unavailable())
    }

    fn database_down(&self) -> bool {
        matches!(self, CatalogueError::Data(d) if d.is_unreachable())
    }
}

/// A data error as the cache sees it (may an old copy stand in?): mapped
/// here, at the boundary, so that `db` knows nothing of the cache.
struct DataForCache(DataError);

impl crate::cache::MayServeStale for DataForCache {
    fn may_serve_stale(&self) -> bool {
        self.0.is_unavailable()
    }

    fn database_down(&self) -> bool {
        self.0.is_unreachable()
    }
}

impl From<serde_json::Error> for DataForCache {
    fn from(e: serde_json::Error) -> Self {
        Self(DataError::from(e))
    }
}

#[derive(Clone)]
pub(crate) struct Catalogue {
    db: Database,
    cache: Arc<Cache>,
}

impl Catalogue {
    pub(crate) fn new(db: Database, cache: Arc<Cache>) -> Self {
        let lookup = db.clone();
        cache.set_exists_check(Arc::new(move |id| {
            let db = lookup.clone();
            Box::pin(async move {
                db.run(move |c| q::book_exists(c, id))
                    .await
                    .unwrap_or(false)
            })
        }));
        Self { db, cache }
    }

    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    pub(crate) fn cache(&self) -> &Arc<Cache> {
        &self.cache
    }

    /// The chart's ranking, from the cache or from the expensive query.
    /// Inside another fragment's computation pass its `Deps`: that fragment
    /// then expires with the ranking.
    pub(crate) async fn ranking(&self, outer: Option<&Deps>) -> Result<Vec<ChartRank>, DataError> {
        let db = self.db.clone();
        let compute = |_| async move {
            let now = Utc::now().naive_utc();
            db.run(move |c| q::chart_ranking(c, now))
                .await
                .map_err(DataForCache)
        };
        let ranking = match outer {
            Some(outer) => {
                self.cache
                    .get_nested_json(outer, Fragment::ChartRanking, compute)
                    .await
            }
            None => {
                self.cache
                    .get_or_compute_json(Fragment::ChartRanking, compute)
                    .await
            }
        };
        ranking.map_err(|DataForCache(e)| e)
    }

    /// The chart with titles, for a fragment that shows it: records the
    /// books on it as dependencies before reading them.
    pub(crate) async fn chart(&self, deps: &Deps) -> Result<Vec<ChartEntry>, DataError> {
        let ranking = self.ranking(Some(deps)).await?;
        let tags: Vec<Tag> = ranking.iter().map(|r| Tag::Book(r.book_id)).collect();
        deps.depend_on(&tags).await;
        self.db.run(move |c| q::chart_entries(c, &ranking)).await
    }

    /// The chart computed from scratch, bypassing every cache.
    pub(crate) async fn chart_uncached(&self) -> Result<Vec<ChartEntry>, DataError> {
        let now = Utc::now().naive_utc();
        self.db.run(move |c| q::top_books(c, now)).await
    }

    pub(crate) async fn page_by(
        &self,
        page: PageNumber,
        sort: CatalogueSort,
    ) -> Result<CataloguePage, CatalogueError> {
        let n = page.get();
        let (total_books, books) = self
            .db
            .run(move |c| {
                let books = match sort {
                    CatalogueSort::Title => q::catalogue_page(c, n, PER_PAGE)?,
                    other => crate::db::browse::sorted_page(c, other, n, PER_PAGE)?,
                };
                Ok((q::count_books(c)?, books))
            })
            .await?;
        let total_pages =
            u32::try_from((total_books + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
                .unwrap_or(u32::MAX);
        if books.is_empty() && n > 1 {
            return Err(CatalogueError::NoSuchPage {
                page: n,
                total_pages,
            });
        }
        Ok(CataloguePage {
            page: n,
            per_page: PER_PAGE,
            total_books,
            total_pages: total_pages.max(1),
            books,
        })
    }

    pub(crate) async fn book(&self, id: BookId) -> Result<BookDetail, FindBookError> {
        let now = Utc::now().naive_utc();
        let found = self
            .db
            .run(move |c| {
                let Some(book) = q::find_book(c, id.get())? else {
                    return Ok(None);
                };
                let ratings = q::rating_summary(c, book.id, now)?;
                Ok(Some(BookDetail { book, ratings }))
            })
            .await?;
        Ok(found.ok_or(NoSuchBook(id.get()))?)
    }

    /// The stars `reader` gave a book: read per request, never cached.
    pub(crate) async fn reader_rating(
        &self,
        id: BookId,
        reader: String,
    ) -> Result<Option<i32>, DataError> {
        self.db
            .run(move |c| q::reader_rating(c, id.get(), &reader))
            .await
    }

    pub(crate) async fn sample(&self) -> Result<Vec<BookListItem>, DataError> {
        self.db.run(|c| q::first_books(c, SAMPLE_SIZE)).await
    }
}

/// What the admin dashboard shows.
pub(crate) struct Overview {
    pub(crate) books: i64,
    pub(crate) ratings: i64,
    pub(crate) ratings_30_days: i64,
    pub(crate) recent: Vec<BookListItem>,
}

/// The admin's view: always from the database, never cached.
impl Catalogue {
    pub(crate) async fn overview(&self) -> Result<Overview, DataError> {
        let since = Utc::now().naive_utc() - q::CHART_WINDOW;
        self.db
            .run(move |c| {
                Ok(Overview {
                    books: q::count_books(c)?,
                    ratings: q::count_ratings(c)?,
                    ratings_30_days: q::count_ratings_since(c, since)?,
                    recent: q::recent_books(c, 10)?,
                })
            })
            .await
    }

    pub(crate) async fn find(&self, id: BookId) -> Result<Book, FindBookError> {
        let found = self.db.run(move |c| q::find_book(c, id.get())).await?;
        Ok(found.ok_or(NoSuchBook(id.get()))?)
    }
}
