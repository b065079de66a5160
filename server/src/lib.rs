//! The reference backend of IziShopin Live: REST under `/api`, the built app from `dist/` everywhere else.
//!
//! Invariant: `main.rs` only parses configuration and calls [`startup::Application`]; tests build the very same
//! application on `127.0.0.1:0`.

pub mod api;
pub mod config;
pub mod error;
pub mod startup;
