//! Browsing queries: an author's books, and where a letter starts in the
//! catalogue's order (`books.sort_title`).

use diesel::prelude::*;

use super::models::BookListItem;
use super::schema::books;
use super::{DataError, DbConn};
use crate::domain::CatalogueSort;

/// The author's books in catalogue order (at most `limit`), and how many
/// there are in all.
pub(crate) fn books_by_author(
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
pub(crate) fn count_filed_before(conn: &mut DbConn, prefix: &str) -> Result<i64, DataError> {
    Ok(books::table
        .filter(books::sort_title.lt(prefix))
        .count()
        .get_result(conn)?)
}

/// One catalogue page (1-based) in another order than by title; within
/// equal values, by title (`sort_title`), then id. The same SQL on both
/// backends (`NULLS LAST` and the subquery are in both dialects).
pub(crate) fn sorted_page(
    conn: &mut DbConn,
    sort: CatalogueSort,
    page: u32,
    per_page: u32,
) -> Result<Vec<BookListItem>, DataError> {
    let order = match sort {
        CatalogueSort::Title => "b.sort_title, b.id",
        CatalogueSort::Author => "b.author, b.sort_title, b.id",
        CatalogueSort::Year => "b.published_year DESC NULLS LAST, b.sort_title, b.id",
        CatalogueSort::Rating => {
            "(SELECT avg(r.stars * 1.0) FROM ratings r WHERE r.book_id = b.id) DESC NULLS LAST, \
             b.sort_title, b.id"
        }
    };
    let sql = format!(
        "SELECT b.id, b.title, b.author, b.isbn, b.published_year, b.updated_at, b.version \
         FROM books b ORDER BY {order} LIMIT {per_page} OFFSET {offset}",
        offset = u64::from(page.saturating_sub(1)) * u64::from(per_page)
    );
    Ok(match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).load(c)?,
        DbConn::Postgres(c) => diesel::sql_query(sql).load(c)?,
    })
}
