//! Stampedes: a burst of cold requests on one or two instances, before the
//! first computation or after `folio cache clear`, runs the expensive query
//! once, round after round, and costs Redis far less than a command per
//! request.

use futures_util::future::join_all;

use crate::support::chart_queries;
use crate::support::redis::OwnRedis;
use crate::support::{spawn_app, spawn_app_with, AppOptions, Backend, CacheKind};

/// Lua scripts Redis ran (every entry read and tag-version read is one).
fn script_calls(redis: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(redis)
        .expect("INFO commandstats");
    info.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// The steps of the report: load `/`, clear the cache, then 256 concurrent
/// cold requests over two instances; four rounds. Each round the chart query
/// runs exactly once (counted at the database's connections), no Redis call
/// times out into the breaker, and the burst makes fewer Redis script calls
/// than it has requests (a call per request is what used to time out under
/// load, open the breaker and let every request compute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_clear_a_burst_on_two_instances_runs_the_chart_query_once() {
    const BURST: usize = 256;
    // A Redis of the test's own, so that its command counts are the test's.
    let redis = OwnRedis::start();
    let a = spawn_app_with(
        AppOptions::new(Backend::Postgres, CacheKind::Redis).with("REDIS_URL", redis.url()),
    )
    .await;
    a.seed(300, 20_000, 52).await;
    let b = spawn_app_with(AppOptions::sharing(&a).with("REDIS_URL", redis.url())).await;
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(BURST)
        .build()
        .unwrap();
    assert_eq!(a.fetch("/").await.0, 200);
    for round in 1..=4 {
        // What `folio cache clear` does.
        a.cache.clear().await.expect("clear the cache");
        let queries = chart_queries(&[&a, &b]);
        let scripts = script_calls(&mut conn);
        let statuses = join_all((0..BURST).map(|i| {
            let url = if i % 2 == 0 { a.url("/") } else { b.url("/") };
            let client = client.clone();
            async move { client.get(url).send().await.unwrap().status().as_u16() }
        }))
        .await;
        assert!(
            statuses.iter().all(|s| *s == 200),
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            chart_queries(&[&a, &b]) - queries,
            1,
            "round {round}: the chart query ran more than once"
        );
        let used = script_calls(&mut conn) - scripts;
        assert!(
            used < BURST as u64,
            "round {round}: {BURST} requests made {used} Redis script calls"
        );
    }
    for app in [&a, &b] {
        assert_eq!(
            app.cache.breaker().unwrap().opens(),
            0,
            "the breaker opened"
        );
    }
}

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
