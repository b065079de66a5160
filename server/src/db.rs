//! The database pool: embedded SQLite by default (file and folder created if missing), or PostgreSQL for
//! cluster mode (`database_url = postgres://…`); migrated, then seeded on first start.
//!
//! Invariant: migrations are embedded in the binary and run before the server answers anything; both
//! backends reach the same schema (`migrations/sqlite`, `migrations/postgres`), so every query in `store/`,
//! `events.rs` and `sessions.rs` is one text for both (`$1` parameters, no dialect of either).

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

/// Which engine a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of_url(url: &str) -> anyhow::Result<Backend> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Ok(Backend::Sqlite),
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            _ => {
                bail!("`{url}` is neither a SQLite URL (sqlite://path/to/file.db) nor a PostgreSQL one (postgres://…)")
            }
        }
    }

    /// Its name in answers and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The backend of an open pool.
    pub fn of(db: &AnyPool) -> Backend {
        match db.connect_options().database_url.scheme() {
            "postgres" | "postgresql" => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }
}

/// SQLite's settings on every connection: write-ahead log (readers never wait for the writer), foreign keys,
/// and a wait on a busy database rather than an error.
const SQLITE_PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

/// Opens (creating a SQLite file if needed) and migrates the database at `url`.
pub async fn connect(url: &str) -> anyhow::Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url)?;
    // A request waits at most this long for a connection: long for SQLite, whose writers queue on its lock;
    // short for PostgreSQL, so that while the server is unreachable requests get a 503 at once, not after 30 s.
    let acquire_timeout = match backend {
        Backend::Sqlite => Duration::from_secs(30),
        Backend::Postgres => Duration::from_secs(3),
    };
    let (url, max_connections) = match backend {
        Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .with_context(|| format!("`{url}` is not a SQLite URL (expected sqlite://path/to/file.db)"))?;
            if let Some(parent) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            let separator = if url.contains('?') { '&' } else { '?' };
            let url = if url.contains("mode=") { url.to_owned() } else { format!("{url}{separator}mode=rwc") };
            (url, 8)
        }
        Backend::Postgres => (url.to_owned(), 16),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute(SQLITE_PRAGMAS).await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .with_context(|| format!("cannot open the database {}", redacted(&url)))?;
    let migrated = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await,
    };
    migrated.context("cannot migrate the database")?;
    Ok(pool)
}

/// Why the database did not answer a probe.
#[derive(Debug)]
pub enum Unanswered {
    Failed(sqlx::Error),
    TimedOut(Duration),
}

/// Whether the database answers a query within `within` (readiness, `/metrics`).
pub async fn probe(db: &AnyPool, within: Duration) -> Result<(), Unanswered> {
    let query = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(db);
    match tokio::time::timeout(within, query).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(Unanswered::Failed(error)),
        Err(_) => Err(Unanswered::TimedOut(within)),
    }
}

/// `url` without its password, for messages.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_backend_and_messages_hide_the_password() {
        assert_eq!(Backend::of_url("sqlite://data/x.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::of_url("postgres://u:p@localhost/db").unwrap(), Backend::Postgres);
        assert_eq!(Backend::of_url("postgresql://localhost/db").unwrap(), Backend::Postgres);
        assert!(Backend::of_url("mysql://localhost/db").is_err());
        assert_eq!(redacted("postgres://izi:secret@localhost:5432/db"), "postgres://izi:***@localhost:5432/db");
        assert_eq!(redacted("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
