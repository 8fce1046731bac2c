//! The `folio` binary: settings errors, seeding, help.

use std::process::{Command, Output};

use crate::support::{Backend, TestDatabase};

fn folio(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Run somewhere without a .env file.
    cmd.current_dir(std::env::temp_dir());
    cmd.output().expect("run folio")
}

#[test]
fn bad_settings_stop_folio_and_name_the_variable() {
    let db = TestDatabase::new(Backend::Sqlite);
    for (var, value) in [
        ("CACHE_TTL", "soon"),
        ("TOP_BOOKS_TTL", "-5"),
        ("FOLIO_BIND", "nowhere"),
        ("FOLIO_UNCACHED_ROUTES", "maybe"),
        ("DATABASE_URL", "mysql://localhost/db"),
        ("REDIS_URL", "localhost:6379"),
        ("FOLIO_CACHE_PREFIX", "a b"),
        ("REDIS_TIMEOUT_MS", "0"),
    ] {
        let mut env = vec![(var, value)];
        if var != "DATABASE_URL" {
            env.push(("DATABASE_URL", db.url.as_str()));
        }
        let out = folio(&["migrate"], &env);
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(var) && stderr.contains("expected"),
            "{var}: {stderr}"
        );
    }
}

#[test]
fn an_unreachable_postgres_is_named_in_the_error() {
    let out = folio(
        &["migrate"],
        &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")],
    );
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PostgreSQL") && stderr.contains("127.0.0.1:1"),
        "{stderr}"
    );
}

#[test]
fn seed_refuses_to_mix_with_existing_books_unless_reset() {
    let db = TestDatabase::new(Backend::Sqlite);
    let env = [("DATABASE_URL", db.url.as_str())];
    let first = folio(
        &["seed", "--books", "40", "--ratings", "300", "--seed", "3"],
        &env,
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    let again = folio(&["seed", "--books", "40", "--ratings", "300"], &env);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--reset"));

    let reset = folio(
        &[
            "seed",
            "--books",
            "40",
            "--ratings",
            "300",
            "--seed",
            "3",
            "--reset",
        ],
        &env,
    );
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );

    let chart = folio(&["chart"], &env);
    let stdout = String::from_utf8_lossy(&chart.stdout);
    assert!(
        stdout.contains(" 1. ") && stdout.contains("chart query on SQLite"),
        "{stdout}"
    );
}

#[test]
fn seed_bounds_its_numbers() {
    for args in [
        ["seed", "--books", "0"],
        ["seed", "--books", "99999999999"],
        ["seed", "--ratings", "-1"],
    ] {
        let out = folio(&args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn every_command_has_help() {
    let top = folio(&["--help"], &[]);
    let text = String::from_utf8_lossy(&top.stdout);
    for command in ["serve", "migrate", "seed", "chart", "cache"] {
        assert!(text.contains(command), "--help lacks {command}");
    }
    for args in [
        &["serve", "--help"][..],
        &["seed", "--help"],
        &["cache", "clear", "--help"],
    ] {
        let out = folio(args, &[]);
        assert!(out.status.success(), "{args:?}");
        assert!(!out.stdout.is_empty());
    }
    let seed_help = String::from_utf8_lossy(&folio(&["seed", "--help"], &[]).stdout).to_string();
    assert!(seed_help.contains("--reset") && seed_help.contains("--seed"));
}

#[test]
fn help_is_the_one_list_of_settings_and_never_shows_a_secret() {
    let secret = "a-metrics-token-nobody-may-read";
    let out = folio(&["--help"], &[("FOLIO_METRICS_TOKEN", secret)]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for var in folio::config::Settings::variables() {
        assert!(text.contains(&format!("[env: {var}")), "--help lacks {var}");
    }
    assert!(!text.contains(secret), "--help printed the metrics token");
}

#[test]
fn an_empty_variable_counts_as_unset_and_a_flag_works_like_its_variable() {
    let db = TestDatabase::new(Backend::Sqlite);
    let empty = folio(
        &["migrate"],
        &[("DATABASE_URL", db.url.as_str()), ("CACHE_TTL", "")],
    );
    assert!(
        empty.status.success(),
        "{}",
        String::from_utf8_lossy(&empty.stderr)
    );
    let flag = folio(
        &["--cache-ttl", "soon", "migrate"],
        &[("DATABASE_URL", db.url.as_str())],
    );
    assert_eq!(flag.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&flag.stderr);
    assert!(
        stderr.contains("CACHE_TTL") && stderr.contains("expected"),
        "{stderr}"
    );
}

/// A command that has done its work exits 0, on `PostgreSQL` too. r2d2 used
/// to open idle connections on its own threads at any time; a process that
/// exited while one was inside libpq's connect died of SIGSEGV (or a
/// Kerberos mutex assertion) after writing its output — about one run in
/// four here. Twenty runs find that with near certainty.
#[test]
fn commands_exit_cleanly_on_postgres() {
    let db = TestDatabase::new(Backend::Postgres);
    let env = [("DATABASE_URL", db.url.as_str())];
    assert!(folio(&["migrate"], &env).status.success());
    for run in 1..=20 {
        let out = folio(&["export"], &env);
        assert!(
            out.status.success(),
            "run {run}: `folio export` ended with {:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("title,author,isbn"));
    }
}
