//! `folio seed` (deterministic demo data) and `folio chart` (the chart's
//! query, timed).

use std::time::Instant;

use clap::Args;

use super::CliError;
use crate::config::Settings;
use crate::db::seed::{self, SeedPlan, MAX_BOOKS, MAX_RATINGS};
use crate::db::{books, Database};
use crate::startup;

#[derive(Args)]
pub(super) struct SeedArgs {
    /// How many books.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_BOOKS)))]
    books: u32,
    /// How many ratings, spread over the last 60 days.
    #[arg(long, default_value_t = 500_000, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_RATINGS)))]
    ratings: u32,
    /// The random seed: the same seed and counts give the same data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Delete every book and rating first.
    #[arg(long)]
    reset: bool,
}

pub(super) async fn seed(settings: &Settings, args: &SeedArgs) -> Result<(), CliError> {
    let db = startup::open_database(settings).await?;
    let plan = SeedPlan::new(args.books, args.ratings, args.seed, args.reset);
    // The seed records one `all` in the change log: running instances apply
    // it at once, a stopped one when it starts.
    seed_blocking(db, plan).await
}

/// Seeds on a blocking thread (the seed is synchronous diesel) and logs what
/// it wrote.
pub(super) async fn seed_blocking(db: Database, plan: SeedPlan) -> Result<(), CliError> {
    let backend = db.backend_name();
    let report = tokio::task::spawn_blocking(move || seed::seed(&db, plan)).await??;
    tracing::info!(
        backend,
        books = report.books,
        ratings = report.ratings,
        seed = plan.seed,
        seconds = format!("{:.2}", report.elapsed.as_secs_f64()),
        "seeded"
    );
    Ok(())
}

pub(super) async fn chart(settings: &Settings) -> Result<(), CliError> {
    let db = startup::open_database(settings).await?;
    let started = Instant::now();
    let now = chrono::Utc::now().naive_utc();
    let chart = db.run(move |c| books::top_books(c, now)).await?;
    let elapsed = started.elapsed();
    for (i, e) in chart.iter().enumerate() {
        println!(
            "{:>2}. {} — {} ({} ratings, {:.2}★) [id {}]",
            i + 1,
            e.title,
            e.author,
            e.ratings,
            e.avg_stars,
            e.id
        );
    }
    println!(
        "chart query on {}: {:.1} ms",
        db.backend_name(),
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}
