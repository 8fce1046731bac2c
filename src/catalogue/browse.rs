//! Browsing the catalogue: author pages and the A–Z jump.

use super::{Catalogue, PER_PAGE};
use crate::db::browse as q;
use crate::db::models::BookListItem;
use crate::db::DataError;

/// How many of an author's books their page lists.
pub(crate) const AUTHOR_BOOKS: i64 = 200;

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct AuthorBooks {
    pub(crate) author: String,
    pub(crate) total: i64,
    pub(crate) books: Vec<BookListItem>,
}

impl Catalogue {
    /// The books of the author with exactly this name; `None` if there are
    /// none (no such author).
    pub(crate) async fn author(&self, name: String) -> Result<Option<AuthorBooks>, DataError> {
        self.db()
            .run(move |c| {
                let (total, books) = q::books_by_author(c, &name, AUTHOR_BOOKS)?;
                Ok((total > 0).then_some(AuthorBooks {
                    author: name,
                    total,
                    books,
                }))
            })
            .await
    }

    /// The catalogue page on which titles filed under `letter` begin.
    pub(crate) async fn page_of_letter(&self, letter: char) -> Result<u32, DataError> {
        let prefix = letter.to_ascii_lowercase().to_string();
        let before = self
            .db()
            .run(move |c| q::count_filed_before(c, &prefix))
            .await?;
        Ok(u32::try_from(before / i64::from(PER_PAGE) + 1).unwrap_or(u32::MAX))
    }
}

/// The letter a title is filed under: its first letter once a leading
/// "The", "A" or "An" is set aside (as `books.sort_title` does); `None` for
/// a title that starts with anything else (a digit, a quote).
pub fn filing_letter(title: &str) -> Option<char> {
    let lower = title.to_lowercase();
    let filed = ["the ", "an ", "a "]
        .iter()
        .find_map(|article| lower.strip_prefix(article))
        .unwrap_or(&lower)
        .trim_start();
    filed
        .chars()
        .next()
        .filter(char::is_ascii_lowercase)
        .map(|c| c.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::filing_letter;

    #[test]
    fn titles_are_filed_without_their_article() {
        assert_eq!(filing_letter("The Hobbit"), Some('H'));
        assert_eq!(filing_letter("a tale of two cities"), Some('T'));
        assert_eq!(filing_letter("An Orchard"), Some('O'));
        assert_eq!(filing_letter("Anna Karenina"), Some('A'));
        assert_eq!(filing_letter("Theology"), Some('T'));
        assert_eq!(filing_letter("1984"), None);
    }
}
