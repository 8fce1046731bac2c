//! The cache under load and failure: stampedes, Redis outages and
//! partitions, a database outage, HTTP revalidation, observability.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use folio::catalogue::editor::Editor;
use folio::domain::{BookForm, BookFormInput, BookId};

use crate::support::redis::{OwnRedis, Partition};
use crate::support::{
    chart_queries, csrf_token, spawn_app, spawn_app_with, take_database_down, AppOptions, Backend,
    CacheKind, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// 256 requests arrive at once, on two instances, before the chart was ever
/// computed: the database runs the chart query once.
#[tokio::test]
async fn a_cold_chart_is_computed_once_for_256_concurrent_requests() {
    let a = spawn_app(Backend::Postgres, CacheKind::Redis).await;
    a.seed(300, 20_000, 41).await;
    let b = spawn_app_with(AppOptions::sharing(&a)).await;
    assert_eq!(chart_queries(&[&a, &b]), 0);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let requests = (0..256).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        let client = client.clone();
        async move {
            client
                .get(app.url("/"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        chart_queries(&[&a, &b]),
        1,
        "the chart query ran more than once"
    );
    // And the JSON twin reuses the same ranking.
    assert_eq!(a.fetch("/api/top-books").await.0, 200);
    assert_eq!(chart_queries(&[&a, &b]), 1);
}

#[derive(Debug)]
struct Sample {
    at: Duration,
    status: u16,
    took: Duration,
    x_cache: Option<String>,
}

/// Requests from `workers` loops until `stop`; every response recorded.
fn load(
    app: &TestApp,
    paths: &'static [&'static str],
    workers: usize,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Sample>>>,
    t0: Instant,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..workers)
        .map(|w| {
            let client = app.client.clone();
            let base = app.address.clone();
            let (stop, log) = (stop.clone(), log.clone());
            tokio::spawn(async move {
                let mut i = w;
                while !stop.load(Ordering::SeqCst) {
                    let path = paths[i % paths.len()];
                    i += 1;
                    let started = Instant::now();
                    let response = client.get(format!("{base}{path}")).send().await.unwrap();
                    let status = response.status().as_u16();
                    let x_cache = response
                        .headers()
                        .get("x-cache")
                        .map(|v| v.to_str().unwrap().to_owned());
                    let _ = response.bytes().await;
                    log.lock().unwrap().push(Sample {
                        at: t0.elapsed(),
                        status,
                        took: started.elapsed(),
                        x_cache,
                    });
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect()
}

/// Redis dies under load and comes back: no 5xx, bounded latency, hits
/// again within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_under_load_costs_no_errors() {
    let mut redis = OwnRedis::start();
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory)
            .with("REDIS_URL", redis.url())
            .with("REDIS_TIMEOUT_MS", "50"),
    )
    .await;
    app.seed(200, 8_000, 42).await;
    for path in ["/", "/books", "/books/3", "/api/top-books"] {
        app.fetch(path).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let t0 = Instant::now();
    let workers = load(
        &app,
        &["/", "/books", "/books/3", "/api/top-books", "/cache"],
        6,
        stop.clone(),
        log.clone(),
        t0,
    );

    tokio::time::sleep(Duration::from_secs(1)).await;
    redis.stop();
    let down_at = t0.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    redis.restart();
    let up_at = t0.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }

    let log = log.lock().unwrap();
    let errors: Vec<&Sample> = log.iter().filter(|s| s.status >= 500).collect();
    assert!(errors.is_empty(), "5xx during the outage: {errors:?}");
    let during: Vec<&Sample> = log
        .iter()
        .filter(|s| s.at > down_at && s.at < up_at)
        .collect();
    assert!(
        during.len() > 20,
        "too little load during the outage: {}",
        during.len()
    );
    let mut took: Vec<Duration> = log.iter().map(|s| s.took).collect();
    took.sort();
    let p99 = took[took.len() * 99 / 100];
    assert!(p99 < Duration::from_millis(1000), "p99 latency {p99:?}");
    assert!(
        *took.last().unwrap() < Duration::from_secs(3),
        "slowest {:?}",
        took.last()
    );
    let back = log
        .iter()
        .filter(|s| s.at > up_at && s.x_cache.as_deref() == Some("HIT"))
        .map(|s| s.at - up_at)
        .min();
    assert!(
        back.is_some_and(|d| d < Duration::from_secs(4)),
        "no hit within 4 s of Redis coming back: {back:?}"
    );
    let breaker_opened = app.cache.breaker().unwrap().opens();
    assert!(breaker_opened >= 1, "the breaker never opened");
}

/// Redis unreachable (but keeping its data) while a book is edited: no
/// reader ever sees the old title after the edit, during or after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_during_a_partition_leaves_nothing_stale_behind() {
    crate::support::require_redis();
    let partition = Partition::start(6379).await;
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory)
            .with("REDIS_URL", partition.url())
            .with("REDIS_TIMEOUT_MS", "50"),
    )
    .await;
    app.seed(30, 900, 43).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    for _ in 0..2 {
        app.fetch("/books/1").await;
        app.fetch("/api/books/1").await;
    }
    assert_eq!(app.fetch("/books/1").await.1.as_deref(), Some("HIT"));

    partition.cut();
    let editor = Editor::new(app.db.clone(), app.feed.clone());
    let input = BookFormInput {
        title: Some("Edited While Redis Was Away".into()),
        author: Some("Someone".into()),
        ..Default::default()
    };
    let form = BookForm::parse(&input, 2026).unwrap();
    editor
        .update_book(BookId::parse("1").unwrap(), form)
        .await
        .unwrap();

    let check = |label: &'static str| {
        let app = &app;
        async move {
            for path in ["/books/1", "/api/books/1"] {
                let (status, _, body) = app.fetch(path).await;
                assert_eq!(status, 200, "{label}: {path}");
                assert!(
                    body.contains("Edited While Redis Was Away"),
                    "{label}: {path} is stale"
                );
            }
        }
    };
    for _ in 0..5 {
        check("during the partition").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    partition.heal();
    let healed = Instant::now();
    while healed.elapsed() < Duration::from_secs(4) {
        check("after the partition").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Back to hits, with the new title.
    app.fetch("/books/1").await;
    let (_, x_cache, body) = app.fetch("/books/1").await;
    assert_eq!(x_cache.as_deref(), Some("HIT"));
    assert!(body.contains("Edited While Redis Was Away"));
}

/// With the database down, an old copy is better than an error page; with
/// no copy, a clear 503.
#[tokio::test]
async fn a_stale_copy_stands_in_while_the_database_is_down() {
    let app = spawn_app(Backend::Postgres, CacheKind::Redis).await;
    app.seed(20, 300, 44).await;
    let (_, _, before) = app.fetch("/books/1").await;
    app.fetch("/api/top-books").await;
    // The copy is outdated (as if an edit happened), and the database goes away.
    app.cache
        .invalidate(folio::cache::Change::BookWritten(1))
        .await
        .unwrap();
    take_database_down(&app, true);

    let response = app.get("/books/1").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-cache"], "STALE");
    assert!(response.headers()["warning"]
        .to_str()
        .unwrap()
        .contains("111"));
    let body = response.text().await.unwrap();
    assert_eq!(
        crate::support::without_token(&body),
        crate::support::without_token(&before)
    );

    let response = app.get("/books/2").await;
    assert_eq!(response.status(), 503);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("temporarily unavailable"));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200);

    take_database_down(&app, false);
    let (status, x_cache, _) = app.fetch("/books/1").await;
    assert_eq!((status, x_cache.as_deref()), (200, Some("MISS")));
    assert_eq!(app.get("/readyz").await.status(), 200);
}

/// ETag and Last-Modified let clients revalidate; a 304 touches no database.
#[tokio::test]
async fn revalidation_answers_304_without_the_database() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Redis)
            .with("FOLIO_PUBLIC_MAX_AGE", "60")
            .with("FOLIO_STALE_WHILE_REVALIDATE", "30"),
    )
    .await;
    app.seed(30, 600, 45).await;
    for path in ["/", "/books?page=1", "/api/top-books", "/cache"] {
        let first = app.get(path).await;
        assert_eq!(
            first.headers()["cache-control"],
            "public, max-age=60, stale-while-revalidate=30, stale-if-error=172800",
            "{path}"
        );
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let modified = first.headers()["last-modified"]
            .to_str()
            .unwrap()
            .to_owned();
        let queries = app.db.query_counts().total.load(Ordering::SeqCst);
        let r = app
            .client
            .get(app.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path}");
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
        assert!(r.bytes().await.unwrap().is_empty());
        let r = app
            .client
            .get(app.url(path))
            .header("if-modified-since", &modified)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path}");
        assert_eq!(
            app.db.query_counts().total.load(Ordering::SeqCst),
            queries,
            "{path}: a 304 queried the database"
        );
        let r = app
            .client
            .get(app.url(path))
            .header("if-none-match", "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // After an edit the old validator no longer matches.
    let etag = app.get("/books?page=1").await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    app.cache
        .invalidate(folio::cache::Change::BookWritten(1))
        .await
        .unwrap();
    let r = app
        .client
        .get(app.url("/books?page=1"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(r.headers()["etag"].to_str().unwrap(), etag);
}

/// Shared caches may keep public pages; never a page with a token, a flash
/// or an admin's data.
#[tokio::test]
async fn cache_control_says_who_may_keep_a_page() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(10, 100, 46).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for path in ["/", "/books", "/cache", "/api/top-books", "/api/books/1"] {
        let cc = app.get(path).await.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cc.starts_with("public"), "{path}: {cc}");
    }
    let admin = app.browser();
    app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for path in [
        "/books/1",
        "/admin",
        "/admin/books",
        "/admin/cache",
        "/admin/books/1/edit",
        "/admin/login",
    ] {
        let r = admin.get(app.url(path)).send().await.unwrap();
        let cc = r.headers()["cache-control"].to_str().unwrap().to_owned();
        assert!(
            cc.contains("private") || cc.contains("no-store"),
            "{path}: {cc}"
        );
        assert!(
            r.headers().get("etag").is_none(),
            "{path} has a shared validator"
        );
    }
}

/// Catalogue rows are fragments of their own: an edit re-renders one row,
/// not fifty.
#[tokio::test]
async fn an_edit_re_renders_one_catalogue_row() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(120, 300, 47).await;
    app.fetch("/books?page=1").await;
    let rows_before = app.cache.computes("book_row");
    assert_eq!(rows_before, 50);
    let listing: serde_json::Value = app.get("/api/books?page=1").await.json().await.unwrap();
    let id = listing["books"][7]["id"].as_i64().unwrap() as i32;
    app.retitle(id, "Aaa Changed Row").await;
    let (_, x_cache, html) = app.fetch("/books?page=1").await;
    assert_eq!(x_cache.as_deref(), Some("MISS"));
    assert!(html.contains("Aaa Changed Row"));
    assert_eq!(html.matches("class=\"book-title\"").count(), 50);
    assert_eq!(
        app.cache.computes("book_row") - rows_before,
        1,
        "more than the edited row was rendered"
    );
}

#[tokio::test]
async fn metrics_health_and_the_admin_cache_page() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(20, 300, 48).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.fetch("/").await;
    app.fetch("/").await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for series in [
        "folio_cache_requests_total{fragment=\"home_page\",outcome=\"miss\"} 1",
        "folio_cache_computes_total{fragment=\"chart_ranking\"} 1",
        "folio_cache_compute_seconds_bucket{fragment=\"home_page\"",
        "folio_redis_roundtrip_seconds_count",
        "folio_cache_breaker_state 0",
        "folio_db_queries_total{query=\"chart_ranking\"} 1",
        "process_resident_memory_bytes",
    ] {
        assert!(
            metrics.contains(series),
            "/metrics lacks {series}:\n{metrics}"
        );
    }
    assert!(
        metrics.contains("outcome=\"hit_local\"} 1")
            || metrics.contains(
                "folio_cache_requests_total{fragment=\"home_page\",outcome=\"hit_shared\"} 1"
            ),
        "the second request was no hit:\n{metrics}"
    );
    let healthz: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(healthz["status"], "up");
    let readyz: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(readyz["database"]["status"], "up");
    assert_eq!(readyz["cache"]["breaker"], "closed");

    // The admin's cache page and a flush by tag.
    assert_eq!(
        app.browser()
            .get(app.url("/admin/cache"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    let admin = app.browser();
    app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin
        .get(app.url("/admin/cache"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("home_page") && page.contains(":v3:page:home:t"),
        "{page}"
    );
    let token = csrf_token(&page);
    assert_eq!(app.fetch("/books/2").await.0, 200);
    assert_eq!(app.fetch("/books/2").await.1.as_deref(), Some("HIT"));
    let r = admin
        .post(app.url("/admin/cache/flush"))
        .form(&[("tag", "book:2")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a flush without the token");
    let r = admin
        .post(app.url("/admin/cache/flush"))
        .form(&[("tag", "book:2"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.fetch("/books/2").await.1.as_deref(), Some("MISS"));
    let r = admin
        .post(app.url("/admin/cache/flush"))
        .form(&[("tag", "nonsense"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// An expired entry is served once more while one request refreshes it.
#[tokio::test]
async fn an_expired_entry_is_served_stale_while_it_refreshes() {
    // CACHE_TTL 10 s: stale from 8.5-9 s (jitter), gone at 9.5-10 s.
    let app =
        spawn_app_with(AppOptions::new(Backend::Sqlite, CacheKind::Redis).with("CACHE_TTL", "10"))
            .await;
    app.seed(20, 100, 49).await;
    assert_eq!(app.fetch("/cache").await.1.as_deref(), Some("MISS"));
    tokio::time::sleep(Duration::from_millis(9_150)).await;
    assert_eq!(app.fetch("/cache").await.1.as_deref(), Some("STALE"));
    // The refresh ran in the background; the next request is a fresh hit.
    let started = Instant::now();
    loop {
        let (_, x_cache, _) = app.fetch("/cache").await;
        if x_cache.as_deref() == Some("HIT") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "no refresh after a stale read"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.cache.computes("sample_list"), 2);
}

/// A burst on one cold fragment: one computation, and no Redis trouble
/// (waiters share one check of the result, they do not each ask Redis).
#[tokio::test]
async fn a_burst_on_a_cold_fragment_computes_once_and_keeps_redis_healthy() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(20, 400, 50).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(400)
        .build()
        .unwrap();
    let statuses = join_all((0..400).map(|_| {
        let client = client.clone();
        let url = app.url("/api/books/3");
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    }))
    .await;
    assert!(statuses.iter().all(|s| *s == 200));
    assert_eq!(app.cache.computes("book_json"), 1);
    assert_eq!(
        app.cache.breaker().unwrap().opens(),
        0,
        "the burst opened the breaker"
    );
}

/// Two instances share the visitors' key through Redis: a form served by
/// one is accepted by the other.
#[tokio::test]
async fn a_form_from_one_instance_posts_to_another() {
    let a = spawn_app(Backend::Postgres, CacheKind::Redis).await;
    a.seed(5, 50, 51).await;
    let b = spawn_app_with(AppOptions::sharing(&a)).await;
    let reader = a.browser();
    let token = a.form_token(&reader, "/books/2").await;
    let r = reader
        .post(b.url("/books/2/ratings"))
        .form(&[("stars", "4"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // And a rating for a book that is gone is a 404, not an error.
    let r = reader
        .post(b.url("/books/987654/ratings"))
        .form(&[("stars", "4"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// Without Redis, what needs a session or a counter says Redis is away (not
/// the database), and reading goes on.
#[tokio::test]
async fn a_redis_outage_is_answered_as_redis_unavailable() {
    let mut redis = OwnRedis::start();
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("REDIS_URL", redis.url()),
    )
    .await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.seed(5, 20, 44).await;
    redis.stop();
    let response = app
        .post_login(&app.browser(), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    assert_eq!(response.status(), 503);
    let body = response.text().await.unwrap();
    assert!(body.contains("Redis is temporarily unavailable"), "{body}");
    assert!(!body.contains("catalogue is temporarily unavailable"));
    assert_eq!(app.fetch("/books/1").await.0, 200, "reading does not wait");
}
