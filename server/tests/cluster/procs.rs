//! The processes of a test cluster besides the throwaway PostgreSQL and Redis: server instances (the real
//! binary) and an HAProxy in front of them, each on a free loopback port.
//!
//! Invariant: every process dies with the test: killed on drop, and by the kernel should the test process
//! die first (`PR_SET_PDEATHSIG`).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `program`, killed on drop and when the test process dies.
fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = std::process::Command::new(program);
    // SAFETY: prctl only sets this process's parent-death signal; no allocation, no lock.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut command = Command::from(command);
    command.kill_on_drop(true);
    command
}

async fn wait_until(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready().await {
        assert!(Instant::now() < deadline, "{what} did not come up within 30 s");
        sleep(Duration::from_millis(50)).await;
    }
}

/// One server instance: the real binary on its own port, in cluster mode.
pub struct Instance {
    pub port: u16,
    args: Vec<String>,
    child: Option<Child>,
}

impl Instance {
    /// An instance on `database_url` and `redis_url`, sharing `jwt_secret` with the others.
    pub async fn start(dist: &Path, database_url: &str, redis_url: &str) -> Self {
        let port = free_port();
        let args = [
            ("port", port.to_string()),
            ("dist-dir", dist.display().to_string()),
            ("database-url", database_url.to_owned()),
            ("redis-url", redis_url.to_owned()),
            ("jwt-secret", "cluster-test-secret".to_owned()),
            ("redis-probe-ms", "250".to_owned()),
            ("trusted-proxies", "127.0.0.1".to_owned()),
        ]
        .into_iter()
        .flat_map(|(name, value)| [format!("--{name}"), value])
        .collect();
        let mut instance = Self { port, args, child: None };
        instance.run().await;
        instance
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    async fn run(&mut self) {
        let child = command(env!("CARGO_BIN_EXE_server"))
            .args(&self.args)
            .env("RUST_LOG", "warn")
            // IZI_TEST_LOGS=1 shows the instances' warnings.
            .stdout(if std::env::var_os("IZI_TEST_LOGS").is_some() { Stdio::inherit() } else { Stdio::null() })
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        self.child = Some(child);
        let ready = format!("{}/api/ready", self.base());
        wait_until("the instance", async || reqwest::get(&ready).await.is_ok_and(|r| r.status().is_success())).await;
    }

    /// SIGKILL: its sockets are cut, nothing is flushed.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill -9");
        }
    }

    /// A counter or gauge of its `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let Ok(answer) = reqwest::get(format!("{}/metrics", self.base())).await else { return 0.0 };
        let text = answer.text().await.unwrap_or_default();
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| {
                let (key, value) = line.split_once(' ')?;
                (key == name || key == format!("{name}_total")).then(|| value.parse().ok()).flatten()
            })
            .unwrap_or(0.0)
    }
}

/// HAProxy in front of instances: round robin, health checks on `/api/ready`, a failed connection tried
/// again on another instance.
pub struct Balancer {
    pub port: u16,
    _child: Child,
    _config: tempfile::TempDir,
}

impl Balancer {
    pub async fn start(instances: &[u16]) -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let config: PathBuf = dir.path().join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(port, instances)).unwrap();
        // Debian puts it in /usr/sbin, which a user's PATH may lack.
        let program = if Path::new("/usr/sbin/haproxy").is_file() { "/usr/sbin/haproxy" } else { "haproxy" };
        let child = command(program)
            .args(["-db", "-f", &config.display().to_string()])
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("IZI_TEST_LOGS").is_some() { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("haproxy runs (scripts/test installs haproxy)");
        let ready = format!("http://127.0.0.1:{port}/api/ready");
        wait_until("haproxy", async || reqwest::get(&ready).await.is_ok_and(|r| r.status().is_success())).await;
        Self { port, _child: child, _config: dir }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }
}

/// The configuration `scripts/run --cluster` uses, for these ports.
fn haproxy_config(port: u16, instances: &[u16]) -> String {
    let servers: Vec<String> = instances
        .iter()
        .enumerate()
        .map(|(n, instance)| format!("    server i{n} 127.0.0.1:{instance} check"))
        .collect();
    include_str!("../../../scripts/cluster/haproxy.cfg")
        .replace("@PORT@", &port.to_string())
        .replace("@SERVERS@", &servers.join("\n"))
}
