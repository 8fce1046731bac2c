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
        if self.is_fresh() {
            eprintln!(
                "   {} is newer than its sources: not rebuilt",
                self.binary.display()
            );
            return Ok(());
        }
        cargo_build(self.manifest, self.target_dir, self.what)
    }

    /// The binary exists and no source changed after it was written.
    fn is_fresh(&self) -> bool {
        let newest_source = self.sources.iter().filter_map(|s| newest(s)).max();
        match (modified(&self.binary), newest_source) {
            (Some(built), Some(source)) => built >= source,
            _ => false,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn touch(path: &Path, at: SystemTime) {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .unwrap();
        file.set_modified(at).unwrap();
    }

    #[test]
    fn a_binary_is_rebuilt_only_when_missing_or_older_than_a_source() {
        let dir = std::env::temp_dir().join(format!("bench-fresh-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src/nested")).unwrap();
        let start = SystemTime::now() - Duration::from_secs(600);
        touch(&dir.join("src/nested/lib.rs"), start);
        touch(&dir.join("Cargo.toml"), start);
        let build = Build {
            manifest: &dir.join("Cargo.toml"),
            target_dir: &dir,
            what: &[],
            binary: dir.join("bin"),
            sources: vec![dir.join("src"), dir.join("Cargo.toml")],
        };
        assert!(!build.is_fresh(), "no binary yet");
        touch(&build.binary, start + Duration::from_secs(60));
        assert!(build.is_fresh());
        touch(
            &dir.join("src/nested/lib.rs"),
            start + Duration::from_secs(120),
        );
        assert!(!build.is_fresh(), "a source under a folder changed since");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
