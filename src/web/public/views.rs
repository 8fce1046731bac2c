//! The readers' templates' data. Every page extends `templates/base.html`; askama
//! escapes every value, so a title like `<script>` shows as text.

use askama::Template;

use crate::auth::session::Flash;
use crate::catalogue::{BookDetail, CataloguePage};
use crate::db::models::{BookListItem, ChartEntry};
use crate::domain::CatalogueSort;

/// "★★★★☆" for an average of stars, rounded to the nearest whole star.
#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "askama passes template values by reference"
)]
pub(crate) fn star_bar(avg: &f64) -> String {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to 0..=5 first"
    )]
    let full = avg.round().clamp(0.0, 5.0) as usize;
    format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage<'a> {
    pub(crate) chart: &'a [ChartEntry],
    /// Says whether this copy came through the cache, for the comparison page.
    pub(crate) uncached: bool,
}

#[derive(Template)]
#[template(path = "books.html")]
pub(crate) struct BooksPage<'a> {
    pub(crate) page: &'a CataloguePage,
    /// Each book's row, rendered (and cached) on its own: `book_row.html`.
    pub(crate) rows: Vec<&'a str>,
    pub(crate) sort: CatalogueSort,
}

#[derive(Template)]
#[template(path = "book_row.html")]
pub(crate) struct BookRow<'a> {
    pub(crate) book: &'a BookListItem,
}

impl BooksPage<'_> {
    /// The row number of the first book on this page.
    pub(crate) fn first_row(&self) -> u64 {
        u64::from(self.page.page - 1) * u64::from(self.page.per_page) + 1
    }
}

#[derive(Template)]
#[template(path = "book.html")]
pub(crate) struct BookPage<'a> {
    pub(crate) detail: &'a BookDetail,
}

impl BookPage<'_> {
    /// Width (percent) of each star row's bar, 5 stars first.
    pub(crate) fn histogram(&self) -> Vec<(usize, i64, u32)> {
        let summary = &self.detail.ratings;
        let most = summary.by_stars.iter().copied().max().unwrap_or(0).max(1);
        (1..=5)
            .rev()
            .map(|stars| {
                let n = summary.by_stars[stars - 1];
                // In steps of 5%, one CSS class each: the page has no
                // inline style for the CSP to allow.
                let percent = ((n * 20 + most / 2) / most) * 5;
                (stars, n, u32::try_from(percent).unwrap_or(0))
            })
            .collect()
    }
}

/// The reader's own rating, in their copy of a book page only.
#[derive(Template)]
#[template(path = "your_rating.html")]
pub(crate) struct YourRating {
    pub(crate) stars: i32,
}

impl YourRating {
    pub(crate) fn bar(&self) -> String {
        star_bar(&f64::from(self.stars))
    }
}

/// A signed-in admin's links on a book page (never in a shared entry).
#[derive(Template)]
#[template(path = "admin_book_links.html")]
pub(crate) struct AdminBookLinks {
    pub(crate) id: i32,
}

#[derive(Template)]
#[template(path = "sample.html")]
pub(crate) struct SamplePage<'a> {
    pub(crate) books: &'a [BookListItem],
    pub(crate) cached_for_secs: Option<u64>,
}

#[derive(Template)]
#[template(path = "flash.html")]
pub(crate) struct FlashView<'a> {
    pub(crate) flash: &'a Flash,
}
