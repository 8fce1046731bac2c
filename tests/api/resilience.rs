//! folio when a part fails: Redis stopped under load or cut off by a
//! partition, the database down, Redis away for sessions and counters, and
//! two instances sharing what must be shared.

use std::time::{Duration, Instant};

use folio::catalogue::editor::Editor;
use folio::domain::{BookForm, BookFormInput, BookId};

use crate::support::load::{Load, Sample};
use crate::support::redis::{OwnRedis, Partition};
use crate::support::{
    spawn_app, spawn_app_with, take_database_down, AppOptions, Backend, CacheKind, ADMIN_EMAIL,
    ADMIN_PASSWORD,
};
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
    let load = Load::start(
        &app,
        &["/", "/books", "/books/3", "/api/top-books", "/cache"],
        6,
        None,
    );

    tokio::time::sleep(Duration::from_secs(1)).await;
    redis.stop();
    let down_at = load.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    redis.restart();
    let up_at = load.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let log = load.stop().await;
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
    let mut took: Vec<Duration> = log.iter().map(Sample::took).collect();
    took.sort();
    let p99 = took[took.len() * 99 / 100];
    assert!(p99 < Duration::from_secs(1), "p99 latency {p99:?}");
    assert!(
        *took.last().unwrap() < Duration::from_secs(3),
        "slowest {:?}",
        took.last()
    );
    let back = log
        .iter()
        .filter(|s| s.at > up_at && s.x_cache.as_deref() == Some("HIT"))
        .map(|s| s.at.checked_sub(up_at).unwrap())
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
