//! The orders the catalogue can be listed in (`/books?sort=`).

/// Title (as a library files it) is the default; the others sort by it
/// within equal values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CatalogueSort {
    Title,
    Author,
    /// Newest first; books without a year last.
    Year,
    /// Highest average first; unrated books last.
    Rating,
}

impl CatalogueSort {
    pub(crate) const ALL: [CatalogueSort; 4] =
        [Self::Title, Self::Author, Self::Year, Self::Rating];

    /// `None` (no `sort` parameter) is by title.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.map(str::trim) {
            None | Some("" | "title") => Ok(Self::Title),
            Some("author") => Ok(Self::Author),
            Some("year") => Ok(Self::Year),
            Some("rating") => Ok(Self::Rating),
            Some(_) => Err("The list can be sorted by title, author, year or rating only.".into()),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Author => "author",
            Self::Year => "year",
            Self::Rating => "rating",
        }
    }

    /// The sort link's text.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Title => "Title",
            Self::Author => "Author",
            Self::Year => "Newest",
            Self::Rating => "Best rated",
        }
    }

    /// The `/books` query that keeps this order (empty for the default).
    pub(crate) fn query_prefix(self) -> &'static str {
        match self {
            Self::Title => "?",
            Self::Author => "?sort=author&",
            Self::Year => "?sort=year&",
            Self::Rating => "?sort=rating&",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CatalogueSort;

    #[test]
    fn sorts_round_trip_and_unknown_ones_are_refused() {
        for sort in CatalogueSort::ALL {
            assert_eq!(CatalogueSort::parse(Some(sort.as_str())), Ok(sort));
        }
        assert_eq!(CatalogueSort::parse(None), Ok(CatalogueSort::Title));
        assert!(CatalogueSort::parse(Some("price")).is_err());
    }
}
