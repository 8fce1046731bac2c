//! The cache policy, declared in one place: every fragment's key, TTL and the
//! tags it depends on, and every write's tags. "What invalidates this?" is
//! answered here and nowhere else.
//!
//! | fragment                  | key                    | TTL             | depends on                     |
//! |---------------------------|------------------------|-----------------|--------------------------------|
//! | `ChartRanking`            | `chart:top10`          | `TOP_BOOKS_TTL` | `chart`                        |
//! | `HomePage` (`/`)          | `page:home`            | `TOP_BOOKS_TTL` | `chart`, `book:{id}` of each book on the chart |
//! | `TopBooksJson`            | `api:top-books`        | `TOP_BOOKS_TTL` | `chart`, `book:{id}` of each book on the chart |
//! | `CataloguePage(n)`        | `books:page:{n}`       | 1 hour          | `books`                        |
//! | `CatalogueJson(n)`        | `api:books:page:{n}`   | 1 hour          | `books`                        |
//! | `BookPage(id)`            | `book:{id}:page`       | 1 hour          | `book:{id}`, `ratings:{id}`    |
//! | `BookJson(id)`            | `api:book:{id}`        | 1 hour          | `book:{id}`, `ratings:{id}`    |
//! | `SampleList` (`/cache`)   | `sample:first-1000`    | `CACHE_TTL`     | `books`                        |
//! | `BookRow{id, version}`    | `row:book:{id}:{ver}`  | 1 day           | nothing: the key has the version |
//! | `SearchResults{slot}` (`/search?q=`) | `search:slot:{n}` | 10 minutes | `books`                |
//! | `AuthorPage(digest)` (`/authors/{name}`) | `author:{digest}` | 1 hour | `books`                  |
//! | `CatalogueSorted{sort, page}` (`/books?sort=`) | `books:{sort}:page:{n}` | 1 hour | `books`; by rating also `ratings` |
//! | `CatalogueSortedJson{sort, page}` (`/api/books?sort=`) | `api:books:{sort}:page:{n}` | 1 hour | as `CatalogueSorted` |
//! | `SampleJson` (`/api/cache`) | `api:sample:first-1000` | `CACHE_TTL`     | `books`                        |
//! | `RobotsTxt` (`/robots.txt`) | `robots.txt`        | 1 day           | nothing but `all`: made from settings |
//! | `SitemapIndex` (`/sitemap.xml`) | `sitemap:index` | 1 hour          | `books` (how many sitemaps)    |
//! | `Sitemap(n)` (`/sitemaps/{n}.xml`) | `sitemap:{n}` | 1 hour         | `books` (which books, when edited) |
//!
//! Sitemaps hold at most `SITEMAP_URLS` (50,000) URLs each, as the
//! protocol requires; the index lists as many as the catalogue needs.
//!
//! Search results are kept in a fixed number of slots
//! (`FOLIO_SEARCH_CACHE_SLOTS`, 1,024 by default): a query's slot is a hash
//! of its text (as typed, trimmed: the page shows it in its box), and the
//! page stored in a slot names its query (`search_marker`), so a query whose slot holds another query's page is
//! computed and served without being stored. However many distinct queries
//! arrive, at most that many search entries exist; a flood of random
//! queries can take slots from popular queries for at most `SEARCH_TTL`.
//!
//! Keys of fragments rendered from a template end in `:t{digest}` of that
//! template (and all it extends or includes).
//!
//! Every fragment above but `BookRow` also depends on `all`.
//!
//! What the database's change log says changed (its `subject`, written by
//! the triggers in `migrations/*/…_change_feed` for every writer: folio,
//! psql, the diesel CLI, a script), and the tags each change touches:
//!
//! | change (subject)              | touches                               |
//! |-------------------------------|---------------------------------------|
//! | book inserted or updated (`book:{id}`) | `books`, `book:{id}`         |
//! | book deleted (`book-deleted:{id}`) | `books`, `book:{id}`, `ratings:{id}`, `chart` |
//! | rating inserted, updated or deleted (`ratings:{book_id}`) | `ratings:{id}`, `ratings` (the order by rating) |
//! | "recompute chart" (`chart`)   | `chart`                               |
//! | bulk: TRUNCATE, a statement over 1,000 rows, a paused bulk load, a drain of over 1,000 subjects (`all`) | `all` |
//!
//! `HomePage` and `TopBooksJson` are built from `ChartRanking` (a nested
//! fragment, `Cache::get_nested_json`): they also expire no later than the
//! ranking they were built from, and are not stored if it was an old copy.
//!
//! The chart's ranking (the expensive query) depends on `chart` alone: a title
//! edit re-renders the pages that show the book without rerunning it, and a
//! rating changes its book's page but not the chart pages (whose counts come
//! from the ranking).
//! Entries record the version of each tag they were computed under, read
//! *before* the database; the change feed (`src/changes/`) bumps a change's
//! tags after its transaction commits, so an entry computed from older data
//! can never pass as fresh.
//!
//! ## Grace (last-known-good copies)
//!
//! Every entry is kept in the store for its TTL plus the grace period
//! (`FOLIO_CACHE_GRACE`, default [`DEFAULT_GRACE`]); tag keys live longer
//! still ([`tag_ttl`]). A stored copy is served:
//!
//! * before its stale point: as a hit;
//! * in the last part of its TTL (the engine's stale window, a tenth of it
//!   and an hour at most: `lifetimes.rs`): as `STALE` while one
//!   request refreshes it;
//! * past its TTL, within the grace period: only when computing it failed
//!   because the database could not answer (unreachable, or every pooled
//!   connection busy), marked `STALE` with a `Warning`;
//! * after a write invalidated it: **never, unless the database is
//!   unreachable** (not merely busy), and then only marked `STALE`. A reader
//!   who could have had the new data never gets the old.
//!
//! Only copies with `Fragment::precompressed` bodies keep gzip and brotli
//! copies beside the plain one (see `encoding.rs`).
//!
//! Beside the table, in `policy/`: the TTLs that come from settings and how
//! long tag keys live (`ttls.rs`), fragments' names for metrics
//! (`names.rs`), the digests in keys (`digests.rs`), tags' and changes' text
//! forms (`text.rs`), and the engine's view of it all (`folio_policy.rs`).

use std::time::Duration;

use crate::domain::CatalogueSort;

mod digests;
mod folio_policy;
mod names;
mod text;
mod ttls;
pub use self::digests::{author_digest, search_marker, search_slot};
use self::digests::{hex, template_digest};
pub use self::folio_policy::FolioPolicy;
pub use self::names::FRAGMENT_NAMES;
pub use self::ttls::{tag_ttl, Ttls, DEFAULT_GRACE};

/// Catalogue and book pages are invalidated exactly; their TTL only bounds
/// how long an entry nobody asks for keeps memory, and how old the "last 30
/// days" count on a book page may get.
pub const PAGE_TTL: Duration = Duration::from_secs(3600);
/// A catalogue row never changes under its key; a day bounds its memory.
pub const ROW_TTL: Duration = Duration::from_secs(24 * 3600);
/// Search results are invalidated exactly too; their TTL bounds how long a
/// query nobody repeats holds its slot.
pub const SEARCH_TTL: Duration = Duration::from_secs(600);
/// `robots.txt` changes only with a deploy (it is made from settings).
pub const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);
/// The most URLs one sitemap may hold (sitemaps.org).
pub const SITEMAP_URLS: u32 = 50_000;
/// The most sitemaps one index may list (sitemaps.org): with
/// `SITEMAP_URLS`, 2.5 billion URLs, so any `/sitemaps/{n}.xml` past it is
/// a 404 without a query.
pub const MAX_SITEMAPS: u32 = 50_000;

/// Something cached entries depend on; a write bumps the tags it touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// The monthly chart's ranking.
    Chart,
    /// The list of books (titles, authors, order, count).
    Books,
    /// One book's row (title, author, ...).
    Book(i32),
    /// One book's ratings.
    Ratings(i32),
    /// Any book's ratings: the catalogue's order by rating.
    AnyRatings,
    /// Everything: every fragment (but the versioned rows) depends on it.
    All,
}

impl Tag {
    /// The book a tag is about, if it is about one: such tags are named by
    /// requests (`/books/{id}`), so their keys are made only for books that
    /// exist (see `cache::requested`).
    pub fn book_id(&self) -> Option<i32> {
        match self {
            Tag::Book(id) | Tag::Ratings(id) => Some(*id),
            Tag::Chart | Tag::Books | Tag::AnyRatings | Tag::All => None,
        }
    }
}

/// Every cached thing folio serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fragment {
    ChartRanking,
    HomePage,
    TopBooksJson,
    CataloguePage(u32),
    CatalogueJson(u32),
    BookPage(i32),
    BookJson(i32),
    SampleList,
    /// One row of the catalogue, inside `CataloguePage` (a Russian doll):
    /// its key carries the book's version (`books.version`, which the
    /// database changes on every write of the row, whoever writes it, and
    /// never hands out twice), so it needs no tag at all: an edit makes a
    /// new key.
    BookRow {
        id: i32,
        version: i64,
    },
    /// The search results page of whichever query holds this slot
    /// (`search_slot`); the page carries its query's `search_marker`.
    SearchResults {
        slot: u32,
    },
    /// An author's books (`author_digest` of the name). Made only for
    /// authors who have books: an unknown name is a 404, never stored.
    AuthorPage([u8; 16]),
    /// A catalogue page in another order than by title.
    CatalogueSorted {
        sort: CatalogueSort,
        page: u32,
    },
    /// `/api/books?sort=` in another order than by title.
    CatalogueSortedJson {
        sort: CatalogueSort,
        page: u32,
    },
    /// `/api/cache`: the sample list as JSON.
    SampleJson,
    RobotsTxt,
    SitemapIndex,
    /// The n-th sitemap (from 1).
    Sitemap(u32),
}

impl Fragment {
    /// The template a fragment is rendered from; its digest is part of the
    /// key, so a changed template busts its own fragments and nothing else.
    pub fn template(&self) -> Option<&'static str> {
        match self {
            Fragment::HomePage => Some("home.html"),
            Fragment::CataloguePage(_) | Fragment::CatalogueSorted { .. } => Some("books.html"),
            Fragment::BookPage(_) => Some("book.html"),
            Fragment::SampleList => Some("sample.html"),
            Fragment::BookRow { .. } => Some("book_row.html"),
            Fragment::SearchResults { .. } => Some("search.html"),
            Fragment::AuthorPage(_) => Some("author.html"),
            Fragment::ChartRanking
            | Fragment::TopBooksJson
            | Fragment::CatalogueJson(_)
            | Fragment::BookJson(_)
            | Fragment::CatalogueSortedJson { .. }
            | Fragment::SampleJson
            | Fragment::RobotsTxt
            | Fragment::SitemapIndex
            | Fragment::Sitemap(_) => None,
        }
    }

    /// The key below `{prefix}:{format version}:`.
    pub fn key(&self) -> String {
        let mut key = String::with_capacity(48);
        self.write_key(&mut key);
        key
    }

    /// Appends the key to `out`: a hit builds its key once, in one buffer.
    pub fn write_key(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Fragment::ChartRanking => out.write_str("chart:top10"),
            Fragment::HomePage => out.write_str("page:home"),
            Fragment::TopBooksJson => out.write_str("api:top-books"),
            Fragment::CataloguePage(n) => write!(out, "books:page:{n}"),
            Fragment::CatalogueJson(n) => write!(out, "api:books:page:{n}"),
            Fragment::BookPage(id) => write!(out, "book:{id}:page"),
            Fragment::BookJson(id) => write!(out, "api:book:{id}"),
            Fragment::SampleList => out.write_str("sample:first-1000"),
            Fragment::BookRow { id, version } => write!(out, "row:book:{id}:{version}"),
            Fragment::SearchResults { slot } => write!(out, "search:slot:{slot}"),
            Fragment::AuthorPage(digest) => write!(out, "author:{}", hex(digest)),
            Fragment::CatalogueSorted { sort, page } => {
                write!(out, "books:{}:page:{page}", sort.as_str())
            }
            Fragment::CatalogueSortedJson { sort, page } => {
                write!(out, "api:books:{}:page:{page}", sort.as_str())
            }
            Fragment::SampleJson => out.write_str("api:sample:first-1000"),
            // Made without a template: a version of their format instead.
            Fragment::RobotsTxt => out.write_str("robots.txt:f1"),
            Fragment::SitemapIndex => out.write_str("sitemap:index:f1"),
            Fragment::Sitemap(n) => write!(out, "sitemap:{n}:f1"),
        };
        if let Some(digest) = self.template().and_then(template_digest) {
            out.push_str(":t");
            out.push_str(digest);
        }
    }

    pub fn ttl(&self, ttls: &Ttls) -> Duration {
        match self {
            Fragment::ChartRanking | Fragment::HomePage | Fragment::TopBooksJson => ttls.top_books,
            Fragment::SampleList | Fragment::SampleJson => ttls.sample,
            Fragment::RobotsTxt => ROBOTS_TTL,
            Fragment::CataloguePage(_)
            | Fragment::CatalogueSortedJson { .. }
            | Fragment::SitemapIndex
            | Fragment::Sitemap(_)
            | Fragment::CatalogueJson(_)
            | Fragment::BookPage(_)
            | Fragment::BookJson(_)
            | Fragment::AuthorPage(_)
            | Fragment::CatalogueSorted { .. } => PAGE_TTL,
            Fragment::BookRow { .. } => ROW_TTL,
            Fragment::SearchResults { .. } => SEARCH_TTL,
        }
    }

    /// Whether the fragment is sent whole as a public response, so that it
    /// is worth keeping compressed copies of (a book page gets the reader's
    /// form token filled in; rows and the ranking are parts of pages).
    pub fn precompressed(&self) -> bool {
        match self {
            Fragment::HomePage
            | Fragment::TopBooksJson
            | Fragment::CataloguePage(_)
            | Fragment::CatalogueJson(_)
            | Fragment::BookJson(_)
            | Fragment::SampleList
            | Fragment::CatalogueSorted { .. }
            | Fragment::AuthorPage(_)
            | Fragment::SearchResults { .. }
            | Fragment::CatalogueSortedJson { .. }
            | Fragment::SampleJson
            | Fragment::RobotsTxt
            | Fragment::SitemapIndex
            | Fragment::Sitemap(_) => true,
            Fragment::ChartRanking | Fragment::BookPage(_) | Fragment::BookRow { .. } => false,
        }
    }

    /// The tags known before computing. The chart pages add the tags of the
    /// books on the chart while they compute (see the table above).
    pub fn depends_on(&self) -> Vec<Tag> {
        match self {
            Fragment::ChartRanking | Fragment::HomePage | Fragment::TopBooksJson => {
                vec![Tag::All, Tag::Chart]
            }
            Fragment::CataloguePage(_)
            | Fragment::CatalogueJson(_)
            | Fragment::SampleList
            | Fragment::SearchResults { .. }
            | Fragment::AuthorPage(_)
            | Fragment::SampleJson
            | Fragment::SitemapIndex
            | Fragment::Sitemap(_) => vec![Tag::All, Tag::Books],
            Fragment::CatalogueSorted {
                sort: CatalogueSort::Rating,
                ..
            }
            | Fragment::CatalogueSortedJson {
                sort: CatalogueSort::Rating,
                ..
            } => vec![Tag::All, Tag::Books, Tag::AnyRatings],
            Fragment::CatalogueSorted { .. } | Fragment::CatalogueSortedJson { .. } => {
                vec![Tag::All, Tag::Books]
            }
            Fragment::RobotsTxt => vec![Tag::All],
            Fragment::BookPage(id) | Fragment::BookJson(id) => {
                vec![Tag::All, Tag::Book(*id), Tag::Ratings(*id)]
            }
            Fragment::BookRow { .. } => Vec::new(),
        }
    }

    /// The surrogate keys of the fragment's response (`src/edge/`): what it
    /// depends on, known before computing. The chart pages' per-book tags
    /// are learnt while computing, so they carry `books` instead, which
    /// every write of a book touches as well.
    pub fn edge_keys(&self) -> Vec<Tag> {
        let mut keys = self.depends_on();
        if matches!(self, Fragment::HomePage | Fragment::TopBooksJson) {
            keys.push(Tag::Books);
        }
        keys
    }
}

/// A change the database recorded (a `cache_changes.subject`), whoever made
/// it; see the table above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// A book inserted or updated.
    BookWritten(i32),
    /// A deleted book leaves the chart, so the ranking is recomputed.
    BookDeleted(i32),
    /// A book's ratings changed. They show on its page at once; the monthly
    /// chart waits for its TTL or an admin's "recompute now".
    Ratings(i32),
    ChartRecompute,
    /// Too much changed to name: everything is recomputed.
    Everything,
}

impl Change {
    pub fn touches(&self) -> Vec<Tag> {
        match *self {
            Change::BookWritten(id) => vec![Tag::Books, Tag::Book(id)],
            Change::BookDeleted(id) => {
                vec![Tag::Books, Tag::Book(id), Tag::Ratings(id), Tag::Chart]
            }
            Change::Ratings(book_id) => vec![Tag::Ratings(book_id), Tag::AnyRatings],
            Change::ChartRecompute => vec![Tag::Chart],
            Change::Everything => vec![Tag::All],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_per_fragment() {
        let all = [
            Fragment::ChartRanking,
            Fragment::HomePage,
            Fragment::TopBooksJson,
            Fragment::CataloguePage(1),
            Fragment::CataloguePage(2),
            Fragment::CatalogueJson(1),
            Fragment::BookPage(1),
            Fragment::BookJson(1),
            Fragment::SampleList,
            Fragment::BookRow { id: 1, version: 5 },
            Fragment::BookRow { id: 1, version: 6 },
            Fragment::SearchResults { slot: 0 },
            Fragment::SearchResults { slot: 1 },
            Fragment::AuthorPage(author_digest("Jane Austen")),
            Fragment::AuthorPage(author_digest("Jane Austin")),
            Fragment::CatalogueSorted {
                sort: CatalogueSort::Author,
                page: 1,
            },
            Fragment::CatalogueSorted {
                sort: CatalogueSort::Rating,
                page: 1,
            },
            Fragment::CatalogueSortedJson {
                sort: CatalogueSort::Rating,
                page: 1,
            },
            Fragment::SampleJson,
            Fragment::RobotsTxt,
            Fragment::SitemapIndex,
            Fragment::Sitemap(1),
            Fragment::Sitemap(2),
        ];
        let keys: std::collections::HashSet<String> = all.iter().map(Fragment::key).collect();
        assert_eq!(keys.len(), all.len());
        for f in all {
            assert_eq!(FRAGMENT_NAMES[f.kind_index()], f.name());
            let digested = f
                .key()
                .rsplit_once(':')
                .is_some_and(|(_, last)| last.len() == 13 && last.starts_with('t'));
            assert_eq!(f.template().is_some(), digested, "{f:?}");
        }
    }

    #[test]
    fn tag_keys_outlive_every_entry_and_its_grace() {
        let ttls = Ttls {
            top_books: Duration::from_secs(30 * 24 * 3600),
            sample: Duration::from_secs(300),
            grace: DEFAULT_GRACE,
        };
        for f in [
            Fragment::ChartRanking,
            Fragment::SampleList,
            Fragment::BookPage(1),
        ] {
            assert!(tag_ttl(&ttls) > f.ttl(&ttls) + ttls.grace, "{f:?}");
        }
        assert!(DEFAULT_GRACE >= Duration::from_secs(24 * 3600));
    }

    #[test]
    fn tags_round_trip_through_text() {
        for tag in [
            Tag::Chart,
            Tag::Books,
            Tag::All,
            Tag::Book(42),
            Tag::Ratings(7),
            Tag::AnyRatings,
        ] {
            assert_eq!(Tag::parse(&tag.to_string()), Some(tag));
        }
        assert_eq!(Tag::parse("book:0"), None);
        assert_eq!(Tag::parse("book:x"), None);
        assert_eq!(Tag::parse("nope"), None);
    }

    #[test]
    fn change_subjects_round_trip_and_unknown_ones_mean_everything() {
        for change in [
            Change::BookWritten(3),
            Change::BookDeleted(3),
            Change::Ratings(9),
            Change::ChartRecompute,
            Change::Everything,
        ] {
            assert_eq!(Change::parse(&change.subject()), change);
        }
        assert_eq!(Change::parse("authors:3"), Change::Everything);
        assert_eq!(Change::parse("book:x"), Change::Everything);
    }

    #[test]
    fn everything_reaches_every_tagged_fragment() {
        let all = Change::Everything.touches();
        for f in [
            Fragment::ChartRanking,
            Fragment::HomePage,
            Fragment::TopBooksJson,
            Fragment::CataloguePage(1),
            Fragment::CatalogueJson(1),
            Fragment::BookPage(1),
            Fragment::BookJson(1),
            Fragment::SampleList,
            Fragment::SampleJson,
            Fragment::SitemapIndex,
            Fragment::Sitemap(1),
            Fragment::CatalogueSortedJson {
                sort: CatalogueSort::Year,
                page: 1,
            },
            Fragment::SearchResults { slot: 3 },
            Fragment::AuthorPage(author_digest("Jane Austen")),
            Fragment::SampleJson,
            Fragment::RobotsTxt,
            Fragment::SitemapIndex,
            Fragment::Sitemap(1),
        ] {
            assert!(f.depends_on().iter().any(|t| all.contains(t)), "{f:?}");
        }
    }

    #[test]
    fn every_change_that_reaches_a_page_purges_it_at_the_edge() {
        let changes = [
            Change::BookWritten(7),
            Change::BookDeleted(7),
            Change::Ratings(7),
            Change::ChartRecompute,
            Change::Everything,
        ];
        let pages = [
            Fragment::HomePage,
            Fragment::TopBooksJson,
            Fragment::CataloguePage(2),
            Fragment::CatalogueJson(2),
            Fragment::BookPage(7),
            Fragment::BookJson(7),
            Fragment::SampleList,
        ];
        for change in changes {
            let touched = change.touches();
            for page in pages {
                // What the page depends on once computed: book 7 on the chart.
                let mut depends = page.depends_on();
                if matches!(page, Fragment::HomePage | Fragment::TopBooksJson) {
                    depends.extend([Tag::Book(7)]);
                }
                if depends.iter().any(|t| touched.contains(t)) {
                    assert!(
                        page.edge_keys().iter().any(|t| touched.contains(t)),
                        "{change:?} must purge {page:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_write_reaches_the_fragments_that_show_it() {
        // A title edit must reach the book's pages and the catalogue.
        let touched = Change::BookWritten(7).touches();
        for f in [
            Fragment::BookPage(7),
            Fragment::BookJson(7),
            Fragment::CataloguePage(3),
            Fragment::SampleList,
            Fragment::SampleJson,
            Fragment::SitemapIndex,
            Fragment::Sitemap(1),
            Fragment::SearchResults { slot: 3 },
            Fragment::AuthorPage(author_digest("Jane Austen")),
        ] {
            assert!(f.depends_on().iter().any(|t| touched.contains(t)), "{f:?}");
        }
        // A deletion too: the sitemaps drop the book.
        let deleted = Change::BookDeleted(7).touches();
        for f in [Fragment::SitemapIndex, Fragment::Sitemap(1)] {
            assert!(f.depends_on().iter().any(|t| deleted.contains(t)), "{f:?}");
        }
        // A rating must not rerun the monthly chart.
        let rating = Change::Ratings(7).touches();
        assert!(!rating.contains(&Tag::Chart));
        for f in [
            Fragment::BookPage(7),
            Fragment::BookJson(7),
            Fragment::CatalogueSorted {
                sort: CatalogueSort::Rating,
                page: 2,
            },
        ] {
            assert!(f.depends_on().iter().any(|t| rating.contains(t)), "{f:?}");
        }
        // ... and leaves the other orders alone.
        let by_author = Fragment::CatalogueSorted {
            sort: CatalogueSort::Author,
            page: 2,
        };
        assert!(!by_author.depends_on().iter().any(|t| rating.contains(t)));
    }

    #[test]
    fn search_slots_stay_in_bounds_and_markers_name_one_query() {
        let mut used = std::collections::HashSet::new();
        for i in 0..5_000 {
            let slot = search_slot(&format!("random query {i}"), 64);
            assert!(slot < 64);
            used.insert(slot);
        }
        // The hash spreads queries over every slot.
        assert_eq!(used.len(), 64);
        assert_eq!(
            search_slot("the hobbit", 1024),
            search_slot("the hobbit", 1024)
        );
        assert_eq!(search_marker("the hobbit"), search_marker("the hobbit"));
        assert_ne!(search_marker("the hobbit"), search_marker("the hobbi"));
    }
}
