//! `folio serve` (and `folio` alone): migrate, seed an empty catalogue with
//! demo data, serve.

use clap::Args;

use super::seed::seed_blocking;
use super::CliError;
use crate::config::Settings;
use crate::db::books;
use crate::db::seed::SeedPlan;
use crate::startup::{self, Application};

/// Demo data for a newcomer's first `cargo run`: big enough to look real,
/// small enough to load in a moment.
const DEMO_BOOKS: u32 = 2_000;
const DEMO_RATINGS: u32 = 60_000;

#[derive(Args, Default)]
pub(super) struct ServeArgs {
    /// Do not seed an empty database with demo data.
    #[arg(long)]
    no_demo_data: bool,
}

pub(super) async fn serve(settings: Settings, args: &ServeArgs) -> Result<(), CliError> {
    let db = startup::open_database(&settings).await?;
    if !args.no_demo_data {
        let empty = db.run(books::count_books).await? == 0;
        if empty {
            tracing::info!(
                books = DEMO_BOOKS,
                ratings = DEMO_RATINGS,
                "the catalogue is empty: adding demo data"
            );
            seed_blocking(
                db.clone(),
                SeedPlan::new(DEMO_BOOKS, DEMO_RATINGS, 42, false),
            )
            .await?;
        }
    }
    let stores = startup::build_stores(&settings).await?;
    let bind = settings.http.bind;
    let app = Application::build(settings, db, stores).await?;
    tracing::info!("folio is serving at http://{}:{}", bind.ip(), app.port());
    app.run_until_stopped().await?;
    Ok(())
}
