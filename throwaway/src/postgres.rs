//! A throwaway PostgreSQL: `initdb` into a temp folder, the server on a free loopback port with its socket in
//! that folder, a database per caller.
//!
//! Invariant: it dies with the process that started it. PostgreSQL refuses to run as root, so under root it
//! runs as the `postgres` user; its parent is a thread that lives as long as the process, and the kernel kills
//! it when that thread goes (`PR_SET_PDEATHSIG`, set after the change of user, which would clear it).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A throwaway PostgreSQL server (see the module's invariant).
pub struct Postgres {
    port: u16,
    bin: PathBuf,
    dir: PathBuf,
    user: Option<(u32, u32)>,
    next: AtomicU32,
}

impl Postgres {
    /// A new cluster in a folder of its own, running.
    pub fn start() -> Postgres {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let bin = pg_bin();
        remove_dead_clusters();
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("izi-test-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let user = server_user();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let initdb = as_user(Command::new(bin.join("initdb")), user)
            .args(["-D", &dir.join("data").display().to_string(), "-U", "izi", "--auth=trust"])
            .args(["--encoding=UTF8", "--locale=C", "--no-sync"])
            .output()
            .expect("initdb runs (scripts/test installs postgresql)");
        assert!(initdb.status.success(), "initdb failed: {}", String::from_utf8_lossy(&initdb.stderr));
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let postgres = Postgres { port, bin, dir, user, next: AtomicU32::new(0) };
        postgres.run();
        postgres
    }

    /// Starts the server on the cluster's data and port; returns once it accepts connections.
    pub fn run(&self) {
        let dir = &self.dir;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("postgres.log")).unwrap();
        let mut postgres = as_user(Command::new(self.bin.join("postgres")), self.user);
        postgres
            .args(["-D", &dir.join("data").display().to_string(), "-p", &self.port.to_string()])
            .args(["-k", &dir.display().to_string(), "-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=400"])
            .stdout(std::process::Stdio::null())
            .stderr(log);
        // SAFETY: prctl only sets this process's parent-death signal; no allocation, no lock.
        unsafe {
            postgres.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        // Its parent must outlive every user of the server.
        let mut server = crate::spawn_from_lasting_thread(postgres).expect("postgres starts");
        // Reaped when it exits (pg_ctl stop); no zombie is left.
        std::thread::spawn(move || server.wait());
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.psql("postgres", "SELECT 1") {
            assert!(
                Instant::now() < deadline,
                "postgres did not accept connections within 30 s; see {}",
                dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (fast shutdown: open connections are cut), keeping its data for [`Postgres::run`].
    pub fn stop(&self) {
        let stopped = as_user(Command::new(self.bin.join("pg_ctl")), self.user)
            .args(["-D", &self.dir.join("data").display().to_string(), "-m", "fast", "-w", "stop"])
            .output()
            .expect("pg_ctl runs");
        assert!(stopped.status.success(), "pg_ctl stop failed: {}", String::from_utf8_lossy(&stopped.stderr));
    }

    /// The URL of a new, empty database on this cluster.
    pub fn create_database(&self) -> String {
        let name = format!("t{}", self.next.fetch_add(1, Ordering::Relaxed));
        assert!(self.psql("postgres", &format!("CREATE DATABASE {name}")), "cannot create the database {name}");
        format!("postgres://izi@127.0.0.1:{}/{name}", self.port)
    }

    fn psql(&self, database: &str, sql: &str) -> bool {
        Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "izi", "-d", database, "-qAtc", sql])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// Deletes the folders of earlier runs' clusters (their test process, hence their server, is gone).
fn remove_dead_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("izi-test-pg-")) else { continue };
        let pid = rest.split('-').next().unwrap_or(rest);
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Where PostgreSQL's programs are: `IZI_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin` (Debian).
fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("IZI_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/test installs Debian's postgresql)")
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    found.sort_by_key(|bin| version_of(bin));
    found.pop().expect("a PostgreSQL with initdb under /usr/lib/postgresql")
}

fn version_of(bin: &Path) -> u32 {
    bin.parent().and_then(|v| v.file_name()?.to_str()?.parse().ok()).unwrap_or(0)
}

/// The user PostgreSQL runs as: `postgres` when the tests run as root, else the tests' own.
fn server_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions; getpwnam returns static storage read at once.
    unsafe {
        if libc::geteuid() != 0 {
            return None;
        }
        let name = std::ffi::CString::new("postgres").unwrap();
        let entry = libc::getpwnam(name.as_ptr());
        assert!(!entry.is_null(), "running as root needs a `postgres` user (Debian's postgresql package adds it)");
        Some(((*entry).pw_uid, (*entry).pw_gid))
    }
}

/// `command`, run as `user` when given.
fn as_user(mut command: Command, user: Option<(u32, u32)>) -> Command {
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command
}
