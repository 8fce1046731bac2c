//! Pages, bad input and escaping.

use chrono::Utc;
use diesel::prelude::*;

use folio::db::models::NewBook;
use folio::db::schema::books;

use crate::support::{spawn_app, spawn_app_with, AppOptions, Backend, CacheKind};

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_never_a_500() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(60, 500, 9).await;
    let cases = [
        ("/books?page=0", 400, "text/html"),
        ("/books?page=abc", 400, "text/html"),
        ("/books?page=99999999999999999999", 400, "text/html"),
        ("/books?page=-1", 400, "text/html"),
        ("/books?page=999", 404, "text/html"),
        ("/books/abc", 404, "text/html"),
        ("/books/0", 404, "text/html"),
        ("/books/99999999999999999999", 404, "text/html"),
        ("/books/987654", 404, "text/html"),
        ("/no/such/page", 404, "text/html"),
        ("/api/books?page=0", 400, "application/json"),
        ("/api/books?page=abc", 400, "application/json"),
        (
            "/api/books?page=99999999999999999999",
            400,
            "application/json",
        ),
        ("/api/books/abc", 404, "application/json"),
        ("/api/books/987654", 404, "application/json"),
        ("/api/nothing", 404, "application/json"),
    ];
    for (path, status, content_type) in cases {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        let ct = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(ct.starts_with(content_type), "{path}: {ct}");
        let body = response.text().await.unwrap();
        if content_type == "application/json" {
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["error"]["status"], status, "{path}");
            assert!(json["error"]["message"].as_str().unwrap().len() > 5);
        } else {
            assert!(
                body.contains("<!doctype html>") && body.contains(&status.to_string()),
                "{path}"
            );
        }
    }
    // A bad page is not cached as a good one.
    assert_eq!(app.fetch("/books?page=1").await.0, 200);
}

#[tokio::test]
async fn uncached_routes_can_be_turned_off() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("FOLIO_UNCACHED_ROUTES", "off"),
    )
    .await;
    for path in ["/sample", "/top/uncached"] {
        assert_eq!(app.fetch(path).await.0, 404, "{path}");
    }
    assert_eq!(app.fetch("/cache").await.0, 200);
}

#[tokio::test]
async fn the_pages_show_the_catalogue() {
    let app = spawn_app(Backend::Postgres, CacheKind::Memory).await;
    app.seed(120, 2_000, 10).await;

    let listing: serde_json::Value = app.get("/api/books?page=2").await.json().await.unwrap();
    assert_eq!(listing["total_books"], 120);
    assert_eq!(listing["total_pages"], 3);
    assert_eq!(listing["books"].as_array().unwrap().len(), 50);
    let (_, _, html) = app.fetch("/books?page=2").await;
    assert_eq!(html.matches("class=\"book-title\"").count(), 50);
    assert!(html.contains("Page 2 of 3"));

    let book: serde_json::Value = app.get("/api/books/7").await.json().await.unwrap();
    let title = book["title"].as_str().unwrap();
    let (_, _, page) = app.fetch("/books/7").await;
    assert!(
        page.contains(&format!("<h1>{}</h1>", title.replace('\'', "&#39;"))),
        "{page}"
    );
    assert!(
        book["ratings"]["count"].as_i64().unwrap()
            >= book["ratings"]["last_30_days"].as_i64().unwrap()
    );

    let (_, _, sample) = app.fetch("/sample").await;
    assert_eq!(sample.matches("class=\"book-title\"").count(), 120);

    let css = app.get("/static/style.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
}

#[tokio::test]
async fn titles_are_escaped_everywhere() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    let now = Utc::now().naive_utc();
    let id: i32 = app
        .db
        .run(move |c| {
            let book = NewBook {
                title: "<script>alert(1)</script>".into(),
                author: "Mallory \"><img src=x onerror=alert(2)>".into(),
                isbn: None,
                description: "<b>bold</b>".into(),
                published_year: Some(2001),
                created_at: now,
                updated_at: now,
            };
            Ok(diesel::insert_into(books::table)
                .values(&book)
                .returning(books::id)
                .get_result(c)?)
        })
        .await
        .unwrap();
    app.db
        .run(move |c| {
            let r = folio::db::models::NewRating {
                book_id: id,
                stars: 5,
                created_at: now,
            };
            diesel::insert_into(folio::db::schema::ratings::table)
                .values(&r)
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    for path in [
        "/".to_string(),
        "/books".into(),
        format!("/books/{id}"),
        "/sample".into(),
        "/cache".into(),
        "/top/uncached".into(),
    ] {
        let (status, _, body) = app.fetch(&path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !body.contains("<script>alert(1)"),
            "{path} shows the title unescaped"
        );
        assert!(
            !body.contains("<img src=x"),
            "{path} shows the author unescaped"
        );
        assert!(
            body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path} lacks the escaped title"
        );
    }
}
