//! The change feed's figures, on `SQLite` and `PostgreSQL`:
//!
//! 1. how soon a write made by another client (plain SQL on a connection of
//!    its own) shows on every one of two folio instances (p50, p99, max);
//! 2. what the triggers cost `folio seed --books 10000 --ratings 500000`
//!    (median of three runs with the triggers as shipped, against three with
//!    them switched off).
//!
//! Run from the project's root, after `cargo build --release`:
//!
//! ```sh
//! cargo run --release --example feed_bench
//! ```
//!
//! Environment: `FOLIO_BIN` (default `target/release/folio`), `REDIS_URL`
//! (default `redis://127.0.0.1:6379`; keys under a prefix of its own),
//! `FEED_BENCH_PG` (default `postgres://postgres@127.0.0.1:5432/folio_feed_bench`:
//! that database is created if missing and EMPTIED), `FEED_BENCH_PROBES`
//! (default 200), `FEED_BENCH_BACKENDS` (default `sqlite,postgres`).
//! Loopback only.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// A connection of another program: neither folio's pool nor its listener.
fn outside(url: &str) -> Result<Box<dyn SimpleConnection>, AnyError> {
    Ok(match url.strip_prefix("sqlite://") {
        Some(path) => {
            let mut c = SqliteConnection::establish(path)?;
            c.batch_execute("PRAGMA busy_timeout = 5000")?;
            Box::new(c)
        }
        None => Box::new(PgConnection::establish(url)?),
    })
}

fn folio(bin: &str, url: &str, args: &[&str]) -> Result<Duration, AnyError> {
    let started = Instant::now();
    let out = Command::new(bin)
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "warn")
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "folio {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(started.elapsed())
}

struct Instance {
    child: Child,
    base: String,
}

impl Instance {
    async fn start(bin: &str, url: &str, redis: &str, prefix: &str) -> Result<Self, AnyError> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(bin)
            .args(["serve", "--no-demo-data"])
            .env("DATABASE_URL", url)
            .env("REDIS_URL", redis)
            .env("FOLIO_CACHE_PREFIX", prefix)
            .env("FOLIO_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?;
        let instance = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while reqwest::get(format!("{}/healthz", instance.base))
            .await
            .is_err()
        {
            if started.elapsed() > Duration::from_secs(30) {
                return Err("folio did not start within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The in-process tier is used once its lease is held.
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(instance)
    }

    async fn shows(&self, client: &reqwest::Client, path: &str, text: &str) -> bool {
        match client.get(format!("{}{path}", self.base)).send().await {
            Ok(r) => r.text().await.is_ok_and(|b| b.contains(text)),
            Err(_) => false,
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "an index: `len - 1` (exact in an f64 below 2^53) times a share in 0..=1, rounded, is in 0..len"
)]
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Outside writes, each waited for on both instances.
async fn visibility(
    bin: &str,
    url: &str,
    redis: &str,
    probes: usize,
) -> Result<Vec<Duration>, AnyError> {
    folio(
        bin,
        url,
        &["seed", "--books", "2000", "--ratings", "20000", "--reset"],
    )?;
    let prefix = format!("feedbench{}", std::process::id());
    let instances = [
        Instance::start(bin, url, redis, &prefix).await?,
        Instance::start(bin, url, redis, &prefix).await?,
    ];
    let client = reqwest::Client::new();
    let mut writer = outside(url)?;
    let mut seen = Vec::with_capacity(probes);
    for i in 0..probes {
        let id = 1 + i % 50;
        let path = format!("/books/{id}");
        for instance in &instances {
            instance.shows(&client, &path, "").await;
        }
        let title = format!("Latency Probe {i}");
        writer.batch_execute(&format!(
            "UPDATE books SET title = '{title}' WHERE id = {id}"
        ))?;
        let written = Instant::now();
        for instance in &instances {
            while !instance.shows(&client, &path, &title).await {
                if written.elapsed() > Duration::from_secs(10) {
                    return Err(format!("{path} never showed {title:?}").into());
                }
            }
        }
        seen.push(written.elapsed());
    }
    drop(instances);
    let _ = Command::new(bin)
        .args(["cache", "clear"])
        .env("REDIS_URL", redis)
        .env("FOLIO_CACHE_PREFIX", &prefix)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output();
    seen.sort();
    Ok(seen)
}

/// The feed's triggers on or off: off is the baseline of no mechanism at
/// all (the version triggers included).
fn switch_triggers(url: &str, on: bool) -> Result<(), AnyError> {
    let mut c = outside(url)?;
    if url.starts_with("sqlite://") {
        if on {
            c.batch_execute(&std::fs::read_to_string(sqlite_saved(url))?)?;
        } else {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Trigger {
                #[diesel(sql_type = diesel::sql_types::Text)]
                name: String,
                #[diesel(sql_type = diesel::sql_types::Text)]
                sql: String,
            }
            // Kept aside and put back verbatim.
            let mut conn = SqliteConnection::establish(url.trim_start_matches("sqlite://"))?;
            let triggers: Vec<Trigger> = diesel::sql_query(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
                 AND tbl_name IN ('books', 'ratings')",
            )
            .load(&mut conn)?;
            let saved: Vec<&str> = triggers.iter().map(|t| t.sql.as_str()).collect();
            std::fs::write(sqlite_saved(url), saved.join(";\n") + ";")?;
            for t in &triggers {
                c.batch_execute(&format!("DROP TRIGGER \"{}\"", t.name))?;
            }
        }
    } else {
        let verb = if on { "ENABLE" } else { "DISABLE" };
        c.batch_execute(&format!(
            "ALTER TABLE books {verb} TRIGGER USER; ALTER TABLE ratings {verb} TRIGGER USER;"
        ))?;
    }
    Ok(())
}

fn sqlite_saved(url: &str) -> String {
    format!("{}.triggers.sql", url.trim_start_matches("sqlite://"))
}

fn median_seed(bin: &str, url: &str) -> Result<Duration, AnyError> {
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(folio(
            bin,
            url,
            &["seed", "--books", "10000", "--ratings", "500000", "--reset"],
        )?);
    }
    runs.sort();
    Ok(runs[1])
}

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let bin = env_or("FOLIO_BIN", "target/release/folio");
    if !std::path::Path::new(&bin).exists() {
        return Err(format!("{bin} is missing: run `cargo build --release` first").into());
    }
    let redis = env_or("REDIS_URL", "redis://127.0.0.1:6379");
    let pg = env_or(
        "FEED_BENCH_PG",
        "postgres://postgres@127.0.0.1:5432/folio_feed_bench",
    );
    let probes: usize = env_or("FEED_BENCH_PROBES", "200").parse()?;
    let backends = env_or("FEED_BENCH_BACKENDS", "sqlite,postgres");
    let dir = std::env::temp_dir().join(format!("folio-feed-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let mut rows = Vec::new();
    for backend in backends.split(',') {
        let url = match backend {
            "sqlite" => format!("sqlite://{}", dir.join("bench.db").display()),
            "postgres" => {
                let (base, name) = pg
                    .rsplit_once('/')
                    .ok_or("FEED_BENCH_PG needs a database name")?;
                let mut admin = PgConnection::establish(&format!("{base}/postgres"))?;
                let _ = admin.batch_execute(&format!("CREATE DATABASE {name}"));
                pg.clone()
            }
            other => return Err(format!("unknown backend {other}").into()),
        };
        eprintln!("== {backend}: migrating");
        folio(&bin, &url, &["migrate"])?;
        eprintln!("== {backend}: {probes} outside writes, each waited for on two instances");
        let seen = visibility(&bin, &url, &redis, probes).await?;
        eprintln!(
            "   visible on both after p50 {} ms, p99 {} ms, max {} ms",
            ms(percentile(&seen, 0.5)),
            ms(percentile(&seen, 0.99)),
            ms(*seen.last().unwrap())
        );
        eprintln!("== {backend}: seeding 10,000 books and 500,000 ratings, 3 times with the triggers, 3 without");
        let with = median_seed(&bin, &url)?;
        switch_triggers(&url, false)?;
        let without = median_seed(&bin, &url);
        switch_triggers(&url, true)?;
        let without = without?;
        eprintln!(
            "   seed: {:.2} s with the feed, {:.2} s without",
            with.as_secs_f64(),
            without.as_secs_f64()
        );
        rows.push((backend.to_owned(), seen, with, without));
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!("| backend | outside write visible on both instances: p50 / p99 / max (ms) | seed with the feed (s) | seed without (s) | overhead |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (backend, seen, with, without) in rows {
        println!(
            "| {backend} | {} / {} / {} | {:.2} | {:.2} | {:+.1} % |",
            ms(percentile(&seen, 0.5)),
            ms(percentile(&seen, 0.99)),
            ms(*seen.last().unwrap()),
            with.as_secs_f64(),
            without.as_secs_f64(),
            (with.as_secs_f64() / without.as_secs_f64() - 1.0) * 100.0
        );
    }
    Ok(())
}
