//! Redis Sentinel of a test's own: data servers and three sentinels
//! (`redis-server --sentinel`) on free loopback ports, each killed (by its
//! PID) when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, unique_name};

pub const SERVICE: &str = "folio";

/// One redis-server process (a data server or a sentinel), killed on drop.
pub struct Server {
    pub port: u16,
    child: Option<Child>,
}

impl Server {
    pub fn start(port: u16, args: &[String]) -> Self {
        let child = Command::new("redis-server")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server; scripts/test.sh does it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server on port {port} did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            port,
            child: Some(child),
        }
    }

    /// A data server keeping nothing on disk.
    pub fn data(port: u16, extra: &[String]) -> Self {
        let mut args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
        args.extend_from_slice(extra);
        Self::start(port, &args)
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .unwrap()
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three sentinels watching `primary`, each with its own config file (a
/// sentinel rewrites it).
pub struct Sentinels {
    pub servers: Vec<Server>,
    dir: PathBuf,
}

impl Sentinels {
    pub fn start(primary: u16) -> Self {
        let dir = std::env::temp_dir().join(unique_name("folio-sentinel"));
        std::fs::create_dir_all(&dir).unwrap();
        let servers = (0..3)
            .map(|i| {
                let port = free_port();
                let conf = dir.join(format!("sentinel-{i}.conf"));
                std::fs::write(
                    &conf,
                    format!(
                        "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                         sentinel monitor {SERVICE} 127.0.0.1 {primary} 2\n\
                         sentinel down-after-milliseconds {SERVICE} 1000\n\
                         sentinel failover-timeout {SERVICE} 60000\n\
                         sentinel parallel-syncs {SERVICE} 1\n",
                        dir = dir.display()
                    ),
                )
                .unwrap();
                Server::start(port, &[conf.display().to_string(), "--sentinel".to_owned()])
            })
            .collect();
        Self { servers, dir }
    }

    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .servers
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("redis+sentinel://{}/{SERVICE}", hosts.join(","))
    }

    /// The master's port as the first sentinel reports it.
    pub fn master_port(&self) -> Option<u16> {
        let mut conn = self.servers[0].conn();
        let addr: Option<(String, String)> = redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(SERVICE)
            .query(&mut conn)
            .ok()?;
        addr?.1.parse().ok()
    }

    /// Every sentinel knows the replica and the two other sentinels: a
    /// failover can be agreed on.
    pub fn ready(&self) -> bool {
        self.servers.iter().all(|s| {
            let mut conn = s.conn();
            let replicas: Vec<redis::Value> = redis::cmd("SENTINEL")
                .arg("REPLICAS")
                .arg(SERVICE)
                .query(&mut conn)
                .unwrap_or_default();
            let others: Vec<redis::Value> = redis::cmd("SENTINEL")
                .arg("SENTINELS")
                .arg(SERVICE)
                .query(&mut conn)
                .unwrap_or_default();
            replicas.len() == 1 && others.len() == 2
        })
    }
}

impl Drop for Sentinels {
    fn drop(&mut self) {
        for s in &mut self.servers {
            s.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
