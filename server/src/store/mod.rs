//! The SQL of the marketplace: one file per area, each function taking a `&mut AnyConnection` (a pooled
//! connection or an open transaction, on SQLite or PostgreSQL) and returning `protocol` types.
//!
//! Invariant: nothing here decides who may do what (that is `api/`); nothing here appends events; writes that
//! must be atomic run in a transaction opened with [`begin_write`] by the caller.
//!
//! Invariant: `store/` never imports `axum` or `crate::error` (the HTTP answers): it fails with `sqlx::Error`
//! or [`Invalid`], and `api/` turns those into answers.

use protocol::Page;
use sqlx::{Any, AnyPool, Transaction};

pub mod carts;
pub mod idempotency;
pub mod notifications;
pub mod orders;
pub mod products;
pub mod shops;
pub mod stats;
pub mod users;

/// An input the store cannot take: the field at fault and what it needs, in words a user can act on (the API
/// answers it as a 422 naming the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The input's field, as the wire names it (`price_cents`).
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    /// `field` cannot take its value: `message` says why.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// The advisory lock every write transaction takes on PostgreSQL.
const WRITE_LOCK: i64 = 0x1205_4f50;

/// Opens a write transaction that holds the database's write lock from its start, so writers run one at a
/// time in every instance: on SQLite `BEGIN IMMEDIATE` (two writers queue on the busy timeout instead of one
/// failing when it upgrades from reading to writing), on PostgreSQL one transaction-scoped advisory lock.
/// Event seqs are drawn inside these transactions, so they commit in seq order, whichever instance writes.
pub async fn begin_write(db: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    match crate::db::Backend::of(db) {
        crate::db::Backend::Sqlite => db.begin_with("BEGIN IMMEDIATE").await,
        crate::db::Backend::Postgres => {
            let mut tx = db.begin().await?;
            // Selected through a count: the lock function returns `void`, which the `Any` driver cannot read.
            sqlx::query("SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock($1)) AS held")
                .bind(WRITE_LOCK)
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        }
    }
}

/// Opens a read transaction that sees one snapshot throughout: SQLite's read transactions do; PostgreSQL's
/// default (read committed) takes a new snapshot per statement, so a replay would read its last seq and its
/// events at two different moments.
pub async fn begin_read(db: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    match crate::db::Backend::of(db) {
        crate::db::Backend::Sqlite => db.begin().await,
        crate::db::Backend::Postgres => db.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await,
    }
}

/// A valid page request: `page` ≥ 1, `per_page` in 1..=[`Paging::MAX_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    page: u32,
    per_page: u32,
}

impl Paging {
    /// Items per page when the client does not say.
    pub const DEFAULT_PER_PAGE: u32 = 20;
    /// The largest page a client may ask for.
    pub const MAX_PER_PAGE: u32 = 100;

    /// A page request, or `None` when out of range.
    pub fn new(page: u32, per_page: u32) -> Option<Self> {
        (page >= 1 && (1..=Self::MAX_PER_PAGE).contains(&per_page)).then_some(Self { page, per_page })
    }

    /// The first page of `per_page` items (clamped to the valid range), for dashboards.
    pub fn first(per_page: u32) -> Self {
        Self { page: 1, per_page: per_page.clamp(1, Self::MAX_PER_PAGE) }
    }

    /// Rows to skip.
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    /// Rows to take.
    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    /// Wraps one page of items.
    pub fn page<T>(self, items: Vec<T>, total: i64) -> Page<T> {
        Page { items, total: count(total), page: self.page, per_page: self.per_page }
    }
}

impl Default for Paging {
    fn default() -> Self {
        Self { page: 1, per_page: Self::DEFAULT_PER_PAGE }
    }
}

/// A SQL count as the wire's `u64` (counts are never negative).
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A stored quantity as the wire's `u32` (the schema keeps them non-negative and small).
pub(crate) fn units(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// The error for a stored value the code does not know (a corrupt or newer database).
pub(crate) fn corrupt(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("unexpected {what} `{value}` in the database"))
}
