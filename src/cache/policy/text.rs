//! The text forms of the policy's tags and changes: a tag's name (`book:7`,
//! also its key's and the CLI's `--tag`), and a change log subject
//! (`book-deleted:7`, as the database's triggers write it).

use std::fmt;

use super::{Change, Tag};

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::Chart => f.write_str("chart"),
            Tag::Books => f.write_str("books"),
            Tag::Book(id) => write!(f, "book:{id}"),
            Tag::Ratings(id) => write!(f, "ratings:{id}"),
            Tag::AnyRatings => f.write_str("ratings"),
            Tag::All => f.write_str("all"),
        }
    }
}

impl Tag {
    /// Parses `chart`, `books`, `all`, `book:{id}` or `ratings:{id}` (the
    /// CLI's `--tag`).
    pub(crate) fn parse(raw: &str) -> Option<Tag> {
        match raw {
            "chart" => Some(Tag::Chart),
            "books" => Some(Tag::Books),
            "ratings" => Some(Tag::AnyRatings),
            "all" => Some(Tag::All),
            _ => {
                let (kind, id) = raw.split_once(':')?;
                let id: i32 = id.parse().ok().filter(|&id| id > 0)?;
                match kind {
                    "book" => Some(Tag::Book(id)),
                    "ratings" => Some(Tag::Ratings(id)),
                    _ => None,
                }
            }
        }
    }
}

impl Change {
    /// Reads a subject of the change log. An unknown one (a newer
    /// migration's, say) is `Everything`: safe, if slow.
    pub fn parse(subject: &str) -> Change {
        let id = |raw: &str| raw.parse::<i32>().ok();
        let parsed = match subject.split_once(':') {
            None => match subject {
                "chart" => Some(Change::ChartRecompute),
                "all" => Some(Change::Everything),
                _ => None,
            },
            Some(("book", raw)) => id(raw).map(Change::BookWritten),
            Some(("book-deleted", raw)) => id(raw).map(Change::BookDeleted),
            Some(("ratings", raw)) => id(raw).map(Change::Ratings),
            Some(_) => None,
        };
        parsed.unwrap_or(Change::Everything)
    }

    /// The subject as the change log writes it.
    pub fn subject(&self) -> String {
        match self {
            Change::BookWritten(id) => format!("book:{id}"),
            Change::BookDeleted(id) => format!("book-deleted:{id}"),
            Change::Ratings(id) => format!("ratings:{id}"),
            Change::ChartRecompute => "chart".into(),
            Change::Everything => "all".into(),
        }
    }
}
