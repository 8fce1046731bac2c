//! Real proxies in front of folio for the edge tests: `varnishd` with the
//! shipped VCL, `nginx` with the shipped configuration, each on free
//! loopback ports in a directory of its own, and stopped (by its PID) when
//! dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::unique_name;

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn scratch_dir(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("folio-tests")
        .join(unique_name(kind));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn require(program: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{program} is not installed: run scripts/test.sh, or apt-get install {package}"
    );
}

/// Waits until `port` answers HTTP (any status).
async fn wait_for_http(port: u16, child: &mut Child, what: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start ({status}); see its log");
        }
        let answer = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .timeout(Duration::from_secs(1))
            .send()
            .await;
        if answer.is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} does not answer on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `varnishd` running `deploy/varnish/folio.vcl`, its backend pointed at a
/// test's folio.
pub struct Varnish {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Varnish {
    pub async fn start(port: u16, backend_port: u16) -> Varnish {
        require("varnishd", "varnish varnish-modules");
        let dir = scratch_dir("varnish");
        let shipped = std::fs::read_to_string(repo_file("deploy/varnish/folio.vcl")).unwrap();
        let shipped_backend = ".port = \"8080\";";
        assert!(shipped.contains(shipped_backend), "the VCL's backend moved");
        let vcl = shipped.replace(shipped_backend, &format!(".port = \"{backend_port}\";"));
        let vcl_path = dir.join("folio.vcl");
        std::fs::write(&vcl_path, vcl).unwrap();
        let log = std::fs::File::create(dir.join("varnishd.log")).unwrap();
        let mut child = Command::new("varnishd")
            .arg("-F")
            .args(["-n", dir.join("work").to_str().unwrap()])
            .args(["-a", &format!("127.0.0.1:{port}")])
            .args(["-f", vcl_path.to_str().unwrap()])
            .args(["-s", "malloc,64m"])
            .args(["-T", "none"])
            .args(["-j", "none"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start varnishd");
        wait_for_http(port, &mut child, "varnishd").await;
        Varnish { port, child, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Varnish {
    fn drop(&mut self) {
        stop(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Asks a process we started to stop (SIGTERM: varnishd's manager stops its
/// cache process, nginx its workers), then kills it after 10 s.
pub fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `nginx` running `deploy/nginx/folio.conf`, its upstream pointed at a
/// test's folio instances.
pub struct Nginx {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Nginx {
    pub async fn start(port: u16, instances: &[u16]) -> Nginx {
        require("nginx", "nginx-light");
        let dir = scratch_dir("nginx");
        let mut site = std::fs::read_to_string(repo_file("deploy/nginx/folio.conf")).unwrap();
        let shipped_listen = "listen 127.0.0.1:8080;";
        assert!(site.contains(shipped_listen), "the nginx listen moved");
        site = site.replace(shipped_listen, &format!("listen 127.0.0.1:{port};"));
        let shipped_servers: Vec<String> = site
            .lines()
            .filter(|l| l.trim_start().starts_with("server 127.0.0.1:"))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            shipped_servers.len(),
            3,
            "the shipped upstream has 3 instances"
        );
        let servers: String = instances
            .iter()
            .map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n"))
            .collect::<Vec<_>>()
            .concat();
        site = site.replacen(&format!("{}\n", shipped_servers[0]), &servers, 1);
        for line in &shipped_servers[1..] {
            site = site.replacen(&format!("{line}\n"), "", 1);
        }
        std::fs::write(dir.join("folio.conf"), site).unwrap();
        let d = dir.display();
        let main = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
             include {d}/folio.conf;\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), main).unwrap();
        let log = std::fs::File::create(dir.join("stderr.log")).unwrap();
        let mut child = Command::new("nginx")
            .args(["-p", dir.to_str().unwrap()])
            .args(["-c", dir.join("nginx.conf").to_str().unwrap()])
            .args(["-e", dir.join("error.log").to_str().unwrap()])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start nginx");
        wait_for_http(port, &mut child, "nginx").await;
        Nginx { port, child, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM is nginx's fast shutdown: the master stops its workers.
        stop(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
