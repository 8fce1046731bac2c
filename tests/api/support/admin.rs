//! An admin for the tests: one signed in over a seeded app, the book form's
//! fields, a book's title as the database has it now.

use super::{spawn_app, Backend, CacheKind, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

pub fn book_fields(title: &str, token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", title.to_owned()),
        ("author", "Ann Author".into()),
        ("isbn", String::new()),
        ("published_year", "1999".into()),
        ("description", String::new()),
        ("csrf_token", token.to_owned()),
    ]
}

pub async fn signed_in(cache: CacheKind) -> (TestApp, reqwest::Client, String) {
    let app = spawn_app(Backend::Sqlite, cache).await;
    app.seed(30, 300, 11).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let client = app.browser();
    let token = app.login(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    (app, client, token)
}

pub async fn title_of(app: &TestApp, id: i32) -> Option<String> {
    app.db
        .run(move |c| folio::db::books::find_book(c, id))
        .await
        .unwrap()
        .map(|b| b.title)
}
