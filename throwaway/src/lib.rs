//! Throwaway servers for the tests and the benchmarks: a PostgreSQL and a Redis on free loopback ports, in
//! temp folders, gone when the process that started them ends. Their programs come from Debian's packages
//! (`postgresql`, `redis-server`), which `scripts/test` and `scripts/bench` install.

mod postgres;
mod redis;

pub use postgres::Postgres;
pub use redis::Redis;

/// Spawns `command` from a thread that lives as long as the process: a `PR_SET_PDEATHSIG` set in the child
/// fires when the thread that spawned it ends, and a test's or a runtime's threads may end before the process.
fn spawn_from_lasting_thread(mut command: std::process::Command) -> std::io::Result<std::process::Child> {
    let (started, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let spawned = command.spawn();
        let ok = spawned.is_ok();
        let _ = started.send(spawned);
        if ok {
            loop {
                std::thread::park();
            }
        }
    });
    ready.recv().expect("the spawning thread answers")
}
