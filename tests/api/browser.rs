//! End to end in a real browser: headless Chromium driven through
//! chromedriver (Debian's `chromium` and `chromium-driver` packages).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use fantoccini::{Client, ClientBuilder, Locator};

use folio::db::models::NewRating;
use folio::db::schema::ratings;

use crate::support::{spawn_app, Backend, CacheKind, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempdir::Dir,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_binary(env: &str, candidates: &[&str]) -> String {
    if let Ok(path) = std::env::var(env) {
        return path;
    }
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
        .unwrap_or_else(|| {
            panic!(
                "{} not found (set {env}, or install Debian's browser: apt-get install chromium chromium-driver; \
                 scripts/test.sh does this)",
                candidates[0]
            )
        })
}

async fn start_browser() -> (Driver, Client) {
    start_browser_as(None).await
}

/// A phone: 390 × 844 CSS pixels (an iPhone 12 to 15), touch, the page's
/// viewport meta honoured, as Chromium's device emulation does it.
async fn start_phone_browser() -> (Driver, Client) {
    start_browser_as(Some(serde_json::json!({
        "deviceMetrics": { "width": PHONE_WIDTH, "height": 844, "pixelRatio": 3.0, "touch": true },
        "userAgent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36"
    })))
    .await
}

const PHONE_WIDTH: i64 = 390;

async fn start_browser_as(mobile: Option<serde_json::Value>) -> (Driver, Client) {
    let chromedriver = find_binary("CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let chromium = find_binary(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
    let profile = std::env::temp_dir().join(crate::support::unique_name("chromium-profile"));
    std::fs::create_dir_all(&profile).unwrap();
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempdir::Dir(profile.clone()),
    };

    let mut caps = serde_json::Map::new();
    // The console, for CSP violations (see `console_messages`).
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({ "browser": "ALL" }),
    );
    let mut options = serde_json::json!({
        "binary": chromium,
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--window-size=1100,900",
            format!("--user-data-dir={}", profile.display()),
        ]
    });
    if let Some(mobile) = mobile {
        options["mobileEmulation"] = mobile;
    }
    caps.insert("goog:chromeOptions".into(), options);
    let started = Instant::now();
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&driver.url)
            .await
        {
            Ok(client) => return (driver, client),
            Err(e) if started.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("could not start a browser session through chromedriver: {e}"),
        }
    }
}

/// chromedriver's console log of the session so far (`POST /se/log`).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// Every console message since the last call.
async fn console_messages(c: &Client) -> Vec<String> {
    let log = c
        .issue_cmd(BrowserLog)
        .await
        .expect("read the browser's console");
    log.as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["message"].as_str().map(str::to_owned))
        .collect()
}

/// Waits (at most 10 s) until the page's text contains `needle`.
async fn wait_for_text(c: &Client, needle: &str) -> String {
    let started = Instant::now();
    loop {
        // Mid-navigation there may be no body yet.
        let body = match c.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if body.contains(needle) {
            return body;
        }
        if started.elapsed() > Duration::from_secs(10) {
            panic!(
                "the page at {} never showed {needle:?}:\n{body}",
                c.current_url().await.unwrap()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// With FOLIO_TEST_SCREENSHOTS=DIR, saves what the browser shows (to look
/// at the pages as a person would).
async fn snapshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("FOLIO_TEST_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

async fn type_into(c: &Client, id: &str, text: &str) {
    let field = c.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn visit(c: &Client, app: &TestApp, path: &str) -> String {
    c.goto(&app.url(path)).await.unwrap();
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

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

    // Sign in.
    c.goto(&app.url("/admin/login")).await.unwrap();
    type_into(&c, "email", ADMIN_EMAIL).await;
    type_into(&c, "password", ADMIN_PASSWORD).await;
    c.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "Signed in as admin@example.com.").await;
    snapshot(&c, "1-dashboard").await;

    // Add a book through the form.
    c.find(Locator::Css("main a.button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "Add a book").await;
    type_into(&c, "title", "Aardvark Atlas").await;
    type_into(&c, "author", "Browser Tester").await;
    type_into(&c, "isbn", "978-0-306-40615-7").await;
    type_into(&c, "published_year", "2024").await;
    type_into(&c, "description", "Written by a robot with a real browser.").await;
    c.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "Added “Aardvark Atlas”.").await;
    snapshot(&c, "2-added").await;
    // The admin stays in the admin, on the book's form, with a link to its page.
    let url = c.current_url().await.unwrap();
    let id: i32 = url
        .path()
        .trim_start_matches("/admin/books/")
        .trim_end_matches("/edit")
        .parse()
        .unwrap();
    c.find(Locator::LinkText("See it on the site"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for_text(&c, "Browser Tester").await;
    assert!(page.contains("Aardvark Atlas"));

    // It is in the catalogue (first by title) and on its page.
    assert!(visit(&c, &app, "/books").await.contains("Aardvark Atlas"));
    assert!(visit(&c, &app, &format!("/books/{id}"))
        .await
        .contains("Written by a robot"));

    // Readers love it: enough ratings this month to top the chart.
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
    // The monthly chart waits for the admin's button.
    assert!(!visit(&c, &app, "/").await.contains("Aardvark Atlas"));
    c.goto(&app.url("/admin")).await.unwrap();
    c.find(Locator::Css("form[action='/admin/chart/recompute'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "The chart was recomputed.").await;
    assert!(visit(&c, &app, "/").await.contains("Aardvark Atlas"));

    // Edit its title: the chart, the catalogue and its page follow at once.
    c.goto(&app.url(&format!("/admin/books/{id}/edit")))
        .await
        .unwrap();
    type_into(&c, "title", "Aardvark Atlas, Revised").await;
    c.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "Saved “Aardvark Atlas, Revised”.").await;
    for path in ["/".to_string(), "/books".into(), format!("/books/{id}")] {
        assert!(
            visit(&c, &app, &path)
                .await
                .contains("Aardvark Atlas, Revised"),
            "{path} is stale"
        );
    }

    // A reader's rating through the form on the book page.
    c.goto(&app.url(&format!("/books/{id}"))).await.unwrap();
    c.find(Locator::Css("input[name=stars][value='4']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("form.rate button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for_text(&c, "your 4-star rating is counted").await;
    snapshot(&c, "3-rated").await;
    assert!(page.contains("401 in all"), "{page}");

    // A bad form comes back with the admin's input and a message.
    c.goto(&app.url("/admin/books/new")).await.unwrap();
    type_into(&c, "title", "Half-typed").await;
    type_into(&c, "published_year", "1200").await;
    c.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "author is required").await;
    snapshot(&c, "4-invalid-form").await;
    let kept = c
        .find(Locator::Id("title"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Half-typed"));

    c.goto(&app.url("/admin/cache")).await.unwrap();
    wait_for_text(&c, "Fragments").await;
    snapshot(&c, "5-cache").await;

    // Every page above ran under the CSP: none needed what it forbids. (The
    // console's messages say "Content Security Policy" for each refusal.)
    for path in ["/", "/books", "/cache", "/admin/login", "/nowhere"] {
        visit(&c, &app, path).await;
    }
    let messages = console_messages(&c).await;
    let violations: Vec<&String> = messages
        .iter()
        .filter(|m| m.contains("Content Security Policy"))
        .collect();
    assert!(violations.is_empty(), "CSP violations: {violations:#?}");
    c.close().await.unwrap();
}

/// The id of the book with this title.
async fn id_of(app: &TestApp, title: &'static str) -> i32 {
    app.db
        .run(move |c| {
            use folio::db::schema::books;
            Ok(books::table
                .filter(books::title.eq(title))
                .select(books::id)
                .first::<i32>(c)?)
        })
        .await
        .unwrap()
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn field_value(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_reader_searches_from_the_header_of_any_page() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(40, 200, 32).await;
    app.outside_sql(
        "INSERT INTO books (title, author, isbn) \
         VALUES ('The Archive of Lisbon', 'Maria Duarte', '9780306406157')",
    );
    let id = id_of(&app, "The Archive of Lisbon").await;
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
    c.find(Locator::LinkText("The Archive of Lisbon"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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
    let first = id_of(&app, "First Byline Book").await;
    let (_driver, c) = start_browser().await;
    c.goto(&app.url(&format!("/books/{first}"))).await.unwrap();
    click(&c, ".byline a.author").await;
    let page = wait_for_text(&c, "Second Byline Book").await;
    snapshot(&c, "author-page").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/authors/Ada%20Byline"
    );
    let heading = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Ada Byline");
    assert!(page.contains("First Byline Book"));
    c.find(Locator::LinkText("Second Byline Book"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "by Ada Byline").await;
    c.close().await.unwrap();
}

/// The page's width as laid out, and the viewport's, in CSS pixels.
async fn widths(c: &Client) -> (i64, i64) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    (v[0].as_i64().unwrap(), v[1].as_i64().unwrap())
}

/// "ok" when every element `css` matches is shown whole inside the
/// viewport; else where the first one is not.
async fn shown_whole(c: &Client, css: &str) -> String {
    let v = c
        .execute(
            "const all = document.querySelectorAll(arguments[0]);
             if (all.length === 0) return 'none found';
             for (const el of all) {
               const r = el.getBoundingClientRect();
               const s = getComputedStyle(el);
               if (!(r.width > 0 && r.height > 0 && r.left >= 0
                     && r.right <= window.innerWidth + 0.5 && s.visibility !== 'hidden')) {
                 return `${el.textContent.trim()} at ${r.left}..${r.right} of ${window.innerWidth}`;
               }
             }
             return 'ok';",
            vec![serde_json::json!(css)],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_admin_at_phone_width_sees_every_page_whole() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(120, 600, 34).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for path in ["/", "/books", "/books/5", "/search?q=the"] {
        app.fetch(path).await;
    }
    let (_driver, c) = start_phone_browser().await;

    // A deep link: sign in, then back to the page asked for.
    c.goto(&app.url("/admin/books/5/edit")).await.unwrap();
    wait_for_text(&c, "Only admins sign in").await;
    type_into(&c, "email", ADMIN_EMAIL).await;
    type_into(&c, "password", ADMIN_PASSWORD).await;
    click(&c, "form.form button[type=submit]").await;
    wait_for_text(&c, "Edit the book").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/admin/books/5/edit");

    let admin_pages = [
        "/admin",
        "/admin/books",
        "/admin/books?q=the",
        "/admin/books?sort=author&page=2",
        "/admin/books/new",
        "/admin/books/5/edit",
        "/admin/books/5/delete",
        "/admin/cache",
        "/admin/logout",
    ];
    for path in admin_pages {
        visit(&c, &app, path).await;
        let (page, viewport) = widths(&c).await;
        assert_eq!(viewport, PHONE_WIDTH, "{path}: the viewport");
        assert_eq!(page, viewport, "{path} scrolls sideways");
        assert_eq!(
            shown_whole(&c, "header form[action='/admin/logout'] button").await,
            "ok",
            "{path}: Log out"
        );
        assert_eq!(shown_whole(&c, "main h1").await, "ok", "{path}");
        let name = path
            .trim_start_matches('/')
            .replace(['/', '?', '&', '='], "-");
        snapshot(&c, &format!("phone-{name}")).await;
    }
    // Nothing that matters is hidden: every column of the cache's table.
    visit(&c, &app, "/admin/cache").await;
    for label in ["Fragment", "Hit ratio", "Hits", "Misses", "Errors"] {
        assert_eq!(
            shown_whole(&c, &format!("td[data-label='{label}']")).await,
            "ok",
            "/admin/cache: {label}"
        );
    }
    visit(&c, &app, "/admin/books").await;
    assert_eq!(
        shown_whole(&c, "td.actions a").await,
        "ok",
        "Edit and Delete"
    );
    assert_eq!(shown_whole(&c, ".pager a").await, "ok", "the pager");

    // Save and add another, at phone width.
    visit(&c, &app, "/admin/books/new").await;
    type_into(&c, "title", "Pocket Edition").await;
    type_into(&c, "author", "Small Screen").await;
    click(&c, "button[name=then][value=new]").await;
    wait_for_text(&c, "Added “Pocket Edition”.").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/admin/books/new");
    assert_eq!(field_value(&c, "title").await, "");

    // And the reader's pages, at the same width.
    for path in ["/", "/books", "/books/5", "/search?q=the", "/admin/login"] {
        visit(&c, &app, path).await;
        let (page, viewport) = widths(&c).await;
        assert_eq!(page, viewport, "{path} scrolls sideways");
    }
    c.close().await.unwrap();
}
