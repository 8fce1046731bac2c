//! Queries on books and ratings, written once for both backends.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::{count_star, sum};
use diesel::prelude::*;

use super::models::{average_stars, Book, BookListItem, ChartEntry, ChartRank, RatingSummary};
use super::schema::{books, ratings};
use super::{DataError, DbConn};

/// How many books the chart shows.
pub(crate) const CHART_SIZE: i64 = 10;
/// The chart counts ratings younger than this.
pub(crate) const CHART_WINDOW: TimeDelta = TimeDelta::days(30);

/// The chart, the one definition used everywhere: the books with the most
/// ratings created in the 30 days before `now`; ties go to the higher average
/// of those ratings, then to the lower book id.
///
/// Within equal counts a higher sum of stars is a higher average, so the
/// order uses integer sums: exact, and the same on `SQLite` and `PostgreSQL`.
pub(crate) fn chart_ranking(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> Result<Vec<ChartRank>, DataError> {
    let since = now - CHART_WINDOW;
    let rows: Vec<(i32, i64, Option<i64>)> = ratings::table
        .filter(ratings::created_at.ge(since))
        .filter(ratings::created_at.le(now))
        .group_by(ratings::book_id)
        .select((ratings::book_id, count_star(), sum(ratings::stars)))
        .order_by((
            count_star().desc(),
            sum(ratings::stars).desc(),
            ratings::book_id.asc(),
        ))
        .limit(CHART_SIZE)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(book_id, ratings, stars_sum)| ChartRank {
            book_id,
            ratings,
            stars_sum: stars_sum.unwrap_or(0),
        })
        .collect())
}

/// Joins titles and authors to a ranking; books deleted since are skipped.
pub(crate) fn chart_entries(
    conn: &mut DbConn,
    ranking: &[ChartRank],
) -> Result<Vec<ChartEntry>, DataError> {
    let ids: Vec<i32> = ranking.iter().map(|r| r.book_id).collect();
    let found = books_by_ids(conn, &ids)?;
    Ok(ranking
        .iter()
        .filter_map(|rank| {
            let book = found.iter().find(|b| b.id == rank.book_id)?;
            Some(ChartEntry {
                id: book.id,
                title: book.title.clone(),
                author: book.author.clone(),
                ratings: rank.ratings,
                avg_stars: rank.avg_stars(),
            })
        })
        .collect())
}

/// The chart computed from scratch: the expensive path.
pub fn top_books(conn: &mut DbConn, now: NaiveDateTime) -> Result<Vec<ChartEntry>, DataError> {
    let ranking = chart_ranking(conn, now)?;
    chart_entries(conn, &ranking)
}

pub(crate) fn books_by_ids(conn: &mut DbConn, ids: &[i32]) -> Result<Vec<Book>, DataError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(books::table
        .filter(books::id.eq_any(ids.to_vec()))
        .select(Book::as_select())
        .load(conn)?)
}

pub fn count_books(conn: &mut DbConn) -> Result<i64, DataError> {
    Ok(books::table.count().get_result(conn)?)
}

pub(crate) fn count_ratings(conn: &mut DbConn) -> Result<i64, DataError> {
    Ok(ratings::table.count().get_result(conn)?)
}

/// One catalogue page (1-based), ordered by title as a library files it
/// (no leading The/A/An, any case: `books.sort_title`), then id.
pub(crate) fn catalogue_page(
    conn: &mut DbConn,
    page: u32,
    per_page: u32,
) -> Result<Vec<BookListItem>, DataError> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    Ok(books::table
        .order_by((books::sort_title.asc(), books::id.asc()))
        .limit(i64::from(per_page))
        .offset(offset)
        .select(BookListItem::as_select())
        .load(conn)?)
}

/// The first `n` books by id: the tutorial's sample list.
pub(crate) fn first_books(conn: &mut DbConn, n: i64) -> Result<Vec<BookListItem>, DataError> {
    Ok(books::table
        .order_by(books::id.asc())
        .limit(n)
        .select(BookListItem::as_select())
        .load(conn)?)
}

pub fn find_book(conn: &mut DbConn, id: i32) -> Result<Option<Book>, DataError> {
    Ok(books::table
        .find(id)
        .select(Book::as_select())
        .first(conn)
        .optional()?)
}

/// Whether a book with this id exists (one index lookup).
pub(crate) fn book_exists(conn: &mut DbConn, id: i32) -> Result<bool, DataError> {
    Ok(diesel::select(diesel::dsl::exists(books::table.find(id))).get_result(conn)?)
}

pub(crate) fn rating_summary(
    conn: &mut DbConn,
    book_id: i32,
    now: NaiveDateTime,
) -> Result<RatingSummary, DataError> {
    let by_stars: Vec<(i32, i64)> = ratings::table
        .filter(ratings::book_id.eq(book_id))
        .group_by(ratings::stars)
        .select((ratings::stars, count_star()))
        .load(conn)?;
    let last_30_days: i64 = ratings::table
        .filter(ratings::book_id.eq(book_id))
        .filter(ratings::created_at.ge(now - CHART_WINDOW))
        .count()
        .get_result(conn)?;

    let mut summary = RatingSummary {
        last_30_days,
        ..RatingSummary::default()
    };
    let mut stars_sum = 0;
    for (stars, n) in by_stars {
        if let Some(slot) = usize::try_from(stars - 1)
            .ok()
            .and_then(|i| summary.by_stars.get_mut(i))
        {
            *slot = n;
        }
        summary.count += n;
        stars_sum += i64::from(stars) * n;
    }
    summary.avg_stars = average_stars(stars_sum, summary.count);
    Ok(summary)
}

/// The stars `reader` gave the book, if any (the partial unique index).
pub(crate) fn reader_rating(
    conn: &mut DbConn,
    book_id: i32,
    reader: &str,
) -> Result<Option<i32>, DataError> {
    Ok(ratings::table
        .filter(ratings::book_id.eq(book_id))
        .filter(ratings::reader.eq(reader))
        .select(ratings::stars)
        .first(conn)
        .optional()?)
}

/// The newest books first (the admin dashboard).
pub(crate) fn recent_books(conn: &mut DbConn, n: i64) -> Result<Vec<BookListItem>, DataError> {
    Ok(books::table
        .order_by((books::created_at.desc(), books::id.desc()))
        .limit(n)
        .select(BookListItem::as_select())
        .load(conn)?)
}

pub(crate) fn count_ratings_since(
    conn: &mut DbConn,
    since: NaiveDateTime,
) -> Result<i64, DataError> {
    Ok(ratings::table
        .filter(ratings::created_at.ge(since))
        .count()
        .get_result(conn)?)
}
