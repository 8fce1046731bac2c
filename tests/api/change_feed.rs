//! Every write invalidates, whoever makes it: SQL from another connection
//! (as psql, the sqlite3 shell, the diesel CLI or a script would send it)
//! reaches every cached page that shows what it changed.

use std::process::Command;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use folio::db::schema::cache_changes;

use crate::support::{
    spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, TestApp, TestDatabase,
};

/// How long an outside write may take to show here. Generous: the bound
/// (200 ms on `PostgreSQL`, 1 s on `SQLite`) is measured by the benchmark, not
/// asserted in a test that shares the machine.
const SHOWS_WITHIN: Duration = Duration::from_secs(10);

/// Waits until every path's body passes `check`; fails naming the first
/// path that never did.
async fn until_every(app: &TestApp, paths: &[String], check: impl Fn(u16, &str) -> bool) {
    let started = Instant::now();
    for path in paths {
        loop {
            let (status, _, body) = app.fetch(path).await;
            if check(status, &body) {
                break;
            }
            assert!(
                started.elapsed() < SHOWS_WITHIN,
                "{path} still shows the old data after {SHOWS_WITHIN:?} ({status})"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Fetches each path twice, asserting the second is a hit: the pages are in
/// the cache before the outside write.
async fn warm(app: &TestApp, paths: &[String]) {
    for path in paths {
        app.fetch(path).await;
        let (status, x_cache, _) = app.fetch(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            x_cache.as_deref(),
            Some("HIT"),
            "precondition: {path} is cached"
        );
    }
}

async fn top_book(app: &TestApp) -> i64 {
    let chart: serde_json::Value = app.get("/api/top-books").await.json().await.unwrap();
    chart[0]["id"].as_i64().expect("a chart with books")
}

fn pages_showing(id: i64) -> Vec<String> {
    [
        format!("/books/{id}"),
        format!("/api/books/{id}"),
        "/books".into(),
        "/api/books?page=1".into(),
        "/cache".into(),
        "/".into(),
        "/api/top-books".into(),
    ]
    .into()
}

/// A title changed by plain SQL that leaves `updated_at` alone shows on the
/// book's page, the catalogue (whose rows are keyed by the row's version),
/// the JSON twins, `/cache` and the chart — without rerunning the ranking.
async fn an_outside_title_edit_shows_everywhere(backend: Backend, cache: CacheKind) {
    let app = spawn_app(backend, cache).await;
    app.seed(30, 900, 71).await;
    let id = top_book(&app).await;
    let paths = pages_showing(id);
    warm(&app, &paths).await;
    let rankings = app.cache.computes("chart_ranking");

    app.outside_sql(&format!(
        "UPDATE books SET title = 'Retitled From Outside' WHERE id = {id}"
    ));
    until_every(&app, &paths, |status, body| {
        status == 200 && body.contains("Retitled From Outside")
    })
    .await;
    assert_eq!(
        app.cache.computes("chart_ranking"),
        rankings,
        "a title edit must not rerun the ranking query"
    );
}

#[tokio::test]
async fn an_outside_title_edit_shows_everywhere_on_sqlite_with_redis() {
    an_outside_title_edit_shows_everywhere(Backend::Sqlite, CacheKind::Redis).await;
}

#[tokio::test]
async fn an_outside_title_edit_shows_everywhere_on_sqlite_without_redis() {
    an_outside_title_edit_shows_everywhere(Backend::Sqlite, CacheKind::Memory).await;
}

#[tokio::test]
async fn an_outside_title_edit_shows_everywhere_on_postgres() {
    an_outside_title_edit_shows_everywhere(Backend::Postgres, CacheKind::Redis).await;
}

/// One `UPDATE … WHERE` over 500 rows reaches every page, and the change
/// log is drained to nothing afterwards.
async fn a_bulk_update_reaches_every_page_and_the_log_drains(backend: Backend) {
    let app = spawn_app(backend, CacheKind::Redis).await;
    app.seed(600, 600, 72).await;
    let mut paths: Vec<String> = (1..=12).map(|p| format!("/books?page={p}")).collect();
    paths.extend(["/books/1".into(), "/books/250".into(), "/books/500".into()]);
    warm(&app, &paths).await;
    let applied_before = app.feed.status().applied;

    app.outside_sql("UPDATE books SET author = 'Bulk Author' WHERE id <= 500");
    // Pages 1–12 hold all 600 books, so each shows at least one of the 500.
    until_every(&app, &paths, |_, body| body.contains("Bulk Author")).await;
    let (_, _, untouched) = app.fetch("/books/501").await;
    assert!(!untouched.contains("Bulk Author"));

    let mut conn = app.outside_connection();
    let started = Instant::now();
    loop {
        let left: i64 = cache_changes::table.count().get_result(&mut conn).unwrap();
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < SHOWS_WITHIN,
            "{left} changes never drained"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(app.feed.status().applied > applied_before);
}

#[tokio::test]
async fn a_bulk_update_reaches_every_page_and_the_log_drains_on_sqlite() {
    a_bulk_update_reaches_every_page_and_the_log_drains(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_bulk_update_reaches_every_page_and_the_log_drains_on_postgres() {
    a_bulk_update_reaches_every_page_and_the_log_drains(Backend::Postgres).await;
}

/// Repeated changes of one subject are one row in the log; on `PostgreSQL` a
/// statement over more than 1,000 rows is one `all`. Seen from inside the
/// writer's own transaction, before the feed can drain anything.
#[tokio::test]
async fn the_change_log_coalesces_by_subject() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_app(backend, CacheKind::Memory).await;
        app.seed(1200, 100, 73).await;
        let cases = [
            (
                (0..50)
                    .map(|i| format!("UPDATE books SET description = 'pass {i}' WHERE id <= 10;"))
                    .collect::<Vec<_>>()
                    .concat(),
                10,
            ),
            (
                "INSERT INTO ratings (book_id, stars) VALUES (3, 4);".repeat(40),
                1,
            ),
        ];
        for (sql, rows) in cases {
            // Nothing else writes: once applied, the log stays empty until
            // the transaction below.
            app.feed.apply_pending().await.unwrap();
            assert_eq!(
                logged_inside_transaction(&app, &sql),
                rows,
                "{backend:?}: {sql:.60}"
            );
        }
        if backend == Backend::Postgres {
            app.feed.apply_pending().await.unwrap();
            assert_eq!(
                logged_inside_transaction(&app, "UPDATE books SET description = 'everything'"),
                1,
                "a statement over 1,200 rows is one `all`"
            );
        }
    }
}

/// Rows in the change log as the writer's own transaction sees them right
/// after `sql`, before it commits.
fn logged_inside_transaction(app: &TestApp, sql: &str) -> i64 {
    app.outside_connection()
        .transaction::<i64, diesel::result::Error, _>(|c| {
            c.batch_execute(sql)?;
            cache_changes::table.count().get_result(c)
        })
        .unwrap()
}

/// A book deleted by plain SQL is gone from its page and the catalogue.
#[tokio::test]
async fn an_outside_delete_makes_the_book_a_404() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_app(backend, CacheKind::Redis).await;
        app.seed(20, 300, 74).await;
        let id = top_book(&app).await;
        let title = "A Title Soon Deleted";
        app.outside_sql(&format!(
            "UPDATE books SET title = '{title}' WHERE id = {id}"
        ));
        let paths = pages_showing(id);
        until_every(&app, &paths, |_, body| body.contains(title)).await;
        warm(&app, &paths).await;

        app.outside_sql(&format!("DELETE FROM books WHERE id = {id}"));
        until_every(&app, &paths[..2], |status, _| status == 404).await;
        until_every(&app, &paths[2..], |status, body| {
            status == 200 && !body.contains(title)
        })
        .await;
    }
}

/// A rating inserted by plain SQL (no folio internals: `created_at` has a
/// default) counts on the book's page at once.
#[tokio::test]
async fn an_outside_rating_counts_on_the_book_page() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_app(backend, CacheKind::Redis).await;
        app.seed(10, 100, 75).await;
        let count = |body: &str| -> i64 {
            serde_json::from_str::<serde_json::Value>(body).unwrap()["ratings"]["count"]
                .as_i64()
                .unwrap()
        };
        let path = "/api/books/4".to_owned();
        warm(&app, std::slice::from_ref(&path)).await;
        let before = count(&app.fetch(&path).await.2);

        app.outside_sql("INSERT INTO ratings (book_id, stars) VALUES (4, 5)");
        until_every(&app, &[path], |_, body| count(body) == before + 1).await;
    }
}

/// A TRUNCATE (what `folio seed --reset` runs on `PostgreSQL`) has no rows
/// for row triggers: its statement trigger renews everything.
#[tokio::test]
async fn an_outside_truncate_renews_every_page() {
    let app = spawn_app(Backend::Postgres, CacheKind::Redis).await;
    app.seed(10, 200, 76).await;
    let paths: Vec<String> = vec!["/api/books/2".into(), "/api/top-books".into()];
    warm(&app, &paths).await;
    app.outside_sql("TRUNCATE ratings");
    until_every(&app, &paths, |_, body| {
        body.contains("\"count\":0") || body == "[]"
    })
    .await;
}

/// Two instances over one `PostgreSQL` database and one Redis, each with its
/// in-process tier: both show an outside write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_both_show_an_outside_write() {
    let first = spawn_app(Backend::Postgres, CacheKind::Redis).await;
    first.seed(20, 200, 77).await;
    let second = spawn_app_with(AppOptions::sharing(&first)).await;
    let paths: Vec<String> = vec!["/books/5".into(), "/books".into()];
    for app in [&first, &second] {
        warm(app, &paths).await;
    }
    first.outside_sql("UPDATE books SET title = 'Seen By Both' WHERE id = 5");
    for app in [&first, &second] {
        until_every(app, &paths, |_, body| body.contains("Seen By Both")).await;
    }
}

/// The diesel CLI, as the README's newcomer runs it.
fn diesel_cli(backend: Backend, database_url: &str, args: &[&str]) {
    let program = std::env::var("DIESEL").unwrap_or_else(|_| "diesel".into());
    let mut command = Command::new(&program);
    if backend == Backend::Postgres {
        command.args(["--config-file", "diesel.pg.toml"]);
    }
    let out = command
        .args(args)
        .env("DATABASE_URL", database_url.trim_start_matches("sqlite://"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run the diesel CLI ({program}: {e}). Install it with: cargo install diesel_cli \
                 --locked --no-default-features --features sqlite-bundled,postgres (scripts/test.sh does it)"
            )
        });
    assert!(
        out.status.success(),
        "diesel {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The README's newcomer path: the diesel CLI sets up the schema and its
/// triggers, folio serves, the diesel CLI loads the classics from `seeds/`
/// and the running site shows them — no restart, no cache clear — and
/// takes them out again on `migration revert`.
#[tokio::test]
async fn books_seeded_with_the_diesel_cli_show_on_the_running_site() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let database = std::sync::Arc::new(TestDatabase::new(backend));
        diesel_cli(backend, &database.url, &["migration", "run"]);
        let prefix = crate::support::unique_name("diesel");
        let app = spawn_app_with(AppOptions {
            share: Some((database.clone(), prefix.clone())),
            ..AppOptions::new(backend, CacheKind::Redis)
        })
        .await;
        let paths: Vec<String> = vec!["/books".into(), "/api/books?page=1".into()];
        warm(&app, &paths).await;
        let seeds = "seeds";
        diesel_cli(
            backend,
            &database.url,
            &["migration", "run", "--migration-dir", seeds],
        );
        until_every(&app, &paths, |_, body| body.contains("Pride and Prejudice")).await;
        assert_eq!(app.book_count().await, 20, "{backend:?}");

        diesel_cli(
            backend,
            &database.url,
            &["migration", "revert", "--migration-dir", seeds],
        );
        until_every(&app, &paths, |_, body| {
            !body.contains("Pride and Prejudice")
        })
        .await;
        crate::support::delete_redis_prefix(&prefix);
    }
}
