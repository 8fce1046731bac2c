//! The templates' data. Every page extends `templates/base.html`; askama
//! escapes every value, so a title like `<script>` shows as text.

use actix_web::http::StatusCode;
use askama::Template;

use crate::auth::session::Flash;
use crate::catalogue::{BookDetail, CataloguePage};
use crate::db::models::{Book, BookListItem, ChartEntry};
use crate::domain::{BookFormInput, CatalogueSort, FieldErrors};

/// "★★★★☆" for an average of stars, rounded to the nearest whole star.
pub fn star_bar(avg: &f64) -> String {
    let full = avg.round().clamp(0.0, 5.0) as usize;
    format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    pub chart: &'a [ChartEntry],
    /// Says whether this copy came through the cache, for the comparison page.
    pub uncached: bool,
}

#[derive(Template)]
#[template(path = "books.html")]
pub struct BooksPage<'a> {
    pub page: &'a CataloguePage,
    /// Each book's row, rendered (and cached) on its own: `book_row.html`.
    pub rows: Vec<&'a str>,
    pub sort: CatalogueSort,
}

#[derive(Template)]
#[template(path = "book_row.html")]
pub struct BookRow<'a> {
    pub book: &'a BookListItem,
}

impl BooksPage<'_> {
    /// The row number of the first book on this page.
    pub fn first_row(&self) -> u64 {
        u64::from(self.page.page - 1) * u64::from(self.page.per_page) + 1
    }
}

#[derive(Template)]
#[template(path = "book.html")]
pub struct BookPage<'a> {
    pub detail: &'a BookDetail,
}

impl BookPage<'_> {
    /// Width (percent) of each star row's bar, 5 stars first.
    pub fn histogram(&self) -> Vec<(usize, i64, u32)> {
        let summary = &self.detail.ratings;
        let most = summary.by_stars.iter().copied().max().unwrap_or(0).max(1);
        (1..=5)
            .rev()
            .map(|stars| {
                let n = summary.by_stars[stars - 1];
                // In steps of 5%, one CSS class each: the page has no
                // inline style for the CSP to allow.
                (stars, n, (((n * 20 + most / 2) / most) * 5) as u32)
            })
            .collect()
    }
}

/// The reader's own rating, in their copy of a book page only.
#[derive(Template)]
#[template(path = "your_rating.html")]
pub struct YourRating {
    pub stars: i32,
}

impl YourRating {
    pub fn bar(&self) -> String {
        star_bar(&f64::from(self.stars))
    }
}

/// A signed-in admin's links on a book page (never in a shared entry).
#[derive(Template)]
#[template(path = "admin_book_links.html")]
pub struct AdminBookLinks {
    pub id: i32,
}

#[derive(Template)]
#[template(path = "sample.html")]
pub struct SamplePage<'a> {
    pub books: &'a [BookListItem],
    pub cached_for_secs: Option<u64>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub reason: &'a str,
    pub message: &'a str,
    /// A way on: (href, text).
    pub link: Option<(&'a str, &'a str)>,
}

impl<'a> ErrorPage<'a> {
    pub fn new(status: StatusCode, message: &'a str) -> Self {
        Self {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message,
            link: None,
        }
    }

    /// The page's heading: what happened, in a reader's words.
    pub fn heading(&self) -> &str {
        match self.status {
            400 => "This address is not quite right",
            403 => "This form has expired",
            404 => "We could not find that",
            405 => "This page cannot do that",
            429 => "Too many requests",
            503 => "Back in a moment",
            _ => self.reason,
        }
    }

    /// The page, or plain text should the template itself fail.
    pub fn render_or_plain(&self) -> String {
        self.render()
            .unwrap_or_else(|_| format!("{} {}: {}", self.status, self.reason, self.message))
    }
}

/// What every admin page shows around its content.
pub struct AdminChrome {
    pub email: String,
    pub csrf_token: String,
    pub flash: Option<Flash>,
}

#[derive(Template)]
#[template(path = "flash.html")]
pub struct FlashView<'a> {
    pub flash: &'a Flash,
}

#[derive(Template)]
#[template(path = "admin/login.html")]
pub struct LoginPage<'a> {
    pub csrf_token: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// Where sign-in goes next (a hidden field unless the dashboard).
    pub next: &'a crate::domain::ReturnPath,
}

#[derive(Template)]
#[template(path = "admin/logout.html")]
pub struct LogoutPage {
    pub chrome: AdminChrome,
}

pub struct DashboardStats {
    pub books: i64,
    pub ratings: i64,
    pub ratings_30_days: i64,
    pub chart_ttl_days: u64,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage {
    pub chrome: AdminChrome,
    pub stats: DashboardStats,
    pub recent: Vec<BookListItem>,
}

#[derive(Template)]
#[template(path = "admin/books.html")]
pub struct AdminBooksPage<'a> {
    pub chrome: AdminChrome,
    /// The search as typed (empty: the whole catalogue).
    pub query: &'a str,
    pub searching: bool,
    pub sort: CatalogueSort,
    pub listing: crate::catalogue::finder::AdminListing,
}

impl AdminBooksPage<'_> {
    /// The list's page `n`, keeping the search or the order.
    pub fn href(query: &str, sort: CatalogueSort, n: u32) -> String {
        if query.is_empty() {
            format!("/admin/books{}page={n}", sort.query_prefix())
        } else {
            let q = crate::web::browse::url_encode(query);
            format!("/admin/books?q={q}&page={n}")
        }
    }

    /// (Askama passes some numbers by reference, some by value.)
    pub fn page_href(&self, n: impl std::borrow::Borrow<u32>) -> String {
        Self::href(self.query, self.sort, *n.borrow())
    }

    /// The row number of the first book on this page.
    pub fn first_row(&self) -> u64 {
        u64::from(self.listing.page - 1) * u64::from(crate::catalogue::PER_PAGE) + 1
    }
}

#[derive(Template)]
#[template(path = "admin/book_form.html")]
pub struct BookFormPage<'a> {
    pub chrome: AdminChrome,
    pub heading: &'a str,
    pub action: String,
    pub input: &'a BookFormInput,
    pub errors: &'a FieldErrors,
    pub book_id: Option<i32>,
}

#[derive(Template)]
#[template(path = "admin/delete.html")]
pub struct DeletePage<'a> {
    pub chrome: AdminChrome,
    pub book: &'a Book,
}

pub struct FragmentRow {
    pub name: &'static str,
    pub hits: u64,
    pub misses: u64,
    pub stale: u64,
    pub errors: u64,
    pub computes: u64,
    pub useless: u64,
    pub hit_ratio: String,
}

#[derive(Template)]
#[template(path = "admin/cache.html")]
pub struct CachePage {
    pub chrome: AdminChrome,
    pub feed: FeedView,
    pub backend: &'static str,
    pub breaker: &'static str,
    pub local: Option<String>,
    pub fragments: Vec<FragmentRow>,
    /// (key, time to live, bytes)
    pub keys: Vec<(String, String, u64)>,
    /// (key, fragment, how long it lived, why it was useless)
    pub useless: Vec<(String, &'static str, String, &'static str)>,
}

/// The change feed's state, as the admin's cache page shows it.
pub struct FeedView {
    pub status: &'static str,
    pub last_change: String,
    pub last_lag: String,
    pub since_success: String,
    pub applied: u64,
    pub coalesced: u64,
    pub failures: u64,
}

/// "3 d 4 h", "12 min", "40 s": how long, for people.
pub fn human_duration(d: Option<std::time::Duration>) -> String {
    let Some(d) = d else { return "–".into() };
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}
