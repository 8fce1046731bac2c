//! Catalogue import and export (`folio import`/`export`, `/admin/import`,
//! `/admin/export`): a CSV file read into books the form would accept,
//! written in one transaction, and then the change log applied at once, so
//! the pages are exact on the importer's very next request, without a clear.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};

use crate::changes::ChangeFeed;
use crate::db::bulk::{self, Outcome};
use crate::db::{DataError, Database};
use crate::domain::book_csv::{self, CsvError, CsvFormat, CsvWriter, RowProblem};

/// What an import did, row by row.
#[derive(Debug)]
pub(crate) struct ImportReport {
    pub(crate) format: CsvFormat,
    /// (line, title) of each book added.
    pub(crate) added: Vec<(u64, String)>,
    /// (line, title) of each book updated (matched by ISBN; without one, by
    /// title and author).
    pub(crate) updated: Vec<(u64, String)>,
    /// Rows that matched a book and changed nothing.
    pub(crate) unchanged: usize,
    /// Every row not imported, by line.
    pub(crate) skipped: Vec<RowProblem>,
    pub(crate) elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ImportError {
    #[error("nothing was imported: {0}")]
    Csv(#[from] CsvError),
    #[error(
        "nothing was imported: a book with one of these ISBNs was added meanwhile by another \
         writer; import the file again"
    )]
    Conflict,
    #[error("nothing was imported: {0}")]
    Data(#[from] DataError),
}

/// Called with how many rows were read, then written.
pub(crate) type Progress = Arc<dyn Fn(Phase, u64) + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Rows read so far (the file's length in rows is not known yet).
    Reading,
    /// Rows written, of `total`.
    Writing { total: u64 },
}

/// Imports a file. `feed`: the server's change feed, applied right after the
/// commit; the CLI passes none and leaves the change log to the running
/// instances, which apply it within milliseconds (a process of its own
/// cannot apply it for an instance's in-process cache).
pub(crate) async fn import_csv(
    db: &Database,
    feed: Option<&ChangeFeed>,
    file: Box<dyn Read + Send>,
    progress: Progress,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let now = Utc::now().naive_utc();
    let this_year = Utc::now().year();
    let report = db
        .run_as(move |conn| {
            let reading = progress.clone();
            let (format, parsed) =
                book_csv::parse(file, this_year, &move |n| reading(Phase::Reading, n))?;
            let writing = progress.clone();
            let total = parsed.books.len() as u64;
            let written = bulk::import_books(conn, parsed.books, now, &move |n| {
                writing(Phase::Writing { total }, n);
            })
            .map_err(|e| match e {
                DataError::Query(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => ImportError::Conflict,
                other => ImportError::Data(other),
            })?;
            let mut report = ImportReport {
                format,
                added: Vec::new(),
                updated: Vec::new(),
                unchanged: 0,
                skipped: parsed.problems,
                elapsed: Duration::ZERO,
            };
            report.skipped.extend(written.duplicates);
            report.skipped.sort_by_key(|p| p.line);
            for row in written.written {
                match row.outcome {
                    Outcome::Added => report.added.push((row.line, row.title)),
                    Outcome::Updated => report.updated.push((row.line, row.title)),
                    Outcome::Unchanged => report.unchanged += 1,
                }
            }
            Ok::<_, ImportError>(report)
        })
        .await?;
    // The triggers recorded the books (or one `all`); applied now.
    if let Some(feed) = feed {
        feed.apply_after_write().await;
    }
    Ok(ImportReport {
        elapsed: started.elapsed(),
        ..report
    })
}

/// Every book in folio's export format (what an import reads back).
pub async fn export_csv(db: &Database) -> Result<Vec<u8>, DataError> {
    let rows = db.run(bulk::export_rows).await?;
    let written = (|| {
        let mut writer = CsvWriter::new(Vec::with_capacity(rows.len() * 128))?;
        for (title, author, isbn, year, description) in &rows {
            writer.write(title, author, isbn.as_deref(), *year, description)?;
        }
        writer.finish()
    })();
    written.map_err(|e| DataError::Invalid(format!("the export could not be written: {e}")))
}
