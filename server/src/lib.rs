//! The reference backend of IziShopin Live: REST under `/api`, the WebSocket at `/ws`, and the built app from
//! `dist/` everywhere else, on an embedded SQLite database.
//!
//! Invariant: `main.rs` only parses configuration and calls [`startup::Application`]; tests build the very same
//! application on `127.0.0.1:0`.

pub mod api;
pub mod assets;
pub mod auth;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod headers;
pub mod hub;
pub mod login_limiter;
pub mod metrics;
pub mod seed;
pub mod serve;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod store;
pub mod tls;
pub mod ws;
