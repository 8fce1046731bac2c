//! Redis Sentinel: a primary, a replica and three sentinels of the test's
//! own (`redis-server --sentinel`) on free loopback ports. The primary is
//! killed under load: folio keeps answering, follows the new master within
//! seconds, and serves nothing stale afterwards — even though the replica
//! never received the tag bump of the edit made just before the kill.

use std::time::{Duration, Instant};

use crate::support::load::{Load, Sample};
use crate::support::redis::Partition;
use crate::support::sentinel::{Sentinels, Server, SERVICE};
use crate::support::{
    free_port, spawn_app_with, AppOptions, Backend, CacheKind, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// Polls `check` every 50 ms until it returns Some, for at most `limit`.
async fn eventually<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn info_field(conn: &mut redis::Connection, field: &str) -> Option<String> {
    let info: String = redis::cmd("INFO").arg("replication").query(conn).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_owned())
}

const PATHS: [&str; 4] = ["/books/1", "/api/books/1", "/books", "/"];
/// The edit made just before the primary dies.
const TITLE: &str = "Survives The Failover";

/// How the master goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failover {
    /// It dies (SIGKILL); the sentinels notice after `down-after-milliseconds`.
    Kill,
    /// `SENTINEL FAILOVER`: it stays up and is demoted to a replica of the
    /// new master, whose data (without the last bump) it then takes.
    Demote,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_under_load_costs_no_errors_and_loses_no_edit() {
    failover_under_load(Failover::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demoted_master_is_left_at_once_and_loses_no_edit() {
    failover_under_load(Failover::Demote).await;
}

/// A primary, a replica that reaches it through a link the test can cut
/// (so that it can miss the last bump before the primary dies), and three
/// sentinels watching them. (Stopped in this order.)
struct Cluster {
    sentinels: Sentinels,
    replica: Server,
    link: Partition,
    primary: Server,
}

impl Cluster {
    async fn start() -> Self {
        let primary = Server::data(free_port(), &[]);
        let link = Partition::start(primary.port).await;
        let replica = Server::data(
            free_port(),
            &[
                "--replicaof".into(),
                "127.0.0.1".into(),
                link.port().to_string(),
            ],
        );
        eventually("the replica is in sync", Duration::from_secs(20), || {
            (info_field(&mut replica.conn(), "master_link_status")? == "up").then_some(())
        })
        .await;
        let sentinels = Sentinels::start(primary.port);
        eventually(
            "the sentinels know the replica and each other",
            Duration::from_secs(30),
            || sentinels.ready().then_some(()),
        )
        .await;
        Self {
            sentinels,
            replica,
            link,
            primary,
        }
    }

    /// Everything so far is on the replica; then its link goes, so that what
    /// is written next reaches the primary alone.
    async fn cut_the_replica_off(&self) {
        let synced: i64 = redis::cmd("WAIT")
            .arg(1)
            .arg(5000)
            .query(&mut self.primary.conn())
            .unwrap();
        assert_eq!(synced, 1, "the replica did not catch up");
        self.link.cut();
        eventually("the replica lost its link", Duration::from_secs(10), || {
            (info_field(&mut self.replica.conn(), "master_link_status")? == "down").then_some(())
        })
        .await;
    }

    /// The edit's bump of `tag` is on the primary, not on the replica.
    fn assert_only_the_primary_has(&self, tag: &str) {
        let on_primary: Option<String> = redis::cmd("GET")
            .arg(tag)
            .query(&mut self.primary.conn())
            .unwrap();
        let on_replica: Option<String> = redis::cmd("GET")
            .arg(tag)
            .query(&mut self.replica.conn())
            .unwrap();
        assert!(on_primary.is_some());
        assert_ne!(
            on_primary, on_replica,
            "the replica must have missed the edit's bump for this test to mean anything"
        );
    }

    /// Takes the master away as `how` says.
    fn fail_over(&mut self, how: Failover) {
        match how {
            Failover::Kill => self.primary.kill(),
            Failover::Demote => {
                let _: String = redis::cmd("SENTINEL")
                    .arg("FAILOVER")
                    .arg(SERVICE)
                    .query(&mut self.sentinels.servers[0].conn())
                    .unwrap();
            }
        }
    }
}

/// Whether `app` counted one switch of master.
fn counted_a_switch(app: &TestApp) -> bool {
    app.cache
        .render_metrics()
        .lines()
        .any(|l| l == "folio_redis_master_switches 1")
}

/// When the failover's steps happened.
struct Timing {
    /// Since the load started: when the master went, when folio followed.
    killed_at: Duration,
    followed_at: Duration,
    /// From the master's going: to the sentinels' naming the new master, to
    /// folio's following it, to the first HIT from it.
    switch_took: Duration,
    follow_took: Duration,
    first_hit: Duration,
}

/// Fails the master over under `load` and waits for `app` to follow it and
/// answer HITs from it.
async fn fail_over_and_follow(
    cluster: &mut Cluster,
    how: Failover,
    app: &TestApp,
    load: &Load,
) -> Timing {
    cluster.fail_over(how);
    let killed = Instant::now();
    let killed_at = load.elapsed();
    eventually("a sentinel failover", Duration::from_secs(30), || {
        cluster
            .sentinels
            .master_port()
            .filter(|p| *p == cluster.replica.port)
    })
    .await;
    let switch_took = killed.elapsed();
    // Until folio follows, its in-process tier may still answer (exactly:
    // it heard every bump), so the HITs that count begin after folio
    // counted the switch, when it holds Redis until `all` is bumped there.
    eventually(
        "folio follows the new master",
        Duration::from_secs(10),
        || counted_a_switch(app).then_some(()),
    )
    .await;
    let follow_took = killed.elapsed();
    let followed_at = killed_at + follow_took;

    // HITs again, from the new master.
    let started = Instant::now();
    let first_hit = loop {
        let hit = load.samples(|log| {
            log.iter()
                .filter(|s| s.started > followed_at && s.x_cache.as_deref() == Some("HIT"))
                .map(|s| s.at.checked_sub(killed_at).unwrap())
                .min()
        });
        if let Some(hit) = hit {
            break hit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no HIT within 20 s of the kill"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Timing {
        killed_at,
        followed_at,
        switch_took,
        follow_took,
        first_hit,
    }
}

/// No 5xx through the failover, HITs again soon, and the edit made at
/// `edited_at` in every answer begun after it: during the failover and
/// after it, from the new master that never heard of the bump.
fn assert_nothing_failed_or_stale(log: &[Sample], timing: &Timing, edited_at: Duration) {
    let errors: Vec<(&str, u16, Duration)> = log
        .iter()
        .filter(|s| s.status >= 500)
        .map(|s| (s.path, s.status, s.at))
        .collect();
    assert!(errors.is_empty(), "5xx through the failover: {errors:?}");
    assert!(
        log.iter().filter(|s| s.at > timing.killed_at).count() > 20,
        "too little load after the kill"
    );
    let first_hit = timing.first_hit;
    assert!(
        first_hit < Duration::from_secs(10),
        "HITs again only {first_hit:?} after the kill"
    );
    let stale: Vec<(&str, Duration, Option<&str>)> = log
        .iter()
        .filter(|s| s.started > edited_at && s.path.contains("/books/1"))
        .filter(|s| s.status == 200 && !s.shows)
        .map(|s| (s.path, s.at, s.x_cache.as_deref()))
        .collect();
    assert!(
        stale.is_empty(),
        "the old title after the edit, {} times; first: {:?}",
        stale.len(),
        &stale[..stale.len().min(5)]
    );
    let hits_after = log
        .iter()
        .filter(|s| s.started > timing.followed_at && s.path == "/books/1")
        .filter(|s| s.x_cache.as_deref() == Some("HIT"))
        .count();
    assert!(
        hits_after > 0,
        "the edited page is cached again on the new master"
    );
}

/// Kills or demotes the master under load, right after an edit whose bump
/// the replica never received.
async fn failover_under_load(how: Failover) {
    let mut cluster = Cluster::start().await;
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Redis)
            .with("REDIS_URL", cluster.sentinels.url()),
    )
    .await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.seed(40, 600, 51).await;
    // A second instance, which follows the sentinels on its own.
    let other =
        spawn_app_with(AppOptions::sharing(&app).with("REDIS_URL", cluster.sentinels.url())).await;
    for _ in 0..3 {
        for path in PATHS {
            app.fetch(path).await;
        }
    }
    assert_eq!(app.fetch("/books/1").await.1.as_deref(), Some("HIT"));

    let load = Load::start(&app, &PATHS, 4, Some(TITLE));
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.cut_the_replica_off().await;
    app.retitle(1, TITLE).await;
    let edited_at = load.elapsed();
    cluster.assert_only_the_primary_has(&format!("{}:tag:book:1", app.prefix));

    let timing = fail_over_and_follow(&mut cluster, how, &app, &load).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let log = load.stop().await;
    eprintln!(
        "sentinel failover ({how:?}): -> sentinels name the new master {:.2} s, -> folio follows {:.2} s, -> first HIT from it {:.2} s",
        timing.switch_took.as_secs_f64(),
        timing.follow_took.as_secs_f64(),
        timing.first_hit.as_secs_f64()
    );
    assert_nothing_failed_or_stale(&log, &timing, edited_at);
    the_second_instance_follows(&app, &other).await;

    // Sessions follow the new master too.
    let browser = app.browser();
    let response = app.post_login(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 303, "signing in after the failover");
    let session_keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:session:*", app.prefix))
        .query(&mut cluster.replica.conn())
        .unwrap();
    assert!(
        !session_keys.is_empty(),
        "the session lives on the new master"
    );
}

/// Both instances counted the switch; the second one's in-process tier
/// hears an edit made on the first over the new master's channel.
async fn the_second_instance_follows(app: &TestApp, other: &TestApp) {
    assert!(
        counted_a_switch(app),
        "the first instance counts one switch"
    );
    let started = Instant::now();
    loop {
        if counted_a_switch(other) && other.fetch("/books/2").await.1.as_deref() == Some("HIT") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the second instance never followed the new master"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        other
            .cache
            .render_metrics()
            .lines()
            .any(|l| l == "folio_cache_local_usable 1"),
        "its in-process tier is on again"
    );
    app.retitle(2, "Heard On The New Master").await;
    let (status, _, body) = other.fetch("/books/2").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Heard On The New Master"),
        "the second instance missed an edit made after the failover"
    );
}
