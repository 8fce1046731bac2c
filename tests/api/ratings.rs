//! One rating per reader per book, the reader's own rating on the page, the
//! average as a number, and the admin's Edit link — none of which may enter
//! the shared cache entry of a book page.

use std::time::{Duration, Instant};

use bytes::Bytes;
use folio::cache::Fragment;

use crate::support::{
    csrf_token, spawn_app_with, AppOptions, Backend, CacheKind, TestApp, ADMIN_EMAIL,
    ADMIN_PASSWORD,
};

/// The visitor id a book page's rating form speaks for.
fn reader_field(html: &str) -> String {
    let marker = "name=\"reader\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no reader field on the page: {html}"))
        + marker.len();
    html[start..start + 64].to_owned()
}

async fn ratings_of(app: &TestApp, id: i32) -> (i64, Option<f64>) {
    let book: serde_json::Value = app
        .get(&format!("/api/books/{id}"))
        .await
        .json()
        .await
        .unwrap();
    (
        book["ratings"]["count"].as_i64().unwrap(),
        book["ratings"]["avg_stars"].as_f64(),
    )
}

/// Polls (the change feed applies other writers' rows within milliseconds).
async fn wait_for_count(app: &TestApp, id: i32, count: i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (now, _) = ratings_of(app, id).await;
        if now == count {
            return;
        }
        assert!(Instant::now() < deadline, "count stayed {now}, not {count}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn rate(
    app: &TestApp,
    client: &reqwest::Client,
    id: i32,
    stars: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut fields = vec![("stars", stars)];
    fields.extend_from_slice(form);
    client
        .post(app.url(&format!("/books/{id}/ratings")))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn a_second_rating_replaces_the_first(backend: Backend) {
    let app = spawn_app_with(
        AppOptions::new(backend, CacheKind::Redis).with("FOLIO_RATINGS_PER_HOUR", "100"),
    )
    .await;
    app.seed(3, 0, 5).await;
    let reader = app.browser();
    let first = page(&app, &reader, "/books/1").await;
    assert!(!first.contains("You rated it"), "a new reader has a rating");
    let token = csrf_token(&first);

    let r = rate(&app, &reader, 1, "2", &[("csrf_token", &token)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(ratings_of(&app, 1).await, (1, Some(2.0)));
    let mine = page(&app, &reader, "/books/1").await;
    assert!(
        mine.contains("2 of 5. Rate again to change your rating."),
        "{mine}"
    );

    // Again: replaced, not added.
    let r = rate(&app, &reader, 1, "5", &[("csrf_token", &token)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(ratings_of(&app, 1).await, (1, Some(5.0)));
    let mine = page(&app, &reader, "/books/1").await;
    assert!(mine.contains("5 of 5. Rate again"), "{mine}");
    assert!(
        mine.contains("<strong class=\"avg\">5.00</strong> of 5"),
        "{mine}"
    );

    // Another reader's rating counts beside it, and each sees their own.
    let other = app.browser();
    let token2 = csrf_token(&page(&app, &other, "/books/1").await);
    let r = rate(&app, &other, 1, "3", &[("csrf_token", &token2)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(ratings_of(&app, 1).await, (2, Some(4.0)));
    let theirs = page(&app, &other, "/books/1").await;
    assert!(theirs.contains("3 of 5. Rate again"), "{theirs}");
    assert!(!theirs.contains("5 of 5. Rate again"));
    assert!(theirs.contains("<strong class=\"avg\">4.00</strong>"));

    // Ratings of other programs have no reader and count like any other.
    app.outside_sql("INSERT INTO ratings (book_id, stars) VALUES (1, 1), (1, 1)");
    wait_for_count(&app, 1, 4).await;
    assert_eq!(ratings_of(&app, 1).await, (4, Some(2.5)));
    // The book page (count and average) follows on every visit.
    let again = page(&app, &reader, "/books/1").await;
    assert!(
        again.contains(
            "<strong class=\"avg\">2.50</strong> of 5 <span class=\"count\">(4 ratings)</span>"
        ),
        "{again}"
    );
    assert!(again.contains("5 of 5. Rate again"));

    // The stored page holds nobody's rating.
    let stored = app
        .cache
        .get_or_compute(Fragment::BookPage(1), |_| async {
            Err::<Bytes, _>(folio::catalogue::CatalogueError::Data(
                folio::db::DataError::Invalid("the page must be cached".into()),
            ))
        })
        .await
        .expect("the book page is cached");
    let stored = String::from_utf8_lossy(&stored.body);
    assert!(!stored.contains("You rated it"));
    assert!(stored.contains("<!--folio:yours-->"));
}

#[tokio::test]
async fn a_second_rating_replaces_the_first_on_sqlite() {
    a_second_rating_replaces_the_first(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_second_rating_replaces_the_first_on_postgres() {
    a_second_rating_replaces_the_first(Backend::Postgres).await;
}

/// A client that keeps no cookies rates with the id the form carries; its
/// second post replaces the first. A forged id, or none, writes nothing.
#[tokio::test]
async fn a_reader_without_cookies_rates_once() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("FOLIO_RATINGS_PER_HOUR", "100"),
    )
    .await;
    app.seed(3, 0, 6).await;
    let cookieless = app.client.clone();
    let html = page(&app, &cookieless, "/books/2").await;
    let (token, reader) = (csrf_token(&html), reader_field(&html));

    let r = rate(
        &app,
        &cookieless,
        2,
        "4",
        &[("csrf_token", &token), ("reader", &reader)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("folio_visitor="))
        .expect("the reader is given their cookie");
    assert!(
        cookie.starts_with(&format!("folio_visitor={reader};")),
        "{cookie}"
    );
    assert_eq!(ratings_of(&app, 2).await, (1, Some(4.0)));

    let r = rate(
        &app,
        &cookieless,
        2,
        "1",
        &[("csrf_token", &token), ("reader", &reader)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(ratings_of(&app, 2).await, (1, Some(1.0)));

    let forged = "ab".repeat(32);
    for form in [
        vec![("csrf_token", token.as_str()), ("reader", forged.as_str())],
        vec![("csrf_token", token.as_str())],
        vec![("reader", reader.as_str())],
    ] {
        let r = rate(&app, &cookieless, 2, "5", &form).await;
        assert_eq!(r.status(), 403, "{form:?}");
    }
    assert_eq!(ratings_of(&app, 2).await, (1, Some(1.0)));
}

/// A signed-in admin sees "Edit" on a book page; a reader does not, and
/// neither does the shared entry, whoever filled it.
#[tokio::test]
async fn the_edit_link_shows_to_an_admin_only_and_is_never_cached() {
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite, CacheKind::Redis)).await;
    app.seed(3, 10, 7).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = app.browser();
    app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let edit = "href=\"/admin/books/2/edit\"";

    // The admin's visit fills the shared entry.
    let response = admin.get(app.url("/books/2")).send().await.unwrap();
    assert_eq!(response.headers()["x-cache"], "MISS");
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    assert!(response.text().await.unwrap().contains(edit));

    let reader = app.browser();
    let response = reader.get(app.url("/books/2")).send().await.unwrap();
    assert_eq!(response.headers()["x-cache"], "HIT");
    assert!(!response.text().await.unwrap().contains(edit));
    let anonymous = app.get("/books/2").await.text().await.unwrap();
    assert!(!anonymous.contains(edit));
    assert!(
        !anonymous.contains("<!--folio:admin-->"),
        "an unfilled slot"
    );

    let stored = app
        .cache
        .get_or_compute(Fragment::BookPage(2), |_| async {
            Err::<Bytes, _>(folio::catalogue::CatalogueError::Data(
                folio::db::DataError::Invalid("the page must be cached".into()),
            ))
        })
        .await
        .expect("the book page is cached");
    let stored = String::from_utf8_lossy(&stored.body);
    assert!(
        !stored.contains(edit),
        "the shared entry holds the Edit link"
    );
    assert!(stored.contains("<!--folio:admin-->"));

    // Signed out: no link.
    let token = csrf_token(&page(&app, &admin, "/admin").await);
    admin
        .post(app.url("/admin/logout"))
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert!(!page(&app, &admin, "/books/2").await.contains(edit));
}

/// The chart shows each book's average as a number, not only as stars.
#[tokio::test]
async fn the_chart_shows_the_average_as_a_number() {
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite, CacheKind::Memory)).await;
    app.seed(20, 400, 8).await;
    let top: Vec<serde_json::Value> = app.get("/api/top-books").await.json().await.unwrap();
    let home = app.get("/").await.text().await.unwrap();
    let first = top[0]["avg_stars"].as_f64().unwrap();
    assert!(
        home.contains(&format!("<span class=\"avg\">{first:.2} of 5</span>")),
        "{home}"
    );
}
