//! What HTTP caches are told: validators that let a client revalidate
//! with a 304 that costs no query, and `Cache-Control` that lets shared
//! caches keep public pages and nothing private.

use std::sync::atomic::Ordering;

use crate::support::{
    spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// `ETag` and Last-Modified let clients revalidate; a 304 touches no database.
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
    let (admin, _) = app.login_admin().await;
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
