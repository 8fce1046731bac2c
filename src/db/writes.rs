//! Writes to the catalogue. Each runs in one transaction together with an
//! outbox row naming the cache tags it touched, so an invalidation can never
//! be lost between the commit and the cache (see `catalogue::editor`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::models::{NewBook, NewRating};
use super::schema::{books, cache_invalidations, ratings};
use super::{DataError, DbConn};

/// What a write to a book may fail with, beyond the database being down.
#[derive(Debug, thiserror::Error)]
pub enum BookWriteError {
    #[error("another book has this ISBN")]
    DuplicateIsbn,
    #[error("there is no such book")]
    NotFound,
    #[error(transparent)]
    Data(#[from] DataError),
}

impl From<DieselError> for BookWriteError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::DuplicateIsbn
            }
            DieselError::NotFound => Self::NotFound,
            other => Self::Data(DataError::Query(other)),
        }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = books, treat_none_as_null = true)]
pub struct BookChanges {
    pub title: String,
    pub author: String,
    pub isbn: Option<String>,
    pub description: String,
    pub published_year: Option<i32>,
    pub updated_at: NaiveDateTime,
}

/// Records the tags a write touched, inside the write's transaction.
fn add_outbox_row(conn: &mut DbConn, tags: &str, now: NaiveDateTime) -> Result<i32, DieselError> {
    diesel::insert_into(cache_invalidations::table)
        .values((
            cache_invalidations::tags.eq(tags),
            cache_invalidations::created_at.eq(now),
        ))
        .returning(cache_invalidations::id)
        .get_result(conn)
}

/// Inserts a book; returns its id and the outbox row's id. `tags_for` names
/// the tags from the new id.
pub fn insert_book(
    conn: &mut DbConn,
    book: &NewBook,
    tags_for: impl Fn(i32) -> String,
) -> Result<(i32, i32), BookWriteError> {
    Ok(conn.transaction::<_, DieselError, _>(|conn| {
        let id: i32 = diesel::insert_into(books::table)
            .values(book)
            .returning(books::id)
            .get_result(conn)?;
        let outbox = add_outbox_row(conn, &tags_for(id), book.created_at)?;
        Ok((id, outbox))
    })?)
}

pub fn update_book(
    conn: &mut DbConn,
    id: i32,
    changes: &BookChanges,
    tags: &str,
) -> Result<i32, BookWriteError> {
    Ok(conn.transaction::<_, DieselError, _>(|conn| {
        let n = diesel::update(books::table.find(id))
            .set(changes)
            .execute(conn)?;
        if n == 0 {
            return Err(DieselError::NotFound);
        }
        add_outbox_row(conn, tags, changes.updated_at)
    })?)
}

pub fn delete_book(
    conn: &mut DbConn,
    id: i32,
    tags: &str,
    now: NaiveDateTime,
) -> Result<i32, BookWriteError> {
    Ok(conn.transaction::<_, DieselError, _>(|conn| {
        // SQLite cascades only with foreign_keys on; say it explicitly.
        diesel::delete(ratings::table.filter(ratings::book_id.eq(id))).execute(conn)?;
        let n = diesel::delete(books::table.find(id)).execute(conn)?;
        if n == 0 {
            return Err(DieselError::NotFound);
        }
        add_outbox_row(conn, tags, now)
    })?)
}

/// The insert comes first: on SQLite a transaction that reads before it
/// writes can fail with "database is locked" under concurrent writers (its
/// snapshot cannot be upgraded); one that writes first waits its turn. The
/// foreign key says whether the book exists.
pub fn insert_rating(
    conn: &mut DbConn,
    rating: &NewRating,
    tags: &str,
) -> Result<i32, BookWriteError> {
    let result = conn.transaction::<_, DieselError, _>(|conn| {
        diesel::insert_into(ratings::table)
            .values(rating)
            .execute(conn)?;
        add_outbox_row(conn, tags, rating.created_at)
    });
    match result {
        // The book is gone.
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            Err(BookWriteError::NotFound)
        }
        other => Ok(other?),
    }
}

/// An outbox row for a write that changed no table (an admin's "recompute").
pub fn record_invalidation(
    conn: &mut DbConn,
    tags: &str,
    now: NaiveDateTime,
) -> Result<i32, DataError> {
    Ok(add_outbox_row(conn, tags, now)?)
}

pub fn pending_invalidations(
    conn: &mut DbConn,
    limit: i64,
) -> Result<Vec<(i32, String)>, DataError> {
    Ok(cache_invalidations::table
        .order_by(cache_invalidations::id.asc())
        .select((cache_invalidations::id, cache_invalidations::tags))
        .limit(limit)
        .load(conn)?)
}

pub fn remove_invalidations(conn: &mut DbConn, ids: &[i32]) -> Result<(), DataError> {
    if !ids.is_empty() {
        diesel::delete(
            cache_invalidations::table.filter(cache_invalidations::id.eq_any(ids.to_vec())),
        )
        .execute(conn)?;
    }
    Ok(())
}
