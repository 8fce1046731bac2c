//! `cargo run --release --bin bench`: folio's hit path against the
//! hardware's limit, every route's requests/s, and folio's memory, in one
//! table; then the change feed's figures (`examples/feed_bench.rs`).

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
use setup::{cargo_build, git_commit, Setup};
use table::{HitRow, Memory, OtherRow};

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Benchmark folio's cached hit path against a bare actix-web server serving the same bytes, \
             every other route, and folio's memory; then the change feed.",
    long_about = "Benchmark folio's cached hit path against a bare actix-web server serving the same bytes, \
        every other route, and folio's memory; then the change feed.\n\n\
        Steps: builds folio (release) and the reference server (../shared/bench/limit, into \
        <target>/limit); seeds a database (SQLite in a temp dir unless --database-url); starts \
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

fn run(args: &Args) -> Result<(), String> {
    let seconds = args.seconds.unwrap_or(if args.quick { 2 } else { 5 });
    let books = args
        .books
        .unwrap_or(if args.quick { 2_000 } else { 10_000 });
    let ratings = args
        .ratings
        .unwrap_or(if args.quick { 60_000 } else { 500_000 });
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| root.join("target"), |t| root.join(t));
    let limit_dir = root.join(&args.limit_dir);
    if !limit_dir.join("Cargo.toml").is_file() {
        return Err(format!(
            "no reference server at {} (--limit-dir)",
            limit_dir.display()
        ));
    }

    step("building folio (release) and the reference");
    cargo_build(&root.join("Cargo.toml"), &target_dir, &["--bin", "folio"])?;
    let limit_target = target_dir.join("limit");
    cargo_build(&limit_dir.join("Cargo.toml"), &limit_target, &[])?;
    let limit_bin = limit_target.join("release/limit");

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
        bin: target_dir.join("release/folio"),
        dir: tmp.path().to_owned(),
        database_url,
        redis_url: (args.redis_url != "none").then(|| args.redis_url.clone()),
        prefix: format!("bench-{}", std::process::id()),
    };
    let version = setup.run_folio(&["--version"])?;

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

    let port = probe::free_port().map_err(|e| format!("no free port: {e}"))?;
    let mut serve = setup.folio();
    serve
        .args(["serve", "--no-demo-data"])
        .env("FOLIO_BIND", format!("127.0.0.1:{port}"));
    let mut folio = Server::start("folio", serve, port, tmp.path().join("folio.log"))?;
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

    let sampler = RssSampler::start(folio.pid());
    step(&format!(
        "hit path: folio against the reference serving the same bytes, {} rounds of wrk -t{} -c{} -d{seconds}s",
        args.rounds,
        wrk::THREADS,
        wrk::CONNECTIONS
    ));
    let mut hits = Vec::new();
    for route in HIT_ROUTES {
        for gzip in [false, true] {
            check_interrupted()?;
            hits.push(hit_case(
                &mut folio,
                &limit_bin,
                tmp.path(),
                route,
                gzip,
                args.rounds,
                seconds,
            )?);
        }
    }
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
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    println!(
        "_{version} ({}), release build; {backend}, {} cache, {books} books, {ratings} ratings; medians of {} \
         alternating rounds of `wrk -t{} -c{} -d{seconds}s` on loopback; reference: `{}` serving the same bytes; \
         {} cores ({cpu}); load average at the end {}._",
        git_commit(&root),
        if setup.redis_url.is_some() { "Redis" } else { "in-process" },
        args.rounds,
        wrk::THREADS,
        wrk::CONNECTIONS,
        args.limit_dir.display(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" "),
    );

    if !args.no_feed && !args.quick {
        println!();
        step("the change feed: outside writes seen on two instances, and the seed's overhead");
        cargo_build(
            &root.join("Cargo.toml"),
            &target_dir,
            &["--example", "feed_bench"],
        )?;
        let status = Command::new(target_dir.join("release/examples/feed_bench"))
            .current_dir(&root)
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
        if !status.success() {
            return Err("feed_bench failed".into());
        }
    }
    Ok(())
}

/// One cached route in one encoding: folio and the reference (serving the
/// bytes folio sent), alternating who goes first.
fn hit_case(
    folio: &mut Server,
    limit_bin: &Path,
    dir: &Path,
    route: &'static str,
    gzip: bool,
    rounds: u32,
    seconds: u64,
) -> Result<HitRow, String> {
    let mut answer = probe::get(folio.port, route, gzip)?;
    for _ in 0..10 {
        if answer.status == 200 && answer.header("x-cache") == Some("HIT") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        answer = probe::get(folio.port, route, gzip)?;
    }
    if answer.header("x-cache") != Some("HIT") {
        eprintln!("   warning: {route} is not served from the cache; its figures mean little");
    }
    let coding = answer.header("content-encoding").unwrap_or("");
    if coding != if gzip { "gzip" } else { "" } {
        return Err(format!(
            "{route} (gzip: {gzip}) came with Content-Encoding '{coding}'"
        ));
    }
    let body_file = dir.join(format!(
        "body-{}-{gzip}",
        route.replace(['/', '?', '='], "_")
    ));
    std::fs::write(&body_file, &answer.body)
        .map_err(|e| format!("{}: {e}", body_file.display()))?;
    let port = probe::free_port().map_err(|e| format!("no free port: {e}"))?;
    let mut cmd = Command::new(limit_bin);
    cmd.env("BODY_FILE", &body_file)
        .env("PORT", port.to_string());
    let mut reference = Server::start("the reference", cmd, port, dir.join("limit.log"))?;
    probe::wait_for(port, "/", Duration::from_secs(10), || reference.alive())?;

    let folio_url = format!("http://127.0.0.1:{}{route}", folio.port);
    let reference_url = format!("http://127.0.0.1:{port}/");
    let mut row = HitRow {
        route,
        gzip,
        body_bytes: answer.body.len(),
        folio: vec![],
        reference: vec![],
    };
    for round in 0..rounds {
        check_interrupted()?;
        // Alternate who goes first, so neither always gets the quieter moment.
        let folio_first = round % 2 == 0;
        for folio_turn in [folio_first, !folio_first] {
            if folio_turn {
                row.folio
                    .push(checked(wrk::run(&folio_url, gzip, seconds)?, route).requests_per_sec);
            } else {
                // The reference sends the same bytes whatever the request says.
                row.reference.push(
                    checked(wrk::run(&reference_url, false, seconds)?, "the reference")
                        .requests_per_sec,
                );
            }
        }
        if !folio.alive() {
            return Err(format!("folio died under load\n{}", folio.log_tail()));
        }
    }
    eprintln!(
        "   {route} {} ({} B): folio {:?}, reference {:?} → {:.2}",
        if gzip { "gzip" } else { "identity" },
        row.body_bytes,
        row.folio
            .iter()
            .map(|f| f.round() as u64)
            .collect::<Vec<_>>(),
        row.reference
            .iter()
            .map(|f| f.round() as u64)
            .collect::<Vec<_>>(),
        row.ratio()
    );
    Ok(row)
}

fn checked(run: wrk::Run, what: &str) -> wrk::Run {
    if run.errors > 0 {
        eprintln!("   warning: {what}: {} errors in one run", run.errors);
    }
    run
}
