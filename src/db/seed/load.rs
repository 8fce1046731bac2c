//! A seed's rows written in one transaction, with the change feed's per-row
//! records paused and the ratings' indexes built once, after the load.

use std::io::IsTerminal;
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::generate::{new_book, RatingDraw, Rng};
use super::SeedPlan;
use crate::db::models::NewBook;
use crate::db::schema::books;
use crate::db::{bulk_load, changes, DataError, DbConn};

/// Rows per INSERT; stays below `SQLite`'s and `PostgreSQL`'s bind-parameter limits.
const BOOK_BATCH: usize = 2_000;
/// Ratings generated and loaded at a time (all in one transaction).
const RATINGS_PER_CHUNK: usize = 100_000;

/// Writes the plan's books and ratings (after emptying both tables, with
/// `reset`).
pub(super) fn fill(conn: &mut DbConn, plan: SeedPlan) -> Result<(), DataError> {
    let progress = Progress::new(u64::from(plan.books) + u64::from(plan.ratings));
    let mut rng = Rng(plan.seed);
    let now = plan.anchor;

    // One transaction that pauses the change feed's per-row records and
    // leaves one `all` in their place: the cache is renewed once, not per
    // row, and no reader ever sees half a seed.
    // The ratings' indexes (and on PostgreSQL their foreign key) are built
    // again after the load: the reset's deletes and the inserts skip them.
    changes::paused(conn, |conn| {
        bulk_load::without_rating_indexes(conn, |conn| {
            let phase = Instant::now();
            if plan.reset {
                reset(conn)?;
            }
            let new_books: Vec<NewBook> = (0..plan.books)
                .map(|i| new_book(&mut rng, i, now))
                .collect();
            for batch in new_books.chunks(BOOK_BATCH) {
                bulk_load::insert_books(conn, batch)?;
                progress.inc(batch.len() as u64);
            }
            drop(new_books);
            let ids: Vec<i32> = books::table
                .order_by(books::id.asc())
                .select(books::id)
                .load(conn)?;
            tracing::debug!(ms = phase.elapsed().as_millis(), "seed: books");

            let ratings = RatingDraw::new(&mut rng, ids, plan.books, now);
            let phase = Instant::now();
            let mut remaining = plan.ratings as usize;
            while remaining > 0 {
                let chunk = remaining.min(RATINGS_PER_CHUNK);
                bulk_load::insert_ratings(conn, &ratings.draw(&mut rng, chunk))?;
                progress.inc(chunk as u64);
                remaining -= chunk;
            }
            tracing::debug!(ms = phase.elapsed().as_millis(), "seed: ratings loaded");
            Ok(())
        })
    })?;
    progress.finish();
    Ok(())
}

/// Empties both tables and restarts their ids, so a reseed gives the same ids.
fn reset(conn: &mut DbConn) -> Result<(), DataError> {
    match conn {
        DbConn::Postgres(c) => c.batch_execute("TRUNCATE ratings, books RESTART IDENTITY")?,
        DbConn::Sqlite(c) => c.batch_execute(
            "DELETE FROM ratings; DELETE FROM books; \
             DELETE FROM sqlite_sequence WHERE name IN ('books', 'ratings');",
        )?,
    }
    Ok(())
}

/// A progress bar on a terminal, nothing elsewhere (logs stay clean).
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(total: u64) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "seeding {bar:40} {human_pos}/{human_len} rows ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
        Self(Some(bar))
    }

    fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
