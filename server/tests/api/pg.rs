//! The integration tests' PostgreSQL, started once per test binary when `IZI_TEST_DATABASE=postgres` (and by
//! the cluster tests always): a [`throwaway::Postgres`], every test on a database of its own.

use std::sync::OnceLock;

pub use throwaway::Postgres;

/// Whether this run tests against PostgreSQL (`IZI_TEST_DATABASE=postgres`) rather than SQLite.
pub fn enabled() -> bool {
    std::env::var("IZI_TEST_DATABASE").is_ok_and(|db| db == "postgres")
}

/// The URL of a new, empty database on the test server (started on first use).
pub fn fresh_database_url() -> String {
    static SERVER: OnceLock<Postgres> = OnceLock::new();
    SERVER.get_or_init(Postgres::start).create_database()
}
