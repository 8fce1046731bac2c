//! Rate limits, as fixed-window counters in the shared store so that every
//! instance counts together.
//!
//! A counter's key is a hash of validated input (a parsed email, an IP
//! address), so it has a fixed length whatever a client sends, and counting
//! stops at the limit: a flood from one address or against one account
//! costs one key of a few bytes, not one key per attempt.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::domain::Email;
use crate::kv::{Kv, KvError};
use crate::redis::KeySpace;

pub(crate) const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
pub(crate) const LOGIN_FAILURES_PER_ACCOUNT: u64 = 5;
pub const LOGIN_FAILURES_PER_ADDRESS: u64 = 20;
pub(crate) const RATING_WINDOW: Duration = Duration::from_secs(3600);

pub(crate) struct Limits {
    kv: Arc<Kv>,
    keys: KeySpace,
    ratings_per_hour: u64,
}

/// 16 bytes of SHA-256, hex: a fixed-length name for any input.
fn digest(kind: &str, input: &str) -> String {
    let hash = Sha256::new()
        .chain_update(kind.as_bytes())
        .chain_update([0])
        .chain_update(input.as_bytes())
        .finalize();
    crate::token::hex(&hash[..16])
}

/// What counts as one client: an IPv4 address, or an IPv6 /64 (one
/// subscriber's network: a client holding a /64 would otherwise have 2^64
/// allowances, and as many counters).
fn client_network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                v4.to_string()
            } else {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

impl Limits {
    pub(crate) fn new(kv: Arc<Kv>, cache_prefix: &str, ratings_per_hour: u64) -> Self {
        Self {
            kv,
            keys: KeySpace::new(cache_prefix),
            ratings_per_hour,
        }
    }

    fn key(&self, kind: &str, input: &str) -> String {
        self.keys.limit(kind, &digest(kind, input))
    }

    fn account_key(&self, email: &Email) -> String {
        self.key("login:account", email.as_str())
    }

    fn address_key(&self, ip: IpAddr) -> String {
        self.key("login:address", &client_network(ip))
    }

    /// Counts a sign-in attempt before its password is checked, so that
    /// parallel guesses cannot all slip under the limit; false when this
    /// account or address has used its allowance. An email that does not
    /// parse names no account: only its address counts.
    pub(crate) async fn take_login_attempt(
        &self,
        email: Option<&Email>,
        ip: IpAddr,
    ) -> Result<bool, KvError> {
        let address = self.address_key(ip);
        let account = email.map(|e| self.account_key(e));
        let mut counters = vec![(address.as_str(), LOGIN_FAILURES_PER_ADDRESS)];
        if let Some(account) = &account {
            counters.push((account.as_str(), LOGIN_FAILURES_PER_ACCOUNT));
        }
        self.kv.take(&counters, LOGIN_WINDOW).await
    }

    /// A successful sign-in gives its attempt back: only failures count.
    pub(crate) async fn login_succeeded(&self, email: &Email, ip: IpAddr) -> Result<(), KvError> {
        self.kv.decr(&self.account_key(email)).await?;
        self.kv.decr(&self.address_key(ip)).await
    }

    /// Counts a rating from `ip`; false once the hour's allowance is spent.
    pub(crate) async fn take_rating(&self, ip: IpAddr) -> Result<bool, KvError> {
        let key = self.key("rating:address", &client_network(ip));
        self.kv
            .take(&[(key.as_str(), self.ratings_per_hour)], RATING_WINDOW)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_one_length_whatever_the_input() {
        let limits = Limits::new(Arc::new(Kv::memory()), "p", 5);
        let short = limits.account_key(&Email::parse("a@b").unwrap());
        let long = limits.account_key(&Email::parse(&format!("{}@b", "x".repeat(250))).unwrap());
        assert_eq!(short.len(), long.len());
        assert_ne!(short, long);
        assert!(short.starts_with("p:limit:login:account:"), "{short}");
        let address = |raw: &str| limits.address_key(raw.parse().unwrap());
        assert_ne!(address("127.0.0.1"), address("127.0.0.2"));
        assert_eq!(address("2001:db8:1:2::1"), address("2001:db8:1:2:ffff::9"));
        assert_ne!(address("2001:db8:1:2::1"), address("2001:db8:1:3::1"));
        assert_eq!(address("::ffff:127.0.0.1"), address("127.0.0.1"));
    }
}
