//! What the engine asks of an application's cache policy: which fragments
//! exist and how each is keyed, kept and invalidated. The engine is generic
//! over it ([`super::engine::Cache`]`<P>`) and knows nothing of the app's
//! fragments, tags or settings; folio's answers are `policy.rs`.

use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::time::Duration;

use crate::redis::keys::EntryName;

/// An application's cache policy. A value of it lives in the engine, so the
/// answers that come from settings (TTLs, the grace period) can be given.
pub trait CachePolicy: Send + Sync + 'static {
    /// Every cached thing the application serves; its [`EntryName`] is its
    /// key below the namespace.
    type Fragment: EntryName + Copy + Eq + Hash + Debug + Send + Sync + 'static;
    /// Something entries depend on; its text form names its version key.
    type Tag: Display + Copy + Eq + Debug + Send + Sync + 'static;
    /// A write as the application records it, which touches some tags.
    type Change;

    /// Fragment names (for metrics and logs), in [`Self::kind_index`] order.
    const FRAGMENT_NAMES: &'static [&'static str];
    /// The tag every fragment but versioned rows depends on: bumping it
    /// invalidates everything (after a Redis master switch).
    const EVERYTHING: Self::Tag;

    /// The fragment's kind, an index into [`Self::FRAGMENT_NAMES`].
    fn kind_index(fragment: &Self::Fragment) -> usize;
    /// How long a fragment's entry is fresh.
    fn ttl(&self, fragment: &Self::Fragment) -> Duration;
    /// How long past its TTL an entry is kept as a last good copy.
    fn grace(&self) -> Duration;
    /// How long a tag's version key lives: longer than any entry recording it.
    fn tag_ttl(&self) -> Duration;
    /// The tags known before computing the fragment.
    fn depends_on(fragment: &Self::Fragment) -> Vec<Self::Tag>;
    /// Whether compressed copies of the fragment's body are worth keeping.
    fn precompressed(fragment: &Self::Fragment) -> bool;
    /// Reads a tag from its text form; `None` if the policy knows no such tag.
    fn parse_tag(raw: &str) -> Option<Self::Tag>;
    /// The id a tag names when requests name it (`/books/{id}`): its keys
    /// are made only once the thing is known to exist (see `requested.rs`).
    fn requested_id(tag: &Self::Tag) -> Option<i32>;
    /// The tags a change touches.
    fn touches(change: &Self::Change) -> Vec<Self::Tag>;

    /// The fragment's name without parameters, for metrics and logs.
    fn name(fragment: &Self::Fragment) -> &'static str {
        Self::FRAGMENT_NAMES[Self::kind_index(fragment)]
    }
}

#[cfg(test)]
mod tests {
    //! The engine's files name nothing of the app's: its policy comes in as
    //! the type parameter `P`. Read from the source, like `tests/api/layers.rs`.

    use std::path::{Path, PathBuf};

    /// The app's side of `src/cache`: its policy, and the module root that
    /// puts engine and policy together (`pub type Cache`).
    const APP_SIDE: [&str; 3] = ["policy.rs", "policy", "mod.rs"];
    /// The only other top-level modules the engine may use: infrastructure.
    const ENGINE_MAY_USE: [&str; 4] = ["cache", "clock", "redis", "token"];
    /// Names of the app's policy that the engine must not import.
    const APP_NAMES: [&str; 6] = ["policy", "Fragment", "Tag", "Change", "Ttls", "FolioPolicy"];

    fn engine_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if APP_SIDE.contains(&name.as_str()) {
                continue;
            }
            if path.is_dir() {
                engine_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// What a file's code (up to its unit tests, outside comments) imports
    /// of the app: each `use` statement naming one of `APP_NAMES`, a
    /// `crate::` module outside `ENGINE_MAY_USE`, or a `policy::` path.
    fn app_imports(text: &str) -> Vec<String> {
        let code: Vec<&str> = text
            .lines()
            .take_while(|l| l.trim() != "#[cfg(test)]")
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect();
        let mut found = Vec::new();
        let mut statement = String::new();
        for line in &code {
            let trimmed = line.trim_start();
            let starts_use = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
                .iter()
                .any(|p| trimmed.starts_with(p));
            if !starts_use && statement.is_empty() {
                // A path written out in code (`super::policy::Tag::All`).
                if line.contains("policy::") {
                    found.push(trimmed.trim_end().to_owned());
                }
            } else {
                statement.push_str(trimmed);
                statement.push(' ');
                if !trimmed.contains(';') {
                    continue;
                }
                let words: Vec<&str> = statement
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .filter(|w| !w.is_empty())
                    .collect();
                let app_name = words.iter().any(|w| APP_NAMES.contains(w));
                let outside = words
                    .windows(2)
                    .any(|w| w[0] == "crate" && !ENGINE_MAY_USE.contains(&w[1]));
                if app_name || outside {
                    found.push(statement.trim().to_owned());
                }
                statement.clear();
            }
        }
        found
    }

    #[test]
    fn the_engine_imports_nothing_of_the_app() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cache");
        let mut files = Vec::new();
        engine_files(&dir, &mut files);
        assert!(files.len() > 20, "engine files not found in {dir:?}");
        let mut offences = Vec::new();
        for file in files {
            for import in app_imports(&std::fs::read_to_string(&file).unwrap()) {
                offences.push(format!("{}: {import}", file.display()));
            }
        }
        assert!(
            offences.is_empty(),
            "engine files import the app's policy or modules (take them from `P: CachePolicy`):\n{}",
            offences.join("\n")
        );
    }

    #[test]
    fn the_check_finds_the_apps_own_imports() {
        let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cache/policy.rs");
        let imports = app_imports(&std::fs::read_to_string(policy).unwrap());
        assert!(
            imports.iter().any(|i| i.contains("crate::domain")),
            "{imports:?}"
        );
        assert_eq!(
            app_imports("use super::policy::{Fragment,\n    Tag};\nfn f() {}\n"),
            vec!["use super::policy::{Fragment, Tag};".to_owned()]
        );
    }
}
