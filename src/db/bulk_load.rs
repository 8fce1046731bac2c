//! Loading many rows fast (`folio seed`, imports), inside the caller's
//! transaction: books in multi-row INSERTs; ratings with their secondary
//! indexes dropped and built again after the load (one sort instead of a
//! random B-tree insert per row and index), on `SQLite` as multi-row INSERTs
//! of literal values (generated numbers and timestamps, no user text) with
//! a page cache big enough for the index builds, on `PostgreSQL` by
//! `COPY … FROM STDIN (FORMAT binary)`.
//!
//! Measured before (10,000 books, 500,000 ratings, `SQLite`, idle machine):
//! 12.6 s, nearly all of it the two indexes kept row by row through a
//! 512 KiB page cache (the pool's size, chosen for the server's memory).

use std::fmt::Write as _;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::models::{NewBook, NewRating};
use super::schema::{books, ratings};
use super::{DataError, DbConn};

/// Rows per `SQLite` INSERT (~35 bytes of SQL each).
const SQLITE_ROWS_PER_INSERT: usize = 10_000;
/// The pool's page cache (see `DbConnectionManager::connect`) and the one a
/// load uses meanwhile (KiB, as `PRAGMA cache_size` takes a negative).
const POOL_CACHE_KIB: i64 = 512;
const LOAD_CACHE_KIB: i64 = 128 * 1024;

#[derive(QueryableByName)]
struct IndexSql {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// Runs `load` with the ratings table's secondary indexes (and, on
/// `PostgreSQL`, its foreign keys) dropped, then builds them again, word for
/// word. Call inside a transaction: no other
/// connection ever sees them missing.
pub(crate) fn without_rating_indexes<T>(
    conn: &mut DbConn,
    load: impl FnOnce(&mut DbConn) -> Result<T, DataError>,
) -> Result<T, DataError> {
    let indexes: Vec<IndexSql> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = 'ratings' AND sql IS NOT NULL",
        )
        .load(c)?,
        // Not the indexes behind constraints (the primary key).
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT i.relname::text AS name, pg_get_indexdef(i.oid) AS sql \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             WHERE x.indrelid = 'ratings'::regclass \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
        )
        .load(c)?,
    };
    // PostgreSQL checks a foreign key row by row (a lookup per rating);
    // added back, it checks the whole table in one join.
    let foreign_keys: Vec<IndexSql> = match conn {
        DbConn::Sqlite(_) => Vec::new(),
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT conname::text AS name, pg_get_constraintdef(oid) AS sql \
             FROM pg_constraint WHERE conrelid = 'ratings'::regclass AND contype = 'f'",
        )
        .load(c)?,
    };
    with_large_page_cache(conn, |conn| {
        for key in &foreign_keys {
            conn.batch_execute(&format!(
                "ALTER TABLE ratings DROP CONSTRAINT \"{}\"",
                key.name
            ))?;
        }
        for index in &indexes {
            conn.batch_execute(&format!("DROP INDEX \"{}\"", index.name))?;
        }
        let loaded = load(conn)?;
        for index in &indexes {
            conn.batch_execute(&index.sql)?;
        }
        for key in &foreign_keys {
            conn.batch_execute(&format!(
                "ALTER TABLE ratings ADD CONSTRAINT \"{}\" {}",
                key.name, key.sql
            ))?;
        }
        Ok(loaded)
    })
}

/// Runs `load` with a page cache large enough for a bulk load's B-trees on
/// `SQLite` (inserting 100,000 books took 1.27 s with the pool's 512 KiB and
/// 0.36 s with 128 MiB, in the sqlite3 shell); `PostgreSQL` has its own.
pub(crate) fn with_large_page_cache<T>(
    conn: &mut DbConn,
    load: impl FnOnce(&mut DbConn) -> Result<T, DataError>,
) -> Result<T, DataError> {
    let sqlite = matches!(conn, DbConn::Sqlite(_));
    if sqlite {
        conn.batch_execute(&format!("PRAGMA cache_size = -{LOAD_CACHE_KIB}"))?;
    }
    let result = load(conn);
    if sqlite {
        // The connection goes back to the pool: its usual, small cache.
        conn.batch_execute(&format!("PRAGMA cache_size = -{POOL_CACHE_KIB}"))?;
    }
    result
}

/// Inserts `batch` (small enough for the backends' bind limits) as one
/// statement. Multi-row inserts do not compile on the multi-backend
/// connection: one arm each.
pub(crate) fn insert_books(conn: &mut DbConn, batch: &[NewBook]) -> Result<(), DataError> {
    let query = diesel::insert_into(books::table).values(batch);
    match conn {
        DbConn::Postgres(c) => query.execute(c)?,
        DbConn::Sqlite(c) => query.execute(c)?,
    };
    Ok(())
}

/// Appends `rows` to the ratings (no reader: a seed's ratings are nobody's).
pub(crate) fn insert_ratings(conn: &mut DbConn, rows: &[NewRating]) -> Result<(), DataError> {
    match conn {
        DbConn::Postgres(c) => {
            diesel::copy_from(ratings::table)
                .from_insertable(rows)
                .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            let mut sql = String::with_capacity(SQLITE_ROWS_PER_INSERT * 40);
            for chunk in rows.chunks(SQLITE_ROWS_PER_INSERT) {
                sql.clear();
                sql.push_str("INSERT INTO ratings (book_id, stars, created_at) VALUES ");
                for (i, r) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(',');
                    }
                    // As diesel writes a timestamp (whole seconds here).
                    let _ = write!(
                        sql,
                        "({},{},'{}')",
                        r.book_id,
                        r.stars,
                        r.created_at.format("%Y-%m-%d %H:%M:%S%.f")
                    );
                }
                c.batch_execute(&sql)?;
            }
        }
    }
    Ok(())
}
