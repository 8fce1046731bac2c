//! Who may write: admin accounts, logins, sessions and rate limits.

pub mod limits;
pub mod password;
pub mod session;
pub mod visitor;

use std::net::IpAddr;
use std::sync::Arc;

use crate::cache::StoreError;
use crate::db::{admins, DataError, Database};
use crate::domain::{Email, NewPassword};
use crate::kv::Kv;
use limits::Limits;
use session::{AdminIdentity, Sessions};
use visitor::VisitorTokens;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The same answer for an unknown email and a wrong password.
    #[error("that email and password do not match an admin account")]
    InvalidCredentials,
    #[error("too many failed sign-ins; try again in 15 minutes")]
    TooManyAttempts,
    #[error("sign-in is unavailable: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Data(#[from] DataError),
}

pub struct Accounts {
    db: Database,
    pub sessions: Sessions,
    pub limits: Limits,
    pub visitors: VisitorTokens,
    /// Where the visitors' key is shared (Redis), unless FOLIO_SECRET_KEY set it.
    shared_secret: Option<(Arc<Kv>, String)>,
}

impl Accounts {
    pub fn new(
        db: Database,
        sessions: Sessions,
        limits: Limits,
        visitors: VisitorTokens,
        shared_secret: Option<(Arc<Kv>, String)>,
    ) -> Self {
        Self {
            db,
            sessions,
            limits,
            visitors,
            shared_secret,
        }
    }

    /// Checks a visitor's form token. On a mismatch the shared key is read
    /// again: an instance that started while Redis was away (or after the
    /// key was lost) comes to agree with the others.
    pub async fn verify_visitor(&self, id: &str, token: &str) -> bool {
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
    /// client address.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<AdminIdentity, AuthError> {
        let email = Email::parse(email)
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase());
        if !self.limits.take_login_attempt(&email, ip).await? {
            return Err(AuthError::TooManyAttempts);
        }
        let lookup = email.clone();
        let admin = self
            .db
            .run(move |c| admins::find_by_email(c, &lookup))
            .await?;
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || match admin {
            Some(row) if password::verify(&password, &row.password_hash) => Some(AdminIdentity {
                id: row.id,
                email: row.email,
            }),
            Some(_) => None,
            None => {
                password::burn_time(&password);
                None
            }
        })
        .await
        .map_err(|e| DataError::Unavailable(e.to_string()))?;
        match verified {
            Some(identity) => {
                if let Err(e) = self.limits.login_succeeded(&email, ip).await {
                    tracing::warn!(error = %e, "could not give a successful sign-in its attempt back");
                }
                Ok(identity)
            }
            None => Err(AuthError::InvalidCredentials),
        }
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
