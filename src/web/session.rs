//! Sessions as the handlers see them: the cookie, the extractors, CSRF.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use subtle::ConstantTimeEq;

use super::error::{forbidden, login_required, sessions_unavailable, WebError};
use super::AppState;
use crate::auth::session::{AdminIdentity, Flash, SessionData};

pub const SESSION_COOKIE: &str = "folio_session";

/// HttpOnly, SameSite=Strict, and Secure when the site says it is on https.
pub fn session_cookie(state: &AppState, id: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, id.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.secure_cookies)
        .max_age(CookieDuration::seconds(
            state.accounts.sessions.ttl().as_secs() as i64,
        ))
        .finish()
}

pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = session_cookie(state, "");
    cookie.make_removal();
    cookie
}

fn state_of(req: &HttpRequest) -> web::Data<AppState> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .expect("AppState is registered in startup")
}

/// The visitor's live session, if their cookie names one.
pub struct MaybeSession {
    pub current: Option<(String, SessionData)>,
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
pub struct AdminSession {
    pub id: String,
    pub data: SessionData,
}

impl AdminSession {
    pub fn admin(&self) -> &AdminIdentity {
        self.data
            .admin
            .as_ref()
            .expect("an AdminSession always has an admin")
    }

    /// Takes the flash message (it shows once) and saves the session.
    pub async fn take_flash(&mut self, state: &AppState) -> Option<Flash> {
        let flash = self.data.flash.take()?;
        let _ = state.accounts.sessions.save(&self.id, &self.data).await;
        Some(flash)
    }

    pub async fn flash(&mut self, state: &AppState, flash: Flash) -> Result<(), WebError> {
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
            match MaybeSession::load(req).await?.current {
                Some((id, data)) if data.admin.is_some() => Ok(Self { id, data }),
                _ => Err(login_required(browser)),
            }
        })
    }
}

/// The session of a visitor who is about to see a form: their own, or a new
/// anonymous one (returned with the cookie to set).
pub async fn ensure_session(
    state: &AppState,
    maybe: MaybeSession,
) -> Result<(String, SessionData, Option<Cookie<'static>>), WebError> {
    if let Some((id, data)) = maybe.current {
        return Ok((id, data, None));
    }
    let (id, data) = state
        .accounts
        .sessions
        .start(None)
        .await
        .map_err(sessions_unavailable)?;
    let cookie = session_cookie(state, &id);
    Ok((id, data, Some(cookie)))
}

/// Compares the submitted token with the session's in constant time.
pub fn verify_csrf(session: Option<&SessionData>, submitted: Option<&str>) -> Result<(), WebError> {
    let expected = session.map(|s| s.csrf_token.as_bytes());
    let ok = match (expected, submitted) {
        (Some(expected), Some(given)) => bool::from(expected.ct_eq(given.as_bytes())),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(forbidden(
            "This form has expired or did not come from this site. Reload the page and try again.",
        ))
    }
}
