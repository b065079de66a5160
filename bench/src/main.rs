//! `bench`: measures IziShopin Live against the 15 s polling design it replaces and writes BENCHMARKS.md.
//!
//! Every part starts its own server process (the `server` binary built beside this one) on a fresh SQLite
//! file, so the load generator and the server never share a process, a runtime or an open-files limit. Each part
//! writes its raw figures to `target/bench/<part>.json` and its section to `target/bench/<part>.md`; the report
//! is assembled from every section present, so one part can be re-run alone.
//!
//! Benchmarks are not tests: nothing here passes or fails on a timing.

mod browser;
mod cluster;
mod cost;
mod event_cost;
mod fanout;
mod first_visit;
mod fmt;
mod glance;
mod http;
mod instrument;
mod latency;
mod machine;
mod offline;
mod report;
mod requests;
mod server;
mod size;
mod start;
mod stats;
mod tabs;
mod ws;

use std::path::PathBuf;

use anyhow::{Context, bail};

/// What every part is given.
#[derive(Debug, Clone)]
pub struct Opts {
    /// Fewer samples and shorter runs: checks that the benchmarks work, not a figure to publish.
    pub quick: bool,
    /// The built app (`trunk build --release` output).
    pub dist: PathBuf,
    /// The `server` binary to run.
    pub server_bin: PathBuf,
    /// Where raw results and sections are written (`target/bench`).
    pub out_dir: PathBuf,
}

/// One part's outcome: its raw figures and its Markdown section.
pub struct Section {
    pub data: serde_json::Value,
    pub markdown: String,
}

/// The parts, in report order.
pub const PARTS: [&str; 8] = ["requests", "latency", "fanout", "cost", "start", "tabs", "cluster", "offline"];

const USAGE: &str = "usage: bench [--quick] [--out FILE] [--dist DIR] [--server BIN] [PART ... | report]
  PART: requests latency fanout cost start tabs cluster offline (default: all of them, in this order);
  report: only assemble FILE from the sections already in target/bench
  Writes target/bench/<part>.{json,md} and assembles FILE (default BENCHMARKS.md) from every section present.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut quick = false;
    let mut out = PathBuf::from("BENCHMARKS.md");
    let mut dist = PathBuf::from("dist");
    let here = std::env::current_exe().context("where this binary is")?;
    let mut server_bin = here.with_file_name("server");
    let mut parts = Vec::new();
    let mut report_only = false;
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.first().is_some_and(|a| a == "hold") {
        // The second load process of the cluster part.
        return cluster::hold(&all[1..]).await;
    }
    let mut args = all.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--out" => out = args.next().context(USAGE)?.into(),
            "--dist" => dist = args.next().context(USAGE)?.into(),
            "--server" => server_bin = args.next().context(USAGE)?.into(),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "report" => report_only = true,
            part if PARTS.contains(&part) => parts.push(part.to_owned()),
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    if parts.is_empty() && !report_only {
        parts = PARTS.iter().map(|p| p.to_string()).collect();
    }
    if !dist.join("storefront/index.html").is_file() || !dist.join("backoffice/index.html").is_file() {
        bail!("{} lacks a bundle: build the app first (scripts/bench does)", dist.display());
    }
    if !server_bin.is_file() {
        bail!("no server binary at {} (cargo build --profile server-release -p server)", server_bin.display());
    }
    let out_dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    let opts = Opts { quick, dist, server_bin, out_dir: out_dir.clone() };
    server::raise_open_files_limit();

    for part in &parts {
        println!("==> bench {part}{}", if quick { " (quick)" } else { "" });
        let started = std::time::Instant::now();
        let section = match part.as_str() {
            "requests" => requests::run(&opts).await,
            "latency" => latency::run(&opts).await,
            "fanout" => fanout::run(&opts).await,
            "cost" => cost::run(&opts).await,
            "start" => start::run(&opts).await,
            "tabs" => tabs::run(&opts).await,
            "offline" => offline::run(&opts).await,
            "cluster" => cluster::run(&opts).await,
            _ => unreachable!("parts are checked above"),
        }
        .with_context(|| format!("bench {part}"))?;
        std::fs::write(out_dir.join(format!("{part}.json")), serde_json::to_string_pretty(&section.data)?)?;
        std::fs::write(out_dir.join(format!("{part}.md")), &section.markdown)?;
        println!("{}\n    ({part}: {:.0} s)", section.markdown.trim_end(), started.elapsed().as_secs_f64());
    }
    let text = report::assemble(&opts, &parts)?;
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    println!("==> wrote {}", out.display());
    Ok(())
}
