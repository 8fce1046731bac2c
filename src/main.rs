//! The `folio` command: serve the site, set up its database, seed it, and
//! look after its cache.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, CommandFactory, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use std::io::IsTerminal;

use folio::auth;
use folio::cache::Tag;
use folio::config::Settings;
use folio::db::seed::{self, SeedPlan, MAX_BOOKS, MAX_RATINGS};
use folio::db::{books, Database};
use folio::domain::{Email, NewPassword};
use folio::startup::{self, Application};

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
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill the database with deterministic demo books and ratings.
    Seed(SeedArgs),
    /// Print the chart computed from the database, and how long that took.
    Chart,
    /// Import books from a CSV file: folio's own export or a Goodreads
    /// library export (told apart by the header). Rows are checked as the
    /// admin's form checks them; a book is matched by ISBN (without one, by
    /// title and author) and updated, else added. One transaction: on a
    /// fatal error nothing is imported. Prints what was added, updated and
    /// skipped (`line N: reason`, the header being line 1).
    Import(ImportArgs),
    /// Write every book as CSV in folio's export format (what `import`
    /// reads back).
    Export {
        /// The file to write; without it, standard output.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Look after the cache.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Manage admin accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin. The password is asked for on a terminal, or read
    /// from FOLIO_ADMIN_PASSWORD otherwise; it needs 12 characters or more.
    /// With --reset-password, every session of that admin ends.
    Create {
        /// The admin's email, used to sign in.
        #[arg(long)]
        email: String,
        /// Give an existing admin this new password instead of failing.
        #[arg(long)]
        reset_password: bool,
    },
}

#[derive(Args, Default)]
struct ServeArgs {
    /// Do not seed an empty database with demo data.
    #[arg(long)]
    no_demo_data: bool,
}

#[derive(Args)]
struct SeedArgs {
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

#[derive(Args)]
struct ImportArgs {
    /// The CSV file (`-` for standard input).
    file: std::path::PathBuf,
    /// Also list every book added and updated, not only the counts and the
    /// skipped rows.
    #[arg(long)]
    list: bool,
}

#[derive(Subcommand)]
enum CacheCommand {
    /// Invalidate cached fragments: all of them, or those depending on one tag.
    Clear {
        /// `chart`, `books`, `book:{id}` or `ratings:{id}`; without it every
        /// entry is removed.
        #[arg(long, value_parser = parse_tag)]
        tag: Option<Tag>,
    },
}

fn parse_tag(raw: &str) -> Result<Tag, String> {
    Tag::parse(raw).ok_or_else(|| {
        format!("{raw:?} is not a tag: expected chart, books, ratings, book:ID or ratings:ID")
    })
}

/// Demo data for a newcomer's first `cargo run`: big enough to look real,
/// small enough to load in a moment.
const DEMO_BOOKS: u32 = 2_000;
const DEMO_RATINGS: u32 = 60_000;

fn main() -> ExitCode {
    limit_malloc_arenas();
    Settings::prepare_environment();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match folio::config::setting_error(&Cli::command(), &e) {
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
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    match runtime.block_on(run(command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("folio: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn run(command: Command, settings: Settings) -> Result<(), AnyError> {
    match command {
        Command::Serve(args) => serve(settings, args).await,
        Command::Migrate => {
            startup::open_database(&settings).await?;
            Ok(())
        }
        Command::Seed(args) => {
            let db = startup::open_database(&settings).await?;
            let plan = SeedPlan::new(args.books, args.ratings, args.seed, args.reset);
            // The seed records one `all` in the change log: running
            // instances apply it at once, a stopped one when it starts.
            seed_blocking(db, plan).await?;
            Ok(())
        }
        Command::Chart => {
            let db = startup::open_database(&settings).await?;
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
        Command::Import(args) => import(settings, args).await,
        Command::Export { output } => {
            let db = startup::open_database(&settings).await?;
            let csv = folio::catalogue::import::export_csv(&db).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &csv)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    eprintln!("wrote {} bytes to {}", csv.len(), path.display());
                }
                None => std::io::Write::write_all(&mut std::io::stdout().lock(), &csv)?,
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Create {
            email,
            reset_password,
        }) => {
            let email = Email::parse(&email).map_err(|e| format!("--email: {e}"))?;
            let password = NewPassword::parse(read_password(&email)?)?;
            let db = startup::open_database(&settings).await?;
            let created = auth::create_admin(&db, email.clone(), password, reset_password).await?;
            if created {
                println!("created the admin {email}; sign in at /admin/login");
            } else {
                println!("gave the admin {email} a new password");
            }
            Ok(())
        }
        Command::Cache(CacheCommand::Clear { tag }) => {
            let cache = startup::build_stores(&settings).await?.cache;
            match tag {
                Some(tag) => {
                    cache.invalidate_tags(&[tag]).await?;
                    if let Some(edge) = folio::edge::EdgePurger::new(&settings.edge) {
                        edge.purge(&[tag]).await?;
                        println!("purged {tag} at the edges");
                    }
                    println!("invalidated every fragment that depends on {tag}");
                }
                None => {
                    let removed = cache.clear().await?;
                    println!(
                        "removed {removed} keys under {}:*",
                        settings.redis.prefix.as_str()
                    );
                }
            }
            Ok(())
        }
    }
}

/// The new admin's password: typed twice on a terminal, or taken from
/// FOLIO_ADMIN_PASSWORD when there is no terminal (scripts, CI).
fn read_password(email: &Email) -> Result<String, AnyError> {
    if std::io::stdin().is_terminal() {
        let first =
            rpassword::prompt_password(format!("Password for {email} (12 characters or more): "))?;
        let again = rpassword::prompt_password("The same password again: ")?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        return Ok(first);
    }
    std::env::var("FOLIO_ADMIN_PASSWORD")
        .map_err(|_| "no terminal to ask for a password on: set FOLIO_ADMIN_PASSWORD".into())
}

async fn import(settings: Settings, args: ImportArgs) -> Result<(), AnyError> {
    use folio::catalogue::import::{import_csv, Phase};
    let file: Box<dyn std::io::Read + Send> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        let opened = std::fs::File::open(&args.file)
            .map_err(|e| format!("cannot open {}: {e}", args.file.display()))?;
        Box::new(std::io::BufReader::with_capacity(1 << 16, opened))
    };
    let db = startup::open_database(&settings).await?;
    let bar = std::sync::Arc::new(progress_bar());
    let shown = bar.clone();
    let progress = std::sync::Arc::new(move |phase: Phase, n: u64| {
        if let Some(bar) = shown.as_ref() {
            match phase {
                Phase::Reading => bar.set_message("reading"),
                // Once the rows are counted: a bar to the end.
                Phase::Writing { total } if bar.length() != Some(total) => {
                    bar.set_length(total);
                    bar.set_position(0);
                    if let Ok(style) = indicatif::ProgressStyle::with_template(
                        "{msg} [{bar:40}] {human_pos}/{human_len} rows ({elapsed}, eta {eta})",
                    ) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar.set_message("writing");
                }
                Phase::Writing { .. } => {}
            }
            bar.set_position(n);
        }
    });
    // No change feed here: the running instances apply the change log.
    let report = import_csv(&db, None, file, progress).await;
    if let Some(bar) = bar.as_ref() {
        bar.finish_and_clear();
    }
    let report = report?;
    if args.list {
        for (line, title) in &report.added {
            println!("line {line}: added {title}");
        }
        for (line, title) in &report.updated {
            println!("line {line}: updated {title}");
        }
    }
    for problem in &report.skipped {
        println!("{problem}");
    }
    println!(
        "{}: {} added, {} updated, {} unchanged, {} skipped in {:.2} s",
        report.format.label(),
        report.added.len(),
        report.updated.len(),
        report.unchanged,
        report.skipped.len(),
        report.elapsed.as_secs_f64()
    );
    Ok(())
}

/// On a terminal: a spinner with a row count while the file is read, then a
/// bar while the rows are written; nothing elsewhere.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {msg} {human_pos} rows ({elapsed})")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

async fn seed_blocking(db: Database, plan: SeedPlan) -> Result<(), AnyError> {
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

async fn serve(settings: Settings, args: ServeArgs) -> Result<(), AnyError> {
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
