//! What the bench runs besides servers: cargo builds (skipped when the binary
//! is fresh), folio's commands in the bench's own environment, and git.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// `cargo build --release` of a manifest, into a target dir.
fn cargo_build(manifest: &Path, target_dir: &Path, what: &[&str]) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .args(what)
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo build of {} failed", manifest.display()))
    }
}

/// What one `cargo build` makes, and what it is made from.
pub struct Build<'a> {
    pub manifest: &'a Path,
    pub target_dir: &'a Path,
    /// cargo's selection (`--bin folio`, `--example feed_bench`).
    pub what: &'a [&'a str],
    pub binary: PathBuf,
    /// Files and folders whose change means a rebuild.
    pub sources: Vec<PathBuf>,
}

impl Build<'_> {
    /// Builds unless the binary is newer than every source: a release build
    /// with fat LTO takes minutes, and `cargo run --release --bin bench`
    /// builds the bench alone, so a fresh binary is used as it is (and the
    /// bench says so).
    pub fn run_unless_fresh(&self) -> Result<(), String> {
        let built = modified(&self.binary);
        let newest_source = self.sources.iter().filter_map(|s| newest(s)).max();
        if let (Some(built), Some(source)) = (built, newest_source) {
            if built >= source {
                eprintln!(
                    "   {} is newer than its sources: not rebuilt",
                    self.binary.display()
                );
                return Ok(());
            }
        }
        cargo_build(self.manifest, self.target_dir, self.what)
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file, or of any file under a folder.
fn newest(path: &Path) -> Option<SystemTime> {
    let Ok(entries) = std::fs::read_dir(path) else {
        return modified(path);
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| newest(&entry.path()))
        .max()
}

/// The environment of every folio command the bench runs.
pub struct Setup {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub prefix: String,
}

impl Setup {
    pub fn folio(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        // From the temp dir: a developer's .env is not read.
        cmd.current_dir(&self.dir)
            .env("DATABASE_URL", &self.database_url)
            .env("FOLIO_CACHE_PREFIX", &self.prefix)
            .env("FOLIO_UNCACHED_ROUTES", "on");
        match &self.redis_url {
            Some(url) => cmd.env("REDIS_URL", url),
            None => cmd.env_remove("REDIS_URL"),
        };
        cmd
    }

    pub fn run_folio(&self, args: &[&str]) -> Result<String, String> {
        let out = self
            .folio()
            .args(args)
            .output()
            .map_err(|e| format!("could not run folio: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(format!(
                "folio {} failed:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if self.redis_url.is_some() {
            // Only keys under the bench's own prefix.
            match self.run_folio(&["cache", "clear"]) {
                Ok(said) => eprintln!("cleanup: {said}"),
                Err(e) => eprintln!(
                    "cleanup: could not clear the bench's Redis keys ({}:*): {e}",
                    self.prefix
                ),
            }
        }
    }
}

/// The checkout's commit, for the table's footnote.
pub fn git_commit(root: &Path) -> String {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown commit".into(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        )
}
