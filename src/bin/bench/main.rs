//! `cargo run --release --bin bench`: folio's hit path against the
//! hardware's limit, every route's requests/s, and folio's memory, in one
//! table; then the change feed's figures (`examples/feed_bench.rs`).

mod hit;
mod probe;
mod procs;
mod setup;
mod table;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser;

use procs::{check_interrupted, RssSampler, Server, TempDir};
use setup::{git_commit, Build, Setup};
use table::{HitRow, Memory, OtherRow};

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Benchmark folio's cached hit path against a bare actix-web server serving the same bytes, \
             every other route, and folio's memory; then the change feed.",
    long_about = "Benchmark folio's cached hit path against a bare actix-web server serving the same bytes, \
        every other route, and folio's memory; then the change feed.\n\n\
        Steps: builds folio (release) and the reference server (../shared/bench/limit, into \
        <target>/limit), each unless its binary is newer than its sources; seeds a database (SQLite in a temp dir unless --database-url); starts \
        `folio serve --no-demo-data` on a free loopback port with Redis (unless --redis-url none); \
        for `/`, `/cache` and `/books?page=3`, with and without `Accept-Encoding: gzip`, saves the \
        exact bytes folio sends, has the reference serve them, and runs `wrk -t2 -c16` on both in \
        alternating order, --rounds rounds (the ratio is median ÷ median, target 0.80); loads \
        every other route once; samples folio's VmRSS every 0.5 s throughout (target < 50 MB \
        during and 2 s after the load); prints one markdown table; then runs the change feed's \
        bench (examples/feed_bench.rs) unless --no-feed. Stops what it started and clears its \
        Redis keys (its own prefix) on exit or Ctrl-C. A FAIL in the table is a finding, not an \
        error: the exit status is 0 unless the bench itself could not run.\n\n\
        Needs cargo and wrk; Linux's /proc for memory. Loopback only."
)]
struct Args {
    /// A few-minute run: 2 s per wrk run, 2,000 books and 60,000 ratings,
    /// no change-feed bench.
    #[arg(long)]
    quick: bool,
    /// Seconds of each wrk run [default: 5, --quick: 2].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=600))]
    seconds: Option<u64>,
    /// Alternating rounds per hit-path case, at least 3.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(3..=99))]
    rounds: u32,
    /// Books to seed [default: 10000, --quick: 2000].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    books: Option<u64>,
    /// Ratings to seed [default: 500000, --quick: 60000].
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=50_000_000))]
    ratings: Option<u64>,
    #[expect(clippy::doc_markdown, reason = "--help's text, read on a terminal")]
    /// The database: unset, a fresh SQLite file in a temp dir. A postgres://
    /// URL names an existing database that is EMPTIED (the seed resets it):
    /// use a throwaway one (createdb -U postgres folio_bench).
    #[arg(long, env = "BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Redis for the cache; `none` benchmarks the in-process cache.
    #[arg(
        long,
        env = "BENCH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    redis_url: String,
    /// The reference server's crate.
    #[arg(long, env = "BENCH_LIMIT_DIR", default_value = "../shared/bench/limit")]
    limit_dir: PathBuf,
    /// Skip the change feed's bench.
    #[arg(long)]
    no_feed: bool,
}

/// What folio's release binary is built from (below the checkout): a change
/// to any of them rebuilds it.
const FOLIO_SOURCES: [&str; 8] = [
    "src",
    "build",
    "build.rs",
    "templates",
    "static",
    "migrations",
    "Cargo.toml",
    "Cargo.lock",
];
/// Cached routes whose hit path is compared with the reference.
const HIT_ROUTES: [&str; 3] = ["/", "/cache", "/books?page=3"];
/// Other routes, loaded once each; `true`: also with gzip.
const OTHER_ROUTES: [(&str, bool); 5] = [
    ("/top/uncached", true),
    ("/sample", true),
    ("/books/1", false),
    ("/api/top-books", false),
    ("/api/books?page=3", false),
];

fn main() -> ExitCode {
    let args = Args::parse();
    procs::catch_interrupts();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn step(what: &str) {
    eprintln!("== {what}");
}

/// The run's figures and places, from the arguments.
struct Plan<'a> {
    args: &'a Args,
    seconds: u64,
    books: u64,
    ratings: u64,
    root: PathBuf,
    target_dir: PathBuf,
    folio_sources: Vec<PathBuf>,
}

impl<'a> Plan<'a> {
    fn new(args: &'a Args) -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map_or_else(|| root.join("target"), |t| root.join(t));
        Self {
            args,
            seconds: args.seconds.unwrap_or(if args.quick { 2 } else { 5 }),
            books: args
                .books
                .unwrap_or(if args.quick { 2_000 } else { 10_000 }),
            ratings: args
                .ratings
                .unwrap_or(if args.quick { 60_000 } else { 500_000 }),
            folio_sources: FOLIO_SOURCES.iter().map(|s| root.join(s)).collect(),
            root,
            target_dir,
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let plan = Plan::new(args);
    let limit_dir = plan.root.join(&args.limit_dir);
    if !limit_dir.join("Cargo.toml").is_file() {
        return Err(format!(
            "no reference server at {} (--limit-dir)",
            limit_dir.display()
        ));
    }
    step("building folio (release) and the reference");
    let limit_bin = build_servers(&plan, &limit_dir)?;

    let tmp = TempDir::new().map_err(|e| format!("temp dir: {e}"))?;
    let database_url = match &args.database_url {
        Some(url) => url.clone(),
        None => tmp.path().join("bench.db").display().to_string(),
    };
    let backend = if database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let setup = Setup {
        bin: plan.target_dir.join("release/folio"),
        dir: tmp.path().to_owned(),
        database_url,
        redis_url: (args.redis_url != "none").then(|| args.redis_url.clone()),
        prefix: format!("bench-{}", std::process::id()),
    };
    let version = setup.run_folio(&["--version"])?;
    seed(&setup, &plan, backend)?;

    let mut folio = start_folio(&setup, tmp.path())?;
    let sampler = RssSampler::start(folio.pid());
    let hits = hit_path(&plan, &mut folio, &limit_bin, tmp.path())?;
    let others = other_routes(&plan, folio.port)?;
    std::thread::sleep(Duration::from_secs(2));
    let memory = Memory {
        peak_kb: sampler.finish(),
        after_kb: procs::rss_kb(folio.pid()),
    };
    if !folio.alive() {
        return Err(format!("folio died under load\n{}", folio.log_tail()));
    }
    drop(folio);

    println!();
    println!("{}", table::render(&hits, &others, &memory));
    println!("{}", footnote(&plan, &setup, &version, backend));

    if !args.no_feed && !args.quick {
        println!();
        feed_bench(&plan, &setup)?;
    }
    Ok(())
}

/// Builds folio and the reference unless they are fresh; returns the
/// reference's binary.
fn build_servers(plan: &Plan, limit_dir: &Path) -> Result<PathBuf, String> {
    Build {
        manifest: &plan.root.join("Cargo.toml"),
        target_dir: &plan.target_dir,
        what: &["--bin", "folio"],
        binary: plan.target_dir.join("release/folio"),
        sources: plan.folio_sources.clone(),
    }
    .run_unless_fresh()?;
    let limit_target = plan.target_dir.join("limit");
    let limit_bin = limit_target.join("release/limit");
    Build {
        manifest: &limit_dir.join("Cargo.toml"),
        target_dir: &limit_target,
        what: &[],
        binary: limit_bin.clone(),
        sources: vec![limit_dir.join("src"), limit_dir.join("Cargo.toml")],
    }
    .run_unless_fresh()?;
    Ok(limit_bin)
}

fn seed(setup: &Setup, plan: &Plan, backend: &str) -> Result<(), String> {
    let (books, ratings) = (plan.books, plan.ratings);
    step(&format!(
        "seeding {books} books and {ratings} ratings ({backend}, seed 42, --reset)"
    ));
    let started = std::time::Instant::now();
    setup.run_folio(&[
        "seed",
        "--books",
        &books.to_string(),
        "--ratings",
        &ratings.to_string(),
        "--seed",
        "42",
        "--reset",
    ])?;
    eprintln!("   {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `folio serve` on a free port, once every route answers.
fn start_folio(setup: &Setup, dir: &Path) -> Result<Server, String> {
    let port = probe::free_port().map_err(|e| format!("no free port: {e}"))?;
    let mut serve = setup.folio();
    serve
        .args(["serve", "--no-demo-data"])
        .env("FOLIO_BIND", format!("127.0.0.1:{port}"));
    let mut folio = Server::start("folio", serve, port, dir.join("folio.log"))?;
    step(&format!(
        "folio at http://127.0.0.1:{port} (cache: {})",
        setup.redis_url.as_deref().unwrap_or("in-process")
    ));
    if let Err(e) = probe::wait_for(port, "/healthz", Duration::from_secs(30), || folio.alive()) {
        return Err(format!("{e}\n{}", folio.log_tail()));
    }
    // With Redis the in-process tier is used once folio holds its heartbeat
    // lease (~0.3 s after start).
    std::thread::sleep(Duration::from_secs(1));
    for route in HIT_ROUTES.iter().chain(OTHER_ROUTES.iter().map(|(r, _)| r)) {
        let answer = probe::get(port, route, false)?;
        if answer.status != 200 {
            return Err(format!(
                "GET {route} answered {}\n{}",
                answer.status,
                folio.log_tail()
            ));
        }
    }
    Ok(folio)
}

fn hit_path(
    plan: &Plan,
    folio: &mut Server,
    limit_bin: &Path,
    dir: &Path,
) -> Result<Vec<HitRow>, String> {
    step(&format!(
        "hit path: folio against the reference serving the same bytes, {} rounds of wrk -t{} -c{} -d{}s",
        plan.args.rounds,
        wrk::THREADS,
        wrk::CONNECTIONS,
        plan.seconds
    ));
    let mut hits = Vec::new();
    for route in HIT_ROUTES {
        for gzip in [false, true] {
            check_interrupted()?;
            hits.push(hit::hit_case(
                folio,
                limit_bin,
                dir,
                route,
                gzip,
                plan.args.rounds,
                plan.seconds,
            )?);
        }
    }
    Ok(hits)
}

fn other_routes(plan: &Plan, port: u16) -> Result<Vec<OtherRow>, String> {
    let seconds = plan.seconds;
    step(&format!(
        "every other route once (wrk -t{} -c{} -d{seconds}s)",
        wrk::THREADS,
        wrk::CONNECTIONS
    ));
    let mut others = Vec::new();
    for (route, also_gzip) in OTHER_ROUTES {
        for gzip in [false, true].into_iter().filter(|g| !g || also_gzip) {
            check_interrupted()?;
            let run = wrk::run(&format!("http://127.0.0.1:{port}{route}"), gzip, seconds)?;
            eprintln!(
                "   {route} {}: {:.0} req/s",
                if gzip { "gzip" } else { "identity" },
                run.requests_per_sec
            );
            others.push(OtherRow { route, gzip, run });
        }
    }
    Ok(others)
}

/// The table's footnote: what ran, on what.
fn footnote(plan: &Plan, setup: &Setup, version: &str, backend: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let (books, ratings, seconds) = (plan.books, plan.ratings, plan.seconds);
    format!(
        "_{version} ({}), release build; {backend}, {} cache, {books} books, {ratings} ratings; medians of {} \
         alternating rounds of `wrk -t{} -c{} -d{seconds}s` on loopback; reference: `{}` serving the same bytes; \
         {} cores ({cpu}); load average at the end {}._",
        git_commit(&plan.root),
        if setup.redis_url.is_some() { "Redis" } else { "in-process" },
        plan.args.rounds,
        wrk::THREADS,
        wrk::CONNECTIONS,
        plan.args.limit_dir.display(),
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" "),
    )
}

fn feed_bench(plan: &Plan, setup: &Setup) -> Result<(), String> {
    step("the change feed: outside writes seen on two instances, and the seed's overhead");
    let binary = plan.target_dir.join("release/examples/feed_bench");
    Build {
        manifest: &plan.root.join("Cargo.toml"),
        target_dir: &plan.target_dir,
        what: &["--example", "feed_bench"],
        binary: binary.clone(),
        sources: [
            plan.folio_sources.clone(),
            vec![plan.root.join("examples/feed_bench.rs")],
        ]
        .concat(),
    }
    .run_unless_fresh()?;
    let status = Command::new(binary)
        .current_dir(&plan.root)
        .env("FOLIO_BIN", &setup.bin)
        .env(
            "REDIS_URL",
            setup
                .redis_url
                .as_deref()
                .unwrap_or("redis://127.0.0.1:6379"),
        )
        .status()
        .map_err(|e| format!("could not run feed_bench: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("feed_bench failed".into())
    }
}
