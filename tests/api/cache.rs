//! The cache layer seen from outside: MISS then HIT, TTLs, namespaces,
//! exact invalidation, failing open, catalogue rows as fragments of their
//! own, and an expired entry served while it refreshes.

use std::time::{Duration, Instant};

use redis::TypedCommands;

use folio::cache::Fragment;

use crate::support::{
    redis_conn, spawn_app, spawn_app_with, without_token, AppOptions, Backend, CacheKind,
};

const THIRTY_DAYS: Duration = Duration::from_secs(30 * 24 * 3600);

/// Thirty days of freshness, then the grace period as a last good copy.
#[tokio::test]
async fn chart_is_a_miss_then_a_hit_and_lives_in_redis_for_thirty_days_and_the_grace() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(200, 5_000, 1).await;

    let (status, first, body1) = app.fetch("/").await;
    assert_eq!((status, first.as_deref()), (200, Some("MISS")));
    let (status, second, body2) = app.fetch("/").await;
    assert_eq!((status, second.as_deref()), (200, Some("HIT")));
    assert_eq!(body1, body2);

    let mut redis = redis_conn();
    for fragment in [Fragment::HomePage, Fragment::ChartRanking] {
        let key = app.key(fragment);
        let ttl_ms: i64 = redis::cmd("PTTL").arg(&key).query(&mut redis).unwrap();
        let ttl = Duration::from_millis(
            u64::try_from(ttl_ms).unwrap_or_else(|_| panic!("{key} has no TTL ({ttl_ms})")),
        );
        // Up to an hour of jitter keeps entries written together apart.
        let kept = THIRTY_DAYS + folio::cache::policy::DEFAULT_GRACE;
        assert!(
            ttl <= kept && ttl > kept.checked_sub(Duration::from_secs(3600 + 120)).unwrap(),
            "{key}: {ttl:?}"
        );
        assert!(key.starts_with(&format!("{}:v3:", app.prefix)), "{key}");
    }
    assert_eq!(
        app.key(Fragment::ChartRanking),
        format!("{}:v3:chart:top10", app.prefix)
    );
}

async fn every_cached_route_misses_then_hits(cache: CacheKind) {
    let app = spawn_app(Backend::Sqlite, cache).await;
    app.seed(120, 2_000, 2).await;
    for path in [
        "/",
        "/books",
        "/books?page=2",
        "/books/7",
        "/cache",
        "/api/top-books",
        "/api/books?page=1",
        "/api/books/7",
    ] {
        let (s1, x1, b1) = app.fetch(path).await;
        let (s2, x2, b2) = app.fetch(path).await;
        assert_eq!((s1, x1.as_deref()), (200, Some("MISS")), "{path}");
        assert_eq!((s2, x2.as_deref()), (200, Some("HIT")), "{path}");
        assert_eq!(without_token(&b1), without_token(&b2), "{path}");
    }
    // The uncached routes say nothing about a cache.
    for path in ["/sample", "/top/uncached"] {
        let (status, x_cache, _) = app.fetch(path).await;
        assert_eq!((status, x_cache), (200, None), "{path}");
    }
}

#[tokio::test]
async fn every_cached_route_misses_then_hits_in_memory() {
    every_cached_route_misses_then_hits(CacheKind::Memory).await;
}

#[tokio::test]
async fn every_cached_route_misses_then_hits_in_redis() {
    every_cached_route_misses_then_hits(CacheKind::Redis).await;
}

/// A hit is served from stored bytes: no query reaches the database (but
/// the change feed's reads of its log, which no page request makes).
async fn a_hit_does_not_touch_the_database(cache: CacheKind) {
    use std::sync::atomic::Ordering::Relaxed;
    let app = spawn_app(Backend::Sqlite, cache).await;
    app.seed(100, 3_000, 3).await;
    let (_, _, home) = app.fetch("/").await;
    let (_, _, book) = app.fetch("/books/5").await;
    // Every query but the change feed's reads of its log.
    let page_queries = || app.db.query_counts().total.load(Relaxed);
    let before = page_queries();
    assert_eq!(app.fetch("/").await, (200, Some("HIT".into()), home));
    let (status, x_cache, again) = app.fetch("/books/5").await;
    assert_eq!((status, x_cache.as_deref()), (200, Some("HIT")));
    assert_eq!(without_token(&again), without_token(&book));
    assert_eq!(page_queries(), before, "a hit sent a query");
    // The uncached twin does query.
    app.fetch("/top/uncached").await;
    assert!(page_queries() > before);
}

#[tokio::test]
async fn a_hit_does_not_touch_the_database_in_memory() {
    a_hit_does_not_touch_the_database(CacheKind::Memory).await;
}

#[tokio::test]
async fn a_hit_does_not_touch_the_database_in_redis() {
    a_hit_does_not_touch_the_database(CacheKind::Redis).await;
}

#[tokio::test]
async fn prefixes_keep_sites_apart_in_one_redis() {
    let a = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    let b = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    a.seed(50, 500, 4).await;
    b.seed(50, 500, 5).await;
    assert_eq!(a.fetch("/").await.1.as_deref(), Some("MISS"));
    assert_eq!(a.fetch("/").await.1.as_deref(), Some("HIT"));
    let (_, x_cache, body_b) = b.fetch("/").await;
    assert_eq!(
        x_cache.as_deref(),
        Some("MISS"),
        "b must not read a's entry"
    );
    let (_, _, body_a) = a.fetch("/").await;
    assert_ne!(body_a, body_b);
}

#[tokio::test]
async fn a_value_in_another_format_is_a_miss_not_an_error() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(50, 500, 6).await;
    let mut redis = redis_conn();
    redis
        .set(app.key(Fragment::HomePage), "written by some older folio")
        .unwrap();
    redis
        .set(
            app.key(Fragment::ChartRanking),
            "F1 1 99999999999999 0\n\nnot json",
        )
        .unwrap();
    let (status, x_cache, body) = app.fetch("/").await;
    assert_eq!((status, x_cache.as_deref()), (200, Some("MISS")));
    assert!(body.contains("Most popular this month"));
    assert_eq!(app.fetch("/").await.1.as_deref(), Some("HIT"));
}

/// With Redis unreachable every page is still served, from the database.
#[tokio::test]
async fn pages_are_served_when_redis_is_unreachable() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory)
            .with("REDIS_URL", "redis://127.0.0.1:1"),
    )
    .await;
    assert_eq!(app.cache.backend_name(), "redis");
    app.seed(50, 1_000, 7).await;
    for _ in 0..3 {
        for path in ["/", "/books", "/books/3", "/api/top-books", "/cache"] {
            let (status, x_cache, _) = app.fetch(path).await;
            assert_eq!((status, x_cache.as_deref()), (200, Some("MISS")), "{path}");
        }
    }
}

/// An entry computed before a write is never served after the write's
/// invalidation, on either backend.
async fn invalidation_reaches_every_fragment_of_a_book(cache: CacheKind) {
    let app = spawn_app(Backend::Sqlite, cache).await;
    app.seed(60, 3_000, 8).await;
    let top: Vec<serde_json::Value> = app.get_json("/api/top-books").await;
    let id = i32::try_from(top[0]["id"].as_i64().unwrap()).unwrap();
    for path in ["/", &format!("/books/{id}"), "/books", "/cache"] {
        app.fetch(path).await;
        assert_eq!(app.fetch(path).await.1.as_deref(), Some("HIT"), "{path}");
    }

    app.retitle(id, "A Title Nobody Had Before").await;

    for path in [
        "/",
        &format!("/books/{id}"),
        "/cache",
        "/api/top-books",
        &format!("/api/books/{id}"),
    ] {
        let (status, _, body) = app.fetch(path).await;
        assert_eq!(status, 200);
        assert!(
            body.contains("A Title Nobody Had Before"),
            "{path} is stale"
        );
    }
    // The chart's ranking was not recomputed for a title change.
    let ranking_ttl = app.cache.ttl_of(Fragment::ChartRanking).await.unwrap();
    assert!(ranking_ttl.is_some());
}

#[tokio::test]
async fn invalidation_reaches_every_fragment_of_a_book_in_memory() {
    invalidation_reaches_every_fragment_of_a_book(CacheKind::Memory).await;
}

#[tokio::test]
async fn invalidation_reaches_every_fragment_of_a_book_in_redis() {
    invalidation_reaches_every_fragment_of_a_book(CacheKind::Redis).await;
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
    let listing: serde_json::Value = app.get_json("/api/books?page=1").await;
    let id = i32::try_from(listing["books"][7]["id"].as_i64().unwrap()).unwrap();
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
