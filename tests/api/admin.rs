//! Admins' book forms and what follows a write: a bad form re-rendered,
//! add, edit and delete seen on every page, readers' ratings and the chart,
//! and nothing private in a shared cache entry.

use crate::support::admin::{book_fields, signed_in};
use crate::support::{
    csrf_token, spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, ADMIN_EMAIL,
    ADMIN_PASSWORD,
};

#[tokio::test]
async fn every_validation_rule_re_renders_the_form_with_the_input() {
    let (app, client, token) = signed_in(CacheKind::Memory).await;
    let before = app.book_count().await;
    let long = "x".repeat(201);
    let too_long_description = "d".repeat(5001);
    // (fields that differ from a valid form, the field's error id, part of its message)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("title", "   ")], "title-error", "title"),
        (vec![("title", &long)], "title-error", "200"),
        (vec![("author", "")], "author-error", "author"),
        (vec![("author", &long)], "author-error", "200"),
        (
            vec![("description", &too_long_description)],
            "description-error",
            "5,000",
        ),
        (vec![("published_year", "1449")], "year-error", "1450"),
        (vec![("published_year", "3000")], "year-error", "1450"),
        (vec![("published_year", "abc")], "year-error", "1450"),
        (
            vec![("published_year", "99999999999999999999")],
            "year-error",
            "1450",
        ),
        (
            vec![("isbn", "978-0-306-40615-8")],
            "isbn-error",
            "check digit",
        ),
        (vec![("isbn", "0-306-40615-3")], "isbn-error", "check digit"),
        (vec![("isbn", "12345")], "isbn-error", "10 or 13"),
        (vec![("isbn", "97803064061X7")], "isbn-error", "ISBN"),
    ];
    for (overrides, field_id, message_part) in cases {
        let mut fields: Vec<(&str, String)> = vec![
            ("title", "Typed Title".into()),
            ("author", "Typed Author".into()),
            ("isbn", "".into()),
            ("published_year", "2001".into()),
            ("description", "Typed description".into()),
            ("csrf_token", token.clone()),
        ];
        for (k, v) in &overrides {
            fields.retain(|(f, _)| f != k);
            fields.push((k, v.to_string()));
        }
        let r = client
            .post(app.url("/admin/books"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{overrides:?}");
        let html = r.text().await.unwrap();
        let error = html
            .split(&format!("id=\"{field_id}\">"))
            .nth(1)
            .unwrap_or_else(|| panic!("no {field_id} for {overrides:?}"));
        let error = error.split('<').next().unwrap();
        assert!(
            error.to_lowercase().contains(&message_part.to_lowercase())
                || error.contains(message_part),
            "{overrides:?}: {error}"
        );
        // What was typed is still there.
        for (k, v) in &fields {
            if *k == "csrf_token" || v.len() > 300 {
                continue;
            }
            let shown = v.trim();
            if !shown.is_empty() {
                assert!(html.contains(shown), "{overrides:?}: the form lost {k}={v}");
            }
        }
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
    let r = client
        .post(app.url("/admin/books"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mut fields = book_fields("Second", &token);
    fields.retain(|(k, _)| *k != "isbn");
    fields.push(("isbn", "9780306406157".into()));
    let r = client
        .post(app.url("/admin/books"))
        .form(&fields)
        .send()
        .await
        .unwrap();
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

    let r = client
        .post(app.url("/admin/books"))
        .form(&book_fields("<script>alert(1)</script>", &token))
        .send()
        .await
        .unwrap();
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
    let page = client
        .get(app.url(&edit_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
        let body = client
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path} lacks the new book"
        );
        assert!(
            !body.contains("<script>alert(1)"),
            "{path} shows it unescaped"
        );
    }
    let edit = client
        .get(app.url(&format!("/admin/books/{id}/edit")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(edit.contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62;\""));

    // Edit a book on the chart: its title changes on the chart at once.
    let top: Vec<serde_json::Value> = app.get("/api/top-books").await.json().await.unwrap();
    let chart_id = top[0]["id"].as_i64().unwrap();
    let r = client
        .post(app.url(&format!("/admin/books/{chart_id}")))
        .form(&book_fields("Retitled by the Admin", &token))
        .send()
        .await
        .unwrap();
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
    let r = client
        .post(app.url(&format!("/admin/books/{chart_id}/delete")))
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.fetch(&format!("/books/{chart_id}")).await.0, 404);
    for path in ["/", "/api/top-books", "/books", "/cache"] {
        let body = app.fetch(path).await.2;
        assert!(
            !body.contains("Retitled by the Admin"),
            "{path} still shows the deleted book"
        );
    }
    let top_after: Vec<serde_json::Value> = app.get("/api/top-books").await.json().await.unwrap();
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

    let reader = app.browser();
    let page = reader
        .get(app.url(&format!("/books/{last}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_token(&page);
    let count_before: serde_json::Value = app
        .get(&format!("/api/books/{last}"))
        .await
        .json()
        .await
        .unwrap();
    for _ in 0..3 {
        let r = reader
            .post(app.url(&format!("/books/{last}/ratings")))
            .form(&[("stars", "5"), ("csrf_token", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
    }
    let page = reader
        .get(app.url(&format!("/books/{last}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
    reader
        .post(app.url("/books/3/ratings"))
        .form(&[("stars", "4"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    let page = reader
        .get(app.url("/books/3"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
