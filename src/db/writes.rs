//! Writes to the catalogue. Each is one transaction; the database's triggers
//! record what it changed in the change log, in that same transaction, as
//! they do for every other writer (see `src/changes/`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::models::{NewBook, NewRating};
use super::schema::{books, ratings};
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

/// Inserts a book; returns its id.
pub fn insert_book(conn: &mut DbConn, book: &NewBook) -> Result<i32, BookWriteError> {
    Ok(diesel::insert_into(books::table)
        .values(book)
        .returning(books::id)
        .get_result(conn)?)
}

pub fn update_book(
    conn: &mut DbConn,
    id: i32,
    changes: &BookChanges,
) -> Result<(), BookWriteError> {
    let n = diesel::update(books::table.find(id))
        .set(changes)
        .execute(conn)?;
    if n == 0 {
        return Err(BookWriteError::NotFound);
    }
    Ok(())
}

pub fn delete_book(conn: &mut DbConn, id: i32) -> Result<(), BookWriteError> {
    Ok(conn.transaction::<_, DieselError, _>(|conn| {
        // SQLite cascades only with foreign_keys on; say it explicitly.
        diesel::delete(ratings::table.filter(ratings::book_id.eq(id))).execute(conn)?;
        let n = diesel::delete(books::table.find(id)).execute(conn)?;
        if n == 0 {
            return Err(DieselError::NotFound);
        }
        Ok(())
    })?)
}

/// A reader's rating: a reader's second rating of a book replaces the first
/// (the partial unique index `ratings_book_id_reader`); without a reader
/// (None) every rating is a new row.
///
/// One statement that writes at once: on SQLite a transaction that reads
/// before it writes can fail with "database is locked" under concurrent
/// writers (its snapshot cannot be upgraded). The foreign key says whether
/// the book exists.
pub fn insert_rating(
    conn: &mut DbConn,
    rating: &NewRating,
    reader: Option<&str>,
) -> Result<(), BookWriteError> {
    use diesel::sql_types::{Integer, Nullable, Text, Timestamp};
    // `ON CONFLICT` on a partial index names the index's predicate, which
    // diesel's DSL cannot say: the same SQL on both backends but for the
    // placeholders.
    macro_rules! upsert {
        ($conn:expr, $values:literal) => {
            diesel::sql_query(concat!(
                "INSERT INTO ratings (book_id, stars, created_at, reader) VALUES ",
                $values,
                " ON CONFLICT (book_id, reader) WHERE reader IS NOT NULL \
                 DO UPDATE SET stars = excluded.stars, created_at = excluded.created_at"
            ))
            .bind::<Integer, _>(rating.book_id)
            .bind::<Integer, _>(rating.stars)
            .bind::<Timestamp, _>(rating.created_at)
            .bind::<Nullable<Text>, _>(reader)
            .execute($conn)
        };
    }
    let result = match conn {
        DbConn::Postgres(c) => upsert!(c, "($1, $2, $3, $4)"),
        DbConn::Sqlite(c) => upsert!(c, "(?, ?, ?, ?)"),
    };
    match result {
        // The book is gone.
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            Err(BookWriteError::NotFound)
        }
        other => Ok(other.map(|_| ())?),
    }
}
