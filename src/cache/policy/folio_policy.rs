//! folio's policy as the engine asks for it (`CachePolicy`): the answers of
//! the table in `policy.rs`, with the TTLs that come from settings.

use std::time::Duration;

use super::{tag_ttl, Change, Fragment, Tag, Ttls, FRAGMENT_NAMES};
use crate::cache::CachePolicy;
use crate::redis::keys::EntryName;

impl EntryName for Fragment {
    fn write_entry_name(&self, key: &mut String) {
        self.write_key(key);
    }
}

/// folio's policy as the engine asks for it: the table's answers, with the
/// TTLs that come from settings.
#[derive(Debug, Clone, Copy)]
pub struct FolioPolicy {
    ttls: Ttls,
}

impl FolioPolicy {
    pub fn new(ttls: Ttls) -> Self {
        Self { ttls }
    }
}

impl CachePolicy for FolioPolicy {
    type Fragment = Fragment;
    type Tag = Tag;
    type Change = Change;

    const FRAGMENT_NAMES: &'static [&'static str] = &FRAGMENT_NAMES;
    const EVERYTHING: Tag = Tag::All;

    fn kind_index(fragment: &Fragment) -> usize {
        fragment.kind_index()
    }

    fn ttl(&self, fragment: &Fragment) -> Duration {
        fragment.ttl(&self.ttls)
    }

    fn grace(&self) -> Duration {
        self.ttls.grace
    }

    fn tag_ttl(&self) -> Duration {
        tag_ttl(&self.ttls)
    }

    fn depends_on(fragment: &Fragment) -> Vec<Tag> {
        fragment.depends_on()
    }

    fn precompressed(fragment: &Fragment) -> bool {
        fragment.precompressed()
    }

    fn parse_tag(raw: &str) -> Option<Tag> {
        Tag::parse(raw)
    }

    fn requested_id(tag: &Tag) -> Option<i32> {
        tag.book_id()
    }

    fn touches(change: &Change) -> Vec<Tag> {
        change.touches()
    }
}
