//! The shipped VCL's own rules, checked in a real `varnishd`: a response
//! that sets a cookie is never kept, even when it says it may be; and each
//! client gets the encoding it accepts from one stored object.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::free_port;
use crate::support::proxies::Varnish;
use crate::support::{spawn_app_with, AppOptions, Backend, CacheKind};

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// A backend that answers every request with an edge-cacheable page, and on
/// `/cookie` also sets a cookie; it counts the requests that are not probes.
async fn cookie_backend() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = fetches.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                // One request per connection: read its head, answer, close.
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                if path != "/healthz" {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
                let cookie = if path == "/cookie" {
                    "Set-Cookie: visitor=abc; Path=/; HttpOnly\r\n"
                } else {
                    ""
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\
                     Cache-Control: public, max-age=0, s-maxage=3600\r\n\
                     xkey: all books\r\n{cookie}Content-Length: 2\r\nConnection: close\r\n\r\nok"
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (port, fetches)
}

#[tokio::test]
async fn varnish_never_keeps_a_response_that_sets_a_cookie() {
    let (backend_port, fetches) = cookie_backend().await;
    let varnish = Varnish::start(free_port(), backend_port).await;
    let client = reqwest::Client::new();

    // The same response without a cookie is kept: the rule below can fail.
    for _ in 0..3 {
        let page = client.get(varnish.url("/kept")).send().await.unwrap();
        assert_eq!(page.status(), 200);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "/kept fetched once");

    let before = fetches.load(Ordering::SeqCst);
    for _ in 0..3 {
        let page = client.get(varnish.url("/cookie")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(header(&page, "x-edge").as_deref(), Some("MISS"));
        assert!(
            header(&page, "set-cookie").is_some(),
            "each visitor gets the backend's own cookie"
        );
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst) - before,
        3,
        "every request that sets a cookie goes to the backend"
    );
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("a gzip body");
    text
}

#[tokio::test]
async fn varnish_gives_each_client_the_encoding_it_accepts_from_one_object() {
    let edge_port = free_port();
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite, CacheKind::Memory).with(
        "FOLIO_EDGE_PURGE_URLS",
        format!("http://127.0.0.1:{edge_port}"),
    ))
    .await;
    let app_port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let varnish = Varnish::start(edge_port, app_port).await;
    app.seed(12, 60, 5).await;
    let client = reqwest::Client::new();
    let get = |encoding: Option<&'static str>| {
        let mut request = client.get(varnish.url("/books"));
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };

    let gzip = get(Some("gzip, br")).await.unwrap();
    assert_eq!(gzip.status(), 200);
    assert_eq!(header(&gzip, "content-encoding").as_deref(), Some("gzip"));
    let vary = header(&gzip, "vary").unwrap_or_default();
    assert!(
        vary.to_ascii_lowercase().contains("accept-encoding"),
        "{vary}"
    );
    let unzipped = gunzip(&gzip.bytes().await.unwrap());

    // Later clients, whatever they accept, are served from that object.
    for encoding in [Some("gzip"), None, Some("br"), Some("identity")] {
        let page = get(encoding).await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(
            header(&page, "x-edge").as_deref(),
            Some("HIT"),
            "{encoding:?}"
        );
        let gzipped = header(&page, "content-encoding").as_deref() == Some("gzip");
        assert_eq!(gzipped, encoding == Some("gzip"), "{encoding:?}");
        let body = page.bytes().await.unwrap();
        let text = if gzipped {
            gunzip(&body)
        } else {
            String::from_utf8(body.to_vec()).unwrap()
        };
        assert_eq!(text, unzipped, "{encoding:?}: the same page");
        assert!(text.contains("</html>"));
    }
}
