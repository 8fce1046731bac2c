//! Grace copies: past its TTL a copy is kept, and stands in while the
//! database cannot answer; a copy a write invalidated never does while the
//! database answers (see "Grace" in `src/cache/policy.rs`).

use std::time::Duration;

use folio::cache::policy::DEFAULT_GRACE;
use folio::cache::Fragment;
use folio::db::PooledConn;

use crate::support::take_database_down;
use crate::support::{spawn_app_with, AppOptions, Backend, CacheKind, TestApp};

/// Refuses connections to the app's database until dropped.
struct DatabaseDown<'a>(&'a TestApp);

impl<'a> DatabaseDown<'a> {
    fn new(app: &'a TestApp) -> Self {
        take_database_down(app, true);
        Self(app)
    }
}

impl Drop for DatabaseDown<'_> {
    fn drop(&mut self) {
        take_database_down(self.0, false);
    }
}

/// Takes every connection of the app's pool: the database answers, but
/// nothing is left for requests (each then waits the pool's timeout).
async fn hold_every_connection(app: &TestApp) -> Vec<PooledConn> {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut held = Vec::new();
        while let Ok(conn) = db.conn() {
            held.push(conn);
        }
        assert!(!held.is_empty());
        held
    })
    .await
    .unwrap()
}

/// The report's steps: `CACHE_TTL=2`, load `/cache`, wait 3 s, make
/// `PostgreSQL` refuse connections: the expired copy answers, marked stale.
#[tokio::test]
async fn an_expired_copy_stands_in_while_the_database_is_down() {
    let app =
        spawn_app_with(AppOptions::new(Backend::Postgres, CacheKind::Redis).with("CACHE_TTL", "2"))
            .await;
    app.seed(20, 200, 53).await;
    let (status, x_cache, before) = app.fetch("/cache").await;
    assert_eq!((status, x_cache.as_deref()), (200, Some("MISS")));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let kept = app
        .cache
        .ttl_of(Fragment::SampleList)
        .await
        .unwrap()
        .expect("the copy is kept past its TTL");
    assert!(
        kept > DEFAULT_GRACE.checked_sub(Duration::from_secs(60)).unwrap(),
        "{kept:?}"
    );

    let down = DatabaseDown::new(&app);
    let response = app.get("/cache").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-cache"], "STALE");
    let warning = response.headers()["warning"].to_str().unwrap().to_owned();
    assert!(warning.starts_with("111 "), "{warning}");
    let age: u64 = response.headers()["age"].to_str().unwrap().parse().unwrap();
    assert!(age >= 3, "Age: {age}");
    assert_eq!(response.text().await.unwrap(), before);
    drop(down);

    let (status, x_cache, _) = app.fetch("/cache").await;
    assert_eq!((status, x_cache.as_deref()), (200, Some("MISS")));
}

/// With every connection busy, an expired copy stands in too; but once a
/// write has invalidated the copy, a busy database gets a 503, never the
/// old page, and a free one the new page at once.
#[tokio::test]
async fn an_invalidated_copy_is_never_served_while_the_database_answers() {
    let app =
        spawn_app_with(AppOptions::new(Backend::Sqlite, CacheKind::Redis).with("CACHE_TTL", "2"))
            .await;
    app.seed(20, 200, 54).await;
    let (_, _, before) = app.fetch("/cache").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    {
        let _held = hold_every_connection(&app).await;
        let response = app.get("/cache").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-cache"], "STALE");
        assert_eq!(response.text().await.unwrap(), before);
    }
    let (status, x_cache, _) = app.fetch("/cache").await;
    assert_eq!((status, x_cache.as_deref()), (200, Some("MISS")));

    app.retitle(1, "Renamed While Busy").await;
    {
        let _held = hold_every_connection(&app).await;
        let response = app.get("/cache").await;
        assert_eq!(response.status(), 503);
        assert!(response.headers().get("x-cache").is_none());
    }
    let (status, x_cache, body) = app.fetch("/cache").await;
    assert_eq!((status, x_cache.as_deref()), (200, Some("MISS")));
    assert!(body.contains("Renamed While Busy"));
}
