//! Cache keys: the layout lives in the Redis layer's key space
//! (`crate::redis::keys`, the one place that builds every Redis key); a
//! policy's fragment names itself there (`EntryName`).

pub use crate::redis::keys::KeySpace;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::policy::{Fragment, Tag};

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
        assert_eq!(keys.tag(Tag::Book(9)), "folio:tag:book:9");
        assert_eq!(keys.namespace_pattern(), "folio:v*");
    }
}
