//! A real browser for the tests: headless Chromium driven through
//! chromedriver (Debian's `chromium` and `chromium-driver` packages) on a
//! free port, stopped (by its PID) when dropped, and the few steps a test
//! takes in it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use super::TestApp;

/// chromedriver on a free port, stopped when dropped.
pub struct Driver {
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
    let Some(found) = candidates.iter().find(|p| std::path::Path::new(p).exists()) else {
        panic!(
            "{} not found (set {env}, or install Debian's browser: apt-get install chromium chromium-driver; \
             scripts/test.sh does this)",
            candidates[0]
        )
    };
    (*found).to_owned()
}

pub async fn start_browser() -> (Driver, Client) {
    start_browser_as(None).await
}

/// A phone: 390 × 844 CSS pixels (an iPhone 12 to 15), touch, the page's
/// viewport meta honoured, as Chromium's device emulation does it.
pub async fn start_phone_browser() -> (Driver, Client) {
    start_browser_as(Some(serde_json::json!({
        "deviceMetrics": { "width": PHONE_WIDTH, "height": 844, "pixelRatio": 3.0, "touch": true },
        "userAgent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36"
    })))
    .await
}

pub const PHONE_WIDTH: i64 = 390;

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
pub async fn console_messages(c: &Client) -> Vec<String> {
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
pub async fn wait_for_text(c: &Client, needle: &str) -> String {
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
        assert!(
            started.elapsed() <= Duration::from_secs(10),
            "the page at {} never showed {needle:?}:\n{body}",
            c.current_url().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// With `FOLIO_TEST_SCREENSHOTS=DIR`, saves what the browser shows (to look
/// at the pages as a person would).
pub async fn snapshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("FOLIO_TEST_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

pub async fn type_into(c: &Client, id: &str, text: &str) {
    let field = c.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub async fn visit(c: &Client, app: &TestApp, path: &str) -> String {
    c.goto(&app.url(path)).await.unwrap();
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

pub async fn field_value(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Clicks the link whose text is `text`.
pub async fn click_link(c: &Client, text: &str) {
    c.find(Locator::LinkText(text))
        .await
        .unwrap_or_else(|e| panic!("no link {text:?}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Submits the page's form (its `form.form` submit button).
pub async fn submit(c: &Client) {
    click(c, "form.form button[type=submit]").await;
}

/// Fills the sign-in form shown and submits it.
pub async fn sign_in(c: &Client, email: &str, password: &str) {
    type_into(c, "email", email).await;
    type_into(c, "password", password).await;
    submit(c).await;
}

/// The text of the first element `css` matches.
pub async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Clicks the rating form's `stars` and submits it.
pub async fn rate(c: &Client, stars: u8) {
    click(c, &format!("input[name=stars][value='{stars}']")).await;
    click(c, "form.rate button").await;
}

/// The console's messages since the last call that report a refusal under
/// the Content Security Policy.
pub async fn csp_violations(c: &Client) -> Vec<String> {
    console_messages(c)
        .await
        .into_iter()
        .filter(|m| m.contains("Content Security Policy"))
        .collect()
}
