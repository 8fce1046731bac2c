//! Admins: sign-in, sessions, CSRF, the book forms and their rules.

use std::time::Duration;

use crate::support::{
    csrf_token, spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, TestApp, ADMIN_EMAIL,
    ADMIN_PASSWORD,
};

fn book_fields(title: &str, token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", title.to_owned()),
        ("author", "Ann Author".into()),
        ("isbn", "".into()),
        ("published_year", "1999".into()),
        ("description", "".into()),
        ("csrf_token", token.to_owned()),
    ]
}

async fn signed_in(cache: CacheKind) -> (TestApp, reqwest::Client, String) {
    let app = spawn_app(Backend::Sqlite, cache).await;
    app.seed(30, 300, 11).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let client = app.browser();
    let token = app.login(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    (app, client, token)
}

async fn title_of(app: &TestApp, id: i32) -> Option<String> {
    app.db
        .run(move |c| folio::db::books::find_book(c, id))
        .await
        .unwrap()
        .map(|b| b.title)
}

#[tokio::test]
async fn without_a_session_admin_routes_redirect_or_401_and_write_nothing() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(10, 50, 12).await;
    let before = app.book_count().await;
    let browser = app.browser();
    let api_client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let gets = [
        "/admin",
        "/admin/books",
        "/admin/books/new",
        "/admin/books/1/edit",
        "/admin/books/1/delete",
        "/admin/logout",
    ];
    for path in gets {
        let r = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        // Sign-in returns to the page asked for (the dashboard is the default).
        let expected = match path {
            "/admin" | "/admin/logout" => "/admin/login".to_owned(),
            other => format!("/admin/login?next={}", other.replace('/', "%2F")),
        };
        assert_eq!(r.headers()["location"], expected.as_str(), "{path}");
        assert_eq!(
            api_client.get(app.url(path)).send().await.unwrap().status(),
            401,
            "{path}"
        );
    }
    let posts = [
        "/admin/books",
        "/admin/books/1",
        "/admin/books/1/delete",
        "/admin/chart/recompute",
        "/admin/logout",
    ];
    for path in posts {
        for client in [&browser, &api_client] {
            let r = client
                .post(app.url(path))
                .form(&book_fields("Sneaky", "0".repeat(64).as_str()))
                .send()
                .await
                .unwrap();
            assert!(
                matches!(r.status().as_u16(), 303 | 401),
                "{path}: {}",
                r.status()
            );
        }
    }
    assert_eq!(
        app.book_count().await,
        before,
        "a write went through without a session"
    );
    assert_ne!(title_of(&app, 1).await.as_deref(), Some("Sneaky"));
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_is_403_and_writes_nothing() {
    let (app, client, token) = signed_in(CacheKind::Memory).await;
    let before = app.book_count().await;
    let original = title_of(&app, 1).await;
    let wrong = "f".repeat(64);
    for bad in [None, Some(""), Some(wrong.as_str()), Some(&token[..63])] {
        for path in [
            "/admin/books",
            "/admin/books/1",
            "/admin/books/1/delete",
            "/admin/chart/recompute",
            "/admin/logout",
        ] {
            let mut fields = book_fields("Forged", "");
            fields.retain(|(k, _)| *k != "csrf_token");
            if let Some(t) = bad {
                fields.push(("csrf_token", t.to_owned()));
            }
            let r = client
                .post(app.url(path))
                .form(&fields)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{path} with {bad:?}");
            assert!(
                r.text().await.unwrap().contains("Reload the page"),
                "{path}"
            );
        }
    }
    assert_eq!(app.book_count().await, before);
    assert_eq!(title_of(&app, 1).await, original);
    // Still signed in: the forged logout did nothing.
    assert_eq!(
        client.get(app.url("/admin")).send().await.unwrap().status(),
        200
    );

    // A reader's rating needs the token too.
    let reader = app.browser();
    reader.get(app.url("/books/2")).send().await.unwrap();
    for bad in [
        vec![("stars", "5")],
        vec![("stars", "5"), ("csrf_token", wrong.as_str())],
    ] {
        let r = reader
            .post(app.url("/books/2/ratings"))
            .form(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    // And a login form too.
    let r = app
        .browser()
        .post(app.url("/admin/login"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let (app, client, token) = signed_in(CacheKind::Redis).await;
    // Keep the cookie value to replay it after logout.
    let cookie = {
        let r = app
            .post_login(&app.browser(), ADMIN_EMAIL, ADMIN_PASSWORD)
            .await;
        let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        assert!(!set.contains("Secure"), "no https here");
        set.split(';').next().unwrap().to_owned()
    };
    let replay = || async {
        app.client
            .get(app.url("/admin"))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(replay().await, 200);

    // Sign that session out through its own logout form.
    let page = app
        .client
        .get(app.url("/admin"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url("/admin/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", csrf_token(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        replay().await,
        303,
        "the old cookie still opens /admin after logout"
    );
    // The other session is untouched.
    let _ = token;
    assert_eq!(
        client.get(app.url("/admin")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn sessions_expire() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("FOLIO_SESSION_TTL", "2"),
    )
    .await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let client = app.browser();
    app.login(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let r = client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(r.status(), 303, "an expired session still works");
}

#[tokio::test]
async fn the_secure_setting_marks_the_cookie_secure() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("FOLIO_SECURE_COOKIES", "on"),
    )
    .await;
    let r = app
        .browser()
        .get(app.url("/admin/login"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Secure"));
}

#[tokio::test]
async fn sign_in_starts_a_new_session_every_time() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let client = app.browser();
    let r = client.get(app.url("/admin/login")).send().await.unwrap();
    // Before signing in there is only an anonymous visitor cookie.
    let visitor = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(visitor.starts_with("folio_visitor="), "{visitor}");
    let token = csrf_token(&r.text().await.unwrap());
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = client
            .post(app.url("/admin/login"))
            .form(&[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(set.starts_with("folio_session="), "{set}");
        ids.push(set.split(';').next().unwrap().to_owned());
    }
    assert_ne!(ids[0], ids[1], "a sign-in reused a session id");
    // A visitor id opens nothing.
    let forged = visitor.replace("folio_visitor=", "folio_session=");
    let r = app
        .client
        .get(app.url("/admin"))
        .header("cookie", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn try_login(app: &TestApp, email: &str, password: &str) -> (u16, String) {
    let r = app.post_login(&app.browser(), email, password).await;
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    let message = body
        .split("role=\"alert\">")
        .nth(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .unwrap_or_default();
    (status, message)
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same_and_are_limited() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let unknown = try_login(&app, "nobody@example.com", ADMIN_PASSWORD).await;
    let wrong = try_login(&app, ADMIN_EMAIL, "not the password at all").await;
    assert_eq!(unknown, wrong);
    assert_eq!(unknown.0, 401);
    assert!(!unknown.1.is_empty());

    // Per account: four more failures make five; then even the right password waits.
    for _ in 0..4 {
        assert_eq!(
            try_login(&app, ADMIN_EMAIL, "wrong again, sorry").await.0,
            401
        );
    }
    let limited = try_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(limited.0, 429, "{limited:?}");
    assert!(limited.1.contains("too many"), "{limited:?}");

    // Per address: failures across many accounts add up (6 so far).
    // Per address: attempts across many accounts add up (7 so far,
    // counting the refused one).
    for i in 0..13 {
        assert_eq!(
            try_login(&app, &format!("guess{i}@example.com"), "password guess")
                .await
                .0,
            401
        );
    }
    assert_eq!(
        try_login(&app, "fresh@example.com", "password guess")
            .await
            .0,
        429
    );
}

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

/// Guesses sent all at once cannot slip under the limit.
#[tokio::test]
async fn parallel_guesses_are_limited_too() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let results = futures_util::future::join_all(
        (0..30).map(|_| try_login(&app, ADMIN_EMAIL, "a wrong guess, again")),
    )
    .await;
    let checked = results.iter().filter(|(s, _)| *s == 401).count();
    let refused = results.iter().filter(|(s, _)| *s == 429).count();
    assert!(checked <= 5, "{checked} guesses were checked");
    assert_eq!(checked + refused, 30);
}
