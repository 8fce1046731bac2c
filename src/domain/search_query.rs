//! What a reader typed in the search box, parsed into the words searched for.

use std::fmt;

/// The longest query the box takes (the input's `maxlength` too).
pub(crate) const MAX_QUERY_CHARS: usize = 200;
/// Words past this many are not searched for: each costs the index a lookup.
pub(crate) const MAX_TERMS: usize = 8;

/// A search: the text as typed (trimmed, for the box) and its words,
/// lowercased, each matched as a prefix ("archi" finds "Archive"). Words are
/// letters and digits; a hyphen between digits joins them, so a hyphenated
/// ISBN is one word, as the index stores ISBNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SearchQuery {
    typed: String,
    terms: Vec<String>,
}

impl SearchQuery {
    /// `None` or blank: no search (the page shows the box only).
    pub(crate) fn parse(raw: Option<&str>) -> Result<Option<Self>, String> {
        let typed = raw.unwrap_or("").trim();
        if typed.chars().count() > MAX_QUERY_CHARS {
            return Err(format!(
                "A search can be at most {MAX_QUERY_CHARS} characters long."
            ));
        }
        let terms = terms(typed);
        if terms.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            typed: typed.to_owned(),
            terms,
        }))
    }

    pub(crate) fn typed(&self) -> &str {
        &self.typed
    }

    pub(crate) fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The words in one canonical form: two queries with the same words are
    /// the same search (and share a cache entry).
    pub(crate) fn normalized(&self) -> String {
        self.terms.join(" ")
    }
}

impl fmt::Display for SearchQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized())
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit()
}

fn terms(typed: &str) -> Vec<String> {
    let chars: Vec<char> = typed.chars().collect();
    let mut terms: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if is_word_char(c) {
            word.extend(c.to_lowercase());
            continue;
        }
        let joins_digits = c == '-'
            && word.ends_with(|p: char| p.is_ascii_digit())
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_digit() || *n == 'X' || *n == 'x');
        if !joins_digits {
            push(&mut terms, std::mem::take(&mut word));
        }
    }
    push(&mut terms, word);
    terms
}

fn push(terms: &mut Vec<String>, word: String) {
    if !word.is_empty() && terms.len() < MAX_TERMS && !terms.contains(&word) {
        terms.push(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(raw: &str) -> Vec<String> {
        SearchQuery::parse(Some(raw))
            .unwrap()
            .map(|q| q.terms().to_vec())
            .unwrap_or_default()
    }

    #[test]
    fn words_are_lowercased_letters_and_digits() {
        assert_eq!(words("  Archive of LISBON "), ["archive", "of", "lisbon"]);
        assert_eq!(words("O'Brien, Flann!"), ["o", "brien", "flann"]);
        assert_eq!(words("Éluard"), ["éluard"]);
    }

    #[test]
    fn hyphens_inside_an_isbn_are_ignored() {
        assert_eq!(words("978-0-441-01359-3"), ["9780441013593"]);
        assert_eq!(words("0-8044-2957-X"), ["080442957x"]);
        // Between words a hyphen separates.
        assert_eq!(
            words("Jean-Paul 1984-Sartre"),
            ["jean", "paul", "1984", "sartre"]
        );
    }

    #[test]
    fn blank_or_punctuation_is_no_search_and_long_input_is_refused() {
        assert_eq!(SearchQuery::parse(None), Ok(None));
        assert_eq!(SearchQuery::parse(Some("  -- ** ")), Ok(None));
        assert!(SearchQuery::parse(Some(&"a".repeat(MAX_QUERY_CHARS))).is_ok());
        assert!(SearchQuery::parse(Some(&"a".repeat(MAX_QUERY_CHARS + 1))).is_err());
    }

    #[test]
    fn words_are_bounded_and_repeats_count_once() {
        assert_eq!(words("a b a c"), ["a", "b", "c"]);
        assert_eq!(words("1 2 3 4 5 6 7 8 9 10").len(), MAX_TERMS);
        let q = SearchQuery::parse(Some("The  Hobbit")).unwrap().unwrap();
        assert_eq!(q.normalized(), "the hobbit");
        assert_eq!(q.typed(), "The  Hobbit");
    }
}
