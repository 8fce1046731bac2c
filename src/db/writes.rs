//! Writes to the catalogue. Each is one transaction; the database's triggers
//! record what it changed in the change log, in that same transaction, as
//! they do for every other writer (see `src/changes/`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::models::{NewBook, NewRating};
use super::schema::{books, ratings};
use super::{DataError, DbConn, NoSuchBook};

/// Why a new book was not added.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CreateBookError {
    #[error("another book has this ISBN")]
    DuplicateIsbn,
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Why an edit was not saved.
#[derive(Debug, thiserror::Error)]
pub enum UpdateBookError {
    #[error(transparent)]
    NotFound(#[from] NoSuchBook),
    #[error("another book has this ISBN")]
    DuplicateIsbn,
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Why a book was not deleted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeleteBookError {
    #[error(transparent)]
    NotFound(#[from] NoSuchBook),
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Why a rating was not recorded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RateBookError {
    #[error(transparent)]
    NotFound(#[from] NoSuchBook),
    #[error(transparent)]
    Data(#[from] DataError),
}

impl From<DieselError> for CreateBookError {
    fn from(e: DieselError) -> Self {
        match e {
            // The one unique index on `books` besides the id is the ISBN's.
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::DuplicateIsbn
            }
            other => Self::Data(other.into()),
        }
    }
}

impl From<DieselError> for UpdateBookError {
    fn from(e: DieselError) -> Self {
        CreateBookError::from(e).into()
    }
}

/// A form that adds or edits a book shows one set of answers: what a create
/// can fail with, an update can too.
impl From<CreateBookError> for UpdateBookError {
    fn from(e: CreateBookError) -> Self {
        match e {
            CreateBookError::DuplicateIsbn => Self::DuplicateIsbn,
            CreateBookError::Data(e) => Self::Data(e),
        }
    }
}

impl From<DieselError> for DeleteBookError {
    fn from(e: DieselError) -> Self {
        Self::Data(e.into())
    }
}

/// Every editable column of a book, and its new `updated_at`.
#[derive(AsChangeset)]
#[diesel(table_name = books, treat_none_as_null = true)]
pub(crate) struct BookChanges {
    pub(crate) title: String,
    pub(crate) author: String,
    pub(crate) isbn: Option<String>,
    pub(crate) description: String,
    pub(crate) published_year: Option<i32>,
    pub(crate) updated_at: NaiveDateTime,
}

/// A book as a whole, written over an existing one (`created_at` stays).
impl From<NewBook> for BookChanges {
    fn from(book: NewBook) -> Self {
        Self {
            title: book.title,
            author: book.author,
            isbn: book.isbn,
            description: book.description,
            published_year: book.published_year,
            updated_at: book.updated_at,
        }
    }
}

/// Inserts a book; returns its id.
pub(crate) fn insert_book(conn: &mut DbConn, book: &NewBook) -> Result<i32, CreateBookError> {
    Ok(diesel::insert_into(books::table)
        .values(book)
        .returning(books::id)
        .get_result(conn)?)
}

pub(crate) fn update_book(
    conn: &mut DbConn,
    id: i32,
    changes: &BookChanges,
) -> Result<(), UpdateBookError> {
    let n = diesel::update(books::table.find(id))
        .set(changes)
        .execute(conn)?;
    if n == 0 {
        return Err(NoSuchBook(id).into());
    }
    Ok(())
}

pub(crate) fn delete_book(conn: &mut DbConn, id: i32) -> Result<(), DeleteBookError> {
    conn.transaction(|conn| {
        // SQLite cascades only with foreign_keys on; say it explicitly.
        diesel::delete(ratings::table.filter(ratings::book_id.eq(id))).execute(conn)?;
        let n = diesel::delete(books::table.find(id)).execute(conn)?;
        if n == 0 {
            return Err(NoSuchBook(id).into());
        }
        Ok(())
    })
}

/// A reader's rating: a reader's second rating of a book replaces the first
/// (the partial unique index `ratings_book_id_reader`); without a reader
/// (None) every rating is a new row.
///
/// One statement that writes at once: on `SQLite` a transaction that reads
/// before it writes can fail with "database is locked" under concurrent
/// writers (its snapshot cannot be upgraded). The foreign key says whether
/// the book exists.
pub(crate) fn insert_rating(
    conn: &mut DbConn,
    rating: &NewRating,
    reader: Option<&str>,
) -> Result<(), RateBookError> {
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
            Err(NoSuchBook(rating.book_id).into())
        }
        Err(other) => Err(DataError::from(other).into()),
        Ok(_) => Ok(()),
    }
}
