//! The realtime layer: the WebSocket connection core, with the polling fallback, as sans-IO state machines.
//!
//! Invariant: nothing under `src/realtime/` except a driver file calls a browser API or reads a clock; time
//! and randomness are passed in, so every timing rule is tested natively by stepping time.

pub mod backoff;
pub mod context;
pub mod driver;
pub mod machine;
pub mod tabs;
pub mod tabs_driver;
pub mod visitor;
pub mod visitor_driver;
