//! Deterministic demo data (`folio seed`): the same seed gives the same rows
//! on either backend. What to seed and what it did (here), the rows
//! themselves (`generate.rs`), and loading them in one transaction
//! (`load.rs`). Ratings are spread over the 60 days before an anchor (the
//! current hour, so two runs in the same hour give identical rows).

mod generate;
mod load;

use std::time::{Duration, Instant};

use chrono::{DurationRound, NaiveDateTime, TimeDelta, Utc};

use super::{books as queries, DataError, Database, DbConn};
pub use generate::isbn13_for;

pub(crate) const MAX_BOOKS: u32 = 1_000_000;
pub(crate) const MAX_RATINGS: u32 = 20_000_000;

#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    pub books: u32,
    pub ratings: u32,
    pub seed: u64,
    /// Delete every book and rating first.
    pub reset: bool,
    /// Ratings are spread over the 60 days before this instant.
    pub anchor: NaiveDateTime,
}

impl SeedPlan {
    pub fn new(books: u32, ratings: u32, seed: u64, reset: bool) -> Self {
        Self {
            books,
            ratings,
            seed,
            reset,
            anchor: default_anchor(),
        }
    }
}

/// The start of the current hour (UTC).
pub fn default_anchor() -> NaiveDateTime {
    Utc::now()
        .naive_utc()
        .duration_trunc(TimeDelta::hours(1))
        .expect("an hour divides any timestamp")
}

#[derive(Debug, Clone, Copy)]
pub struct SeedReport {
    pub(crate) books: u64,
    pub(crate) ratings: u64,
    pub(crate) elapsed: Duration,
}

/// Fills the database. Refuses to add to a catalogue that already has books
/// unless `reset` is set, so no one loses data by accident.
pub fn seed(db: &Database, plan: SeedPlan) -> Result<SeedReport, DataError> {
    if plan.books == 0 || plan.books > MAX_BOOKS || plan.ratings > MAX_RATINGS {
        return Err(DataError::Invalid(format!(
            "seed wants 1 to {MAX_BOOKS} books and at most {MAX_RATINGS} ratings"
        )));
    }
    let started = Instant::now();
    let mut conn = db.conn()?;
    let conn: &mut DbConn = &mut conn;

    if !plan.reset {
        let existing = queries::count_books(conn)?;
        if existing > 0 {
            return Err(DataError::Invalid(format!(
                "the database already holds {existing} books; pass --reset to replace them"
            )));
        }
    }

    load::fill(conn, plan)?;
    tracing::debug!(ms = started.elapsed().as_millis(), "seed: committed");

    Ok(SeedReport {
        books: u64::from(plan.books),
        ratings: u64::from(plan.ratings),
        elapsed: started.elapsed(),
    })
}
