//! The admin's pages. Every handler takes an `AdminSession` (or an
//! `AdminForm`, `AdminUpload`, which hold one) first, so without one it
//! never runs; every POST's CSRF token is checked before anything else of
//! it is read (`extract::AdminForm`). Admin pages are never cached.

pub(crate) mod books;
pub(crate) mod cache;
pub(crate) mod import;
pub(crate) mod sign_in;
mod views;

use crate::auth::session::{Flash, FlashKind};
use crate::web::extract::AdminSession;
use crate::web::AppState;
use views::AdminChrome;

/// The admin layout's data; takes the flash message, which shows once.
async fn chrome(state: &AppState, session: &mut AdminSession) -> AdminChrome {
    let flash = session.take_flash(state).await;
    AdminChrome {
        email: session.admin().email.clone(),
        csrf_token: session.data.csrf_token.clone(),
        flash,
    }
}

/// A flash message of `kind`, without a link.
fn flash(kind: FlashKind, text: impl Into<String>) -> Flash {
    Flash {
        kind,
        text: text.into(),
        link: None,
    }
}

fn success(text: impl Into<String>) -> Flash {
    flash(FlashKind::Success, text)
}
