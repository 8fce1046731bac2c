//! The tag versions an entry was computed under, and their one text form:
//! `<tag>=<version>` pairs separated by spaces. It is the second line of a
//! stored entry (which the Redis read script checks), and the body of an
//! invalidation message on the coherence channel.

use std::fmt;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TagVersions(Vec<(String, u64)>);

impl TagVersions {
    /// Pairs of tag names and versions, as given.
    #[cfg(test)]
    pub(crate) fn new(pairs: Vec<(String, u64)>) -> Self {
        Self(pairs)
    }

    /// `tags` at `versions`, in order.
    pub(crate) fn of(tags: &[impl fmt::Display], versions: impl IntoIterator<Item = u64>) -> Self {
        Self(tags.iter().map(ToString::to_string).zip(versions).collect())
    }

    /// Parses the text form; `None` if any pair is malformed.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::pairs(text).collect::<Option<Vec<_>>>().map(Self)
    }

    /// Parses the text form, skipping malformed pairs (an invalidation
    /// message: whatever it does say is applied).
    pub(crate) fn parse_lenient(text: &str) -> Self {
        Self(Self::pairs(text).flatten().collect())
    }

    fn pairs(text: &str) -> impl Iterator<Item = Option<(String, u64)>> + '_ {
        text.split(' ').filter(|s| !s.is_empty()).map(|pair| {
            let (tag, version) = pair.split_once('=')?;
            Some((tag.to_owned(), version.parse().ok()?))
        })
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(tag, v)| (tag.as_str(), *v))
    }

    pub(crate) fn contains(&self, tag: &str) -> bool {
        self.0.iter().any(|(t, _)| t == tag)
    }

    /// Adds `tag` at `version` unless it is already recorded.
    pub(crate) fn record(&mut self, tag: String, version: u64) {
        if !self.contains(&tag) {
            self.0.push((tag, version));
        }
    }

    /// The tags as the policy reads them (`parse`); `None` if one is
    /// unknown to it.
    pub(crate) fn tags<T>(&self, parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
        self.0.iter().map(|(name, _)| parse(name)).collect()
    }
}

impl fmt::Display for TagVersions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (tag, version)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{tag}={version}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::policy::Tag;

    #[test]
    fn the_text_form_round_trips() {
        let versions = TagVersions::new(vec![
            ("chart".into(), 0),
            ("book:7".into(), 1_700_000_000_000_000),
        ]);
        assert_eq!(versions.to_string(), "chart=0 book:7=1700000000000000");
        assert_eq!(TagVersions::parse(&versions.to_string()), Some(versions));
        assert_eq!(TagVersions::parse(""), Some(TagVersions::default()));
    }

    #[test]
    fn a_malformed_pair_fails_the_strict_parse_only() {
        assert_eq!(TagVersions::parse("chart=1 books"), None);
        assert_eq!(TagVersions::parse("chart=x"), None);
        assert_eq!(
            TagVersions::parse_lenient("chart=1 books book:2=3"),
            TagVersions::new(vec![("chart".into(), 1), ("book:2".into(), 3)])
        );
    }

    #[test]
    fn tags_are_named_by_the_policy() {
        let known = TagVersions::new(vec![("chart".into(), 1), ("book:2".into(), 3)]);
        assert_eq!(known.tags(Tag::parse), Some(vec![Tag::Chart, Tag::Book(2)]));
        let unknown = TagVersions::new(vec![("nope".into(), 1)]);
        assert_eq!(unknown.tags(Tag::parse), None);
    }

    #[test]
    fn a_tag_is_recorded_once() {
        let mut versions = TagVersions::default();
        versions.record("chart".into(), 1);
        versions.record("chart".into(), 2);
        assert_eq!(versions.iter().collect::<Vec<_>>(), vec![("chart", 1)]);
    }
}
