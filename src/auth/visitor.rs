//! Anonymous visitors' form tokens, without storing anything per visitor.
//!
//! A visitor gets a random id in a cookie (`folio_visitor`); the forms a
//! visitor may post (a rating, the sign-in form) carry HMAC(secret, id) as
//! their `csrf_token`. Only a page of this site can know both: a forged
//! form from elsewhere lacks the token, and the id alone does not give it.
//! So crawlers and floods cost no session storage; sessions are made at
//! sign-in only.

use std::sync::RwLock;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::token::{hex, random_token};

pub(crate) struct VisitorTokens {
    secret: RwLock<Vec<u8>>,
}

impl VisitorTokens {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Self {
            secret: RwLock::new(secret.to_vec()),
        }
    }

    pub(crate) fn secret(&self) -> Vec<u8> {
        self.secret.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Adopts another key (the one shared through Redis).
    pub(crate) fn set_secret(&self, secret: Vec<u8>) {
        if let Ok(mut current) = self.secret.write() {
            *current = secret;
        }
    }

    /// A new visitor id.
    pub(crate) fn new_visitor() -> String {
        random_token()
    }

    /// Whether `id` looks like an id folio hands out.
    pub(crate) fn is_visitor_id(id: &str) -> bool {
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// What a rating records of visitor `id`: a digest, so the database never
    /// holds a cookie's value. Unkeyed on purpose: the id is 256 random bits,
    /// and a reader's ratings must survive a change of the form tokens' key.
    pub fn reader_of(id: &str) -> String {
        use sha2::Digest;
        let mut digest = Sha256::new();
        digest.update(b"folio reader:");
        digest.update(id.as_bytes());
        hex(&digest.finalize())
    }

    /// The form token of visitor `id`.
    pub(crate) fn token_for(&self, id: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret())
            .expect("HMAC takes any key length");
        mac.update(b"folio form token:");
        mac.update(id.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Compares in constant time.
    pub(crate) fn verify(&self, id: &str, token: &str) -> bool {
        Self::is_visitor_id(id) && bool::from(self.token_for(id).as_bytes().ct_eq(token.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_belong_to_one_visitor_and_one_secret() {
        let tokens = VisitorTokens::new(b"secret one");
        let a = VisitorTokens::new_visitor();
        let b = VisitorTokens::new_visitor();
        let ta = tokens.token_for(&a);
        assert_eq!(ta.len(), 64);
        assert!(tokens.verify(&a, &ta));
        assert!(!tokens.verify(&b, &ta));
        assert!(!tokens.verify(&a, &ta[..63]));
        assert!(!VisitorTokens::new(b"secret two").verify(&a, &ta));
        assert!(!tokens.verify("not-an-id", &tokens.token_for("not-an-id")));
    }

    #[test]
    fn a_reader_is_a_digest_of_the_visitor_not_the_visitor() {
        let a = VisitorTokens::new_visitor();
        let reader = VisitorTokens::reader_of(&a);
        assert_eq!(reader.len(), 64);
        assert_ne!(reader, a);
        assert_eq!(reader, VisitorTokens::reader_of(&a));
        assert_ne!(
            reader,
            VisitorTokens::reader_of(&VisitorTokens::new_visitor())
        );
    }
}
