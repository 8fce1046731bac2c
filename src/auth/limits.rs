//! Rate limits, as fixed-window counters in the shared store so that every
//! instance counts together.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::StoreError;
use crate::kv::Kv;

pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
pub const LOGIN_FAILURES_PER_ACCOUNT: u64 = 5;
pub const LOGIN_FAILURES_PER_ADDRESS: u64 = 20;
pub const RATING_WINDOW: Duration = Duration::from_secs(3600);

pub struct Limits {
    kv: Arc<Kv>,
    key_prefix: String,
    ratings_per_hour: u64,
}

impl Limits {
    pub fn new(kv: Arc<Kv>, cache_prefix: &str, ratings_per_hour: u64) -> Self {
        Self {
            kv,
            key_prefix: format!("{cache_prefix}:limit:"),
            ratings_per_hour,
        }
    }

    fn account_key(&self, email: &str) -> String {
        format!("{}login:account:{email}", self.key_prefix)
    }

    fn address_key(&self, ip: IpAddr) -> String {
        format!("{}login:address:{ip}", self.key_prefix)
    }

    /// Counts a sign-in attempt before its password is checked, so that
    /// parallel guesses cannot all slip under the limit; false when this
    /// account or address has used its allowance.
    pub async fn take_login_attempt(&self, email: &str, ip: IpAddr) -> Result<bool, StoreError> {
        let account = self.kv.incr(&self.account_key(email), LOGIN_WINDOW).await?;
        let address = self.kv.incr(&self.address_key(ip), LOGIN_WINDOW).await?;
        Ok(account <= LOGIN_FAILURES_PER_ACCOUNT && address <= LOGIN_FAILURES_PER_ADDRESS)
    }

    /// A successful sign-in gives its attempt back: only failures count.
    pub async fn login_succeeded(&self, email: &str, ip: IpAddr) -> Result<(), StoreError> {
        self.kv.decr(&self.account_key(email)).await?;
        self.kv.decr(&self.address_key(ip)).await
    }

    /// Counts a rating from `ip`; false once the hour's allowance is spent.
    pub async fn take_rating(&self, ip: IpAddr) -> Result<bool, StoreError> {
        let n = self
            .kv
            .incr(
                &format!("{}rating:address:{ip}", self.key_prefix),
                RATING_WINDOW,
            )
            .await?;
        Ok(n <= self.ratings_per_hour)
    }
}
