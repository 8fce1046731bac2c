//! Signing in and out.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::views::{LoginPage, LogoutPage};
use super::{chrome, flash};
use crate::auth::session::FlashKind;
use crate::auth::AuthError;
use crate::domain::ReturnPath;
use crate::web::error::{busy, sessions_unavailable, WebError};
use crate::web::extract::{
    client_ip, removal_cookie, session_cookie, AdminForm, AdminSession, Form, MaybeSession,
    NoFields, Query, Visitor,
};
use crate::web::respond::{private_html, see_other};
use crate::web::AppState;

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    signed_out: Option<String>,
    next: Option<String>,
}

pub(crate) async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    maybe: MaybeSession,
    Query(query): Query<LoginQuery>,
) -> Result<HttpResponse, WebError> {
    // Where to go once signed in: a page of this site, else the dashboard.
    let next = ReturnPath::or_dashboard(query.next.as_deref());
    if maybe
        .current
        .as_ref()
        .is_some_and(|(_, d)| d.admin.is_some())
    {
        return Ok(see_other(next.as_str()));
    }
    let visitor = Visitor::of(&req, &state);
    let notice = query.signed_out.as_ref().map(|_| "You are signed out.");
    let token = visitor.token(&state);
    let page = LoginPage {
        csrf_token: &token,
        email: "",
        error: None,
        notice,
        next: &next,
    };
    let mut response = private_html(HttpResponse::Ok(), page.render()?);
    if let Some(cookie) = visitor.new_cookie {
        response.add_cookie(&cookie)?;
    }
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
    next: Option<String>,
}

pub(crate) async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let visitor = Visitor::of(&req, &state);
    visitor.verify(&state, form.csrf_token.as_deref()).await?;
    let email = form.email.as_deref().unwrap_or("").trim();
    let password = form.password.as_deref().unwrap_or("");
    let email_shown: String = email.chars().take(254).collect();
    let next = ReturnPath::or_dashboard(form.next.as_deref());

    let token = visitor.token(&state);
    let rejected = |status: StatusCode, message: &str| -> Result<HttpResponse, WebError> {
        let page = LoginPage {
            csrf_token: &token,
            email: &email_shown,
            error: Some(message),
            notice: None,
            next: &next,
        };
        Ok(private_html(HttpResponse::build(status), page.render()?))
    };
    match state.accounts.login(email, password, client_ip(&req)).await {
        Ok(admin) => {
            // Sessions begin at sign-in, with a new id.
            let sessions = &state.accounts.sessions;
            let (id, mut data) = sessions
                .start(Some(admin.clone()))
                .await
                .map_err(sessions_unavailable)?;
            data.flash = Some(flash(
                FlashKind::Success,
                format!("Signed in as {}.", admin.email),
            ));
            sessions
                .save(&id, &data)
                .await
                .map_err(sessions_unavailable)?;
            tracing::info!(admin = ?admin.email, "admin signed in");
            let mut response = see_other(next.as_str());
            response.add_cookie(&session_cookie(&state, &id))?;
            Ok(response)
        }
        // What a client typed is logged escaped (Debug): a newline in it
        // cannot start a line of its own.
        Err(AuthError::InvalidCredentials) => {
            tracing::warn!(email = ?email_shown, "failed sign-in");
            rejected(
                StatusCode::UNAUTHORIZED,
                &AuthError::InvalidCredentials.to_string(),
            )
        }
        Err(AuthError::TooManyAttempts) => {
            tracing::warn!(email = ?email_shown, "sign-in refused: too many failures");
            rejected(
                StatusCode::TOO_MANY_REQUESTS,
                &AuthError::TooManyAttempts.to_string(),
            )
        }
        Err(AuthError::Busy(reason)) => {
            tracing::warn!("sign-in refused: every password check is taken");
            Err(busy(reason.to_string()))
        }
        Err(AuthError::Store(e)) => Err(sessions_unavailable(e)),
        Err(AuthError::Data(e)) => Err(e.into()),
    }
}

pub(crate) async fn logout_form(
    state: web::Data<AppState>,
    mut session: AdminSession,
) -> Result<HttpResponse, WebError> {
    let page = LogoutPage {
        chrome: chrome(&state, &mut session).await,
    };
    Ok(private_html(HttpResponse::Ok(), page.render()?))
}

pub(crate) async fn logout(
    state: web::Data<AppState>,
    form: AdminForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let session = form.session;
    state
        .accounts
        .sessions
        .end(&session.id)
        .await
        .map_err(sessions_unavailable)?;
    tracing::info!(admin = ?session.admin().email, "admin signed out");
    let mut response = see_other("/admin/login?signed_out=1");
    response.add_cookie(&removal_cookie(&state))?;
    Ok(response)
}
