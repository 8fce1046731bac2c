//! Browsing queries: an author's books, and where a letter starts in the
//! catalogue's order (`books.sort_title`).

use diesel::prelude::*;

use super::models::BookListItem;
use super::schema::books;
use super::{DataError, DbConn};

/// The author's books in catalogue order (at most `limit`), and how many
/// there are in all.
pub fn books_by_author(
    conn: &mut DbConn,
    author: &str,
    limit: i64,
) -> Result<(i64, Vec<BookListItem>), DataError> {
    let total: i64 = books::table
        .filter(books::author.eq(author))
        .count()
        .get_result(conn)?;
    let books = books::table
        .filter(books::author.eq(author))
        .order_by((books::sort_title.asc(), books::id.asc()))
        .limit(limit)
        .select(BookListItem::as_select())
        .load(conn)?;
    Ok((total, books))
}

/// How many books file before `prefix` (one range count on the index).
pub fn count_filed_before(conn: &mut DbConn, prefix: &str) -> Result<i64, DataError> {
    Ok(books::table
        .filter(books::sort_title.lt(prefix))
        .count()
        .get_result(conn)?)
}
