//! Where sign-in sends an admin afterwards: the page they asked for, if it
//! is a path of this site. Anything else (another host, a scheme, a
//! protocol-relative `//host`, a backslash browsers read as a slash) is
//! refused, so the sign-in form cannot be made into an open redirect.

/// Longer than any admin URL folio makes.
const MAX_RETURN_CHARS: usize = 512;

/// A same-site path (and query), e.g. `/admin/books/5/edit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReturnPath(String);

impl ReturnPath {
    /// The dashboard, where sign-in goes when nothing else was asked for.
    pub(crate) fn dashboard() -> Self {
        Self("/admin".into())
    }

    /// `None` unless `raw` is a path of this site that sign-in may go to.
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        let ok = raw.starts_with('/')
            && raw.chars().count() <= MAX_RETURN_CHARS
            // `//evil.example` and `/\evil.example` name another host.
            && !raw.starts_with("//")
            && !raw.contains('\\')
            // Controls (a tab or newline inside `/\t/evil` is dropped by
            // browsers) and spaces have no place in a path folio makes.
            && raw.chars().all(|c| c.is_ascii_graphic())
            // Not back to the sign-in or sign-out pages themselves.
            && !raw.starts_with("/admin/login")
            && !raw.starts_with("/admin/logout");
        ok.then(|| Self(raw.to_owned()))
    }

    /// Parses an optional value; anything refused is the dashboard.
    pub(crate) fn or_dashboard(raw: Option<&str>) -> Self {
        raw.and_then(Self::parse).unwrap_or_else(Self::dashboard)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether sign-in needs to carry it (the dashboard is the default).
    pub(crate) fn is_dashboard(&self) -> bool {
        self.0 == "/admin"
    }
}

#[cfg(test)]
mod tests {
    use super::ReturnPath;

    #[test]
    fn paths_of_this_site_are_kept() {
        for path in [
            "/admin/books/5/edit",
            "/admin/books?q=lisbon&page=2",
            "/books/7",
        ] {
            assert_eq!(ReturnPath::parse(path).unwrap().as_str(), path);
        }
    }

    #[test]
    fn other_sites_and_tricks_are_refused() {
        for hostile in [
            "https://evil.example/",
            "//evil.example/admin",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/admin\n/x",
            "javascript:alert(1)",
            "evil.example",
            "",
            " /admin",
            "/admin/login?next=/admin",
            "/admin/logout",
        ] {
            assert_eq!(ReturnPath::parse(hostile), None, "{hostile:?}");
        }
        assert_eq!(ReturnPath::parse(&format!("/{}", "a".repeat(600))), None);
        assert_eq!(
            ReturnPath::or_dashboard(Some("//evil.example")),
            ReturnPath::dashboard()
        );
    }
}
