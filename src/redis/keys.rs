//! Every Redis key folio uses, built here and only here:
//!
//! | key                              | what                                  |
//! |----------------------------------|---------------------------------------|
//! | `{prefix}:{format}:{fragment}`   | a cache entry (`FORMAT_VERSION`)      |
//! | `{prefix}:{format}:{…}:lock`     | the lock of one computation           |
//! | `{prefix}:tag:{tag}`             | a tag's version                       |
//! | `{prefix}:invalidations`         | the coherence channel (Pub/Sub)       |
//! | `{prefix}:ack:{nonce}`           | acknowledgements of one invalidation  |
//! | `{prefix}:session:{id}`          | an admin session                      |
//! | `{prefix}:limit:{kind}:{digest}` | a rate-limit counter                  |
//! | `{prefix}:secret`                | the visitors' form-token key          |
//! | `{prefix}:ping`                  | the startup probe (never written)     |
//!
//! The prefix (`FOLIO_CACHE_PREFIX`) lets several sites or test runs share one
//! Redis; the format version changes whenever a cached value changes shape, so
//! a new deploy never reads what an old one wrote. Tags, the channel, sessions
//! and counters are shared by every format version, so that during a rolling
//! deploy old and new instances still invalidate each other.

use std::fmt::Display;

/// Bump when the stored entry format or any cached body's shape changes.
pub(crate) const FORMAT_VERSION: &str = "v3";

/// Something stored as a cache entry: it names its own key (the cache's
/// fragments implement it), the key space puts it under the prefix.
pub trait EntryName {
    /// Appends the entry's name to `key` (one buffer per key: hits build one).
    fn write_entry_name(&self, key: &mut String);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpace {
    /// `{prefix}:{version}:`, in front of entries.
    base: String,
    /// `{prefix}:`, in front of everything else.
    prefix: String,
}

impl KeySpace {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            base: format!("{prefix}:{FORMAT_VERSION}:"),
            prefix: format!("{prefix}:"),
        }
    }

    pub fn fragment(&self, fragment: &impl EntryName) -> String {
        let mut key = String::with_capacity(self.base.len() + 48);
        key.push_str(&self.base);
        fragment.write_entry_name(&mut key);
        key
    }

    /// Where a tag's version lives.
    pub(crate) fn tag(&self, tag: impl Display) -> String {
        format!("{}tag:{tag}", self.prefix)
    }

    /// What goes in front of a tag name to make its key (for the read script).
    pub(crate) fn tag_prefix(&self) -> String {
        format!("{}tag:", self.prefix)
    }

    /// A glob matching every cache entry of the prefix, whatever its format
    /// version (`{prefix}:v*`); tags, sessions and counters live beside them.
    pub(crate) fn namespace_pattern(&self) -> String {
        format!("{}v*", self.prefix)
    }

    /// The glob of the current format's keys.
    pub(crate) fn current_pattern(&self) -> String {
        format!("{}*", self.base)
    }

    /// The lock a computing instance holds on a fragment.
    #[expect(
        clippy::unused_self,
        reason = "built beside every other key; the fragment's key carries the prefix already"
    )]
    pub(crate) fn lock(&self, fragment_key: &str) -> String {
        format!("{fragment_key}:lock")
    }

    /// The Pub/Sub channel of invalidations and heartbeats.
    pub(crate) fn channel(&self) -> String {
        format!("{}invalidations", self.prefix)
    }

    /// Where instances acknowledge one invalidation.
    pub(crate) fn acks(&self, nonce: &str) -> String {
        format!("{}ack:{nonce}", self.prefix)
    }

    /// An admin session (`id`: a token, checked by the caller).
    pub(crate) fn session(&self, id: &str) -> String {
        format!("{}session:{id}", self.prefix)
    }

    /// A rate-limit counter; `digest` is a fixed-length hash of the input.
    pub(crate) fn limit(&self, kind: &str, digest: &str) -> String {
        format!("{}limit:{kind}:{digest}", self.prefix)
    }

    /// The visitors' form-token key, shared by every instance.
    pub(crate) fn secret(&self) -> String {
        format!("{}secret", self.prefix)
    }

    /// What the startup probe reads: under the prefix like everything else,
    /// so an ACL that confines folio to its prefix lets the probe through.
    pub(crate) fn ping(&self) -> String {
        format!("{}ping", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named;
    impl EntryName for Named {
        fn write_entry_name(&self, key: &mut String) {
            key.push_str("chart:top10");
        }
    }

    #[test]
    fn every_key_is_under_the_prefix() {
        let keys = KeySpace::new("folio");
        assert_eq!(keys.fragment(&Named), "folio:v3:chart:top10");
        assert_eq!(keys.tag("book:9"), "folio:tag:book:9");
        assert_eq!(keys.namespace_pattern(), "folio:v*");
        let all = [
            keys.channel(),
            keys.acks("n"),
            keys.session("s"),
            keys.limit("login:account", "d"),
            keys.secret(),
            keys.ping(),
        ];
        for key in all {
            assert!(key.starts_with("folio:"), "{key}");
        }
        assert_eq!(KeySpace::new("p").ping(), "p:ping");
    }
}
