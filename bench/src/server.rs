//! The server under measurement: the real `server` binary in its own process, on a fresh SQLite file and a free
//! port, killed when dropped; and what `/proc` says of its CPU time and memory.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::Opts;

/// The JWT secret of every benchmark server (so tokens can be minted once and reused across restarts).
pub const JWT_SECRET: &str = "bench-secret-not-for-production";

/// A running server process.
pub struct ServerProc {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    /// `ws://127.0.0.1:PORT/ws`
    pub ws_url: String,
    pub pid: u32,
    pub port: u16,
    child: Child,
    _data: tempfile::TempDir,
}

impl ServerProc {
    /// Starts the server serving `opts.dist` with the benchmark defaults plus `settings` (`("api_delay_ms",
    /// "50")`, …; later ones win), and waits until it listens.
    pub async fn start(opts: &Opts, settings: &[(&str, &str)]) -> anyhow::Result<ServerProc> {
        Self::start_serving(opts, &opts.dist, settings).await
    }

    /// As [`ServerProc::start`], serving the app files from `dist` (an instrumented copy, for instance).
    pub async fn start_serving(opts: &Opts, dist: &Path, settings: &[(&str, &str)]) -> anyhow::Result<ServerProc> {
        Self::spawn(opts, dist, settings, tempfile::tempdir()?, 0).await
    }

    /// Kills the server (as a crash) and starts it again on the same port and database, serving `dist` with
    /// `settings`; answers once it listens again.
    pub async fn restart(mut self, opts: &Opts, dist: &Path, settings: &[(&str, &str)]) -> anyhow::Result<ServerProc> {
        self.crash().await;
        let port = self.port;
        let data = self._data;
        Self::spawn(opts, dist, settings, data, port).await
    }

    /// SIGKILL, as a crash, keeping the port and the database for [`ServerProc::restart`].
    pub async fn crash(&mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }

    async fn spawn(
        opts: &Opts,
        dist: &Path,
        settings: &[(&str, &str)],
        data: tempfile::TempDir,
        port: u16,
    ) -> anyhow::Result<ServerProc> {
        let database_url = format!("sqlite://{}", data.path().join("bench.db").display());
        let dist = dist.display().to_string();
        let port_text = port.to_string();
        let defaults: [(&str, &str); 7] = [
            ("port", &port_text),
            ("database_url", &database_url),
            ("dist_dir", &dist),
            ("jwt_secret", JWT_SECRET),
            // Thousands of clients log in from one address; a benchmark must not be throttled as an attack.
            ("login_max_failures", "1000000"),
            // Load clients may fall behind a burst; a deep queue keeps them connected rather than lagged out.
            ("ws_socket_queue", "4096"),
            ("event_retention_count", "100000"),
        ];
        let mut command = Command::new(&opts.server_bin);
        for (name, value) in defaults.iter().chain(settings) {
            command.arg(format!("--{}={value}", name.replace('_', "-")));
        }
        command
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().with_context(|| format!("starting {}", opts.server_bin.display()))?;
        let pid = child.id().context("the server has a pid")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("://localhost:").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    return Ok::<u16, anyhow::Error>(digits.parse()?);
                }
            }
            bail!("the server exited before announcing its port")
        })
        .await
        .context("the server did not announce its port within 60 s")??;
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ServerProc {
            base_url: format!("http://127.0.0.1:{port}"),
            ws_url: format!("ws://127.0.0.1:{port}/ws"),
            pid,
            port,
            child,
            _data: data,
        })
    }

    /// CPU time and memory of the process now.
    pub fn usage(&self) -> anyhow::Result<ProcUsage> {
        ProcUsage::of(self.pid)
    }

    /// SIGKILL, as a crash: nothing is flushed, every socket is cut.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s).
    pub async fn stop(mut self) {
        // SAFETY: `kill` with a pid we spawned and a valid signal number has no memory effects.
        unsafe {
            libc::kill(self.pid as i32, libc::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// CPU and memory of a process, from `/proc/PID/stat` and `/proc/PID/status`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcUsage {
    /// User plus system CPU time since the process started, in seconds.
    pub cpu_secs: f64,
    /// Resident memory now, KiB.
    pub rss_kib: u64,
    /// Peak resident memory since the process started (`VmHWM`), KiB.
    pub peak_rss_kib: u64,
}

impl ProcUsage {
    pub fn of(pid: u32) -> anyhow::Result<ProcUsage> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Ok(ProcUsage {
            cpu_secs: cpu_ticks(&stat).context("reading /proc/PID/stat")? as f64 / ticks,
            rss_kib: status_kib(&status, "VmRSS:").context("VmRSS")?,
            peak_rss_kib: status_kib(&status, "VmHWM:").context("VmHWM")?,
        })
    }

    /// This process's own usage.
    pub fn own() -> anyhow::Result<ProcUsage> {
        ProcUsage::of(std::process::id())
    }
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line; the command name may hold spaces and
/// parentheses, so fields are counted after its last `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ")" the first field is the state (field 3), so utime (14) is at index 11.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| line.strip_prefix(key)?.trim().strip_suffix("kB")?.trim().parse().ok())
}

/// Raises this process's soft open-files limit to its hard limit (children inherit it). The machines we run on
/// cap it at 20,000 per process.
pub fn raise_open_files_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit write to and read from a valid rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// The soft open-files limit of this process.
pub fn open_files_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: as above.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_skip_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0 99 1000 200";
        assert_eq!(cpu_ticks(stat), Some(325));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn status_values_are_read_in_kib() {
        let status = "Name:\tserver\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(10240));
        assert_eq!(status_kib(status, "VmHWM:"), Some(20480));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn own_usage_is_readable() {
        let usage = ProcUsage::own().unwrap();
        assert!(usage.rss_kib > 0 && usage.peak_rss_kib >= usage.rss_kib);
    }
}
