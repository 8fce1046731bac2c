//! Compressed responses: cached pages in the stored encoding the client
//! accepts best (brotli, gzip), with `Vary` and an `ETag` per encoding; other
//! pages compressed on the fly; a page with a form token never (BREACH).

use std::io::Read;

use crate::support::{spawn_app, Backend, CacheKind, TestApp};

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .expect("a gzip body");
    out
}

fn unbrotli(bytes: &[u8]) -> String {
    let mut out = String::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_string(&mut out)
        .expect("a brotli body");
    out
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

type Decode = fn(&[u8]) -> String;

#[tokio::test]
async fn cached_pages_come_in_the_stored_encoding_the_client_accepts() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(60, 1_000, 55).await;
    let codings: [(&str, &str, Decode); 2] = [
        ("gzip", "gzip", gunzip),
        ("gzip, deflate, br, zstd", "br", unbrotli),
    ];
    for path in ["/", "/cache", "/books?page=1", "/api/books?page=1"] {
        assert_eq!(app.fetch(path).await.1.as_deref(), Some("MISS"), "{path}");
        let plain = app.get(path).await;
        assert_eq!(header(&plain, "content-encoding"), None, "{path}");
        assert_eq!(header(&plain, "vary").as_deref(), Some("Accept-Encoding"));
        let plain_etag = header(&plain, "etag").unwrap();
        let plain = plain.text().await.unwrap();
        for (accept, coding, decode) in codings {
            let r = get_with(&app, path, &[("accept-encoding", accept)]).await;
            assert_eq!(r.status(), 200, "{path} {accept}");
            assert_eq!(header(&r, "x-cache").as_deref(), Some("HIT"), "{path}");
            assert_eq!(header(&r, "content-encoding").as_deref(), Some(coding));
            assert_eq!(header(&r, "vary").as_deref(), Some("Accept-Encoding"));
            let etag = header(&r, "etag").unwrap();
            assert_ne!(etag, plain_etag, "{path}: one ETag for two encodings");
            let bytes = r.bytes().await.unwrap();
            assert!(
                bytes.len() < plain.len() / 2,
                "{path} {coding}: {} bytes",
                bytes.len()
            );
            assert_eq!(decode(&bytes), plain, "{path} {coding}");

            // 304 for this encoding's validator, 200 for another's.
            let r = get_with(
                &app,
                path,
                &[("accept-encoding", accept), ("if-none-match", &etag)],
            )
            .await;
            assert_eq!(r.status(), 304, "{path} {coding}");
            assert_eq!(header(&r, "etag"), Some(etag.clone()));
            assert_eq!(header(&r, "vary").as_deref(), Some("Accept-Encoding"));
            let r = get_with(
                &app,
                path,
                &[("accept-encoding", accept), ("if-none-match", &plain_etag)],
            )
            .await;
            assert_eq!(
                r.status(),
                200,
                "{path}: the plain body's ETag matched {coding}"
            );
            let r = get_with(&app, path, &[("if-none-match", &etag)]).await;
            assert_eq!(
                r.status(),
                200,
                "{path}: {coding}'s ETag matched the plain body"
            );
        }
    }
}

#[tokio::test]
async fn other_pages_are_compressed_on_the_fly_but_never_one_with_a_form_token() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(60, 1_000, 56).await;
    let r = get_with(&app, "/sample", &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding").as_deref(), Some("gzip"));
    assert!(gunzip(&r.bytes().await.unwrap()).contains("</html>"));
    let r = get_with(&app, "/top/uncached", &[("accept-encoding", "br")]).await;
    assert_eq!(header(&r, "content-encoding").as_deref(), Some("br"));
    assert!(unbrotli(&r.bytes().await.unwrap()).contains("</html>"));

    // These carry a CSRF token (the rating form, the sign-in form): a
    // compressed secret beside reflected text leaks (BREACH).
    for path in ["/books/3", "/admin/login"] {
        let r = get_with(&app, path, &[("accept-encoding", "gzip, br")]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            header(&r, "content-encoding"),
            None,
            "{path} was compressed"
        );
        assert!(
            r.text().await.unwrap().contains("name=\"csrf_token\""),
            "{path}"
        );
    }
}
