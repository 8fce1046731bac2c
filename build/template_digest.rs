//! Digests of the askama templates, so that a cached fragment's key can carry
//! the version of the template it was rendered from.
//!
//! A template's digest covers its own bytes and, recursively, the digests of
//! every template it `extends` or `include`s: editing `base.html` changes the
//! digest of every page built on it, editing `home.html` changes only
//! `home.html`'s.
//!
//! Build-time code: `build.rs` includes this file (and `src/cache/fnv.rs`,
//! the hash it shares with the engine) with `#[path]` and computes the
//! digests into `$OUT_DIR`; the engine includes it only for its tests.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use super::fnv::fnv1a64;

/// The digest of every `*.html` file under `dir`, keyed by its path relative
/// to `dir` with `/` separators (`"home.html"`, `"admin/login.html"`).
///
/// A digest is 12 lowercase hex characters of FNV-1a over the template's
/// bytes followed by the digests of the templates it references through
/// `{% extends "…" %}` and `{% include "…" %}`, in order of appearance.
/// A reference resolves as askama resolves it: relative to the referencing
/// template's directory first, then relative to `dir`.
///
/// A reference to a missing file is a [`io::ErrorKind::NotFound`] error, a
/// cycle of references an [`io::ErrorKind::InvalidData`] error.
pub fn template_digests(dir: &Path) -> io::Result<BTreeMap<String, String>> {
    let mut names = Vec::new();
    collect_html(dir, "", &mut names)?;
    let mut digester = Digester {
        root: dir,
        done: BTreeMap::new(),
        visiting: Vec::new(),
    };
    let mut digests = BTreeMap::new();
    for name in names {
        let digest = digester.digest(&name)?;
        digests.insert(name, digest);
    }
    Ok(digests)
}

/// Appends the `/`-separated relative path of every `*.html` file under
/// `dir.join(prefix)`, in a deterministic order.
fn collect_html(root: &Path, prefix: &str, out: &mut Vec<String>) -> io::Result<()> {
    let here = if prefix.is_empty() {
        root.to_path_buf()
    } else {
        root.join(prefix)
    };
    let mut entries = std::fs::read_dir(&here)
        .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", here.display())))?
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let rel = if prefix.is_empty() {
            file_name.clone()
        } else {
            format!("{prefix}/{file_name}")
        };
        // Follows symlinks, as askama does when it reads a template.
        let meta = std::fs::metadata(entry.path())?;
        if meta.is_dir() {
            collect_html(root, &rel, out)?;
        } else if meta.is_file()
            && Path::new(&file_name)
                .extension()
                .is_some_and(|e| e == "html")
        {
            out.push(rel);
        }
    }
    Ok(())
}

struct Digester<'a> {
    root: &'a Path,
    /// Digests computed so far, by relative name.
    done: BTreeMap<String, String>,
    /// The chain of templates being digested, to detect cycles.
    visiting: Vec<String>,
}

impl Digester<'_> {
    fn digest(&mut self, name: &str) -> io::Result<String> {
        if let Some(digest) = self.done.get(name) {
            return Ok(digest.clone());
        }
        if self.visiting.iter().any(|v| v == name) {
            let mut chain = self.visiting.join(" -> ");
            chain.push_str(" -> ");
            chain.push_str(name);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("template reference cycle: {chain}"),
            ));
        }
        let path = self.root.join(name);
        let source = std::fs::read(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", path.display())))?;

        self.visiting.push(name.to_owned());
        let mut bytes = source.clone();
        for reference in references(&String::from_utf8_lossy(&source)) {
            let target = self.resolve(name, &reference)?;
            let digest = self.digest(&target)?;
            bytes.extend_from_slice(digest.as_bytes());
        }
        self.visiting.pop();

        let digest = format!("{:012x}", fnv1a64(&bytes) >> 16);
        self.done.insert(name.to_owned(), digest.clone());
        Ok(digest)
    }

    /// The relative name of the file `reference`, written in template `from`,
    /// stands for.
    fn resolve(&self, from: &str, reference: &str) -> io::Result<String> {
        let from_dir = from.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut candidates = Vec::new();
        if !from_dir.is_empty() {
            candidates.push(normalize(&format!("{from_dir}/{reference}")));
        }
        candidates.push(normalize(reference));
        candidates
            .into_iter()
            .flatten()
            .find(|candidate| self.root.join(candidate).is_file())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "template {from:?} references {reference:?}, which is not a file under {}",
                        self.root.display()
                    ),
                )
            })
    }
}

/// `path` with `.`, `..` and empty segments resolved, or `None` when it
/// leaves the template directory.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The names referenced by `{% extends "…" %}` and `{% include "…" %}` tags
/// (with optional `-`, `+` or `~` whitespace control), in order of appearance.
fn references(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("{%") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find("%}") else {
            break;
        };
        let tag = &rest[..end];
        rest = &rest[end + 2..];

        let tag = tag
            .strip_prefix(['-', '+', '~'])
            .unwrap_or(tag)
            .trim_start();
        let Some(after) = tag
            .strip_prefix("extends")
            .or_else(|| tag.strip_prefix("include"))
        else {
            continue;
        };
        if !after.starts_with(char::is_whitespace) && !after.starts_with(['"', '\'']) {
            continue; // e.g. `{% includes_something %}`
        }
        let after = after.trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let literal = &after[1..];
        if let Some(close) = literal.find(quote) {
            found.push(literal[..close].to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A template tree in a fresh temporary directory, removed on drop.
    struct Tree {
        dir: PathBuf,
    }

    impl Tree {
        fn new(files: &[(&str, &str)]) -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let dir = std::env::temp_dir().join(format!(
                "folio-template-digest-{}-{}-{nanos}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let tree = Tree { dir };
            for (name, body) in files {
                tree.write(name, body);
            }
            tree
        }

        fn write(&self, name: &str, body: &str) {
            let path = self.dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }

        fn digests(&self) -> BTreeMap<String, String> {
            template_digests(&self.dir).unwrap()
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    const SITE: &[(&str, &str)] = &[
        ("base.html", "<html>{% block body %}{% endblock %}</html>"),
        ("flash.html", "<p class=flash>{{ message }}</p>"),
        (
            "home.html",
            "{% extends \"base.html\" %}{% block body %}home{% endblock %}",
        ),
        (
            "books.html",
            "{%- extends 'base.html' -%}{% block body %}{% include \"flash.html\" %}books{% endblock %}",
        ),
        ("error.html", "<html>standalone error page</html>"),
        (
            "admin/layout.html",
            "{% extends \"base.html\" %}{% block body %}admin{% block admin %}{% endblock %}{% endblock %}",
        ),
        (
            "admin/login.html",
            "{% extends \"admin/layout.html\" %}{% block admin %}login{% endblock %}",
        ),
        ("notes.txt", "not a template"),
    ];

    fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        before
            .iter()
            .filter(|(name, digest)| after[*name] != **digest)
            .map(|(name, _)| name.clone())
            .collect()
    }

    #[test]
    fn fnv1a64_matches_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn digests_every_html_file_as_twelve_hex_chars() {
        let tree = Tree::new(SITE);
        let digests = tree.digests();
        assert_eq!(
            digests.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "admin/layout.html",
                "admin/login.html",
                "base.html",
                "books.html",
                "error.html",
                "flash.html",
                "home.html",
            ]
        );
        for (name, digest) in &digests {
            assert_eq!(digest.len(), 12, "{name}: {digest}");
            assert!(
                digest
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "{name}: {digest}"
            );
        }
    }

    #[test]
    fn identical_trees_give_identical_digests() {
        let a = Tree::new(SITE);
        let b = Tree::new(SITE);
        assert_eq!(a.digests(), b.digests());
    }

    #[test]
    fn changing_a_child_changes_only_that_child() {
        let tree = Tree::new(SITE);
        let before = tree.digests();
        tree.write(
            "home.html",
            "{% extends \"base.html\" %}{% block body %}new home{% endblock %}",
        );
        assert_eq!(changed(&before, &tree.digests()), ["home.html"]);
    }

    #[test]
    fn changing_a_parent_changes_all_its_descendants_only() {
        let tree = Tree::new(SITE);
        let before = tree.digests();
        tree.write(
            "base.html",
            "<html lang=en>{% block body %}{% endblock %}</html>",
        );
        assert_eq!(
            changed(&before, &tree.digests()),
            [
                "admin/layout.html",
                "admin/login.html",
                "base.html",
                "books.html",
                "home.html",
            ]
        );
    }

    #[test]
    fn changing_an_included_template_changes_its_includers() {
        let tree = Tree::new(SITE);
        let before = tree.digests();
        tree.write("flash.html", "<p class=\"flash\">{{ message }}</p>");
        assert_eq!(
            changed(&before, &tree.digests()),
            ["books.html", "flash.html"]
        );
    }

    #[test]
    fn references_resolve_relative_to_the_template_then_the_root() {
        let tree = Tree::new(SITE);
        let before = tree.digests();

        // admin/login.html's "admin/layout.html" has no admin/admin/ match,
        // so it is the root's; admin/layout.html's "base.html" is the root's
        // while admin/base.html does not exist.
        tree.write("admin/layout.html", "{% extends \"base.html\" %}changed");
        assert_eq!(
            changed(&before, &tree.digests()),
            ["admin/layout.html", "admin/login.html"]
        );

        // Once admin/base.html exists, admin/layout.html's "base.html" is it.
        let before = tree.digests();
        tree.write("admin/base.html", "<html>admin base</html>");
        let after = tree.digests();
        assert_eq!(
            changed(&before, &{
                let mut a = after.clone();
                a.remove("admin/base.html");
                a
            }),
            ["admin/layout.html", "admin/login.html"]
        );
        let before = after;
        tree.write("base.html", "<html>root base changed</html>");
        assert_eq!(
            changed(&before, &tree.digests()),
            ["base.html", "books.html", "home.html"]
        );
    }

    #[test]
    fn a_missing_reference_is_an_error() {
        let tree = Tree::new(&[("page.html", "{% include \"nowhere.html\" %}")]);
        let err = template_digests(&tree.dir).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("nowhere.html"), "{err}");
    }

    #[test]
    fn a_cycle_is_an_error() {
        let tree = Tree::new(&[
            ("a.html", "{% extends \"b.html\" %}"),
            ("b.html", "{% include \"a.html\" %}"),
        ]);
        let err = template_digests(&tree.dir).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("cycle"), "{err}");

        let tree = Tree::new(&[("self.html", "{% include 'self.html' %}")]);
        assert!(template_digests(&tree.dir).is_err());
    }

    #[test]
    fn finds_references_with_whitespace_control_and_either_quote() {
        assert_eq!(
            references(
                "{%- extends \"a.html\" -%}{%include 'b.html'%}{%+ include \"c/d.html\" +%}\
                 {% includes 'no.html' %}{% block include %}{% endblock %}"
            ),
            ["a.html", "b.html", "c/d.html"]
        );
    }

    mod generated {
        include!(concat!(env!("OUT_DIR"), "/template_digests.rs"));

        #[test]
        fn the_build_script_digests_the_crate_templates() {
            let home = template_digest("home.html").expect("home.html has a digest");
            assert_eq!(home.len(), 12);
            assert!(home
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
            assert!(template_digest("admin/login.html").is_some());
            assert_eq!(template_digest("nope.html"), None);
        }
    }
}
