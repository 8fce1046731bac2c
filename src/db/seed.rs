//! Deterministic demo data: the same seed gives the same rows on either backend.
//!
//! Popularity follows a Zipf-like law so that the chart means something, and
//! ratings are spread over the 60 days before an anchor (the current hour, so
//! two runs in the same hour give identical rows).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use chrono::{DurationRound, NaiveDateTime, TimeDelta, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::models::{NewBook, NewRating};
use super::schema::books;
use super::{books as queries, bulk_load, changes, DataError, Database, DbConn};

pub const MAX_BOOKS: u32 = 1_000_000;
pub const MAX_RATINGS: u32 = 20_000_000;
/// Rows per INSERT; stays below SQLite's and PostgreSQL's bind-parameter limits.
const BOOK_BATCH: usize = 2_000;
/// Ratings generated and loaded at a time (all in one transaction).
const RATINGS_PER_CHUNK: usize = 100_000;
const SPREAD: TimeDelta = TimeDelta::days(60);

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
    pub books: u64,
    pub ratings: u64,
    pub elapsed: Duration,
}

/// SplitMix64: tiny, fast and fixed forever, so a seed's data never changes
/// with a dependency's version.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const ADJECTIVES: &[&str] = &[
    "Silent",
    "Crimson",
    "Hidden",
    "Last",
    "Winter",
    "Broken",
    "Golden",
    "Distant",
    "Burning",
    "Secret",
    "Quiet",
    "Forgotten",
    "Electric",
    "Velvet",
    "Hollow",
    "Wandering",
    "Glass",
    "Northern",
    "Paper",
    "Midnight",
    "Salt",
    "Iron",
    "Bright",
    "Lost",
];
const NOUNS: &[&str] = &[
    "Garden",
    "River",
    "Archive",
    "Lighthouse",
    "Orchard",
    "Map",
    "Harbor",
    "Kingdom",
    "Letter",
    "Clockmaker",
    "Island",
    "Library",
    "Season",
    "Mirror",
    "Voyage",
    "Empire",
    "Forest",
    "Bridge",
    "Cartographer",
    "Engine",
    "Sparrow",
    "Tide",
    "Observatory",
    "Compass",
];
const PLACES: &[&str] = &[
    "Avalon",
    "the North",
    "Lisbon",
    "the Valley",
    "Samarkand",
    "the Coast",
    "Prague",
    "the Moon",
    "Kyoto",
    "the Marsh",
    "Alexandria",
    "the Steppe",
];
const FIRST_NAMES: &[&str] = &[
    "Ada", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kamala", "Lars", "Mira", "Nikolai", "Olga", "Pablo", "Quinn", "Rosa", "Samir", "Tove", "Ugo",
    "Vera", "Wen", "Yara",
];
const LAST_NAMES: &[&str] = &[
    "Abbott",
    "Bianchi",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quiroga",
    "Rossi",
    "Silva",
    "Takahashi",
    "Ueda",
    "Varga",
    "Weber",
    "Zhang",
];
const THEMES: &[&str] = &[
    "memory and loss",
    "a family secret",
    "an impossible journey",
    "the sea",
    "a vanished city",
    "friendship across a war",
    "the making of a map",
    "a long winter",
    "an unlikely inheritance",
    "a stolen manuscript",
    "the first summer after",
    "a town that keeps time",
];

fn title(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("The {} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
        1 => format!("{} of {}", rng.pick(NOUNS), rng.pick(PLACES)),
        2 => format!("The {}'s {}", rng.pick(NOUNS), rng.pick(NOUNS)),
        _ => format!(
            "{} {} in {}",
            rng.pick(ADJECTIVES),
            rng.pick(NOUNS),
            rng.pick(PLACES)
        ),
    }
}

/// A valid ISBN-13, unique per index.
pub fn isbn13_for(index: u32) -> String {
    let body = format!("979{:09}", index);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn new_book(rng: &mut Rng, index: u32, now: NaiveDateTime) -> NewBook {
    let title = title(rng);
    let author = format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES));
    let description = format!(
        "A novel about {} and {}. {} tells it in {} chapters.",
        rng.pick(THEMES),
        rng.pick(THEMES),
        author,
        8 + rng.below(30)
    );
    NewBook {
        title,
        author,
        isbn: Some(isbn13_for(index)),
        description,
        published_year: Some(1850 + rng.below(176) as i32),
        created_at: now,
        updated_at: now,
    }
}

/// Samples book positions with P(rank r) proportional to 1 / (r + 10)^1.1.
struct Popularity {
    cdf: Vec<f64>,
    /// rank -> position in the inserted books, so the favourites are not ids 1..10.
    order: Vec<u32>,
}

impl Popularity {
    fn new(rng: &mut Rng, books: u32) -> Self {
        let mut total = 0.0;
        let cdf = (0..books)
            .map(|r| {
                total += 1.0 / (f64::from(r) + 10.0).powf(1.1);
                total
            })
            .collect::<Vec<_>>();
        let cdf = cdf.into_iter().map(|c| c / total).collect();
        let mut order: Vec<u32> = (0..books).collect();
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        Self { cdf, order }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        let rank = self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1);
        self.order[rank] as usize
    }
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
                insert_books(conn, batch)?;
                progress.inc(batch.len() as u64);
            }
            drop(new_books);
            let ids: Vec<i32> = books::table
                .order_by(books::id.asc())
                .select(books::id)
                .load(conn)?;
            tracing::debug!(ms = phase.elapsed().as_millis() as u64, "seed: books");

            // Each book has a quality that pulls its stars up or down.
            let quality: Vec<f64> = ids.iter().map(|_| 2.2 + rng.unit() * 2.6).collect();
            let popularity = Popularity::new(&mut rng, plan.books);
            let spread_secs = SPREAD.num_seconds() as u64;
            let phase = Instant::now();
            let mut remaining = plan.ratings as usize;
            while remaining > 0 {
                let chunk = remaining.min(RATINGS_PER_CHUNK);
                let rows: Vec<NewRating> = (0..chunk)
                    .map(|_| {
                        let pos = popularity.sample(&mut rng);
                        let noise = (rng.unit() + rng.unit() + rng.unit() - 1.5) * 1.6;
                        let stars = (quality[pos] + noise).round().clamp(1.0, 5.0) as i32;
                        let age = TimeDelta::seconds(1 + rng.below(spread_secs) as i64);
                        NewRating {
                            book_id: ids[pos],
                            stars,
                            created_at: now - age,
                        }
                    })
                    .collect();
                bulk_load::insert_ratings(conn, &rows)?;
                progress.inc(chunk as u64);
                remaining -= chunk;
            }
            tracing::debug!(
                ms = phase.elapsed().as_millis() as u64,
                "seed: ratings loaded"
            );
            Ok(())
        })
    })?;
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "seed: committed");
    progress.finish();

    Ok(SeedReport {
        books: u64::from(plan.books),
        ratings: u64::from(plan.ratings),
        elapsed: started.elapsed(),
    })
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

// Multi-row inserts do not compile on the multi-backend connection: one arm each.
fn insert_books(conn: &mut DbConn, batch: &[NewBook]) -> Result<(), DataError> {
    let query = diesel::insert_into(books::table).values(batch);
    match conn {
        DbConn::Postgres(c) => query.execute(c)?,
        DbConn::Sqlite(c) => query.execute(c)?,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbns_have_valid_check_digits() {
        // 979-0-00-000000-? computed by hand: weights 1,3,... over 979000000000.
        let isbn = isbn13_for(0);
        assert_eq!(isbn.len(), 13);
        let sum: u32 = isbn
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
            .sum();
        assert_eq!(sum % 10, 0, "{isbn}");
        assert_ne!(isbn13_for(1), isbn13_for(2));
    }

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let mut a = Rng(42);
        let mut b = Rng(42);
        let mut c = Rng(43);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn popularity_is_skewed() {
        let mut rng = Rng(7);
        let pop = Popularity::new(&mut rng, 1000);
        let mut hits = vec![0u32; 1000];
        for _ in 0..100_000 {
            hits[pop.sample(&mut rng)] += 1;
        }
        hits.sort_unstable_by(|a, b| b.cmp(a));
        let top10: u32 = hits[..10].iter().sum();
        let bottom500: u32 = hits[500..].iter().sum();
        assert!(top10 > bottom500 / 2, "top10={top10} bottom500={bottom500}");
        assert!(hits[0] > 20 * hits[999].max(1));
    }
}
