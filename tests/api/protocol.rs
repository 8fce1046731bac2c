//! HTTP as a hostile client speaks it: bad encodings, slow bodies, odd
//! methods; and what every answer tells browsers and who may read metrics.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{
    spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

async fn post_raw(client: &reqwest::Client, url: String, body: String) -> u16 {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Defect 4 and part of 8: a NUL byte, a malformed escape or invalid UTF-8
/// in any form or query is a 400 before the database, on both backends;
/// nothing is stored.
#[tokio::test]
async fn nul_bytes_and_malformed_encoding_are_400_on_both_backends() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_app(backend, CacheKind::Memory).await;
        app.seed(3, 10, 91).await;
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;

        let visitor = app.browser();
        let token = app.form_token(&visitor, "/admin/login").await;
        for email in ["a%00", "a%00%40example.com", "%ZZ", "%FF%FE"] {
            let body = format!("email={email}&password=whatever+it+is&csrf_token={token}");
            assert_eq!(
                post_raw(&visitor, app.url("/admin/login"), body).await,
                400,
                "{backend:?}: email={email}"
            );
        }
        let token = app.form_token(&visitor, "/books/1").await;
        let body = format!("stars=5%00&csrf_token={token}");
        assert_eq!(
            post_raw(&visitor, app.url("/books/1/ratings"), body).await,
            400
        );
        for path in ["/books?page=1%00", "/books?page=%ZZ", "/api/books?page=%C3"] {
            assert_eq!(app.get(path).await.status(), 400, "{backend:?}: {path}");
        }

        let admin = app.browser();
        let csrf = app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        for q in ["a%00b", "%ZZ", "%FF"] {
            let r = admin
                .get(app.url(&format!("/admin/books?q={q}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{backend:?}: q={q}");
        }
        let before = app.book_count().await;
        for title in ["%ZZ", "%FF", "a%00b", "caf%C3"] {
            let body = format!("title={title}&author=Ann+Author&csrf_token={csrf}");
            assert_eq!(
                post_raw(&admin, app.url("/admin/books"), body).await,
                400,
                "{backend:?}: title={title}"
            );
        }
        assert_eq!(
            app.book_count().await,
            before,
            "{backend:?}: a bad form was stored"
        );
        // Well-formed text still works, escapes and all.
        let body = format!("title=Caf%C3%A9+%25+Cr%C3%A8me&author=Ann+Author&csrf_token={csrf}");
        assert_eq!(post_raw(&admin, app.url("/admin/books"), body).await, 303);
        assert_eq!(app.book_count().await, before + 1);
    }
}

/// Sends `head` then one byte of body every `every`, until the server closes;
/// returns what it answered and when it closed.
fn dribble(port: u16, head: &str, every: Duration) -> (String, Duration) {
    dribble_pieces(port, head, every, b"x")
}

/// Sends `head`, then `piece` every `every`, until the server closes.
fn dribble_pieces(port: u16, head: &str, every: Duration, piece: &[u8]) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(every)).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(30) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if stream.write_all(piece).is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

fn port_of(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

/// Defect 7: a body sent a byte at a time is cut off (408, connection
/// closed) once `FOLIO_BODY_TIMEOUT_MS` has passed; a slow head likewise
/// after `FOLIO_HEADER_TIMEOUT_MS`.
#[tokio::test]
async fn a_slow_body_is_cut_off_within_the_configured_time() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory)
            .with("FOLIO_BODY_TIMEOUT_MS", "1500")
            .with("FOLIO_HEADER_TIMEOUT_MS", "1500"),
    )
    .await;
    let port = port_of(&app);
    let slow_body = "POST /admin/login HTTP/1.1\r\nHost: folio\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nemail=";
    let slow_head = "GET / HTTP/1.1\r\nHost: folio\r\nX-Slow: ";
    let mut clients = Vec::new();
    for head in [slow_body; 5].into_iter().chain([slow_head; 2]) {
        clients.push(tokio::task::spawn_blocking(move || {
            dribble(port, head, Duration::from_millis(250))
        }));
    }
    // A body over the limit is refused whole, whatever the route.
    for path in ["/admin/login", "/"] {
        let r = app
            .client
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("email={}", "x".repeat(70_000)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
    }
    for client in clients {
        let (answer, took) = client.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
        assert!(
            took < Duration::from_millis(1500 + 3000),
            "the slow client was held for {took:?}"
        );
    }
}

/// Connections past `FOLIO_MAX_CONNECTIONS` wait in the listen queue until
/// one closes; they are not served meanwhile (nor refused).
#[tokio::test]
async fn connections_past_the_bound_wait_for_a_free_one() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory)
            .with("FOLIO_MAX_CONNECTIONS", "1")
            .with("FOLIO_HEADER_TIMEOUT_MS", "1500"),
    )
    .await;
    // One connection per worker is the bound: hold them all, saying nothing.
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let idle: Vec<TcpStream> = (0..workers)
        .map(|_| TcpStream::connect(("127.0.0.1", port_of(&app))).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let r = app.get("/healthz").await;
    let waited = started.elapsed();
    assert_eq!(r.status(), 200);
    assert!(
        waited >= Duration::from_secs(1),
        "served after {waited:?} although every slot was taken"
    );
    drop(idle);
}

/// Part of defect 8: HEAD wherever GET works; other methods on a known
/// path are 405 with `Allow`; unknown paths stay 404.
#[tokio::test]
async fn head_works_wherever_get_does_and_other_methods_get_405() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(3, 10, 92).await;
    for path in [
        "/",
        "/books",
        "/books/1",
        "/api/books/1",
        "/admin/login",
        "/healthz",
    ] {
        let get = app.get(path).await;
        let head = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(head.status(), 200, "{path}");
        assert_eq!(
            head.headers()["content-type"],
            get.headers()["content-type"],
            "{path}"
        );
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "{path}: HEAD sent a body"
        );
    }
    for (method, path, allow) in [
        ("PUT", "/", "GET, HEAD"),
        ("DELETE", "/books/1", "GET, HEAD"),
        ("POST", "/api/books", "GET, HEAD"),
        ("PATCH", "/admin/login", "GET, HEAD, POST"),
        ("GET", "/books/1/ratings", "POST"),
        ("OPTIONS", "/admin/books", "GET, HEAD, POST"),
    ] {
        let r = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
    }
    let api = app
        .client
        .delete(app.url("/api/books/1"))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"]["status"], 405);
    assert_eq!(
        app.client
            .put(app.url("/nowhere"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Part of defect 8: every answer carries the security headers, and no page
/// needs what the policy forbids (inline script or style).
#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Redis).with("REDIS_TIMEOUT_MS", "2000"),
    )
    .await;
    app.seed(3, 30, 93).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = app.browser();
    app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let paths = [
        "/",
        "/books",
        "/books/1",
        "/cache",
        "/api/top-books",
        "/api/books/99999",
        "/nowhere",
        "/admin/login",
        "/admin",
        "/admin/books",
        "/admin/books/new",
        "/admin/books/1/edit",
        "/admin/books/1/delete",
        "/admin/cache",
        "/admin/logout",
        "/healthz",
    ];
    let style = folio::web::assets::style_href();
    for path in paths.iter().copied().chain([style]) {
        let r = admin.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        let html = r.text().await.unwrap();
        for forbidden in ["<script", "style=", "<style", " onclick=", " onsubmit="] {
            assert!(!html.contains(forbidden), "{path} has {forbidden}");
        }
    }
    let put = app.client.put(app.url("/")).send().await.unwrap();
    assert!(put.headers().contains_key("content-security-policy"));
}

/// Part of defect 8: with `FOLIO_METRICS_TOKEN`, /metrics and /readyz answer
/// only the bearer of the token; /healthz stays public.
#[tokio::test]
async fn metrics_and_readyz_need_the_token_when_one_is_set() {
    let token = "operators-only-0123456789";
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("FOLIO_METRICS_TOKEN", token),
    )
    .await;
    for path in ["/metrics", "/readyz"] {
        assert_eq!(app.get(path).await.status(), 401, "{path}");
        for wrong in ["Bearer nope", "Bearer operators-only-012345678", token] {
            let r = app
                .client
                .get(app.url(path))
                .header("authorization", wrong)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{path} with {wrong}");
        }
        let r = app
            .client
            .get(app.url(path))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(!r.text().await.unwrap().contains("operators-only"));
    }
    assert_eq!(app.get("/healthz").await.status(), 200);

    // Unset, they are public as before.
    let open = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    assert_eq!(open.get("/metrics").await.status(), 200);
    assert_eq!(open.get("/readyz").await.status(), 200);
}

/// A chunked body dribbled at a route that never reads it holds the
/// connection no longer than a form's would (actix would drain it for ever).
#[tokio::test]
async fn a_slow_chunked_body_is_cut_off_too() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory)
            .with("FOLIO_BODY_TIMEOUT_MS", "1500")
            .with("FOLIO_HEADER_TIMEOUT_MS", "1500"),
    )
    .await;
    let port = port_of(&app);
    for path in ["/", "/admin/login"] {
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: folio\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n"
        );
        let (answer, took) = tokio::task::spawn_blocking(move || {
            dribble_chunks(port, &head, Duration::from_millis(250))
        })
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
        assert!(
            took < Duration::from_millis(1500 + 3000),
            "{path}: the slow client was held for {took:?}"
        );
    }
}

/// `dribble`, one valid one-byte chunk at a time.
fn dribble_chunks(port: u16, head: &str, every: Duration) -> (String, Duration) {
    dribble_pieces(port, head, every, b"1\r\nx\r\n")
}
