//! Browsing: the catalogue's order ignores a leading article, the A–Z jump,
//! author pages; each follows outside writes.

use std::time::{Duration, Instant};

use crate::support::{spawn_app, Backend, CacheKind, TestApp};

const SHOWS_WITHIN: Duration = Duration::from_secs(10);

async fn api_titles(app: &TestApp) -> Vec<String> {
    let page: serde_json::Value = app.get("/api/books?page=1").await.json().await.unwrap();
    page["books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn until(app: &TestApp, path: &str, check: impl Fn(u16, &str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let (status, _, body) = app.fetch(path).await;
        if check(status, &body) {
            return body;
        }
        assert!(
            started.elapsed() < SHOWS_WITHIN,
            "{path} still shows old data after {SHOWS_WITHIN:?} ({status})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn positions(body: &str, titles: &[&str]) -> Vec<usize> {
    titles
        .iter()
        .map(|t| {
            body.find(&format!(">{t}</a>"))
                .unwrap_or_else(|| panic!("{t} missing"))
        })
        .collect()
}

async fn titles_are_filed_without_their_article(backend: Backend) {
    let app = spawn_app(backend, CacheKind::Memory).await;
    app.outside_sql(
        "INSERT INTO books (title, author) VALUES ('The Zebra', 'Z. Writer'); \
         INSERT INTO books (title, author) VALUES ('apple', 'A. Writer'); \
         INSERT INTO books (title, author) VALUES ('An Orchard', 'O. Writer'); \
         INSERT INTO books (title, author) VALUES ('A Bee', 'B. Writer'); \
         INSERT INTO books (title, author) VALUES ('Mango', 'M. Writer'); \
         INSERT INTO books (title, author) VALUES ('Theology', 'T. Writer');",
    );
    let filed = [
        "apple",
        "A Bee",
        "Mango",
        "An Orchard",
        "Theology",
        "The Zebra",
    ];
    until(&app, "/api/books?page=1", |_, b| b.contains("Theology")).await;
    assert_eq!(api_titles(&app).await, filed);
    let html = until(&app, "/books", |_, b| b.contains("Theology")).await;
    let at = positions(&html, &filed);
    assert!(at.windows(2).all(|w| w[0] < w[1]), "HTML order: {at:?}");

    // An outside retitle moves the book, on both pages.
    app.outside_sql("UPDATE books SET title = 'The Aardvark' WHERE title = 'Mango'");
    until(&app, "/api/books?page=1", |_, b| b.contains("Aardvark")).await;
    assert_eq!(api_titles(&app).await[0], "The Aardvark");
    let html = until(&app, "/books", |_, b| b.contains("Aardvark")).await;
    assert!(positions(&html, &["The Aardvark", "apple"])[0] < positions(&html, &["apple"])[0]);

    // A book's page leads back to its letter of the catalogue.
    let zebra: serde_json::Value = app.get("/api/books?page=1").await.json().await.unwrap();
    let id = zebra["books"][5]["id"].as_i64().unwrap();
    let (_, _, page) = app.fetch(&format!("/books/{id}")).await;
    assert!(page.contains("href=\"/books/from/Z\""), "{page}");
}

#[tokio::test]
async fn titles_are_filed_without_their_article_on_sqlite() {
    titles_are_filed_without_their_article(Backend::Sqlite).await;
}

#[tokio::test]
async fn titles_are_filed_without_their_article_on_postgres() {
    titles_are_filed_without_their_article(Backend::Postgres).await;
}

/// `/books/from/M` leads to the page where titles under M begin.
#[tokio::test]
async fn the_a_to_z_jump_lands_on_the_letters_page() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(130, 100, 12).await;
    let mut all: Vec<String> = Vec::new();
    for page in 1..=3 {
        let json: serde_json::Value = app
            .get(&format!("/api/books?page={page}"))
            .await
            .json()
            .await
            .unwrap();
        for b in json["books"].as_array().unwrap() {
            all.push(b["title"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(all.len(), 130);
    for letter in ['A', 'M', 'T', 'Z'] {
        let lower = letter.to_ascii_lowercase();
        let first = all
            .iter()
            .position(|t| {
                folio::catalogue::browse::filing_letter(t)
                    .is_some_and(|l| l.to_ascii_lowercase() >= lower)
            })
            .unwrap_or(all.len().saturating_sub(1));
        let response = app.get(&format!("/books/from/{letter}")).await;
        assert_eq!(response.status().as_u16(), 303, "{letter}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(
            location,
            format!("/books?page={}", first / 50 + 1),
            "{letter}"
        );
    }
    for bad in ["/books/from/1", "/books/from/mm", "/books/from/%C3%A9"] {
        assert_eq!(app.fetch(bad).await.0, 404, "{bad}");
    }
    let (_, _, html) = app.fetch("/books?page=2").await;
    for link in [
        "href=\"/books?page=1\">« First",
        "href=\"/books?page=3\">Last »",
        "aria-current=\"page\" href=\"/books?page=2\"",
    ] {
        assert!(html.contains(link), "{link}");
    }
}

#[tokio::test]
async fn author_pages_list_their_books_and_follow_outside_writes() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.outside_sql(
        "INSERT INTO books (title, author) VALUES ('The Dispossessed', 'Ursula K. Le Guin'); \
         INSERT INTO books (title, author) VALUES ('A Wizard of Earthsea', 'Ursula K. Le Guin'); \
         INSERT INTO books (title, author) VALUES ('Kindred', 'Octavia E. Butler');",
    );
    app.feed
        .apply_pending()
        .await
        .expect("the change feed applies");
    let path = "/authors/Ursula%20K.%20Le%20Guin";
    let catalogue = until(&app, "/books", |_, b| b.contains("Kindred")).await;
    assert!(
        catalogue.contains(&format!("href=\"{path}\"")),
        "rows link authors"
    );
    let page = until(&app, path, |s, _| s == 200).await;
    assert!(page.contains("The Dispossessed") && page.contains("A Wizard of Earthsea"));
    assert!(!page.contains("Kindred"));
    assert_eq!(app.fetch(path).await.1.as_deref(), Some("HIT"));

    app.outside_sql("INSERT INTO books (title, author) VALUES ('Lavinia', 'Ursula K. Le Guin')");
    let page = until(&app, path, |_, b| b.contains("Lavinia")).await;
    assert!(page.contains("3 books"));

    assert_eq!(app.fetch("/authors/Nobody%20At%20All").await.0, 404);
    assert_eq!(
        app.fetch(&format!("/authors/{}", "x".repeat(1001))).await.0,
        404
    );
}

async fn sorts_by_author_year_and_rating(backend: Backend) {
    let app = spawn_app(backend, CacheKind::Memory).await;
    app.outside_sql(
        "INSERT INTO books (title, author, published_year) VALUES ('Old Book', 'Carol Zed', 1901); \
         INSERT INTO books (title, author, published_year) VALUES ('New Book', 'Alice Ames', 2020); \
         INSERT INTO books (title, author) VALUES ('No Year', 'Bob Bell'); \
         INSERT INTO ratings (book_id, stars) SELECT id, 2 FROM books WHERE title = 'Old Book'; \
         INSERT INTO ratings (book_id, stars) SELECT id, 4 FROM books WHERE title = 'New Book';",
    );
    // Every change above applied, so the pages cached next stay cached.
    app.feed
        .apply_pending()
        .await
        .expect("the change feed applies");
    let order =
        |body: &str| -> Vec<usize> { positions(body, &["Old Book", "New Book", "No Year"]) };
    let ranks = |at: Vec<usize>| -> Vec<usize> {
        let mut sorted = at.clone();
        sorted.sort_unstable();
        at.iter()
            .map(|p| sorted.iter().position(|s| s == p).unwrap())
            .collect()
    };
    let by_author = until(&app, "/books?sort=author", |s, b| {
        s == 200 && b.contains("No Year")
    })
    .await;
    assert_eq!(ranks(order(&by_author)), [2, 0, 1], "author");
    let by_year = app.fetch("/books?sort=year").await.2;
    assert_eq!(
        ranks(order(&by_year)),
        [1, 0, 2],
        "year, newest first, none last"
    );
    let by_rating = until(&app, "/books?sort=rating", |s, _| s == 200).await;
    assert_eq!(ranks(order(&by_rating)), [1, 0, 2], "rating, unrated last");
    assert!(
        by_rating.contains("href=\"/books?sort=rating&#38;page=1\""),
        "the order is kept in links: {by_rating}"
    );
    assert_eq!(
        app.fetch("/books?sort=rating").await.1.as_deref(),
        Some("HIT")
    );

    // Ratings written by another program reorder the page by rating.
    app.outside_sql(
        "INSERT INTO ratings (book_id, stars) SELECT id, 5 FROM books WHERE title = 'No Year'",
    );
    let by_rating = until(&app, "/books?sort=rating", |_, b| {
        ranks(order(b)) == [2, 1, 0]
    })
    .await;
    assert!(by_rating.contains("sorted by best rated"));
    assert_eq!(app.fetch("/books?sort=price").await.0, 400);
}

#[tokio::test]
async fn sorts_by_author_year_and_rating_on_sqlite() {
    sorts_by_author_year_and_rating(Backend::Sqlite).await;
}

#[tokio::test]
async fn sorts_by_author_year_and_rating_on_postgres() {
    sorts_by_author_year_and_rating(Backend::Postgres).await;
}
