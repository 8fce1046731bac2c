//! Search across title, author and ISBN, ranked, one function for both
//! backends: `SQLite`'s FTS5 index `books_search` and `PostgreSQL`'s full-text
//! index on `folio_search_document(…)` (migrations `…_search`). Every word
//! of two or more characters is matched as a prefix, and all must match;
//! title counts most, then author, then ISBN.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::models::BookListItem;
use super::{DataError, DbConn};
use crate::domain::SearchQuery;

/// The best matches and how many there are in all.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SearchHits {
    pub(crate) total: i64,
    pub(crate) books: Vec<BookListItem>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// FTS5 weights of title, author and ISBN (bm25: lower is better).
const SQLITE_RANKED: &str = "\
    SELECT b.id, b.title, b.author, b.isbn, b.published_year, b.updated_at, b.version \
    FROM books_search JOIN books b ON b.id = books_search.rowid \
    WHERE books_search MATCH ? \
    ORDER BY bm25(books_search, 10.0, 4.0, 1.0), b.title, b.id LIMIT ? OFFSET ?";
const SQLITE_COUNT: &str = "SELECT count(*) AS n FROM books_search WHERE books_search MATCH ?";

const POSTGRES_RANKED: &str = "\
    SELECT id, title, author, isbn, published_year, updated_at, version \
    FROM books, to_tsquery('simple', $1) AS query \
    WHERE folio_search_document(title, author, isbn) @@ query \
    ORDER BY ts_rank(folio_search_document(title, author, isbn), query) DESC, title, id \
    LIMIT $2 OFFSET $3";
const POSTGRES_COUNT: &str = "\
    SELECT count(*) AS n FROM books \
    WHERE folio_search_document(title, author, isbn) @@ to_tsquery('simple', $1)";

/// The `limit` best matches of `query`, and the number of all matches.
pub(crate) fn search(
    conn: &mut DbConn,
    query: &SearchQuery,
    limit: i64,
) -> Result<SearchHits, DataError> {
    search_page(conn, query, limit, 0)
}

/// Like [`search`], skipping the `offset` best matches (the admin's pages).
pub(crate) fn search_page(
    conn: &mut DbConn,
    query: &SearchQuery,
    limit: i64,
    offset: i64,
) -> Result<SearchHits, DataError> {
    // Terms are letters and digits only (`SearchQuery`), so neither syntax
    // can be injected; each still goes in as a bound parameter. The same
    // calls on both backends, with each one's SQL.
    macro_rules! ranked_and_counted {
        ($conn:expr, $ranked:expr, $count:expr, $expr:expr) => {
            (
                diesel::sql_query($ranked)
                    .bind::<Text, _>($expr)
                    .bind::<BigInt, _>(limit)
                    .bind::<BigInt, _>(offset)
                    .load($conn)?,
                diesel::sql_query($count)
                    .bind::<Text, _>($expr)
                    .load::<Count>($conn)?,
            )
        };
    }
    let (books, total): (Vec<BookListItem>, Vec<Count>) = match conn {
        DbConn::Sqlite(c) => {
            let expr = fts5_expression(query);
            ranked_and_counted!(c, SQLITE_RANKED, SQLITE_COUNT, &expr)
        }
        DbConn::Postgres(c) => {
            let expr = tsquery_expression(query);
            ranked_and_counted!(c, POSTGRES_RANKED, POSTGRES_COUNT, &expr)
        }
    };
    Ok(SearchHits {
        total: total.first().map_or(0, |c| c.n),
        books,
    })
}

/// Every word of `query`, each written by `prefix` or, when a single
/// letter (which would match nearly every book, and cost the index as
/// much), by `whole`; joined by `and`.
fn expression(
    query: &SearchQuery,
    prefix: impl Fn(&str) -> String,
    whole: impl Fn(&str) -> String,
    and: &str,
) -> String {
    query
        .terms()
        .iter()
        .map(|t| {
            if t.chars().nth(1).is_some() {
                prefix(t)
            } else {
                whole(t)
            }
        })
        .collect::<Vec<_>>()
        .join(and)
}

/// `"archi"* "lisb"* "a"`.
fn fts5_expression(query: &SearchQuery) -> String {
    expression(query, |t| format!("\"{t}\"*"), |t| format!("\"{t}\""), " ")
}

/// `archi:* & lisb:* & a`.
fn tsquery_expression(query: &SearchQuery) -> String {
    expression(query, |t| format!("{t}:*"), str::to_owned, " & ")
}

/// Rebuilds `SQLite`'s index from the books table: after a bulk load that
/// ran with the tables' triggers paused (`changes::paused`). `PostgreSQL`'s
/// index follows its table by itself.
pub(crate) fn reindex_sqlite(conn: &mut DbConn) -> Result<(), DataError> {
    conn.batch_execute(
        "DELETE FROM books_search; \
         INSERT INTO books_search (rowid, title, author, isbn) \
             SELECT id, title, author, replace(replace(coalesce(isbn, ''), '-', ''), ' ', '') \
             FROM books;",
    )?;
    Ok(())
}
