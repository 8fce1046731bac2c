//! The top-level modules of `src/` form no import circle: each may use the
//! ones below it, never one that (through others) uses it back. Read from
//! the source: every `crate::<module>` path (and `crate::{a, b}` group)
//! outside comments, in every file under a module, up to its unit tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module names a line of code refers to through `crate::`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            // Only the first name of each item: `a::b, c` names a and c.
            for item in inner.split(',') {
                found.push(item.trim().split("::").next().unwrap_or("").to_owned());
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
        rest = after;
    }
    found
}

fn import_graph(src: &Path) -> Graph {
    let modules: BTreeSet<String> = std::fs::read_dir(src)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let module = name.strip_suffix(".rs").unwrap_or(&name).to_owned();
            (module != "main" && module != "lib").then_some(module)
        })
        .collect();
    let mut graph = Graph::new();
    for module in &modules {
        let mut files = Vec::new();
        let dir = src.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        let uses = graph.entry(module.clone()).or_default();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            // Unit tests at the bottom of a file may use anything.
            let lines = text.lines().take_while(|l| l.trim() != "#[cfg(test)]");
            for line in lines {
                let code = line.split("//").next().unwrap_or("");
                for used in crate_paths(code) {
                    if used != *module && modules.contains(&used) {
                        uses.insert(used);
                    }
                }
            }
        }
    }
    graph
}

/// A circle through `from`, as the list of modules along it, if any.
fn circle_from(graph: &Graph, from: &str) -> Option<Vec<String>> {
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

fn circles(graph: &Graph) -> Vec<String> {
    graph
        .keys()
        .filter_map(|m| circle_from(graph, m))
        .map(|c| c.join(" → "))
        .collect()
}

#[test]
fn top_level_modules_import_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = import_graph(&src);
    assert!(graph.len() > 5, "read the modules of src/: {graph:?}");
    assert!(
        graph["startup"].contains("cache"),
        "the reader sees `crate::` paths: {graph:?}"
    );
    let found = circles(&graph);
    assert!(found.is_empty(), "import circles: {found:#?}");
}

#[test]
fn the_circle_check_finds_a_circle() {
    let mut graph = Graph::new();
    graph
        .entry("cache".into())
        .or_default()
        .insert("auth".into());
    graph.entry("auth".into()).or_default().insert("kv".into());
    graph.entry("kv".into()).or_default().insert("cache".into());
    graph
        .entry("web".into())
        .or_default()
        .insert("cache".into());
    assert_eq!(circles(&graph).len(), 3, "{:?}", circles(&graph));
    assert_eq!(
        crate_paths("use crate::{auth::session, kv::Kv}; let x = crate::token::random_token();"),
        vec!["auth", "kv", "token"]
    );
}
