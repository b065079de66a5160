//! IziShopin Live, the Leptos (CSR) app: role dashboards fed by one WebSocket and a TTL cache.
//!
//! Invariant: pure modules (`config`, `auth::session`, `api::errors`, `nav`) hold no browser calls and are
//! tested natively; only the `*_driver` functions and components touch `web_sys`.

pub mod api;
pub mod app;
pub mod auth;
pub mod browser;
pub mod cache;
pub mod components;
pub mod config;
pub mod data;
pub mod format;
pub mod json;
pub mod nav;
pub mod pages;
pub mod realtime;
pub mod shell;
pub mod sw_driver;
