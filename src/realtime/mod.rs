//! The realtime layer: the WebSocket connection core, with the polling fallback, as sans-IO state machines.
//!
//! Invariant: nothing under `src/realtime/` but the driver files (and `page.rs`, what they share) and the
//! context calls a browser API or reads a clock; time
//! and randomness are passed in, so every timing rule is tested natively by stepping time.

pub mod backoff;
pub mod context;
pub mod driver;
pub mod machine;
mod page;
pub mod tabs;
pub mod tabs_driver;
pub mod visitor;
pub mod visitor_driver;
