//! End to end, one test binary: the real server serving the real `dist/`, driven through a real headless
//! Chromium. Each module is one area of the product.
#![cfg(not(target_arch = "wasm32"))]

mod a11y;
mod admin;
mod bundles;
mod cache;
mod fallback;
mod journey;
mod offline;
mod owner;
mod page;
mod phone;
mod realtime;
mod shell;
mod shop;
mod support;
mod tabs;
mod voice;
