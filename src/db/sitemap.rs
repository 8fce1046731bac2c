//! What the sitemaps list: every book's id and when it last changed, in id
//! order (the primary key: a range read, whatever the offset's page).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::books;
use super::{DataError, DbConn};

/// `limit` books from the `offset`-th, by id: (id, `updated_at`).
pub(crate) fn book_stamps(
    conn: &mut DbConn,
    offset: i64,
    limit: i64,
) -> Result<Vec<(i32, NaiveDateTime)>, DataError> {
    Ok(books::table
        .order_by(books::id.asc())
        .select((books::id, books::updated_at))
        .limit(limit)
        .offset(offset)
        .load(conn)?)
}
