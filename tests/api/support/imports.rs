//! Reads `src/` for `tests/api/layers.rs`: the modules, the `crate::` and
//! `super::` paths each file uses, and the import circles they form.

use std::collections::{BTreeMap, BTreeSet};
use std::iter::Peekable;
use std::path::{Path, PathBuf};
use std::str::Chars;

pub(crate) type Graph = BTreeMap<String, BTreeSet<String>>;
/// A module's path from the crate root: `[]` is the crate itself,
/// `["cache", "store"]` is `crate::cache::store`.
pub(crate) type ModPath = Vec<String>;

pub(crate) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file under `src/` is, or `None` for the files of other
/// crates (`main.rs`, `bin/`), whose `crate::` is not this one.
pub(crate) fn module_of(src: &Path, file: &Path) -> Option<ModPath> {
    let mut path: ModPath = file
        .strip_prefix(src)
        .ok()?
        .with_extension("")
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if path == ["main"] || path.first().is_some_and(|first| first == "bin") {
        return None;
    }
    if path == ["lib"] || path.last().is_some_and(|last| last == "mod") {
        path.pop();
    }
    Some(path)
}

/// The child modules of a directory module: its `x.rs` files and its
/// directories with a `mod.rs` (a directory beside `x.rs` is `x`'s).
pub(crate) fn children(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(module) = name.strip_suffix(".rs") {
            if !["mod", "lib", "main"].contains(&module) {
                found.insert(module.to_owned());
            }
        } else if path.join("mod.rs").is_file() {
            found.insert(name);
        }
    }
    found
}

/// Every module that has children, with them: the crate (`src/`), and each
/// module with a directory of its own.
pub(crate) fn directory_modules(
    dir: &Path,
    module: &[String],
    out: &mut BTreeMap<ModPath, BTreeSet<String>>,
) {
    let found = children(dir);
    for child in &found {
        if dir.join(child).is_dir() {
            let mut path = module.to_vec();
            path.push(child.clone());
            directory_modules(&dir.join(child), &path, out);
        }
    }
    if !found.is_empty() {
        out.insert(module.to_vec(), found);
    }
}

/// A file's code: up to its unit tests, outside comments.
pub(crate) fn code_of(text: &str) -> String {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(crate) fn skip_whitespace(chars: &mut Peekable<Chars>) {
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
}

/// The paths a use tree (or a path written out in code) names, read from
/// its start: `a::b` names `[a, b]`, `a::{b::c, d}` names `[a, b, c]` and
/// `[a, d]`, and `self` in a group names the group's prefix.
pub(crate) fn tree_paths(chars: &mut Peekable<Chars>) -> Vec<ModPath> {
    let mut prefix = ModPath::new();
    loop {
        skip_whitespace(chars);
        if chars.peek() == Some(&'{') {
            chars.next();
            let mut found = Vec::new();
            loop {
                for path in tree_paths(chars) {
                    found.push(prefix.iter().cloned().chain(path).collect());
                }
                // Past what may follow an item (`as name`, `*`), to the
                // next item or the group's end.
                let separator = chars.find(|c| *c == ',' || *c == '}');
                if separator != Some(',') {
                    return found;
                }
            }
        }
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| is_ident(*c)) {
            name.push(c);
        }
        if name.is_empty() || name == "self" {
            break;
        }
        prefix.push(name);
        if chars.next_if_eq(&':').is_none() || chars.next_if_eq(&':').is_none() {
            break;
        }
    }
    vec![prefix]
}

/// The module paths a file of `module` names through `crate::` and
/// `super::` (resolved from `module`; one that climbs past the crate is
/// left out), each from the crate root.
pub(crate) fn used_paths(code: &str, module: &[String]) -> Vec<ModPath> {
    let mut found = Vec::new();
    let mut previous = ' ';
    let mut at = 0;
    while let Some(c) = code[at..].chars().next() {
        let rest = &code[at..];
        let mut base = None;
        let mut consumed = c.len_utf8();
        if !is_ident(previous) {
            if rest.starts_with("crate::") {
                base = Some(ModPath::new());
                consumed = "crate::".len();
            } else if rest.starts_with("super::") {
                let mut resolved = Some(module.to_vec());
                consumed = 0;
                while rest[consumed..].starts_with("super::") {
                    resolved = resolved.and_then(|mut m| m.pop().map(|_| m));
                    consumed += "super::".len();
                }
                base = resolved;
            }
        }
        if let Some(base) = base {
            for path in tree_paths(&mut code[at + consumed..].chars().peekable()) {
                found.push(base.iter().cloned().chain(path).collect());
            }
        }
        previous = code[..at + consumed].chars().next_back().unwrap_or(' ');
        at += consumed;
    }
    found
}

/// The module names a line of code refers to through `crate::`: the first
/// name of each path.
pub(crate) fn crate_paths(code: &str) -> Vec<String> {
    used_paths(code, &[])
        .into_iter()
        .map(|path| path.into_iter().next().unwrap_or_default())
        .collect()
}

/// For every directory module, the graph of its children: `a` → `b` when
/// a file of `a` (or under it) names `b` or something in it.
pub(crate) fn graphs_of(
    files: &[(ModPath, String)],
    directories: &BTreeMap<ModPath, BTreeSet<String>>,
) -> BTreeMap<ModPath, Graph> {
    let mut graphs: BTreeMap<ModPath, Graph> = directories
        .iter()
        .map(|(module, children)| {
            let graph = children
                .iter()
                .map(|c| (c.clone(), BTreeSet::new()))
                .collect();
            (module.clone(), graph)
        })
        .collect();
    for (module, code) in files {
        for used in used_paths(code, module) {
            // Where the file's module and the path it names part: below
            // `parent`, the child `from` (the file is in it) uses `to`.
            let common = module.iter().zip(&used).take_while(|(a, b)| a == b).count();
            let (Some(from), Some(to)) = (module.get(common), used.get(common)) else {
                continue;
            };
            let parent = &module[..common];
            if directories.get(parent).is_some_and(|c| c.contains(to)) {
                graphs
                    .get_mut(parent)
                    .unwrap()
                    .entry(from.clone())
                    .or_default()
                    .insert(to.clone());
            }
        }
    }
    graphs
}

pub(crate) fn import_graphs(src: &Path) -> BTreeMap<ModPath, Graph> {
    let mut directories = BTreeMap::new();
    directory_modules(src, &[], &mut directories);
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    let files: Vec<(ModPath, String)> = paths
        .iter()
        .filter_map(|file| {
            let module = module_of(src, file)?;
            Some((module, code_of(&std::fs::read_to_string(file).unwrap())))
        })
        .collect();
    graphs_of(&files, &directories)
}

/// The graph of the top-level modules of `src/`.
pub(crate) fn import_graph(src: &Path) -> Graph {
    import_graphs(src)
        .remove(&ModPath::new())
        .unwrap_or_default()
}

/// A circle through `from`, as the list of modules along it, if any.
pub(crate) fn circle_from(graph: &Graph, from: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &Graph,
        at: &str,
        goal: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == goal {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, next, goal, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![from.to_owned()];
    walk(graph, from, from, &mut path, &mut BTreeSet::new()).then_some(path)
}

pub(crate) fn circles(graph: &Graph) -> Vec<String> {
    graph
        .keys()
        .filter_map(|m| circle_from(graph, m))
        .map(|c| c.join(" → "))
        .collect()
}

pub(crate) fn named(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        format!("crate::{}", module.join("::"))
    }
}

/// Every circle of every directory module, named with the module whose
/// children it goes through (`crate::cache: engine → usage → engine`).
pub(crate) fn all_circles(graphs: &BTreeMap<ModPath, Graph>) -> Vec<String> {
    graphs
        .iter()
        .flat_map(|(module, graph)| {
            circles(graph)
                .into_iter()
                .map(move |circle| format!("{}: {circle}", named(module)))
        })
        .collect()
}

pub(crate) fn mod_path(name: &str) -> ModPath {
    name.split("::")
        .filter(|part| *part != "crate")
        .map(str::to_owned)
        .collect()
}
