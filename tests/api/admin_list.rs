//! The admin's book list and finder, staying in the admin after a save,
//! and sign-in returning to the page asked for (on this site only).

use crate::support::{
    csrf_token, spawn_app, Backend, CacheKind, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

async fn signed_in(books: u32) -> (TestApp, reqwest::Client, String) {
    signed_in_on(Backend::Sqlite, books).await
}

async fn signed_in_on(backend: Backend, books: u32) -> (TestApp, reqwest::Client, String) {
    let app = spawn_app(backend, CacheKind::Memory).await;
    app.seed(books, books * 3, 5).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (client, token) = app.login_admin().await;
    (app, client, token)
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The ids of the books listed, in order (their Edit links).
fn listed_ids(body: &str) -> Vec<i32> {
    body.split("href=\"/admin/books/")
        .skip(1)
        .filter_map(EditLink::strip_suffix_edit)
        .collect()
}

trait EditLink {
    fn strip_suffix_edit(&self) -> Option<i32>;
}

impl EditLink for str {
    fn strip_suffix_edit(&self) -> Option<i32> {
        let (id, rest) = self.split_once('/')?;
        rest.starts_with("edit\"").then(|| id.parse().ok())?
    }
}

fn encoded(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

#[tokio::test]
async fn the_admin_book_list_counts_pages_and_sorts() {
    let (app, client, _) = signed_in(120).await;
    let (status, first) = page(&client, &app, "/admin/books").await;
    assert_eq!(status, 200);
    assert!(first.contains("120 books, sorted by title"), "{first}");
    assert!(first.contains("Page 1 of 3"), "{first}");
    assert_eq!(listed_ids(&first).len(), 50);
    assert!(
        first.contains("href=\"/admin/books?page=3\""),
        "no link to the last page"
    );

    let (_, last) = page(&client, &app, "/admin/books?page=3").await;
    assert_eq!(listed_ids(&last).len(), 20);
    // The three pages list every book once.
    let (_, second) = page(&client, &app, "/admin/books?page=2").await;
    let mut all: Vec<i32> = [&first, &second, &last]
        .iter()
        .flat_map(|b| listed_ids(b))
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 120);

    // By author: the first row is the author first in the alphabet.
    let (_, by_author) = page(&client, &app, "/admin/books?sort=author&page=1").await;
    assert!(by_author.contains("sorted by author"));
    let first_id = listed_ids(&by_author)[0];
    let first_author: String = app
        .db
        .run(|c| {
            use diesel::prelude::*;
            use folio::db::schema::books;
            Ok(books::table
                .order_by((
                    books::author.asc(),
                    books::sort_title.asc(),
                    books::id.asc(),
                ))
                .select(books::id)
                .first::<i32>(c)?)
        })
        .await
        .map(|id: i32| id.to_string())
        .unwrap();
    assert_eq!(first_id.to_string(), first_author);
    assert!(by_author.contains("href=\"/admin/books?sort=author&#38;page=2\""));

    // Past the end: a 404 that links to the last page; bad input: a 400.
    let (status, past) = page(&client, &app, "/admin/books?page=9").await;
    assert_eq!(status, 404);
    assert!(past.contains("href=\"/admin/books?page=3\""), "{past}");
    assert_eq!(page(&client, &app, "/admin/books?page=abc").await.0, 400);
    assert_eq!(page(&client, &app, "/admin/books?sort=price").await.0, 400);
    let long = "x".repeat(201);
    assert_eq!(
        page(&client, &app, &format!("/admin/books?q={long}"))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn the_finder_uses_the_readers_search_and_pages_past_a_hundred_on_sqlite() {
    the_finder_uses_the_readers_search_and_pages_past_a_hundred(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_finder_uses_the_readers_search_and_pages_past_a_hundred_on_postgres() {
    the_finder_uses_the_readers_search_and_pages_past_a_hundred(Backend::Postgres).await;
}

async fn the_finder_uses_the_readers_search_and_pages_past_a_hundred(backend: Backend) {
    let (app, client, _) = signed_in_on(backend, 20).await;
    let many: Vec<String> = (1..=130)
        .map(|i| format!("('Zephyrine Almanac {i}', 'Pat Pager', NULL)"))
        .collect();
    app.outside_sql(&format!(
        "INSERT INTO books (title, author, isbn) VALUES \
             ('The Archive of Lisbon', 'Maria Duarte', '9780306406157'); \
         INSERT INTO books (title, author, isbn) VALUES {};",
        many.join(", ")
    ));
    let archive = app.book_id("The Archive of Lisbon").await;
    for q in [
        "Archive Lisbon",
        "Archive of Lisbon",
        "archi lisb",
        "duarte",
        "978-0-306-40615-7",
        "9780306406157",
    ] {
        let (status, body) = page(&client, &app, &format!("/admin/books?q={}", encoded(q))).await;
        assert_eq!(status, 200, "{q}");
        assert_eq!(
            listed_ids(&body),
            [archive],
            "{q:?} should find the archive"
        );
        assert!(body.contains("1 book matches"), "{q}");
    }
    // The query stays in the box, escaped.
    let (_, body) = page(&client, &app, "/admin/books?q=%3Cb%3Elisbon").await;
    assert!(body.contains("value=\"&#60;b&#62;lisbon\""));

    // 130 matches: three pages, not a silent stop at 100.
    let (_, first) = page(&client, &app, "/admin/books?q=zephyrine").await;
    assert!(first.contains("130 books match"), "{first}");
    assert!(first.contains("Page 1 of 3"));
    assert_eq!(listed_ids(&first).len(), 50);
    assert!(first.contains("href=\"/admin/books?q=zephyrine&#38;page=3\""));
    let (_, third) = page(&client, &app, "/admin/books?q=zephyrine&page=3").await;
    assert_eq!(listed_ids(&third).len(), 30);
    let (status, past) = page(&client, &app, "/admin/books?q=zephyrine&page=4").await;
    assert_eq!(status, 404);
    assert!(past.contains("href=\"/admin/books?q=zephyrine&#38;page=3\""));
    let (_, none) = page(&client, &app, "/admin/books?q=qqqqzzzz").await;
    assert!(none.contains("No book matches"));
}

fn book_fields(title: &str, token: &str, then: Option<&str>) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("title", title.to_owned()),
        ("author", "Stay Admin".into()),
        ("isbn", String::new()),
        ("published_year", "2001".into()),
        ("description", String::new()),
        ("csrf_token", token.to_owned()),
    ];
    if let Some(then) = then {
        fields.push(("then", then.to_owned()));
    }
    fields
}

#[tokio::test]
async fn after_saving_the_admin_stays_in_the_admin() {
    let (app, client, token) = signed_in(10).await;
    let post = |path: &str, title: &str, then: Option<&str>| {
        client
            .post(app.url(path))
            .form(&book_fields(title, &token, then))
            .send()
    };

    // "Save and add another": an empty form, and the message.
    let r = post("/admin/books", "First of Two", Some("new"))
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/books/new");
    let (_, form) = page(&client, &app, "/admin/books/new").await;
    assert!(form.contains("Added “First of Two”."), "{form}");
    assert!(
        !form.contains("value=\"First of Two\""),
        "the new form is not empty"
    );

    // "Save": the book's own form, with a link to its public page.
    let r = post("/admin/books", "Second of Two", None).await.unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let id: i32 = location
        .strip_prefix("/admin/books/")
        .and_then(|s| s.strip_suffix("/edit"))
        .unwrap_or_else(|| panic!("{location}"))
        .parse()
        .unwrap();
    let (_, edit) = page(&client, &app, &location).await;
    assert!(edit.contains("Added “Second of Two”."));
    assert!(edit.contains(&format!("href=\"/books/{id}\">See it on the site")));
    assert!(edit.contains("value=\"Second of Two\""));

    // Editing: the same.
    let r = post(&format!("/admin/books/{id}"), "Second, Revised", None)
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], location.as_str());
    let (_, edit) = page(&client, &app, &location).await;
    assert!(edit.contains("Saved “Second, Revised”."));
    let r = post(&format!("/admin/books/{id}"), "Second, Again", Some("new"))
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/admin/books/new");
    assert_eq!(app.fetch(&format!("/books/{id}")).await.0, 200);
    assert!(app
        .fetch(&format!("/books/{id}"))
        .await
        .2
        .contains("Second, Again"));
}

/// Signs in through the form of `login_path` (it may carry `next`),
/// posting `next` as given; the answer's status and `Location`.
async fn sign_in_via(app: &TestApp, login_path: &str, next: Option<&str>) -> (u16, String) {
    let client = app.browser();
    let form = page(&client, app, login_path).await.1;
    let token = csrf_token(&form);
    let mut fields = vec![
        ("email", ADMIN_EMAIL.to_owned()),
        ("password", ADMIN_PASSWORD.to_owned()),
        ("csrf_token", token),
    ];
    if let Some(next) = next {
        fields.push(("next", next.to_owned()));
    }
    let r = app.post_form(&client, "/admin/login", &fields).await;
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), location)
}

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for_and_never_to_another_site() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(10, 20, 6).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // A deep link without a session: to the sign-in form, which remembers it.
    let browser = app.browser();
    let r = browser
        .get(app.url("/admin/books/5/edit"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let login = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(login, "/admin/login?next=%2Fadmin%2Fbooks%2F5%2Fedit");
    let (_, form) = page(&browser, &app, &login).await;
    assert!(
        form.contains("name=\"next\" value=\"/admin/books/5/edit\""),
        "{form}"
    );
    // Signed in from that form: back to the page asked for.
    assert_eq!(
        sign_in_via(&app, &login, Some("/admin/books/5/edit")).await,
        (303, "/admin/books/5/edit".to_owned())
    );
    // A query string is kept.
    assert_eq!(
        sign_in_via(&app, "/admin/login", Some("/admin/books?q=lisbon&page=2")).await,
        (303, "/admin/books?q=lisbon&page=2".to_owned())
    );

    // Hostile values: the dashboard, and no hidden field on the form.
    for hostile in [
        "https://evil.example/",
        "//evil.example/admin",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "http:evil.example",
        "javascript:alert(1)",
        "evil.example/admin",
        "/admin/login",
        "",
    ] {
        assert_eq!(
            sign_in_via(&app, "/admin/login", Some(hostile)).await,
            (303, "/admin".to_owned()),
            "{hostile:?}"
        );
        let (status, form) = page(
            &app.browser(),
            &app,
            &format!("/admin/login?next={}", encoded(hostile)),
        )
        .await;
        assert_eq!(status, 200, "{hostile:?}");
        assert!(!form.contains("name=\"next\""), "{hostile:?} kept: {form}");
    }

    // Already signed in: the form sends the admin on at once.
    let (signed, _) = app.login_admin().await;
    let r = signed
        .get(app.url("/admin/login?next=%2Fadmin%2Fcache"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/admin/cache");
    let r = signed
        .get(app.url("/admin/login?next=%2F%2Fevil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/admin");
}
