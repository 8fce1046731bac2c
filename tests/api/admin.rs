//! Admins' book forms and what follows a write: a bad form re-rendered,
//! add, edit and delete seen on every page, readers' ratings and the chart,
//! and nothing private in a shared cache entry.

use crate::support::admin::{book_fields, signed_in};
use crate::support::{
    csrf_token, spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, ADMIN_EMAIL,
    ADMIN_PASSWORD,
};

/// A bad form comes back with what was typed and a message on the field,
/// and writes nothing. (Each rule is a unit test in `domain::book_form`.)
#[tokio::test]
async fn a_bad_form_is_re_rendered_with_the_input_and_a_message() {
    let (app, client, token) = signed_in(CacheKind::Memory).await;
    let before = app.book_count().await;
    let fields = [
        ("title", "Typed Title"),
        ("author", "Typed Author"),
        ("isbn", "978-0-306-40615-8"),
        ("published_year", "2001"),
        ("description", "Typed description"),
        ("csrf_token", &token),
    ];
    let r = app.post_book(&client, &fields).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    let error = html
        .split("id=\"isbn-error\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no isbn-error: {html}"));
    let error = error.split('<').next().unwrap();
    assert!(error.contains("check digit"), "{error}");
    // What was typed is still there.
    for (k, v) in &fields[..5] {
        assert!(html.contains(v), "the form lost {k}={v}");
    }
    assert_eq!(
        app.book_count().await,
        before,
        "an invalid form wrote a book"
    );

    // Hyphens and spaces in a valid ISBN are fine; a duplicate is a field message.
    let mut fields = book_fields("First", &token);
    fields.retain(|(k, _)| *k != "isbn");
    fields.push(("isbn", "978 0 306 40615 7".into()));
    let r = app.post_book(&client, &fields).await;
    assert_eq!(r.status(), 303);
    let mut fields = book_fields("Second", &token);
    fields.retain(|(k, _)| *k != "isbn");
    fields.push(("isbn", "9780306406157".into()));
    let r = app.post_book(&client, &fields).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"isbn-error\">another book already has this ISBN"),
        "{html}"
    );
    assert!(html.contains("value=\"Second\""));
    assert_eq!(app.book_count().await, before + 1);

    // A body that is not a form is a clear 400.
    let r = client
        .post(app.url("/admin/books"))
        .header("content-type", "text/plain")
        .body("title=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn an_admin_adds_edits_and_deletes_and_every_page_follows() {
    let (app, client, token) = signed_in(CacheKind::Redis).await;
    // Warm every cached page first, so that staleness would show.
    for path in ["/", "/books", "/api/top-books", "/cache"] {
        app.fetch(path).await;
    }

    let r = app
        .post_book(&client, &book_fields("<script>alert(1)</script>", &token))
        .await;
    assert_eq!(r.status(), 303);
    // The admin stays in the admin: on the new book's form.
    let edit_path = r.headers()["location"].to_str().unwrap().to_owned();
    let id: i32 = edit_path
        .strip_prefix("/admin/books/")
        .and_then(|rest| rest.strip_suffix("/edit"))
        .unwrap_or_else(|| panic!("not the book's form: {edit_path}"))
        .parse()
        .unwrap();
    let location = format!("/books/{id}");
    let page = app.get_page(&client, &edit_path).await.1;
    assert!(
        page.contains("Added") && page.contains("flash-success"),
        "no flash after adding"
    );
    for path in [
        location.as_str(),
        "/books",
        "/cache",
        "/admin",
        "/admin/books",
    ] {
        let body = app.get_page(&client, path).await.1;
        assert!(
            body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path} lacks the new book"
        );
        assert!(
            !body.contains("<script>alert(1)"),
            "{path} shows it unescaped"
        );
    }
    let edit = app
        .get_page(&client, &format!("/admin/books/{id}/edit"))
        .await
        .1;
    assert!(edit.contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62;\""));

    // Edit a book on the chart: its title changes on the chart at once.
    let top: Vec<serde_json::Value> = app.get_json("/api/top-books").await;
    let chart_id = top[0]["id"].as_i64().unwrap();
    let r = app
        .post_form(
            &client,
            &format!("/admin/books/{chart_id}"),
            &book_fields("Retitled by the Admin", &token),
        )
        .await;
    assert_eq!(r.status(), 303);
    for path in [
        "/".to_string(),
        "/api/top-books".into(),
        format!("/books/{chart_id}"),
        "/books".into(),
        format!("/api/books/{chart_id}"),
    ] {
        let body = app.fetch(&path).await.2;
        assert!(body.contains("Retitled by the Admin"), "{path} is stale");
    }

    // Delete: gone from its page, the catalogue and the chart.
    let confirm = client
        .get(app.url(&format!("/admin/books/{chart_id}/delete")))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    let r = app
        .post_form(
            &client,
            &format!("/admin/books/{chart_id}/delete"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.fetch(&format!("/books/{chart_id}")).await.0, 404);
    for path in ["/", "/api/top-books", "/books", "/cache"] {
        let body = app.fetch(path).await.2;
        assert!(
            !body.contains("Retitled by the Admin"),
            "{path} still shows the deleted book"
        );
    }
    let top_after: Vec<serde_json::Value> = app.get_json("/api/top-books").await;
    assert_eq!(
        top_after.len(),
        top.len(),
        "the chart refills after a deletion"
    );
}

#[tokio::test]
async fn readers_rate_books_and_the_page_follows_but_not_the_monthly_chart() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Redis).with("FOLIO_RATINGS_PER_HOUR", "3"),
    )
    .await;
    app.seed(30, 600, 13).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let top: Vec<serde_json::Value> = app.get("/api/top-books").await.json().await.unwrap();
    let last = top.last().unwrap()["id"].as_i64().unwrap();
    app.fetch("/").await;
    assert_eq!(app.fetch("/").await.1.as_deref(), Some("HIT"));

    let count_before: serde_json::Value = app
        .get(&format!("/api/books/{last}"))
        .await
        .json()
        .await
        .unwrap();
    // Three readers from one address (one reader's second rating would
    // replace their first: `ratings::a_second_rating_replaces_the_first…`).
    let mut reader = app.browser();
    let mut token = String::new();
    for _ in 0..3 {
        reader = app.browser();
        token = app.form_token(&reader, &format!("/books/{last}")).await;
        let r = reader
            .post(app.url(&format!("/books/{last}/ratings")))
            .form(&[("stars", "5"), ("csrf_token", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
    }
    let (_, page) = app.get_page(&reader, &format!("/books/{last}")).await;
    assert!(page.contains("your 5-star rating is counted"), "no thanks");
    let count_after: serde_json::Value = app
        .get(&format!("/api/books/{last}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        count_after["ratings"]["count"].as_i64().unwrap(),
        count_before["ratings"]["count"].as_i64().unwrap() + 3
    );

    // The fourth rating in the hour is refused, and not written.
    let r = reader
        .post(app.url(&format!("/books/{last}/ratings")))
        .form(&[("stars", "4"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let count_limited: serde_json::Value = app
        .get(&format!("/api/books/{last}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        count_limited["ratings"]["count"],
        count_after["ratings"]["count"]
    );
    // Bad stars: 400, not written.
    let other = app.browser();
    let t2 = app.form_token(&other, "/books/1").await;
    for bad in ["0", "6", "x", ""] {
        let r = other
            .post(app.url("/books/1/ratings"))
            .form(&[("stars", bad), ("csrf_token", &t2)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "stars={bad}");
    }

    // The monthly chart did not move...
    assert_eq!(app.fetch("/").await.1.as_deref(), Some("HIT"));
    let top_now: Vec<serde_json::Value> = app.get("/api/top-books").await.json().await.unwrap();
    assert_eq!(top_now, top, "a rating recomputed the monthly chart");
    // ...until an admin asks for it.
    let admin = app.browser();
    let admin_token = app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = admin
        .post(app.url("/admin/chart/recompute"))
        .form(&[("csrf_token", &admin_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.fetch("/").await.1.as_deref(), Some("MISS"));
}

#[tokio::test]
async fn no_token_or_flash_lands_in_a_shared_cache_entry() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(10, 100, 14).await;
    let reader = app.browser();
    let page = reader.get(app.url("/books/3")).send().await.unwrap();
    assert_eq!(page.headers()["cache-control"], "private, no-store");
    let token = csrf_token(&page.text().await.unwrap());
    app.post_form(
        &reader,
        "/books/3/ratings",
        &[("stars", "4"), ("csrf_token", &token)],
    )
    .await;
    let page = app.get_page(&reader, "/books/3").await.1;
    assert!(page.contains("rating is counted"));

    let mut redis = crate::support::redis_conn();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:v*", app.prefix))
        .query(&mut redis)
        .unwrap();
    let sessions: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:session:*", app.prefix))
        .query(&mut redis)
        .unwrap();
    assert!(
        sessions.is_empty(),
        "a reader got a stored session: {sessions:?}"
    );
    let mut checked = 0;
    for key in keys.iter().filter(|k| {
        !k.contains(":session:")
            && !k.contains(":limit:")
            && !k.contains(":tag:")
            && !k.contains(":ack:")
    }) {
        let value: Vec<u8> = redis::cmd("GET").arg(key).query(&mut redis).unwrap();
        let text = String::from_utf8_lossy(&value);
        assert!(!text.contains(&token), "{key} holds a reader's CSRF token");
        assert!(
            !text.contains("rating is counted"),
            "{key} holds a flash message"
        );
        checked += 1;
    }
    assert!(checked >= 1, "no cache entry was checked: {keys:?}");
}
