use std::fmt;

/// A 1-based page number, bounded so no request can ask for an absurd offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PageNumber(u32);

impl PageNumber {
    pub(crate) const MAX: u32 = 1_000_000;
    /// `MAX` as readers write it, for the error message.
    const MAX_TEXT: &'static str = "1,000,000";
    pub(crate) const FIRST: PageNumber = PageNumber(1);

    /// `None` (no `page` parameter) is the first page.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, String> {
        let Some(raw) = raw else {
            return Ok(Self::FIRST);
        };
        let raw = raw.trim();
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "The page number must be a whole number from 1 to {}.",
                Self::MAX_TEXT
            ));
        }
        match raw.parse::<u32>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(format!(
                "The page number must be a whole number from 1 to {}.",
                Self::MAX_TEXT
            )),
        }
    }

    pub(crate) fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for PageNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A book id as it may appear in a URL: a positive 32-bit integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BookId(i32);

impl BookId {
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.is_empty() || raw.len() > 10 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse::<i32>().ok().filter(|&n| n > 0).map(Self)
    }

    pub(crate) fn get(self) -> i32 {
        self.0
    }
}

impl fmt::Display for BookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A rating: 1 to 5 stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stars(i32);

impl Stars {
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            s @ ("1" | "2" | "3" | "4" | "5") => Ok(Self(s.parse().unwrap_or(1))),
            _ => Err("a rating is a whole number of stars from 1 to 5".into()),
        }
    }

    pub(crate) fn get(self) -> i32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_bound_reads_as_it_is() {
        let max = super::PageNumber::MAX_TEXT.replace(',', "");
        assert_eq!(max, super::PageNumber::MAX.to_string());
    }

    use super::*;

    #[test]
    fn page_numbers() {
        assert_eq!(PageNumber::parse(None).unwrap().get(), 1);
        assert_eq!(PageNumber::parse(Some("3")).unwrap().get(), 3);
        for bad in [
            "0",
            "-1",
            "abc",
            "",
            "1.5",
            "+2",
            "99999999999999999999",
            "1000001",
        ] {
            assert!(PageNumber::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn book_ids() {
        assert_eq!(BookId::parse("42").unwrap().get(), 42);
        for bad in [
            "0",
            "-3",
            "x",
            "",
            "2147483648",
            "99999999999999999999",
            "4e2",
        ] {
            assert!(BookId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn stars() {
        assert_eq!(Stars::parse("4").unwrap().get(), 4);
        for bad in ["0", "6", "", "3.5", "five", "99999999999999999999"] {
            assert!(Stars::parse(bad).is_err(), "{bad}");
        }
    }
}
