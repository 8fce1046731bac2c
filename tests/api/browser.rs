//! End to end in a real browser: headless Chromium driven through
//! chromedriver (Debian's `chromium` and `chromium-driver` packages).

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use fantoccini::{Client, Locator};

use folio::db::models::NewRating;
use folio::db::schema::ratings;

use crate::support::browser::{
    click, click_link, csp_violations, field_value, rate, sign_in, snapshot, start_browser, submit,
    text_of, type_into, visit, wait_for_text,
};
use crate::support::{spawn_app, Backend, CacheKind, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn an_admin_works_in_a_real_browser() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(40, 1_500, 31).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Warm the pages a reader would have open.
    for path in ["/", "/books"] {
        app.fetch(path).await;
    }
    let (_driver, c) = start_browser().await;

    c.goto(&app.url("/admin/login")).await.unwrap();
    sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    wait_for_text(&c, "Signed in as admin@example.com.").await;
    snapshot(&c, "1-dashboard").await;

    let id = add_a_book(&c, &app).await;
    the_chart_waits_for_the_button(&c, &app, id).await;
    an_edited_title_shows_at_once(&c, &app, id).await;

    // A reader's rating through the form on the book page.
    c.goto(&app.url(&format!("/books/{id}"))).await.unwrap();
    rate(&c, 4).await;
    let page = wait_for_text(&c, "your 4-star rating is counted").await;
    snapshot(&c, "3-rated").await;
    assert!(page.contains("401 in all"), "{page}");

    // A bad form comes back with the admin's input and a message.
    c.goto(&app.url("/admin/books/new")).await.unwrap();
    type_into(&c, "title", "Half-typed").await;
    type_into(&c, "published_year", "1200").await;
    submit(&c).await;
    wait_for_text(&c, "author is required").await;
    snapshot(&c, "4-invalid-form").await;
    assert_eq!(field_value(&c, "title").await, "Half-typed");

    c.goto(&app.url("/admin/cache")).await.unwrap();
    wait_for_text(&c, "Fragments").await;
    snapshot(&c, "5-cache").await;

    // Every page above ran under the CSP: none needed what it forbids. (The
    // console's messages say "Content Security Policy" for each refusal.)
    for path in ["/", "/books", "/cache", "/admin/login", "/nowhere"] {
        visit(&c, &app, path).await;
    }
    let violations = csp_violations(&c).await;
    assert!(violations.is_empty(), "CSP violations: {violations:#?}");
    c.close().await.unwrap();
}

/// Adds a book through the admin's form; it is in the catalogue (first by
/// title) and on its page. Returns its id.
async fn add_a_book(c: &Client, app: &TestApp) -> i32 {
    click(c, "main a.button").await;
    wait_for_text(c, "Add a book").await;
    type_into(c, "title", "Aardvark Atlas").await;
    type_into(c, "author", "Browser Tester").await;
    type_into(c, "isbn", "978-0-306-40615-7").await;
    type_into(c, "published_year", "2024").await;
    type_into(c, "description", "Written by a robot with a real browser.").await;
    submit(c).await;
    wait_for_text(c, "Added “Aardvark Atlas”.").await;
    snapshot(c, "2-added").await;
    // The admin stays in the admin, on the book's form, with a link to its page.
    let url = c.current_url().await.unwrap();
    let id: i32 = url
        .path()
        .trim_start_matches("/admin/books/")
        .trim_end_matches("/edit")
        .parse()
        .unwrap();
    click_link(c, "See it on the site").await;
    let page = wait_for_text(c, "Browser Tester").await;
    assert!(page.contains("Aardvark Atlas"));

    assert!(visit(c, app, "/books").await.contains("Aardvark Atlas"));
    assert!(visit(c, app, &format!("/books/{id}"))
        .await
        .contains("Written by a robot"));
    id
}

/// Readers love book `id`: enough ratings this month to top the chart, which
/// waits for the admin's button.
async fn the_chart_waits_for_the_button(c: &Client, app: &TestApp, id: i32) {
    let now = Utc::now().naive_utc();
    app.db
        .run(move |conn| {
            for i in 0..400 {
                let r = NewRating {
                    book_id: id,
                    stars: 5,
                    created_at: now - TimeDelta::minutes(i),
                };
                diesel::insert_into(ratings::table)
                    .values(&r)
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    assert!(!visit(c, app, "/").await.contains("Aardvark Atlas"));
    c.goto(&app.url("/admin")).await.unwrap();
    click(c, "form[action='/admin/chart/recompute'] button").await;
    wait_for_text(c, "The chart was recomputed.").await;
    assert!(visit(c, app, "/").await.contains("Aardvark Atlas"));
}

/// Edits book `id`'s title: the chart, the catalogue and its page follow at
/// once.
async fn an_edited_title_shows_at_once(c: &Client, app: &TestApp, id: i32) {
    c.goto(&app.url(&format!("/admin/books/{id}/edit")))
        .await
        .unwrap();
    type_into(c, "title", "Aardvark Atlas, Revised").await;
    submit(c).await;
    wait_for_text(c, "Saved “Aardvark Atlas, Revised”.").await;
    for path in ["/".to_string(), "/books".into(), format!("/books/{id}")] {
        assert!(
            visit(c, app, &path)
                .await
                .contains("Aardvark Atlas, Revised"),
            "{path} is stale"
        );
    }
}

#[tokio::test]
async fn a_reader_searches_from_the_header_of_any_page() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(40, 200, 32).await;
    app.outside_sql(
        "INSERT INTO books (title, author, isbn) \
         VALUES ('The Archive of Lisbon', 'Maria Duarte', '9780306406157')",
    );
    let id = app.book_id("The Archive of Lisbon").await;
    let (_driver, c) = start_browser().await;

    // From the top 10: a missing "of" and partial words still find it.
    c.goto(&app.url("/")).await.unwrap();
    type_into(&c, "site-search-q", "archi lisb").await;
    click(&c, "form.site-search button").await;
    wait_for_text(&c, "1 book matches “archi lisb”.").await;
    snapshot(&c, "search-1-results").await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/search");
    assert_eq!(field_value(&c, "site-search-q").await, "archi lisb");
    click_link(&c, "The Archive of Lisbon").await;
    wait_for_text(&c, "by Maria Duarte").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        format!("/books/{id}")
    );

    // From the book's page, by its ISBN with hyphens.
    type_into(&c, "site-search-q", "978-0-306-40615-7").await;
    click(&c, "form.site-search button").await;
    wait_for_text(&c, "1 book matches “978-0-306-40615-7”.").await;
    assert!(c
        .find(Locator::LinkText("The Archive of Lisbon"))
        .await
        .is_ok());
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_reader_goes_from_a_book_to_its_authors_page_and_back() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(40, 200, 33).await;
    app.outside_sql(
        "INSERT INTO books (title, author, published_year) VALUES \
             ('First Byline Book', 'Ada Byline', 1990), \
             ('Second Byline Book', 'Ada Byline', 1995)",
    );
    let first = app.book_id("First Byline Book").await;
    let (_driver, c) = start_browser().await;
    c.goto(&app.url(&format!("/books/{first}"))).await.unwrap();
    click(&c, ".byline a.author").await;
    let page = wait_for_text(&c, "Second Byline Book").await;
    snapshot(&c, "author-page").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/authors/Ada%20Byline"
    );
    assert_eq!(text_of(&c, "h1").await, "Ada Byline");
    assert!(page.contains("First Byline Book"));
    click_link(&c, "Second Byline Book").await;
    wait_for_text(&c, "by Ada Byline").await;
    c.close().await.unwrap();
}

/// A reader rates a book twice in a real browser: the second rating replaces
/// the first, the page says which is theirs, and the count stays one.
#[tokio::test]
async fn a_reader_rates_twice_in_a_real_browser() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(5, 0, 32).await;
    app.fetch("/books/3").await;
    let (_driver, c) = start_browser().await;

    let page = visit(&c, &app, "/books/3").await;
    assert!(page.contains("Nobody has rated this book yet."), "{page}");
    rate(&c, 2).await;
    let page = wait_for_text(&c, "your 2-star rating is counted").await;
    assert!(page.contains("1 in all"), "{page}");
    assert!(page.contains("You rated it"), "{page}");
    assert!(page.contains("2 of 5. Rate again"), "{page}");

    rate(&c, 5).await;
    let page = wait_for_text(&c, "your 5-star rating is counted").await;
    snapshot(&c, "rated-twice").await;
    assert!(
        page.contains("1 in all"),
        "the second rating was added: {page}"
    );
    assert!(page.contains("5.00 of 5 (1 rating)"), "{page}");
    assert!(page.contains("5 of 5. Rate again"), "{page}");
    let violations = csp_violations(&c).await;
    assert!(violations.is_empty(), "CSP violations: {violations:#?}");
    c.close().await.unwrap();
}
