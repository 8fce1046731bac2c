//! The admin's templates' data (`templates/admin/`); askama escapes every
//! value.

use askama::Template;

use crate::auth::session::Flash;
use crate::catalogue::import::ImportReport;
use crate::db::models::{Book, BookListItem};
use crate::domain::{BookFormInput, CatalogueSort, FieldErrors};
use crate::web::url::url_encode;

/// What every admin page shows around its content.
pub(crate) struct AdminChrome {
    pub(crate) email: String,
    pub(crate) csrf_token: String,
    pub(crate) flash: Option<Flash>,
}

#[derive(Template)]
#[template(path = "admin/login.html")]
pub(crate) struct LoginPage<'a> {
    pub(crate) csrf_token: &'a str,
    pub(crate) email: &'a str,
    pub(crate) error: Option<&'a str>,
    pub(crate) notice: Option<&'a str>,
    /// Where sign-in goes next (a hidden field unless the dashboard).
    pub(crate) next: &'a crate::domain::ReturnPath,
}

#[derive(Template)]
#[template(path = "admin/logout.html")]
pub(crate) struct LogoutPage {
    pub(crate) chrome: AdminChrome,
}

pub(crate) struct DashboardStats {
    pub(crate) books: i64,
    pub(crate) ratings: i64,
    pub(crate) ratings_30_days: i64,
    pub(crate) chart_ttl_days: u64,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub(crate) struct DashboardPage {
    pub(crate) chrome: AdminChrome,
    pub(crate) stats: DashboardStats,
    pub(crate) recent: Vec<BookListItem>,
}

#[derive(Template)]
#[template(path = "admin/books.html")]
pub(crate) struct AdminBooksPage<'a> {
    pub(crate) chrome: AdminChrome,
    /// The search as typed (empty: the whole catalogue).
    pub(crate) query: &'a str,
    pub(crate) searching: bool,
    pub(crate) sort: CatalogueSort,
    pub(crate) listing: crate::catalogue::finder::AdminListing,
}

impl AdminBooksPage<'_> {
    /// The list's page `n`, keeping the search or the order.
    pub(crate) fn href(query: &str, sort: CatalogueSort, n: u32) -> String {
        if query.is_empty() {
            format!("/admin/books{}page={n}", sort.query_prefix())
        } else {
            let q = url_encode(query);
            format!("/admin/books?q={q}&page={n}")
        }
    }

    /// (Askama passes some numbers by reference, some by value.)
    pub(crate) fn page_href(&self, n: impl std::borrow::Borrow<u32>) -> String {
        Self::href(self.query, self.sort, *n.borrow())
    }

    /// The row number of the first book on this page.
    pub(crate) fn first_row(&self) -> u64 {
        u64::from(self.listing.page - 1) * u64::from(crate::catalogue::PER_PAGE) + 1
    }
}

#[derive(Template)]
#[template(path = "admin/book_form.html")]
pub(crate) struct BookFormPage<'a> {
    pub(crate) chrome: AdminChrome,
    pub(crate) heading: &'a str,
    pub(crate) action: String,
    pub(crate) input: &'a BookFormInput,
    pub(crate) errors: &'a FieldErrors,
    pub(crate) book_id: Option<i32>,
}

#[derive(Template)]
#[template(path = "admin/delete.html")]
pub(crate) struct DeletePage<'a> {
    pub(crate) chrome: AdminChrome,
    pub(crate) book: &'a Book,
}

pub(crate) struct FragmentRow {
    pub(crate) name: &'static str,
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) stale: u64,
    pub(crate) errors: u64,
    pub(crate) computes: u64,
    pub(crate) useless: u64,
    pub(crate) hit_ratio: String,
}

#[derive(Template)]
#[template(path = "admin/cache.html")]
pub(crate) struct CachePage {
    pub(crate) chrome: AdminChrome,
    pub(crate) feed: FeedView,
    pub(crate) backend: &'static str,
    pub(crate) breaker: &'static str,
    pub(crate) local: Option<String>,
    pub(crate) fragments: Vec<FragmentRow>,
    /// (key, time to live, bytes)
    pub(crate) keys: Vec<(String, String, u64)>,
    /// (key, fragment, how long it lived, why it was useless)
    pub(crate) useless: Vec<(String, &'static str, String, &'static str)>,
}

/// The change feed's state, as the admin's cache page shows it.
pub(crate) struct FeedView {
    pub(crate) status: &'static str,
    pub(crate) last_change: String,
    pub(crate) last_lag: String,
    pub(crate) since_success: String,
    pub(crate) applied: u64,
    pub(crate) coalesced: u64,
    pub(crate) failures: u64,
}

/// "3 d 4 h", "12 min", "40 s": how long, for people.
pub(crate) fn human_duration(d: Option<std::time::Duration>) -> String {
    let Some(d) = d else { return "–".into() };
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// The most books of each kind the import's report names (the counts are
/// whole).
const LISTED: usize = 500;

#[derive(Template)]
#[template(path = "admin/import.html")]
pub(crate) struct ImportPage<'a> {
    pub(crate) chrome: AdminChrome,
    pub(crate) error: Option<&'a str>,
    pub(crate) report: Option<&'a ImportReport>,
    pub(crate) upload_limit_mib: usize,
}

impl ImportPage<'_> {
    #[expect(clippy::unused_self, reason = "the template calls it as a method")]
    pub(crate) fn listed<'r>(&self, rows: &'r [(u64, String)]) -> &'r [(u64, String)] {
        &rows[..rows.len().min(LISTED)]
    }

    #[expect(clippy::unused_self, reason = "the template calls it as a method")]
    pub(crate) fn more(&self, rows: &[(u64, String)]) -> usize {
        rows.len().saturating_sub(LISTED)
    }
}
