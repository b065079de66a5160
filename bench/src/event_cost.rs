//! The cost of applying one event in Chromium: runs the probe `tests/event_cost_probe.rs` (256 cached
//! entries, 400 product and order updates applied with `apply_event`, each timed by `performance.now()`)
//! with wasm-bindgen's test runner, built as the app ships (`--release`), and reads its one line.
//!
//! Invariant: the figure comes from the page's own clock; the runner's start-up never enters it.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// What the probe printed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventCost {
    pub entries: u64,
    pub events: u64,
    pub values_changed: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub max_ms: f64,
}

/// Builds and runs the probe (a few minutes the first time: the wasm test is linked with the release profile).
pub async fn measure() -> anyhow::Result<EventCost> {
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let output = tokio::process::Command::new("cargo")
        .args(["test", "--release", "--locked", "-p", "izishopin-live", "--features", "bench-probe"])
        .args(["--target", "wasm32-unknown-unknown", "--test", "event_cost_probe", "--", "--nocapture"])
        .env("CHROMEDRIVER", driver)
        .output()
        .await
        .context("running cargo test for the event-cost probe")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(line) = stdout.lines().find_map(|line| line.split_once("IZI_EVENT_COST ").map(|(_, json)| json)) else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        bail!(
            "the probe printed no figure ({}); stderr ends:\n{}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    };
    serde_json::from_str(line.trim()).with_context(|| format!("the probe's line: {line}"))
}
