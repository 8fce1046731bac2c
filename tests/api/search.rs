//! `/search`: title, author and ISBN, ranked, on both backends; results
//! follow every writer's edits; a flood of queries keeps a bounded number
//! of entries.

use std::time::{Duration, Instant};

use redis::TypedCommands;

use crate::support::{
    redis_conn, spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, TestApp,
};

/// Generous: the feed's lag is measured by the benchmark, not here.
const SHOWS_WITHIN: Duration = Duration::from_secs(10);

fn search_path(q: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    format!("/search?q={encoded}")
}

async fn search(app: &TestApp, q: &str) -> (u16, Option<String>, String) {
    app.fetch(&search_path(q)).await
}

/// The ids of the results, in the page's order.
fn result_ids(body: &str) -> Vec<i64> {
    let list = body
        .split_once("<ol class=\"book-list results\">")
        .map_or("", |(_, rest)| rest.split("</ol>").next().unwrap_or(""));
    list.split("href=\"/books/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

/// Books with known words, added as plain SQL (the triggers index them);
/// returns the ids of the Quelluna archive, the Quelluna nights and the book
/// by an author called Quelluna.
fn add_known_books(app: &TestApp) -> (i64, i64, i64) {
    app.outside_sql(
        "INSERT INTO books (title, author, isbn) VALUES \
             ('The Archive of Quelluna', 'Maria Duarte', '9780441013593'); \
         INSERT INTO books (title, author, isbn) VALUES ('Quelluna Nights', 'Erich Maria Remarque', NULL); \
         INSERT INTO books (title, author, isbn) VALUES ('Harbour Songs', 'Anna Quelluna', NULL);",
    );
    let mut conn = app.outside_connection();
    let mut id = |title: &str| -> i64 {
        use diesel::prelude::*;
        use folio::db::schema::books;
        books::table
            .filter(books::title.eq(title))
            .select(books::id)
            .first::<i32>(&mut conn)
            .map(i64::from)
            .unwrap()
    };
    (
        id("The Archive of Quelluna"),
        id("Quelluna Nights"),
        id("Harbour Songs"),
    )
}

/// Waits until the search's page passes `check` (the change feed applies
/// an outside write within moments).
async fn until_search(app: &TestApp, q: &str, check: impl Fn(&str) -> bool) {
    let started = Instant::now();
    loop {
        let (status, _, body) = search(app, q).await;
        if status == 200 && check(&body) {
            return;
        }
        assert!(
            started.elapsed() < SHOWS_WITHIN,
            "search {q:?} still shows old results after {SHOWS_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn finds_by_partial_title_author_and_hyphenated_isbn(backend: Backend) {
    let app = spawn_app(backend, CacheKind::Memory).await;
    app.seed(40, 200, 5).await;
    let (archive, nights, harbour) = add_known_books(&app);
    // The outside inserts reach the cache before the first search.
    until_search(&app, "archive quelluna", |b| !result_ids(b).is_empty()).await;

    for q in [
        "Archive Quelluna",    // "of" left out
        "archi quell",         // the start of each word
        "ARCHIVE of quelluna", // case
        "duarte",              // the author
        "978-0-441-01359-3",   // the ISBN, hyphenated
        "9780441013593",       // and not
        "97804410",            // its start
        "maria archive",       // a word of the author and one of the title
    ] {
        let (status, _, body) = search(&app, q).await;
        assert_eq!(status, 200, "{q}");
        assert_eq!(result_ids(&body), [archive], "{q}: {body}");
        assert!(
            body.contains(&format!("value=\"{q}\"")),
            "{q}: the box keeps the query"
        );
    }

    // Ranked: both titles with the word come before the author's name.
    let (_, _, body) = search(&app, "quelluna").await;
    let ids = result_ids(&body);
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[2], harbour, "title matches first: {ids:?}");
    assert!(ids[..2].contains(&archive) && ids[..2].contains(&nights));
    assert!(body.contains("3 books match"), "the count is shown");

    let (status, _, body) = search(&app, "zzqx nowhere").await;
    assert_eq!(status, 200);
    assert!(result_ids(&body).is_empty());
    assert!(body.contains("No books match"));
}

#[tokio::test]
async fn finds_by_partial_title_author_and_hyphenated_isbn_on_sqlite() {
    finds_by_partial_title_author_and_hyphenated_isbn(Backend::Sqlite).await;
}

#[tokio::test]
async fn finds_by_partial_title_author_and_hyphenated_isbn_on_postgres() {
    finds_by_partial_title_author_and_hyphenated_isbn(Backend::Postgres).await;
}

/// A cached result page changes with folio's edits and with plain SQL
/// (update, insert, delete), and seeded books are found too.
async fn results_follow_every_writer(backend: Backend, cache: CacheKind) {
    let app = spawn_app(backend, cache).await;
    app.seed(30, 100, 8).await;
    // Books loaded by the seed (with the triggers paused) are searchable.
    let first: serde_json::Value = app.get("/api/books/1").await.json().await.unwrap();
    let title = first["title"].as_str().unwrap().to_owned();
    let (_, _, body) = search(&app, &title).await;
    assert!(
        result_ids(&body).contains(&1),
        "seeded book {title:?}: {body}"
    );

    let q = "nightingale";
    search(&app, q).await;
    let (status, x_cache, body) = search(&app, q).await;
    assert_eq!((status, x_cache.as_deref()), (200, Some("HIT")), "cached");
    assert!(result_ids(&body).is_empty());

    app.outside_sql("UPDATE books SET title = 'The Nightingale Room' WHERE id = 3");
    until_search(&app, q, |b| result_ids(b) == [3]).await;

    app.retitle(5, "Nightingale Weather").await;
    until_search(&app, q, |b| {
        let ids = result_ids(b);
        ids.len() == 2 && ids.contains(&3) && ids.contains(&5)
    })
    .await;

    app.outside_sql(
        "INSERT INTO books (title, author) VALUES ('Songs', 'Florence Nightingale'); \
         DELETE FROM books WHERE id = 3;",
    );
    until_search(&app, q, |b| {
        let ids = result_ids(b);
        ids.len() == 2 && ids.contains(&5) && !ids.contains(&3) && b.contains("Florence")
    })
    .await;
}

#[tokio::test]
async fn results_follow_every_writer_on_sqlite_with_redis() {
    results_follow_every_writer(Backend::Sqlite, CacheKind::Redis).await;
}

#[tokio::test]
async fn results_follow_every_writer_on_postgres() {
    results_follow_every_writer(Backend::Postgres, CacheKind::Memory).await;
}

#[tokio::test]
async fn every_page_has_the_search_box() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(5, 20, 2).await;
    for path in [
        "/",
        "/books",
        "/books/1",
        "/cache",
        "/admin/login",
        "/search",
    ] {
        let (status, _, body) = app.fetch(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            body.contains(
                "<form class=\"site-search\" role=\"search\" method=\"get\" action=\"/search\">"
            ),
            "{path} has no search box"
        );
    }
    // Without words there is nothing to search for: a prompt, not an error.
    for q in ["", "   ", "-- !!"] {
        let (status, _, body) = search(&app, q).await;
        assert_eq!(status, 200, "{q:?}");
        assert!(body.contains("Find a book by a word"), "{q:?}");
    }
}

#[tokio::test]
async fn bad_searches_get_a_400_page_with_the_input() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    let long = "a".repeat(201);
    let (status, _, body) = search(&app, &long).await;
    assert_eq!(status, 400);
    assert!(body.contains("at most 200 characters"));
    assert!(body.contains(&format!("value=\"{}\"", "a".repeat(200))));
    // Not UTF-8, or a NUL: refused before any query.
    for path in ["/search?q=%FF", "/search?q=a%00b", "/search?q=%ZZ"] {
        assert_eq!(app.fetch(path).await.0, 400, "{path}");
    }
    // Markup in a query is text, in the box and in the page.
    let (status, _, body) = search(&app, "<script>alert(1)</script>").await;
    assert_eq!(status, 200);
    assert!(!body.contains("<script>alert"));
}

/// However many distinct queries arrive, at most `FOLIO_SEARCH_CACHE_SLOTS`
/// search entries exist, and every answer is its own query's.
#[tokio::test]
async fn a_flood_of_distinct_queries_keeps_at_most_the_slots() {
    const SLOTS: usize = 16;
    const QUERIES: usize = 200;
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Redis)
            .with("FOLIO_SEARCH_CACHE_SLOTS", SLOTS.to_string()),
    )
    .await;
    app.seed(50, 100, 4).await;
    let (archive, _, _) = add_known_books(&app);
    until_search(&app, "archive quelluna", |b| result_ids(b) == [archive]).await;

    for i in 0..QUERIES {
        let q = format!("flood{i} query");
        let (status, _, body) = search(&app, &q).await;
        assert_eq!(status, 200);
        assert!(
            body.contains(&format!("value=\"{q}\"")),
            "{q}: another query's page"
        );
        assert!(body.contains("No books match"), "{q}");
    }
    // A popular query still gets its own results, whoever holds its slot.
    for _ in 0..3 {
        let (status, _, body) = search(&app, "archive quelluna").await;
        assert_eq!((status, result_ids(&body)), (200, vec![archive]));
    }

    let mut redis = redis_conn();
    let keys: Vec<String> = redis
        .scan_match::<_, String>(format!("{}:*search:slot:*", app.prefix))
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    let bytes: i64 = keys
        .iter()
        .map(|k| {
            redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(k)
                .query::<Option<i64>>(&mut redis)
                .unwrap()
                .unwrap_or(0)
        })
        .sum();
    println!(
        "{QUERIES} distinct searches with {SLOTS} slots: {} search keys, {bytes} bytes of Redis",
        keys.len()
    );
    assert!(!keys.is_empty(), "searches are cached");
    assert!(
        keys.len() <= SLOTS,
        "{} search keys for {SLOTS} slots",
        keys.len()
    );
}
