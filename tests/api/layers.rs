//! No module imports in a circle: at the top of `src/` and among the
//! children of every directory module (`src/cache/`, `src/cache/store/`, …),
//! each may use the ones below it, never one that (through others) uses it
//! back. A child using its parent's items is no circle; siblings using each
//! other are. Read from the source: every `crate::a::b::…` path and every
//! `super::…` path (resolved from the file's module), `{a, b}` groups
//! included, outside comments, in every file under a module, up to its unit
//! tests. A file counts for each module it is under: `cache/store/redis.rs`
//! using `crate::cache::stored` is `store` using `stored`, among the
//! children of `cache`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::imports::{
    all_circles, circles, code_of, crate_paths, graphs_of, import_graph, import_graphs, mod_path,
    named, used_paths, Graph,
};

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
fn the_children_of_every_module_import_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graphs = import_graphs(&src);
    let cache = &graphs[&mod_path("cache")];
    assert!(
        graphs.len() > 3 && cache.len() > 20,
        "read the directory modules of src/: {:?}",
        graphs.keys().map(|m| named(m)).collect::<Vec<_>>()
    );
    assert!(
        cache["lookup"].contains("engine"),
        "the reader resolves `super::` paths: {cache:?}"
    );
    let found = all_circles(&graphs);
    assert!(
        found.is_empty(),
        "import circles between sibling modules (in the module named first): {found:#?}"
    );
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

#[test]
fn the_circle_check_finds_a_circle_through_super_paths() {
    let file = |module: &str, code: &str| (mod_path(module), code_of(code));
    let files = [
        file("cache", "mod engine;\npub use self::engine::Cache;\n"),
        file(
            "cache::engine",
            "use super::single_flight::Flights; // super::usage: a comment\n\
             use super::{key::KeySpace, store::Backend as B};\n",
        ),
        file(
            "cache::single_flight",
            "impl super::engine::Cache {}\n#[cfg(test)]\nuse super::usage;\n",
        ),
        file("cache::store", "mod memory;\nuse super::key::KeySpace;\n"),
        // A grandchild's `super::super` is its grandparent's child; its
        // parent's items (`super::Lookup`) make no circle.
        file(
            "cache::store::memory",
            "use super::Lookup;\nuse super::super::{\n    engine::Cache,\n    key,\n};\n",
        ),
        file("cache::usage", "use crate::cache::key::KeySpace;\n"),
    ];
    let children = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
    let directories = BTreeMap::from([
        (mod_path("crate"), children(&["cache"])),
        (
            mod_path("cache"),
            children(&["engine", "key", "single_flight", "store", "usage"]),
        ),
        (mod_path("cache::store"), children(&["memory"])),
    ]);
    let graphs = graphs_of(&files, &directories);
    assert!(
        graphs[&mod_path("cache::store")]["memory"].is_empty(),
        "{graphs:?}"
    );
    assert!(
        graphs[&mod_path("cache")]["usage"].contains("key"),
        "{graphs:?}"
    );
    assert_eq!(
        all_circles(&graphs),
        vec![
            "crate::cache: engine → single_flight → engine",
            "crate::cache: single_flight → engine → single_flight",
            "crate::cache: store → engine → store",
        ]
    );
    assert_eq!(
        used_paths(
            "use super::super::{key::KeySpace, engine::{self, Cache}};",
            &mod_path("cache::store::memory")
        ),
        vec![
            mod_path("cache::key::KeySpace"),
            mod_path("cache::engine"),
            mod_path("cache::engine::Cache"),
        ]
    );
    assert!(
        used_paths("use super::x;", &[]).is_empty(),
        "past the crate"
    );
}
