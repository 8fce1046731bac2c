//! Sessions as the handlers see them: the cookie, the extractors, CSRF.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use subtle::ConstantTimeEq;

use crate::auth::session::{AdminIdentity, Flash, FlashKind, SessionData};
use crate::auth::visitor::VisitorTokens;
use crate::web::error::{forbidden, login_required, sessions_unavailable, WebError};
use crate::web::AppState;

pub(crate) const SESSION_COOKIE: &str = "folio_session";

/// Every folio cookie: site-wide, `HttpOnly`, and `Secure` when the site says
/// it is on https.
fn cookie(
    state: &AppState,
    name: &'static str,
    value: &str,
    same_site: SameSite,
    max_age: CookieDuration,
) -> Cookie<'static> {
    Cookie::build(name, value.to_owned())
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(state.settings.auth.secure_cookies)
        .max_age(max_age)
        .finish()
}

fn removed(mut cookie: Cookie<'static>) -> Cookie<'static> {
    cookie.make_removal();
    cookie
}

/// A form whose token does not match: nothing is written.
fn form_expired() -> WebError {
    forbidden(
        "This form has expired or did not come from this site. Reload the page and try again.",
    )
}

/// The admin's session: SameSite=Strict.
pub(crate) fn session_cookie(state: &AppState, id: &str) -> Cookie<'static> {
    let secs = state.accounts.sessions.ttl().as_secs();
    let ttl = CookieDuration::seconds(i64::try_from(secs).unwrap_or(i64::MAX));
    cookie(state, SESSION_COOKIE, id, SameSite::Strict, ttl)
}

pub(crate) fn removal_cookie(state: &AppState) -> Cookie<'static> {
    removed(session_cookie(state, ""))
}

pub(super) fn state_of(req: &HttpRequest) -> web::Data<AppState> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .expect("AppState is registered in startup")
}

/// The visitor's live session, if their cookie names one.
pub(crate) struct MaybeSession {
    pub(crate) current: Option<(String, SessionData)>,
}

impl MaybeSession {
    async fn load(req: HttpRequest) -> Result<Self, WebError> {
        let Some(id) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Ok(Self { current: None });
        };
        let state = state_of(&req);
        let data = state
            .accounts
            .sessions
            .load(&id)
            .await
            .map_err(sessions_unavailable)?;
        Ok(Self {
            current: data.map(|d| (id, d)),
        })
    }
}

impl FromRequest for MaybeSession {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(Self::load(req.clone()))
    }
}

/// A signed-in admin. Without one, browsers are sent to the login page and
/// other clients get 401; the handler never runs, so nothing is written.
pub(crate) struct AdminSession {
    pub(crate) id: String,
    pub(crate) data: SessionData,
}

impl AdminSession {
    pub(crate) fn admin(&self) -> &AdminIdentity {
        self.data
            .admin
            .as_ref()
            .expect("an AdminSession always has an admin")
    }

    /// Takes the flash message (it shows once) and saves the session.
    pub(crate) async fn take_flash(&mut self, state: &AppState) -> Option<Flash> {
        let flash = self.data.flash.take()?;
        let _ = state.accounts.sessions.save(&self.id, &self.data).await;
        Some(flash)
    }

    pub(crate) async fn flash(&mut self, state: &AppState, flash: Flash) -> Result<(), WebError> {
        self.data.flash = Some(flash);
        state
            .accounts
            .sessions
            .save(&self.id, &self.data)
            .await
            .map_err(sessions_unavailable)
    }
}

fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

impl FromRequest for AdminSession {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let browser = wants_html(&req);
            // A page a browser asked for is where sign-in returns to.
            let next = (browser && req.method() == actix_web::http::Method::GET)
                .then(|| {
                    req.uri()
                        .path_and_query()
                        .map(actix_web::http::uri::PathAndQuery::as_str)
                })
                .flatten()
                .and_then(crate::domain::ReturnPath::parse);
            let login_required = |browser| login_required(browser, next.clone());
            let state = state_of(&req);
            let Some((id, data)) = MaybeSession::load(req).await?.current else {
                return Err(login_required(browser));
            };
            let Some(admin) = &data.admin else {
                return Err(login_required(browser));
            };
            if !state.accounts.still_signed_in(admin).await? {
                // The password changed or the account is gone since sign-in.
                let _ = state.accounts.sessions.end(&id).await;
                tracing::info!(admin = ?admin.email, "a session from before a password reset was refused");
                return Err(login_required(browser));
            }
            Ok(Self { id, data })
        })
    }
}

pub(crate) const VISITOR_COOKIE: &str = "folio_visitor";
pub(crate) const FLASH_COOKIE: &str = "folio_flash";

/// An anonymous visitor: an id in a cookie, nothing stored (see
/// `auth::visitor`). Their forms carry a token derived from the id.
pub(crate) struct Visitor {
    pub(crate) id: String,
    /// Set when the visitor is new: the cookie to send.
    pub(crate) new_cookie: Option<Cookie<'static>>,
}

impl Visitor {
    pub(crate) fn of(req: &HttpRequest, state: &AppState) -> Self {
        if let Some(id) = req
            .cookie(VISITOR_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|id| VisitorTokens::is_visitor_id(id))
        {
            return Self {
                id,
                new_cookie: None,
            };
        }
        let id = VisitorTokens::new_visitor();
        // Lax: a reader who follows a link here from elsewhere keeps it.
        let cookie = Self::cookie_for(state, &id);
        Self {
            id,
            new_cookie: Some(cookie),
        }
    }

    pub(crate) fn token(&self, state: &AppState) -> String {
        state.accounts.visitors.token_for(&self.id)
    }

    /// The submitted form token must be this visitor's; a new visitor has
    /// none yet.
    pub(crate) async fn verify(
        &self,
        state: &AppState,
        submitted: Option<&str>,
    ) -> Result<(), WebError> {
        let ok = match submitted {
            Some(token) if self.new_cookie.is_none() => {
                state.accounts.verify_visitor(&self.id, token).await
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(form_expired())
        }
    }
}

impl Visitor {
    /// The reader a rating form speaks for: the cookie's visitor when there
    /// is a cookie; without one (a client that keeps no cookies), the
    /// visitor id the form itself carries, whose token proves this site
    /// handed it out — so a cookie-less reader's form works, and posting it
    /// again replaces that rating rather than adding one.
    pub(crate) async fn verify_rating(
        &self,
        state: &AppState,
        token: Option<&str>,
        form_reader: Option<&str>,
    ) -> Result<String, WebError> {
        let id = match (&self.new_cookie, form_reader) {
            (None, _) => self.id.as_str(),
            (Some(_), Some(reader)) => reader,
            (Some(_), None) => return Err(form_expired()),
        };
        match token {
            Some(token) if state.accounts.verify_visitor(id, token).await => Ok(id.to_owned()),
            _ => Err(form_expired()),
        }
    }

    /// The cookie that makes visitor `id` known from now on.
    pub(crate) fn cookie_for(state: &AppState, id: &str) -> Cookie<'static> {
        cookie(
            state,
            VISITOR_COOKIE,
            id,
            SameSite::Lax,
            CookieDuration::days(30),
        )
    }
}

/// A short cookie that says what to thank a reader for on the next page;
/// it holds a code, never text, and is read once.
pub(crate) fn reader_flash_cookie(state: &AppState, code: &str) -> Cookie<'static> {
    cookie(
        state,
        FLASH_COOKIE,
        code,
        SameSite::Lax,
        CookieDuration::seconds(60),
    )
}

/// The message of a reader's flash code, if it is one folio sets.
pub(crate) fn reader_flash(req: &HttpRequest) -> Option<Flash> {
    let code = req.cookie(FLASH_COOKIE)?;
    let stars = code.value().strip_prefix("rated-")?;
    let stars = crate::domain::Stars::parse(stars).ok()?;
    Some(Flash {
        kind: FlashKind::Success,
        text: format!("Thank you: your {}-star rating is counted.", stars.get()),
        link: None,
    })
}

pub(crate) fn reader_flash_removal(state: &AppState) -> Cookie<'static> {
    removed(reader_flash_cookie(state, ""))
}

/// Compares the submitted token with the session's in constant time.
pub(super) fn verify_csrf(session: &SessionData, submitted: Option<&str>) -> Result<(), WebError> {
    let expected = session.csrf_token.as_bytes();
    let ok = submitted.is_some_and(|given| bool::from(expected.ct_eq(given.as_bytes())));
    if ok {
        Ok(())
    } else {
        Err(form_expired())
    }
}
