//! The TTL data cache, framework-free core: keys, per-kind policies, entries, the store that decides what to
//! fetch, statistics and the pure half of persistence.
//!
//! Layered like TanStack Query: this core decides (hit, stale hit, miss, join an in-flight fetch, evict,
//! retry, what to save); a thin Leptos binding on top of it does the I/O (fetch futures, signals per key,
//! timers, localStorage).
//!
//! Invariant: nothing under `src/cache/` but the binding (`context.rs`, `persist_driver.rs`) imports `leptos`,
//! `web_sys`, `gloo` or reads a clock; time is passed in as [`time::Millis`] (wall-clock milliseconds since the
//! Unix epoch, so persisted `fetched_at` values stay meaningful across reloads).

pub mod context;
pub mod entry;
pub mod evict;
pub mod fetch;
pub mod held;
pub mod invalidate;
pub mod key;
pub mod persist;
pub mod persist_driver;
pub mod policy;
pub mod share;
pub mod share_driver;
pub mod stats;
pub mod store;
pub mod time;
