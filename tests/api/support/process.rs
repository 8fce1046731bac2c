//! folio as its own process (the `folio` binary), for what only a process
//! of its own can show: its resident memory and its log.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{delete_redis_prefix, unique_name, Backend, TestDatabase, REDIS_URL};

pub struct Process {
    child: Child,
    pub address: String,
    log: Arc<Mutex<String>>,
    prefix: Option<String>,
    _database: TestDatabase,
}

/// Starts `folio serve` on a free port over a new `SQLite` database, with
/// Redis under its own prefix when `redis`; `env` adds settings.
pub fn start(redis: bool, env: &[(&str, &str)]) -> Process {
    let database = TestDatabase::new(Backend::Sqlite);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
    cmd.args(["serve", "--no-demo-data"])
        .env_remove("REDIS_URL")
        .env("DATABASE_URL", &database.url)
        .env("FOLIO_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let prefix = redis.then(|| {
        crate::support::require_redis();
        let prefix = unique_name("proc");
        cmd.env("REDIS_URL", REDIS_URL)
            .env("FOLIO_CACHE_PREFIX", &prefix);
        prefix
    });
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the folio binary");
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("serving at http://") {
                    let url = line[at + "serving at ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send(url);
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
    }
    let Ok(address) = rx.recv_timeout(Duration::from_secs(60)) else {
        let _ = child.kill();
        panic!("folio did not start:\n{}", log.lock().unwrap());
    };
    Process {
        child,
        address,
        log,
        prefix,
        _database: database,
    }
}

impl Process {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Resident memory now (`VmRSS`), in bytes.
    pub fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read the process's status");
        let kb: u64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .expect("VmRSS in /proc/PID/status");
        kb * 1024
    }

    /// Everything it has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it as an operator would (SIGTERM) and waits for it to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        crate::support::proxies::stop(&mut self.child);
        self.child.wait().expect("folio's exit status")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(prefix) = &self.prefix {
            delete_redis_prefix(prefix);
        }
    }
}

/// Runs `folio admin create` against `database_url` (the password from
/// `FOLIO_ADMIN_PASSWORD`, as scripts give it).
pub fn admin_create(database_url: &str, email: &str, password: &str, reset: bool) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
    cmd.args(["admin", "create", "--email", email])
        .env_remove("REDIS_URL")
        .env("DATABASE_URL", database_url)
        .env("FOLIO_ADMIN_PASSWORD", password)
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null());
    if reset {
        cmd.arg("--reset-password");
    }
    let out = cmd.output().expect("run folio admin create");
    assert!(
        out.status.success(),
        "folio admin create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
