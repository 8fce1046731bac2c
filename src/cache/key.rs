//! Cache keys: `{prefix}:{format version}:{fragment key}`.
//!
//! The prefix (`FOLIO_CACHE_PREFIX`) lets several sites or test runs share one
//! Redis; the format version changes whenever a cached value changes shape, so
//! a new deploy never reads what an old one wrote.

use super::policy::{Fragment, Tag};

/// Bump when the stored entry format or any cached body's shape changes.
pub const FORMAT_VERSION: &str = "v3";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpace {
    /// `{prefix}:{version}:`, in front of entries.
    base: String,
    /// `{prefix}:`, in front of what every format version shares: tag
    /// versions and the invalidation channel, so that during a rolling
    /// deploy old and new instances still invalidate each other.
    prefix: String,
}

impl KeySpace {
    pub fn new(prefix: &str) -> Self {
        Self {
            base: format!("{prefix}:{FORMAT_VERSION}:"),
            prefix: format!("{prefix}:"),
        }
    }

    pub fn fragment(&self, fragment: &Fragment) -> String {
        let mut key = String::with_capacity(self.base.len() + 48);
        key.push_str(&self.base);
        fragment.write_key(&mut key);
        key
    }

    /// Where a tag's version lives.
    pub fn tag(&self, tag: &Tag) -> String {
        format!("{}tag:{tag}", self.prefix)
    }

    /// What goes in front of a tag name to make its key (for the read script).
    pub fn tag_prefix(&self) -> String {
        format!("{}tag:", self.prefix)
    }

    /// A glob matching every cache entry of the prefix, whatever its format
    /// version (`{prefix}:v*`); tags, sessions and counters live beside them.
    pub fn namespace_pattern(&self) -> String {
        format!("{}v*", self.prefix)
    }

    /// The glob of the current format's keys.
    pub fn current_pattern(&self) -> String {
        format!("{}*", self.base)
    }

    /// The lock a computing instance holds on a fragment.
    pub fn lock(&self, fragment_key: &str) -> String {
        format!("{fragment_key}:lock")
    }

    /// The Pub/Sub channel of invalidations and heartbeats.
    pub fn channel(&self) -> String {
        format!("{}invalidations", self.prefix)
    }

    /// Where instances acknowledge one invalidation.
    pub fn acks(&self, nonce: &str) -> String {
        format!("{}ack:{nonce}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced_and_versioned() {
        let keys = KeySpace::new("folio");
        assert_eq!(
            keys.fragment(&Fragment::ChartRanking),
            "folio:v3:chart:top10"
        );
        assert!(keys
            .fragment(&Fragment::CataloguePage(3))
            .starts_with("folio:v3:books:page:3:t"));
        assert_eq!(keys.tag(&Tag::Book(9)), "folio:tag:book:9");
        assert_eq!(keys.namespace_pattern(), "folio:v*");
    }
}
