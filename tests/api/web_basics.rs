//! What every site needs: a favicon, a description and Open Graph tags on
//! every page, robots.txt and sitemaps (cached, and renewed by every
//! writer's book writes), error pages in readers' words, and the
//! tutorial's JSON routes.

use std::time::{Duration, Instant};

use crate::support::{spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, TestApp};

const SITE: &str = "https://books.example.com";

/// The content of `<meta {attr}="{name}" content="…">`.
fn meta<'a>(html: &'a str, attr: &str, name: &str) -> Option<&'a str> {
    let marker = format!("<meta {attr}=\"{name}\" content=\"");
    let start = html.find(&marker)? + marker.len();
    html[start..].split('"').next()
}

fn title(html: &str) -> &str {
    let start = html.find("<title>").unwrap() + "<title>".len();
    html[start..].split("</title>").next().unwrap()
}

#[tokio::test]
async fn every_page_has_a_favicon_a_description_and_open_graph_tags() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(30, 300, 8).await;
    let r = app.get("/favicon.ico").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/x-icon");
    let icon = r.bytes().await.unwrap();
    assert_eq!(&icon[..4], &[0, 0, 1, 0], "an ICO file");

    let author = app
        .db
        .run(|c| Ok(folio::db::books::find_book(c, 1)?.unwrap().author))
        .await
        .unwrap();
    let author_path = format!("/authors/{}", author.replace(' ', "%20"));
    let mut descriptions = std::collections::HashSet::new();
    for path in [
        "/",
        "/books",
        "/books?sort=year&page=2",
        "/books/1",
        author_path.as_str(),
        "/search?q=the",
        "/search",
        "/cache",
        "/admin/login",
        "/nowhere",
    ] {
        let (_, _, html) = app.fetch(path).await;
        let description = meta(&html, "name", "description")
            .unwrap_or_else(|| panic!("{path} has no description"));
        assert!(description.len() > 20, "{path}: {description:?}");
        descriptions.insert(description.to_owned());
        let page_title = title(&html).trim_end_matches(" · folio");
        assert_eq!(
            meta(&html, "property", "og:title"),
            Some(page_title),
            "{path}"
        );
        assert_eq!(
            meta(&html, "property", "og:description"),
            Some(description),
            "{path}"
        );
        assert_eq!(meta(&html, "property", "og:site_name"), Some("folio"));
        assert!(
            html.contains("<link rel=\"icon\" href=\"/favicon.ico\""),
            "{path}"
        );
    }
    assert!(
        descriptions.len() >= 8,
        "pages share descriptions: {descriptions:#?}"
    );
    let (_, _, book) = app.fetch("/books/1").await;
    assert_eq!(meta(&book, "property", "og:type"), Some("book"));
}

#[tokio::test]
async fn robots_and_sitemaps_name_the_public_address_and_follow_every_writer_on_sqlite() {
    robots_and_sitemaps_name_the_public_address_and_follow_every_writer(Backend::Sqlite).await;
}

#[tokio::test]
async fn robots_and_sitemaps_name_the_public_address_and_follow_every_writer_on_postgres() {
    robots_and_sitemaps_name_the_public_address_and_follow_every_writer(Backend::Postgres).await;
}

async fn robots_and_sitemaps_name_the_public_address_and_follow_every_writer(backend: Backend) {
    let app =
        spawn_app_with(AppOptions::new(backend, CacheKind::Redis).with("FOLIO_PUBLIC_URL", SITE))
            .await;
    app.seed(25, 50, 9).await;

    let r = app.get("/robots.txt").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let robots = r.text().await.unwrap();
    assert!(robots.starts_with("User-agent: *\n"), "{robots}");
    assert!(
        robots.contains(&format!("Sitemap: {SITE}/sitemap.xml")),
        "{robots}"
    );
    assert!(robots.contains("Disallow: /sample"));
    assert_eq!(app.fetch("/robots.txt").await.1.as_deref(), Some("HIT"));

    let (status, x_cache, index) = app.fetch("/sitemap.xml").await;
    assert_eq!((status, x_cache.as_deref()), (200, Some("MISS")));
    assert!(
        index.contains(&format!("<loc>{SITE}/sitemaps/1.xml</loc>")),
        "{index}"
    );
    assert!(
        !index.contains("/sitemaps/2.xml"),
        "25 books fit in one sitemap"
    );
    assert_eq!(app.fetch("/sitemap.xml").await.1.as_deref(), Some("HIT"));

    let (status, _, sitemap) = app.fetch("/sitemaps/1.xml").await;
    assert_eq!(status, 200);
    assert!(sitemap.contains(&format!("<url><loc>{SITE}/</loc></url>")));
    assert!(sitemap.contains(&format!("<url><loc>{SITE}/books</loc></url>")));
    assert_eq!(sitemap.matches("<loc>").count(), 27, "{sitemap}");
    let ids = book_ids(&app).await;
    for id in &ids {
        assert!(
            sitemap.contains(&format!("<loc>{SITE}/books/{id}</loc><lastmod>")),
            "{id}"
        );
    }
    assert_eq!(app.fetch("/sitemaps/1.xml").await.1.as_deref(), Some("HIT"));
    let r = app.get("/sitemaps/1.xml").await;
    assert_eq!(
        r.headers()["content-type"],
        "application/xml; charset=utf-8"
    );

    // Past the last sitemap, or not a sitemap: 404, and nothing stored.
    for path in [
        "/sitemaps/2.xml",
        "/sitemaps/0.xml",
        "/sitemaps/abc.xml",
        "/sitemaps/1",
        "/sitemaps/99999999.xml",
    ] {
        assert_eq!(app.fetch(path).await.0, 404, "{path}");
    }
    assert_eq!(app.fetch("/sitemaps/2.xml").await.1, None);

    // An outside writer adds a book, then deletes one: the sitemap follows.
    app.outside_sql("INSERT INTO books (title, author) VALUES ('Mapped Later', 'Sam Crawler')");
    let new_id = *book_ids(&app).await.last().unwrap();
    assert!(!ids.contains(&new_id));
    let wanted = format!("<loc>{SITE}/books/{new_id}</loc>");
    until(&app, "/sitemaps/1.xml", |body| body.contains(&wanted)).await;
    app.outside_sql(&format!("DELETE FROM books WHERE id = {}", ids[2]));
    let gone = format!("<loc>{SITE}/books/{}</loc>", ids[2]);
    until(&app, "/sitemaps/1.xml", |body| !body.contains(&gone)).await;
}

/// Every book's id, in order.
async fn book_ids(app: &TestApp) -> Vec<i32> {
    app.db
        .run(|c| {
            use diesel::prelude::*;
            use folio::db::schema::books;
            Ok(books::table
                .order_by(books::id)
                .select(books::id)
                .load::<i32>(c)?)
        })
        .await
        .unwrap()
}

/// Waits (10 s at most) until the page at `path` passes `check`.
async fn until(app: &TestApp, path: &str, check: impl Fn(&str) -> bool) {
    let started = Instant::now();
    loop {
        let (status, _, body) = app.fetch(path).await;
        if status == 200 && check(&body) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{path} never followed the write:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn bad_addresses_are_explained_and_past_the_end_links_to_the_last_page() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(120, 100, 10).await;
    let (status, _, html) = app.fetch("/books?page=abc").await;
    assert_eq!(status, 400);
    assert!(html.contains("This address is not quite right"), "{html}");
    assert!(html.contains("The page number must be a whole number from 1 to 1,000,000."));
    let (status, _, html) = app.fetch("/books?sort=price").await;
    assert_eq!(status, 400);
    assert!(
        html.contains("sorted by title, author, year or rating"),
        "{html}"
    );

    let (status, _, html) = app.fetch("/books?page=7").await;
    assert_eq!(status, 404);
    assert!(
        html.contains("There is no page 7: the list has 3 pages."),
        "{html}"
    );
    assert!(
        html.contains("href=\"/books?page=3\">Go to the last page (3)"),
        "{html}"
    );
    let (status, _, html) = app.fetch("/books?sort=year&page=7").await;
    assert_eq!(status, 404);
    assert!(
        html.contains("href=\"/books?sort=year&#38;page=3\""),
        "{html}"
    );
    // The JSON twin says so in JSON.
    let r = app.get("/api/books?page=7").await;
    assert_eq!(r.status(), 404);
    let error: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error["error"]["status"], 404);
}

fn ids(list: &serde_json::Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect()
}

/// The book ids of a catalogue page, in order.
fn html_ids(html: &str) -> Vec<i64> {
    let list = html
        .split_once("<ol class=\"book-list\"")
        .map_or("", |(_, rest)| rest.split("</ol>").next().unwrap_or(""));
    list.split("class=\"book-title\" href=\"/books/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn the_tutorials_json_routes_and_sorts_match_the_html() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(1_050, 2_000, 12).await;
    let r = app.get("/api/sample").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.headers().get("x-cache").is_none(), "read every time");
    let sample: serde_json::Value = r.json().await.unwrap();
    assert_eq!(ids(&sample), (1..=1000).collect::<Vec<i64>>());
    assert!(sample[0]["title"].is_string() && sample[0]["author"].is_string());

    let r = app.get("/api/cache").await;
    assert_eq!(r.headers()["x-cache"], "MISS");
    let cached: serde_json::Value = r.json().await.unwrap();
    assert_eq!(cached, sample);
    assert_eq!(app.get("/api/cache").await.headers()["x-cache"], "HIT");
    // A write shows at once, for every writer.
    app.outside_sql("UPDATE books SET title = 'Retitled for the API' WHERE id = 2");
    let started = Instant::now();
    loop {
        let list: serde_json::Value = app.get("/api/cache").await.json().await.unwrap();
        if list[1]["title"] == "Retitled for the API" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "/api/cache is stale"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    for sort in ["title", "author", "year", "rating"] {
        for page in [1, 2] {
            let json: serde_json::Value = app
                .get(&format!("/api/books?sort={sort}&page={page}"))
                .await
                .json()
                .await
                .unwrap();
            let (_, _, html) = app.fetch(&format!("/books?sort={sort}&page={page}")).await;
            assert_eq!(
                ids(&json["books"]),
                html_ids(&html),
                "sort={sort} page={page}"
            );
            assert_eq!(json["total_books"], 1_050);
        }
    }
    let r = app.get("/api/books?sort=price").await;
    assert_eq!(r.status(), 400);
    let error: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error["error"]["status"], 400);

    let off = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("FOLIO_UNCACHED_ROUTES", "off"),
    )
    .await;
    assert_eq!(off.get("/api/sample").await.status(), 404);
    assert_eq!(off.get("/api/cache").await.status(), 200);
}
