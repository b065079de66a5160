//! A throwaway Redis: no persistence, a free loopback port, killed and started again at will.
//!
//! Invariant: it dies with the process that started it: killed on drop, and by the kernel should that process
//! die first (`PR_SET_PDEATHSIG`; it is started from a thread that lives as long as the process).

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or killed) Redis on a fixed port.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    /// A Redis on a free port, accepting connections.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Self { port, child: None };
        redis.run();
        redis
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The process id (to stop and continue it, for instance).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("redis runs")
    }

    /// Starts the server (again, after [`Redis::kill`]) on the same port; returns once it accepts connections.
    pub fn run(&mut self) {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl only sets this process's parent-death signal; no allocation, no lock.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        // Started from a thread that never ends: the parent-death signal follows the thread, not the process.
        let child =
            crate::spawn_from_lasting_thread(command).expect("redis-server runs (scripts/test installs redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis did not accept connections within 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: every connection and subscription is cut.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
