//! Requests as a reader's browser or an admin makes them, so that a test
//! says what it asks for (`app.get_html("/books")`, `app.login_admin()`,
//! `app.post_book(..)`) rather than how reqwest sends it.

use super::TestApp;

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    /// Status, `X-Cache` and body of a GET.
    pub async fn fetch(&self, path: &str) -> (u16, Option<String>, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        let x_cache = response
            .headers()
            .get("x-cache")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, x_cache, response.text().await.unwrap())
    }

    /// The JSON body of a GET, as `T`.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.get(path)
            .await
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: not the JSON expected ({e})"))
    }

    /// Status and body of a GET by `client` (a browser with its cookies).
    pub async fn get_page(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let response = client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// POSTs `fields` as a form by `client` (the CSRF token among them).
    pub async fn post_form<T: serde::Serialize + ?Sized>(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &T,
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }

    /// Submits the admin's "add a book" form.
    pub async fn post_book<T: serde::Serialize + ?Sized>(
        &self,
        client: &reqwest::Client,
        fields: &T,
    ) -> reqwest::Response {
        self.post_form(client, "/admin/books", fields).await
    }

    /// A new browser signed in as the admin `create_admin(ADMIN_EMAIL, ..)`
    /// made, and the session's CSRF token.
    pub async fn login_admin(&self) -> (reqwest::Client, String) {
        let client = self.browser();
        let token = self.login(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        (client, token)
    }

    /// A client that keeps cookies and says it wants HTML, like a browser.
    #[expect(
        clippy::unused_self,
        reason = "a request helper of the app (`app.browser()`), beside those that use `self`"
    )]
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(reqwest::header::HeaderMap::from_iter([(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static("text/html"),
            )]))
            .build()
            .unwrap()
    }

    /// Fetches the sign-in form with `client` and submits it.
    pub async fn post_login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        post_login_at(&self.address, client, email, password).await
    }

    /// Signs `client` in; returns the session's CSRF token.
    pub async fn login(&self, client: &reqwest::Client, email: &str, password: &str) -> String {
        login_at(&self.address, client, email, password).await
    }

    /// The CSRF token of the form on the page at `path`, as `client` sees it.
    pub async fn form_token(&self, client: &reqwest::Client, path: &str) -> String {
        form_token_at(client, &self.url(path)).await
    }
}

/// The CSRF token of the form on the page at `url`, as `client` sees it
/// (a visitor cookie comes with it).
pub async fn form_token_at(client: &reqwest::Client, url: &str) -> String {
    csrf_token(&client.get(url).send().await.unwrap().text().await.unwrap())
}

/// The CSRF token of the first form on a page.
pub fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf_token on the page: {html}"))
        + marker.len();
    html[start..start + 64].to_owned()
}

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "a long enough password";

/// A page with its per-visitor form token (and the visitor id a book page's
/// rating form carries) blanked, to compare two visits.
pub fn without_token(html: &str) -> String {
    let mut page = html.to_owned();
    for marker in ["name=\"csrf_token\" value=\"", "name=\"reader\" value=\""] {
        if let Some(at) = page.find(marker) {
            let start = at + marker.len();
            page = format!(
                "{}{}",
                &page[..start],
                &page[(start + 64).min(page.len())..]
            );
        }
    }
    page
}

/// Fetches the sign-in form at `base` (folio, or a proxy in front) with
/// `client` and submits it.
pub async fn post_login_at(
    base: &str,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let form = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap();
    let token = csrf_token(&form.text().await.unwrap());
    client
        .post(format!("{base}/admin/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs `client` in at `base`; returns the session's CSRF token.
pub async fn login_at(base: &str, client: &reqwest::Client, email: &str, password: &str) -> String {
    let response = post_login_at(base, client, email, password).await;
    assert_eq!(
        response.status(),
        303,
        "login failed: {}",
        response.text().await.unwrap()
    );
    let dashboard = client.get(format!("{base}/admin")).send().await.unwrap();
    assert_eq!(dashboard.status(), 200);
    csrf_token(&dashboard.text().await.unwrap())
}
