//! Many instances behind the shipped nginx configuration, restarted one at
//! a time under load: no request fails; and behind it, each client is
//! counted as itself by the per-address limits.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::free_port;
use crate::support::process::{self, Process};
use crate::support::proxies::Nginx;
use crate::support::{
    spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, TestApp, REDIS_URL,
};

/// One `folio serve` of the shared database and cache, on `port`.
fn instance(app: &TestApp, port: u16) -> Process {
    let bind = format!("127.0.0.1:{port}");
    let database = app.database_url();
    process::start(
        false,
        &[
            ("DATABASE_URL", &database),
            ("REDIS_URL", REDIS_URL),
            ("FOLIO_CACHE_PREFIX", &app.prefix),
            ("FOLIO_BIND", &bind),
            ("FOLIO_TRUSTED_PROXIES", "127.0.0.1"),
            ("RUST_LOG", "warn,folio=info"),
        ],
    )
}

/// What wrk reports: requests, non-2xx/3xx answers, socket errors.
#[derive(Debug)]
struct Load {
    requests: u64,
    non_2xx: u64,
    socket_errors: u64,
    requests_per_sec: f64,
}

fn parse_wrk(out: &str) -> Load {
    let number_before = |marker: &str| -> Option<u64> {
        let line = out.lines().find(|l| l.contains(marker))?;
        line.split_whitespace().next()?.parse().ok()
    };
    let requests = number_before(" requests in ").expect("wrk's request count");
    let non_2xx = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .map_or(0, |n| n.trim().parse().unwrap());
    let socket_errors = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map_or(0, |rest| {
            rest.split(',')
                .map(|part| {
                    part.split_whitespace()
                        .last()
                        .unwrap()
                        .parse::<u64>()
                        .unwrap()
                })
                .sum()
        });
    let requests_per_sec = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .map_or(0.0, |n| n.trim().parse().unwrap());
    Load {
        requests,
        non_2xx,
        socket_errors,
        requests_per_sec,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_behind_nginx_restarted_one_at_a_time_answer_every_request() {
    assert!(
        Command::new("sh")
            .args(["-c", "command -v wrk"])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap()
            .success(),
        "wrk is not installed: run scripts/test.sh, or apt-get install wrk"
    );
    let app = spawn_app(Backend::Postgres, CacheKind::Redis).await;
    app.seed(60, 300, 21).await;
    let ports = [free_port(), free_port(), free_port()];
    let mut instances: Vec<Process> = ports.iter().map(|&p| instance(&app, p)).collect();
    let nginx = Nginx::start(free_port(), &ports).await;

    // A steady load (4 connections, each waiting 4 ms between requests:
    // under 1,000 req/s) that has requests in flight at every restart and
    // leaves the suite's other tests their share of the cores.
    let load_secs = 10;
    let url = nginx.url("/books");
    let pace = std::env::temp_dir().join(format!("{}.lua", crate::support::unique_name("pace")));
    std::fs::write(&pace, "function delay()\n  return 4\nend\n").unwrap();
    let wrk = tokio::task::spawn_blocking(move || {
        let out = Command::new("wrk")
            .args([
                "-t1",
                "-c4",
                &format!("-d{load_secs}s"),
                "--timeout",
                "10s",
                "-s",
                pace.to_str().unwrap(),
                &url,
            ])
            .output()
            .expect("run wrk");
        let _ = std::fs::remove_file(&pace);
        String::from_utf8_lossy(&out.stdout).into_owned()
    });

    let started = Instant::now();
    for (i, &port) in ports.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let old_pid = instances[i].pid();
        let stopping = Instant::now();
        let status = tokio::task::block_in_place(|| instances[i].terminate());
        assert!(
            status.success(),
            "instance {i} did not stop cleanly: {status}"
        );
        let stopped_in = stopping.elapsed();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !instances[i].log().contains("folio stopped") {
            assert!(
                Instant::now() < deadline,
                "instance {i} did not shut down gracefully:\n{}",
                instances[i].log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        instances[i] = tokio::task::block_in_place(|| instance(&app, port));
        assert_ne!(instances[i].pid(), old_pid);
        println!(
            "instance {i}: stopped in {stopped_in:?}, serving again after {:?}",
            stopping.elapsed()
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(load_secs - 1),
        "the restarts outlasted the load ({:?}): nothing was measured after them",
        started.elapsed()
    );
    let out = wrk.await.unwrap();
    println!("{out}");
    let load = parse_wrk(&out);
    assert!(load.requests > 1000, "wrk hardly ran: {load:?}");
    assert_eq!(load.non_2xx, 0, "{load:?}");
    assert_eq!(load.socket_errors, 0, "{load:?}");
    println!(
        "rolling restart of 3 instances under load: {} requests, {:.0} req/s, 0 errors",
        load.requests, load.requests_per_sec
    );
}

/// A reader connecting from `source` (a loopback address of its own) with
/// its own cookies, rating book 2 through `base`; the answer's status.
async fn rate_from(base: &str, source: [u8; 4], forged_for: Option<&str>) -> u16 {
    let reader = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(source))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = crate::support::form_token_at(&reader, &format!("{base}/books/2")).await;
    let mut rating = reader
        .post(format!("{base}/books/2/ratings"))
        .form(&[("stars", "4"), ("csrf_token", token.as_str())]);
    if let Some(forged) = forged_for {
        rating = rating.header("x-forwarded-for", forged);
    }
    rating.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn behind_nginx_each_client_has_its_own_limit_and_cannot_borrow_another() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory)
            .with("FOLIO_RATINGS_PER_HOUR", "1")
            .with("FOLIO_TRUSTED_PROXIES", "127.0.0.1"),
    )
    .await;
    app.seed(5, 10, 31).await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = Nginx::start(free_port(), &[port]).await;
    let base = nginx.url("");
    assert_eq!(rate_from(&base, [127, 0, 0, 2], None).await, 303);
    assert_eq!(
        rate_from(&base, [127, 0, 0, 2], None).await,
        429,
        "one per hour"
    );
    // Another client behind the same proxy has a limit of its own...
    assert_eq!(rate_from(&base, [127, 0, 0, 3], None).await, 303);
    // ...and naming a fresh address itself does not give it another.
    assert_eq!(
        rate_from(&base, [127, 0, 0, 3], Some("127.0.0.9")).await,
        429,
        "a client's own X-Forwarded-For was believed"
    );

    // Without FOLIO_TRUSTED_PROXIES every client behind nginx is nginx.
    let untrusting = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("FOLIO_RATINGS_PER_HOUR", "1"),
    )
    .await;
    untrusting.seed(5, 10, 31).await;
    let port: u16 = untrusting
        .address
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let nginx = Nginx::start(free_port(), &[port]).await;
    let base = nginx.url("");
    assert_eq!(rate_from(&base, [127, 0, 0, 2], None).await, 303);
    assert_eq!(rate_from(&base, [127, 0, 0, 3], None).await, 429);
}
