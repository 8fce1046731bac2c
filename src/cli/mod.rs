//! The `folio` command: serve the site, set up its database, seed it, and
//! look after its cache. `src/main.rs` only calls [`run`]; the commands live
//! here, a file per group: `serve.rs`, `seed.rs` (and the chart), `import.rs`
//! (import and export), `admin.rs` (accounts), `cache.rs`.

mod admin;
mod cache;
mod import;
mod seed;
mod serve;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::Settings;
use crate::startup;

/// What a command's failure is: only ever printed (`folio: …`), so one boxed
/// error carries every layer's without a variant per layer.
type CliError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(
    name = "folio",
    version,
    about = "A server-rendered book catalogue whose heart is caching done right.",
    long_about = "A server-rendered book catalogue whose heart is caching done right.\n\n\
        Every setting below is read from its environment variable (or a .env file in the \
        working directory; an empty value counts as unset), or given as the flag before the \
        command. See the README for what each one trades.\n\n\
        With no command, folio serves the site."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (what runs with no command): migrates the database
    /// first and fills an empty one with demo data.
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill the database with deterministic demo books and ratings.
    Seed(seed::SeedArgs),
    /// Print the chart computed from the database, and how long that took.
    Chart,
    /// Import books from a CSV file: folio's own export or a Goodreads
    /// library export (told apart by the header). Rows are checked as the
    /// admin's form checks them; a book is matched by ISBN (without one, by
    /// title and author) and updated, else added. One transaction: on a
    /// fatal error nothing is imported. Prints what was added, updated and
    /// skipped (`line N: reason`, the header being line 1).
    Import(import::ImportArgs),
    /// Write every book as CSV in folio's export format (what `import`
    /// reads back).
    Export {
        /// The file to write; without it, standard output.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Look after the cache.
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Manage admin accounts.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

/// The whole `folio` program: parses the command line (settings from the
/// environment and `.env`), then runs the command on a Tokio runtime.
pub fn run() -> ExitCode {
    limit_malloc_arenas();
    Settings::prepare_environment();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match crate::config::setting_error(&Cli::command(), &e) {
            // "VAR=value is not valid: expected …", exit code 2 as clap's.
            Some(setting) => {
                eprintln!("folio: {setting}");
                return ExitCode::from(2);
            }
            None => e.exit(),
        },
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let settings = cli.settings;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("folio: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = cli
        .command
        .unwrap_or(Command::Serve(serve::ServeArgs::default()));
    match runtime.block_on(dispatch(command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("folio: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, settings: Settings) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => serve::serve(settings, &args).await,
        Command::Migrate => {
            startup::open_database(&settings).await?;
            Ok(())
        }
        Command::Seed(args) => seed::seed(&settings, &args).await,
        Command::Chart => seed::chart(&settings).await,
        Command::Import(args) => import::import(&settings, &args).await,
        Command::Export { output } => import::export(&settings, output.as_deref()).await,
        Command::Admin(command) => admin::run(&settings, &command).await,
        Command::Cache(command) => cache::run(&settings, &command).await,
    }
}

/// glibc gives each thread that allocates under contention an arena of its
/// own (up to 8 per core) and keeps what was freed in each: after the
/// uncached routes had run on every blocking thread, that retained memory was
/// a third of folio's. Two arenas (what `MALLOC_ARENA_MAX=2` sets) keep the
/// two HTTP workers from contending. Must run before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable; no thread is running yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
