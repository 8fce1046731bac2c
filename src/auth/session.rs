//! Server-side sessions: the cookie holds only a random id; the data lives
//! in the shared store (Redis or memory) and ends when it is deleted
//! (logout) or when its time is up (expiry).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::kv::{Kv, KvError};
use crate::redis::KeySpace;
use crate::token::{looks_like_token, random_token};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminIdentity {
    pub(crate) id: i32,
    pub(crate) email: String,
    /// A digest of the password hash the session was opened with
    /// (`password::credential`); sessions from before a reset lack it.
    #[serde(default)]
    pub(crate) credential: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FlashKind {
    Success,
    Error,
}

/// A one-time message shown on the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub(crate) kind: FlashKind,
    pub(crate) text: String,
    /// A link after the text: (href, words). Older sessions have none.
    #[serde(default)]
    pub(crate) link: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    /// The synchronizer token every state-changing form must echo.
    pub(crate) csrf_token: String,
    pub(crate) admin: Option<AdminIdentity>,
    pub(crate) flash: Option<Flash>,
    /// Absolute end, in Unix seconds: saving never extends a session.
    pub(crate) expires_unix: i64,
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) struct Sessions {
    kv: Arc<Kv>,
    keys: KeySpace,
    ttl: Duration,
}

impl Sessions {
    pub(crate) fn new(kv: Arc<Kv>, cache_prefix: &str, ttl: Duration) -> Self {
        Self {
            kv,
            keys: KeySpace::new(cache_prefix),
            ttl,
        }
    }

    fn key(&self, id: &str) -> String {
        self.keys.session(id)
    }

    pub(crate) async fn load(&self, id: &str) -> Result<Option<SessionData>, KvError> {
        if !looks_like_token(id) {
            return Ok(None);
        }
        let Some(raw) = self.kv.get(&self.key(id)).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice::<SessionData>(&raw)
            .ok()
            .filter(|data| data.expires_unix > unix_now()))
    }

    /// A new session with a new id and a new CSRF token.
    pub(crate) async fn start(
        &self,
        admin: Option<AdminIdentity>,
    ) -> Result<(String, SessionData), KvError> {
        let id = random_token();
        let data = SessionData {
            csrf_token: random_token(),
            admin,
            flash: None,
            expires_unix: unix_now()
                .saturating_add(i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX)),
        };
        self.save(&id, &data).await?;
        Ok((id, data))
    }

    pub(crate) async fn save(&self, id: &str, data: &SessionData) -> Result<(), KvError> {
        let left = data.expires_unix - unix_now();
        let Some(left) = u64::try_from(left).ok().filter(|&secs| secs > 0) else {
            return self.end(id).await;
        };
        let raw = serde_json::to_vec(data).unwrap_or_default();
        self.kv
            .set(&self.key(id), &raw, Duration::from_secs(left))
            .await
    }

    pub(crate) async fn end(&self, id: &str) -> Result<(), KvError> {
        self.kv.delete(&self.key(id)).await
    }

    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }
}
