//! Who may write: admin accounts, logins, sessions and rate limits.

pub mod limits;
pub(crate) mod password;
pub(crate) mod session;
pub(crate) mod visitor;

use std::net::IpAddr;
use std::sync::Arc;

use crate::db::{admins, DataError, Database};
use crate::domain::{Email, NewPassword};
use crate::kv::{Kv, KvError};
use limits::Limits;
use password::{Busy, PasswordChecks};
use session::{AdminIdentity, Sessions};
use visitor::VisitorTokens;

#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    /// The same answer for an unknown email and a wrong password.
    #[error("that email and password do not match an admin account")]
    InvalidCredentials,
    #[error("too many failed sign-ins; try again in 15 minutes")]
    TooManyAttempts,
    /// Every password-checking thread is busy and the queue is full.
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error("sign-in is unavailable: {0}")]
    Store(#[from] KvError),
    #[error(transparent)]
    Data(#[from] DataError),
}

pub struct Accounts {
    db: Database,
    pub(crate) sessions: Sessions,
    pub(crate) limits: Limits,
    pub(crate) visitors: VisitorTokens,
    /// Where the visitors' key is shared (Redis), unless `FOLIO_SECRET_KEY` set it.
    shared_secret: Option<(Arc<Kv>, String)>,
    passwords: PasswordChecks,
}

impl Accounts {
    pub(crate) fn new(
        db: Database,
        sessions: Sessions,
        limits: Limits,
        visitors: VisitorTokens,
        shared_secret: Option<(Arc<Kv>, String)>,
        passwords: PasswordChecks,
    ) -> Self {
        Self {
            db,
            sessions,
            limits,
            visitors,
            shared_secret,
            passwords,
        }
    }

    /// Checks a visitor's form token. On a mismatch the shared key is read
    /// again: an instance that started while Redis was away (or after the
    /// key was lost) comes to agree with the others.
    pub(crate) async fn verify_visitor(&self, id: &str, token: &str) -> bool {
        if self.visitors.verify(id, token) {
            return true;
        }
        let Some((kv, key)) = &self.shared_secret else {
            return false;
        };
        if kv
            .set_if_absent(key, &self.visitors.secret())
            .await
            .is_err()
        {
            return false;
        }
        match kv.get(key).await {
            Ok(Some(shared)) if shared != self.visitors.secret() => {
                tracing::info!("adopted the visitors' key shared through Redis");
                self.visitors.set_secret(shared);
                self.visitors.verify(id, token)
            }
            _ => false,
        }
    }

    /// Checks an email and password, counting failures per account and per
    /// client address. What does not parse never reaches the database or
    /// argon2: an email that is not one names no account, and a password
    /// longer than any folio accepts matches none.
    pub(crate) async fn login(
        &self,
        email: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<AdminIdentity, AuthError> {
        let email = Email::parse(email).ok();
        if !self.limits.take_login_attempt(email.as_ref(), ip).await? {
            return Err(AuthError::TooManyAttempts);
        }
        let Some(email) = email else {
            return Err(AuthError::InvalidCredentials);
        };
        if NewPassword::too_long(password) {
            return Err(AuthError::InvalidCredentials);
        }
        let lookup = email.as_str().to_owned();
        let admin = self
            .db
            .run(move |c| admins::find_by_email(c, &lookup))
            .await?;
        let phc = admin.as_ref().map(|row| row.password_hash.clone());
        let matched = self.passwords.verify(password, phc).await?;
        match admin {
            Some(row) if matched => {
                if let Err(e) = self.limits.login_succeeded(&email, ip).await {
                    tracing::warn!(error = %e, "could not give a successful sign-in its attempt back");
                }
                Ok(AdminIdentity {
                    id: row.id,
                    email: row.email,
                    credential: password::credential(&row.password_hash),
                })
            }
            _ => Err(AuthError::InvalidCredentials),
        }
    }

    /// Whether a session's admin still has the password the session was
    /// opened with. A new password (`folio admin create --reset-password`)
    /// or a removed account ends every session of that admin, on every
    /// instance: the database, not the session store, decides.
    pub(crate) async fn still_signed_in(&self, admin: &AdminIdentity) -> Result<bool, DataError> {
        let id = admin.id;
        let row = self.db.run(move |c| admins::find_by_id(c, id)).await?;
        Ok(row.is_some_and(|row| {
            row.email == admin.email && password::credential(&row.password_hash) == admin.credential
        }))
    }
}

/// Creates an admin (or, with `replace`, sets a new password); returns
/// whether the account is new. Hashing runs on the blocking pool.
pub async fn create_admin(
    db: &Database,
    email: Email,
    password: NewPassword,
    replace: bool,
) -> Result<bool, DataError> {
    let hash = tokio::task::spawn_blocking(move || password::hash(password.expose()))
        .await
        .map_err(|e| DataError::Unavailable(e.to_string()))?
        .map_err(DataError::Invalid)?;
    let now = chrono::Utc::now().naive_utc();
    db.run(move |c| admins::upsert(c, email.as_str(), &hash, now, replace))
        .await
}
