//! Rows as diesel reads and writes them, and the shapes the pages need.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::schema::{books, ratings};
use crate::domain::{BookForm, BookFormInput};

#[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[diesel(table_name = books)]
pub struct Book {
    pub id: i32,
    pub title: String,
    pub author: String,
    pub isbn: Option<String>,
    pub description: String,
    pub published_year: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The row's version, set by the database on every write.
    pub version: i64,
}

#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = books)]
pub struct NewBook {
    pub title: String,
    pub author: String,
    pub isbn: Option<String>,
    pub description: String,
    pub published_year: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewBook {
    /// The book a valid form describes, as of `now`.
    pub(crate) fn from_form(form: BookForm, now: NaiveDateTime) -> Self {
        Self {
            title: form.title,
            author: form.author,
            isbn: form.isbn.map(|i| i.as_str().to_owned()),
            description: form.description,
            published_year: form.published_year,
            created_at: now,
            updated_at: now,
        }
    }
}

/// No optional fields: `treat_none_as_default_value = false` changes nothing
/// but lets `PostgreSQL`'s `COPY` take these rows (`db::bulk_load`).
#[derive(Insertable, Debug, Clone, Copy)]
#[diesel(table_name = ratings, treat_none_as_default_value = false)]
pub struct NewRating {
    pub book_id: i32,
    pub stars: i32,
    pub created_at: NaiveDateTime,
}

/// The edit form, filled with a book as it is.
impl From<Book> for BookFormInput {
    fn from(book: Book) -> Self {
        Self {
            title: Some(book.title),
            author: Some(book.author),
            isbn: book.isbn,
            description: Some(book.description),
            published_year: book.published_year.map(|y| y.to_string()),
            csrf_token: None,
        }
    }
}

/// What a catalogue row shows.
#[derive(
    Queryable, Selectable, QueryableByName, Debug, Clone, PartialEq, Serialize, Deserialize,
)]
#[diesel(table_name = books)]
pub(crate) struct BookListItem {
    pub(crate) id: i32,
    pub(crate) title: String,
    pub(crate) author: String,
    pub(crate) isbn: Option<String>,
    pub(crate) published_year: Option<i32>,
    pub(crate) updated_at: NaiveDateTime,
    /// The row's version (set by the database on every write, whoever
    /// writes), for keys of fragments that show it.
    pub(crate) version: i64,
}

/// A book's ratings, all time and in the chart's window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RatingSummary {
    pub(crate) count: i64,
    pub(crate) avg_stars: Option<f64>,
    /// How many ratings gave 1, 2, 3, 4 and 5 stars.
    pub(crate) by_stars: [i64; 5],
    pub(crate) last_30_days: i64,
}

/// One line of the chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartEntry {
    pub id: i32,
    pub title: String,
    pub author: String,
    pub ratings: i64,
    pub avg_stars: f64,
}

/// The chart's ranking alone: what the expensive query yields. Titles are
/// joined in afterwards, so a title edit never reruns this query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ChartRank {
    pub(crate) book_id: i32,
    pub(crate) ratings: i64,
    pub(crate) stars_sum: i64,
}

impl ChartRank {
    pub(crate) fn avg_stars(&self) -> f64 {
        average_stars(self.stars_sum, self.ratings).unwrap_or(0.0)
    }
}

/// The average of `count` ratings that sum to `sum` stars, to two decimals
/// (none without ratings).
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
pub(crate) fn average_stars(sum: i64, count: i64) -> Option<f64> {
    if count <= 0 {
        return None;
    }
    let avg = sum as f64 / count as f64;
    Some((avg * 100.0).round() / 100.0)
}
