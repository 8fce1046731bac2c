//! Bulk writes of books (an import): every row in one transaction, so a
//! failure leaves nothing half-imported. Rows match existing books by ISBN
//! (a book without one by its exact title and author); a row that changes
//! nothing is not written, so its cached pages stay.
//!
//! Up to [`PER_ROW_RECORDS_UP_TO`] written rows, the change feed's triggers
//! record each book, as for any other writer, and only those books' pages
//! are renewed. More, and the load pauses the per-row records
//! ([`changes::paused`]) and records one `all`: the whole cache is renewed
//! once, which costs less than recording every row (as `PostgreSQL`'s own
//! statement triggers do past 1,000 rows).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::NewBook;
use super::schema::books;
use super::writes::BookChanges;
use super::{bulk_load, changes, DataError, DbConn};
use crate::domain::book_csv::{CsvBook, RowProblem};
use crate::domain::Isbn;

pub(crate) const PER_ROW_RECORDS_UP_TO: usize = 1_000;
/// Rows per INSERT: 7 columns each, below both backends' bind limits.
const INSERT_BATCH: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Added,
    Updated,
    Unchanged,
}

/// What became of one row.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub(crate) line: u64,
    pub(crate) title: String,
    pub(crate) outcome: Outcome,
}

#[derive(Debug, Default)]
pub(crate) struct BulkReport {
    pub(crate) written: Vec<Written>,
    /// Rows left out because an earlier row is the same book.
    pub(crate) duplicates: Vec<RowProblem>,
}

#[derive(Queryable)]
struct Existing {
    id: i32,
    title: String,
    author: String,
    isbn: Option<String>,
    description: String,
    published_year: Option<i32>,
}

/// The change to one existing book.
struct Update {
    id: i32,
    changes: BookChanges,
}

/// Imports `rows` (valid books, in file order); `progress` hears how many
/// rows were written so far.
pub(crate) fn import_books(
    conn: &mut DbConn,
    rows: Vec<CsvBook>,
    now: NaiveDateTime,
    progress: &dyn Fn(u64),
) -> Result<BulkReport, DataError> {
    let existing: Vec<Existing> = books::table
        .order_by(books::id.asc())
        .select((
            books::id,
            books::title,
            books::author,
            books::isbn,
            books::description,
            books::published_year,
        ))
        .load(conn)?;
    let Plan {
        report,
        inserts,
        updates,
    } = plan(&existing, rows, now);
    let writes = inserts.len() + updates.len();
    if writes == 0 {
        return Ok(report);
    }
    // Past this many, the per-row change records are paused: one `all`.
    let paused = writes > PER_ROW_RECORDS_UP_TO;
    let write = |conn: &mut DbConn| write_books(conn, &inserts, &updates, paused, progress);
    bulk_load::with_large_page_cache(conn, |conn| {
        if paused {
            changes::paused(conn, write)
        } else {
            super::write_transaction(conn, write)
        }
    })?;
    Ok(report)
}

/// What an import will write, and its report so far.
struct Plan {
    report: BulkReport,
    inserts: Vec<NewBook>,
    updates: Vec<Update>,
}

/// Matches each row with an existing book (or none): an insert, an update,
/// nothing, or a duplicate of an earlier row.
fn plan(existing: &[Existing], rows: Vec<CsvBook>, now: NaiveDateTime) -> Plan {
    // ISBNs as the form keeps them (another writer's may carry hyphens).
    let mut by_isbn: HashMap<String, usize> = HashMap::new();
    let mut by_name: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, book) in existing.iter().enumerate() {
        match &book.isbn {
            Some(raw) => {
                let normal = Isbn::parse(raw).map_or_else(|_| raw.clone(), |i| i.as_str().into());
                by_isbn.entry(normal).or_insert(i);
            }
            None => {
                by_name
                    .entry((book.title.as_str(), book.author.as_str()))
                    .or_insert(i);
            }
        }
    }

    let mut report = BulkReport::default();
    let mut inserts: Vec<NewBook> = Vec::new();
    let mut updates: Vec<Update> = Vec::new();
    let mut seen_isbn: HashMap<String, u64> = HashMap::new();
    let mut seen_name: HashMap<(String, String), u64> = HashMap::new();
    for row in rows {
        let book = row.book;
        let earlier = match &book.isbn {
            Some(isbn) => seen_isbn
                .insert(isbn.as_str().to_owned(), row.line)
                .map(|l| (l, "the same ISBN")),
            None => seen_name
                .insert((book.title.clone(), book.author.clone()), row.line)
                .map(|l| (l, "the same title and author (and no ISBN)")),
        };
        if let Some((first, what)) = earlier {
            // The first row of a book is the one imported.
            match &book.isbn {
                Some(isbn) => seen_isbn.insert(isbn.as_str().to_owned(), first),
                None => seen_name.insert((book.title.clone(), book.author.clone()), first),
            };
            report.duplicates.push(RowProblem {
                line: row.line,
                reason: format!("{what} as line {first}; skipped"),
            });
            continue;
        }
        let found = match &book.isbn {
            Some(isbn) => by_isbn.get(isbn.as_str()),
            None => by_name.get(&(book.title.as_str(), book.author.as_str())),
        }
        .map(|&i| &existing[i]);
        let title = book.title.clone();
        let mut new = NewBook::from_form(book, now);
        let outcome = match found {
            None => {
                inserts.push(new);
                Outcome::Added
            }
            Some(old) => {
                if !row.given.description {
                    new.description.clone_from(&old.description);
                }
                let same = old.title == new.title
                    && old.author == new.author
                    && old.isbn == new.isbn
                    && old.description == new.description
                    && old.published_year == new.published_year;
                if same {
                    Outcome::Unchanged
                } else {
                    updates.push(Update {
                        id: old.id,
                        changes: BookChanges::from(new),
                    });
                    Outcome::Updated
                }
            }
        };
        report.written.push(Written {
            line: row.line,
            title,
            outcome,
        });
    }

    Plan {
        report,
        inserts,
        updates,
    }
}

/// Writes the plan's rows; `paused`: the change feed's per-row records are.
fn write_books(
    conn: &mut DbConn,
    inserts: &[NewBook],
    updates: &[Update],
    paused: bool,
    progress: &dyn Fn(u64),
) -> Result<(), DataError> {
    let mut done = 0u64;
    for batch in inserts.chunks(INSERT_BATCH) {
        bulk_load::insert_books(conn, batch)?;
        done += batch.len() as u64;
        progress(done);
    }
    for update in updates {
        let target = books::table.find(update.id);
        if paused {
            // With the triggers paused, version 0 marks the row for a new
            // version when they come back (`changes::paused`); on
            // PostgreSQL the row trigger sets it anyway.
            diesel::update(target)
                .set((&update.changes, books::version.eq(0i64)))
                .execute(conn)?;
        } else {
            diesel::update(target).set(&update.changes).execute(conn)?;
        }
        done += 1;
        if done.is_multiple_of(1_000) {
            progress(done);
        }
    }
    progress(done);
    Ok(())
}

/// One exported book: title, author, ISBN, year, description.
pub(crate) type ExportRow = (String, String, Option<String>, Option<i32>, String);

/// Every book, by id, for an export.
pub(crate) fn export_rows(conn: &mut DbConn) -> Result<Vec<ExportRow>, DataError> {
    Ok(books::table
        .order_by(books::id.asc())
        .select((
            books::title,
            books::author,
            books::isbn,
            books::published_year,
            books::description,
        ))
        .load(conn)?)
}
