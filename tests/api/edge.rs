//! The edge tier through a real `varnishd` running the shipped VCL: pages
//! served from Varnish, purged by tag after every change (an admin's edit,
//! an outside `UPDATE`), private pages never kept, and purges that wait in
//! the change log until the edge acknowledges them.

use std::time::{Duration, Instant};

use crate::support::admin::book_fields;
use crate::support::free_port;
use crate::support::proxies::Varnish;
use crate::support::{
    login_at, spawn_app_with, AppOptions, Backend, CacheKind, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// How soon a change must show through the edge.
const VISIBLE_WITHIN: Duration = Duration::from_secs(1);

fn app_port(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

/// folio purges the edge on this port.
fn edge_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Cache reads folio made, of any fragment (each request for a cached page
/// makes at least one).
fn folio_cache_reads(app: &TestApp) -> u64 {
    app.cache
        .render_metrics()
        .lines()
        .filter(|l| l.starts_with("folio_cache_requests_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

/// Polls `url` until its body contains `text`; how long that took.
async fn time_until_visible(client: &reqwest::Client, url: &str, text: &str) -> Duration {
    let started = Instant::now();
    loop {
        let body = client.get(url).send().await.unwrap().text().await.unwrap();
        if body.contains(text) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < VISIBLE_WITHIN,
            "{url} still lacks {text:?} after {VISIBLE_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn varnish_keeps_public_pages_and_every_change_purges_them() {
    let edge_port = free_port();
    let app = spawn_app_with(
        AppOptions::new(Backend::Postgres, CacheKind::Redis)
            .with("FOLIO_EDGE_PURGE_URLS", edge_url(edge_port)),
    )
    .await;
    let varnish = Varnish::start(edge_port, app_port(&app)).await;
    app.seed(12, 60, 5).await;
    let reader = reqwest::Client::new();

    // folio names each public page's tags, and lets the edge keep it.
    let direct = app.get("/books").await;
    let keys = header(&direct, "xkey").expect("public pages carry surrogate keys");
    assert_eq!(keys, "all books");
    let cache_control = header(&direct, "cache-control").unwrap();
    assert!(cache_control.contains("s-maxage=3600"), "{cache_control}");
    assert!(cache_control.contains("max-age=0"), "browsers revalidate");
    assert_eq!(
        header(&direct, "surrogate-control").as_deref(),
        Some("max-age=3600")
    );

    // Private pages carry none, and no edge lifetime.
    let private = app.get("/books/1").await;
    assert_eq!(header(&private, "xkey"), None);
    assert_eq!(header(&private, "surrogate-control"), None);
    assert_eq!(
        header(&private, "cache-control").as_deref(),
        Some("private, no-store")
    );

    // Served from Varnish: aged, and folio not asked.
    let paths = ["/books", "/api/books/1", "/", "/api/top-books"];
    for path in paths {
        let first = reader.get(varnish.url(path)).send().await.unwrap();
        assert_eq!(first.status(), 200, "{path}");
    }
    let reads = folio_cache_reads(&app);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for path in paths {
        let again = reader.get(varnish.url(path)).send().await.unwrap();
        assert_eq!(header(&again, "x-edge").as_deref(), Some("HIT"), "{path}");
        let age: u64 = header(&again, "age").unwrap().parse().unwrap();
        assert!(age >= 1, "{path}: Age {age}");
        assert_eq!(header(&again, "xkey"), None, "the keys are the edge's");
    }
    assert_eq!(
        folio_cache_reads(&app),
        reads,
        "Varnish answered without folio"
    );

    // An admin's edit, through Varnish (admin pages pass), shows at once.
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = app.browser();
    let token = login_at(&varnish.url(""), &admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let edited = admin
        .post(varnish.url("/admin/books/1"))
        .form(&book_fields("Retitled by the admin", &token))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 303);
    for path in ["/api/books/1", "/books"] {
        let took = time_until_visible(&reader, &varnish.url(path), "Retitled by the admin").await;
        println!("admin edit visible through Varnish at {path} after {took:?}");
    }

    // A write by another client of the database shows within a second.
    app.outside_sql("UPDATE books SET title = 'Retitled from psql' WHERE id = 2");
    for path in ["/api/books/2", "/books"] {
        let took = time_until_visible(&reader, &varnish.url(path), "Retitled from psql").await;
        println!("outside UPDATE visible through Varnish at {path} after {took:?}");
    }

    // A signed-in admin's pages are never kept.
    for _ in 0..2 {
        let page = admin.get(varnish.url("/admin")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(header(&page, "x-edge").as_deref(), Some("MISS"));
        assert!(header(&page, "cache-control").unwrap().contains("no-store"));
    }
    // Nor is a page with a form token: each visitor gets their own.
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let page = reader.get(varnish.url("/books/1")).send().await.unwrap();
        assert_eq!(header(&page, "x-edge").as_deref(), Some("MISS"));
        tokens.push(crate::support::csrf_token(&page.text().await.unwrap()));
    }
    assert_ne!(
        tokens[0], tokens[1],
        "a form token was served from the edge"
    );

    // Only folio's addresses may purge.
    for _ in 0..2 {
        reader.get(varnish.url("/")).send().await.unwrap();
    }
    let outsider = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let purge = reqwest::Method::from_bytes(b"PURGE").unwrap();
    let refused = outsider
        .request(purge.clone(), varnish.url("/"))
        .header("xkey", "all")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let still = reader.get(varnish.url("/")).send().await.unwrap();
    assert_eq!(header(&still, "x-edge").as_deref(), Some("HIT"));
}

/// Rows still in the change log.
async fn pending_changes(app: &TestApp) -> usize {
    app.db
        .run(|c| folio::db::changes::pending(c, 100))
        .await
        .unwrap()
        .len()
}

async fn purge_failures(app: &TestApp) -> u64 {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("folio_edge_purge_failures_total "))
        .expect("the purge failures are in /metrics")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_change_waits_in_the_log_until_the_edge_acknowledges_even_across_a_restart() {
    let edge_port = free_port();
    let first = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Redis)
            .with("FOLIO_EDGE_PURGE_URLS", edge_url(edge_port)),
    )
    .await;
    // No edge answers yet: the seed's change waits.
    first.seed(8, 20, 9).await;
    first.outside_sql("UPDATE books SET title = 'Waiting for the edge' WHERE id = 3");
    let deadline = Instant::now() + Duration::from_secs(10);
    while purge_failures(&first).await < 2 {
        assert!(Instant::now() < deadline, "the feed never tried to purge");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        pending_changes(&first).await > 0,
        "a change was forgotten unpurged"
    );
    // folio's own tiers took the change regardless, and it is not stuck.
    let own = first.fetch("/api/books/3").await.2;
    assert!(own.contains("Waiting for the edge"));
    assert_eq!(first.get("/readyz").await.status(), 200);

    // folio restarts; the edge is back.
    let next_port = free_port();
    let options = AppOptions::sharing(&first)
        .with("FOLIO_EDGE_PURGE_URLS", edge_url(edge_port))
        .with("FOLIO_BIND", format!("127.0.0.1:{next_port}"));
    drop(first);
    let varnish = Varnish::start(edge_port, next_port).await;
    let next = spawn_app_with(options).await;
    // It applied the log before taking requests: bumped and purged.
    assert_eq!(pending_changes(&next).await, 0);
    // Varnish's probe found folio down at first: it takes folio back after
    // its next probe (every 2 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    let through = loop {
        let response = reqwest::get(varnish.url("/api/books/3")).await.unwrap();
        if response.status() == 200 {
            break response.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "Varnish never took folio back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(through.contains("Waiting for the edge"), "{through}");
    assert_eq!(purge_failures(&next).await, 0);
}

/// An edge that is down does not keep Redis out of use after an outage:
/// the bumps are made, the hits come back, and only the purge waits.
#[tokio::test]
async fn an_edge_that_is_down_does_not_keep_redis_out_after_an_outage() {
    let mut redis = crate::support::redis::OwnRedis::start();
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory)
            .with("REDIS_URL", redis.url())
            .with("FOLIO_EDGE_PURGE_URLS", edge_url(free_port())),
    )
    .await;
    app.seed(8, 20, 13).await;
    app.fetch("/api/books/4").await;
    assert_eq!(app.fetch("/api/books/4").await.1.as_deref(), Some("HIT"));

    redis.stop();
    // Written while Redis is away: the change waits in the log.
    app.outside_sql("UPDATE books SET title = 'Written during the outage' WHERE id = 4");
    // Served from the database once folio notices (its in-process copy
    // lasts at most its 1 s lease).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _, body) = app.fetch("/api/books/4").await;
        assert_eq!(status, 200);
        if body.contains("Written during the outage") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the outage hid the write: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    redis.restart();

    // The breaker closes once the log is applied to Redis, edge or not.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, x_cache, body) = app.fetch("/api/books/4").await;
        assert!(
            body.contains("Written during the outage"),
            "stale after the outage: {body}"
        );
        if x_cache.as_deref() == Some("HIT") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no hit 10 s after Redis came back: the edge kept Redis out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The hits stay while the feed retries the purge: a retry (the second
    // drain from now began after this hit) purges again but bumps nothing.
    let drains = app.feed.status().failures;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.feed.status().failures < drains + 2 {
        assert!(
            Instant::now() < deadline,
            "the feed stopped retrying the purge"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.fetch("/api/books/4").await.1.as_deref(),
        Some("HIT"),
        "a retried purge invalidated Redis again"
    );
    assert!(pending_changes(&app).await > 0, "the purge was forgotten");
}
