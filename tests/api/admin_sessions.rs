//! Admins' sign-in and sessions: what an admin route does without one, CSRF
//! tokens, logout and expiry, the cookie's flags, a new session id at each
//! sign-in, and the limits on guessing passwords.

use std::time::Duration;

use crate::support::admin::{book_fields, signed_in, title_of};
use crate::support::{
    csrf_token, spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, TestApp, ADMIN_EMAIL,
    ADMIN_PASSWORD,
};

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
        assert_eq!(app.get_page(&api_client, path).await.0, 401, "{path}");
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
            let r = app
                .post_form(
                    client,
                    path,
                    &book_fields("Sneaky", "0".repeat(64).as_str()),
                )
                .await;
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
            let r = app.post_form(&client, path, &fields).await;
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
    assert_eq!(app.get_page(&client, "/admin").await.0, 200);

    // A reader's rating needs the token too.
    let reader = app.browser();
    reader.get(app.url("/books/2")).send().await.unwrap();
    for bad in [
        vec![("stars", "5")],
        vec![("stars", "5"), ("csrf_token", wrong.as_str())],
    ] {
        let r = app.post_form(&reader, "/books/2/ratings", &bad).await;
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
    assert_eq!(app.get_page(&client, "/admin").await.0, 200);
}

#[tokio::test]
async fn sessions_expire() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("FOLIO_SESSION_TTL", "2"),
    )
    .await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (client, _) = app.login_admin().await;
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
