//! What operators see: `/metrics`, `/healthz` and `/readyz`, and the admin's
//! cache page with its flush by tag.

use crate::support::{csrf_token, spawn_app, Backend, CacheKind, ADMIN_EMAIL, ADMIN_PASSWORD};

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
    let healthz: serde_json::Value = app.get_json("/healthz").await;
    assert_eq!(healthz["status"], "up");
    let readyz: serde_json::Value = app.get_json("/readyz").await;
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
    let (admin, _) = app.login_admin().await;
    let page = app.get_page(&admin, "/admin/cache").await.1;
    assert!(
        page.contains("home_page") && page.contains(":v3:page:home:t"),
        "{page}"
    );
    let token = csrf_token(&page);
    assert_eq!(app.fetch("/books/2").await.0, 200);
    assert_eq!(app.fetch("/books/2").await.1.as_deref(), Some("HIT"));
    let r = app
        .post_form(&admin, "/admin/cache/flush", &[("tag", "book:2")])
        .await;
    assert_eq!(r.status(), 403, "a flush without the token");
    let r = app
        .post_form(
            &admin,
            "/admin/cache/flush",
            &[("tag", "book:2"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.fetch("/books/2").await.1.as_deref(), Some("MISS"));
    let r = app
        .post_form(
            &admin,
            "/admin/cache/flush",
            &[("tag", "nonsense"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status(), 400);
}
