//! Size and start: what the app weighs (raw, gzip, brotli) and how long the owner dashboard takes to show its
//! figures in a real Chromium: cold, with the files already fetched, and from the persisted cache; with the API
//! at loopback speed and slowed down.
//!
//! Invariant: every page time is read by the page itself (`performance.now()`, ms since its navigation
//! started), so the WebDriver round trips of the benchmark never enter a figure.

use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::Client;
use izishopin_live::auth::session::{STORAGE_KEY, Session, encode};
use protocol::LoginResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::browser::{self, Browsers};
use crate::event_cost::{self, EventCost};
use crate::first_visit;
use crate::instrument::instrumented_dist;
use crate::server::ServerProc;
use crate::size;
use crate::stats::Summary;
use crate::{Opts, Section, http};

const OWNER: &str = "owner1@izishopin.test";
/// The API delay of the slow-network condition, ms.
const SLOW_API_MS: u64 = 150;
/// How long one page load may take to show the dashboard.
const LOAD_LIMIT: Duration = Duration::from_secs(30);
/// The persisted-cache snapshot key (see `src/cache/persist.rs`).
const CACHE_KEY: &str = "izi.cache";

/// Runs at document start: stamps (ms since navigation start) the app's start, its first mount, the stat cards
/// showing a figure and the products table showing rows; skeletons match none of these.
const PROBE: &str = r#"(() => {
  const marks = {};
  const mark = (name) => { if (!(name in marks)) marks[name] = performance.now(); };
  window.__benchStart = marks;
  addEventListener('TrunkApplicationStarted', () => mark('started'));
  const check = () => {
    if (document.body && document.body.childElementCount > 0) mark('mounted');
    const figure = document.querySelector('[data-testid=owner-total-orders] .stat-value');
    if (figure && /[0-9]/.test(figure.textContent)) mark('figures');
    if (document.querySelector('table[data-testid=owner-products] tr[data-product-id]')) mark('products');
    if ('figures' in marks && 'products' in marks) { mark('dashboard'); observer.disconnect(); }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true, characterData: true });
})();"#;

/// Reads the probe's stamps and what resource timing says of the wasm file and the dashboard request.
const READ: &str = r#"
  const marks = window.__benchStart || {};
  const resources = performance.getEntriesByType('resource');
  const wasm = resources.find(e => e.name.endsWith('.wasm'));
  const api = resources.find(e => new URL(e.name).pathname === '/api/dashboard');
  return {
    started: marks.started ?? null, mounted: marks.mounted ?? null, figures: marks.figures ?? null,
    products: marks.products ?? null, dashboard: marks.dashboard ?? null,
    wasm_transfer: wasm ? wasm.transferSize : null, wasm_end: wasm ? wasm.responseEnd : null,
    api_start: api ? api.startTime : null, api_end: api ? api.responseEnd : null,
  };"#;

/// One page load, ms since its navigation started (`None`: did not happen or was not seen).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Load {
    started: Option<f64>,
    mounted: Option<f64>,
    figures: Option<f64>,
    products: Option<f64>,
    dashboard: Option<f64>,
    /// Bytes the wasm file took on the wire (0 when it came from the HTTP cache, headers only when revalidated).
    wasm_transfer: Option<f64>,
    wasm_end: Option<f64>,
    /// The page's `GET /api/dashboard`, if it sent one.
    api_start: Option<f64>,
    api_end: Option<f64>,
}

/// The three ways the dashboard is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Cold,
    Warm,
    Persisted,
}

impl Condition {
    const ALL: [Condition; 3] = [Condition::Cold, Condition::Warm, Condition::Persisted];

    fn label(self) -> &'static str {
        match self {
            Condition::Cold => "Cold",
            Condition::Warm => "Files fetched before, no data cache",
            Condition::Persisted => "Persisted cache",
        }
    }

    fn meaning(self) -> &'static str {
        match self {
            Condition::Cold => "fresh profile: nothing in the HTTP cache, nothing in localStorage but the session",
            Condition::Warm => "same profile, second visit: files in the HTTP cache, `izi.cache` removed",
            Condition::Persisted => "third visit: files cached and the data snapshot the app saved in `izi.cache`",
        }
    }
}

/// The loads of one server setting, by condition.
#[derive(Debug, Default, Serialize)]
struct Setting {
    api_delay_ms: u64,
    cold: Vec<Load>,
    warm: Vec<Load>,
    persisted: Vec<Load>,
}

impl Setting {
    fn loads(&self, condition: Condition) -> &[Load] {
        match condition {
            Condition::Cold => &self.cold,
            Condition::Warm => &self.warm,
            Condition::Persisted => &self.persisted,
        }
    }
}

pub async fn run(opts: &Opts) -> anyhow::Result<Section> {
    let mut bundles = Vec::new();
    for (name, goal_gzip) in [("storefront", 150_000), ("backoffice", 250_000)] {
        let dist = opts.dist.join(name);
        let files = tokio::task::spawn_blocking(move || size::measure(&dist)).await.context("measuring sizes")??;
        let by_kind = size::by_kind(&files);
        bundles.push(BundleSize { name, goal_gzip, files, by_kind });
    }
    let event = match event_cost::measure().await {
        Ok(cost) => Some(cost),
        Err(error) => {
            println!("    the event-cost probe failed: {error:#}");
            None
        }
    };
    let first = match first_visit::measure(opts).await {
        Ok(first) => Some(first),
        Err(error) => {
            println!("    the first visits failed: {error:#}");
            None
        }
    };

    let samples = if opts.quick { 3 } else { 10 };
    let instrumented = instrumented_dist(&opts.dist, PROBE)?;
    let fast = setting(opts, instrumented.path(), 0, samples).await.context("API at loopback speed")?;
    // The slow API shows what the persisted cache buys; a failure there still leaves the main figures.
    let slow = match setting(opts, instrumented.path(), SLOW_API_MS, samples).await {
        Ok(slow) => Some(slow),
        Err(error) => {
            println!("    the slow-API condition failed: {error:#}");
            None
        }
    };

    let data = json!({
        "size_unit": "bytes",
        "bundles": bundles,
        "first_visit": first,
        "event_cost": event,
        "samples_per_condition": samples,
        "start": { "fast": fast, "slow_api": slow },
    });
    let mut md = size_markdown(&bundles, first.as_ref());
    md.push_str(&markdown(samples, &fast, slow.as_ref()));
    md.push_str(&event_markdown(event.as_ref()));
    Ok(Section { data, markdown: md })
}

/// Starts a server with `api_delay_ms` and measures `samples` rounds of the three conditions, each round in a
/// fresh browser profile.
async fn setting(opts: &Opts, dist: &std::path::Path, api_delay_ms: u64, samples: usize) -> anyhow::Result<Setting> {
    let delay = api_delay_ms.to_string();
    let server = ServerProc::start_serving(opts, dist, &[("api_delay_ms", &delay)]).await?;
    let outcome = match Browsers::launch(0).await {
        Ok(mut browsers) => {
            let outcome = rounds(&server, &mut browsers, api_delay_ms, samples).await;
            browsers.close().await;
            outcome
        }
        Err(error) => Err(error),
    };
    server.stop().await;
    outcome
}

async fn rounds(
    server: &ServerProc,
    browsers: &mut Browsers,
    api_delay_ms: u64,
    samples: usize,
) -> anyhow::Result<Setting> {
    let owner = http::login(&http::client(), &server.base_url, OWNER).await?;
    let mut setting = Setting { api_delay_ms, ..Setting::default() };
    for round in 0..samples {
        let index = browsers.open().await?;
        let outcome = one_round(&browsers.clients[index], &server.base_url, &owner).await;
        browsers.close_one(index).await;
        let [cold, warm, persisted] = outcome.with_context(|| format!("round {} of {samples}", round + 1))?;
        setting.cold.push(cold);
        setting.warm.push(warm);
        setting.persisted.push(persisted);
    }
    Ok(setting)
}

/// Cold, warm and persisted loads of `/owner` in one fresh profile.
async fn one_round(page: &Client, base_url: &str, owner: &LoginResponse) -> anyhow::Result<[Load; 3]> {
    let health = format!("{base_url}/api/health");
    let dashboard = format!("{base_url}/owner");
    // Cold: the session is written from a same-origin page that is not the app, then the app opens.
    page.goto(&health).await.context("opening /api/health")?;
    let session = encode(&Session::from(owner.clone()));
    browser::eval(page, "localStorage.setItem(arguments[0], arguments[1]);", vec![json!(STORAGE_KEY), json!(session)])
        .await?;
    let cold = load(page, &dashboard).await.context("cold load")?;

    // Warm: leaving the app saves its cache (pagehide), so the snapshot is removed after leaving.
    page.goto(&health).await?;
    browser::eval(page, "localStorage.removeItem(arguments[0]);", vec![json!(CACHE_KEY)]).await?;
    let warm = load(page, &dashboard).await.context("warm load")?;

    // Persisted: once the app has saved the dashboard and the products page, open it again.
    browser::wait_for(
        page,
        "const s = localStorage.getItem('izi.cache');
         return !!s && s.includes('dashboard-data') && s.includes('\"products\"');",
        Duration::from_secs(10),
    )
    .await
    .context("the app saves its cache")?;
    page.goto(&health).await?;
    let persisted = load(page, &dashboard).await.context("load from the persisted cache")?;
    Ok([cold, warm, persisted])
}

/// How long a page is given to finish a dashboard request it started, before its stamps are read.
const API_SETTLE: Duration = Duration::from_secs(2);

/// Opens `url` and waits until the probe saw the dashboard with data; the page's stamps.
async fn load(page: &Client, url: &str) -> anyhow::Result<Load> {
    page.goto(url).await.with_context(|| format!("opening {url}"))?;
    browser::wait_for(page, "return !!(window.__benchStart && window.__benchStart.dashboard);", LOAD_LIMIT)
        .await
        .context("the owner dashboard shows its figures and products")?;
    // A dashboard request still in flight (a revalidation behind a slow API) is in resource timing only once
    // answered: give it time to land, so "asked" counts it. Waiting changes none of the stamps.
    let answered = "return performance.getEntriesByType('resource')\
                    .some(e => new URL(e.name).pathname === '/api/dashboard');";
    let _ = browser::wait_for(page, answered, API_SETTLE).await;
    let value = browser::eval(page, READ, vec![]).await?;
    let load: Load = serde_json::from_value(value.clone()).with_context(|| format!("the probe's answer: {value}"))?;
    if load.dashboard.is_none() {
        bail!("the probe has no dashboard stamp: {value}");
    }
    Ok(load)
}

/// The summary of one field over some loads.
fn summary(loads: &[Load], field: fn(&Load) -> Option<f64>) -> Option<Summary> {
    Summary::of(&loads.iter().filter_map(field).collect::<Vec<_>>())
}

/// "123 ms (p90 140)" or "–".
fn median_p90(summary: Option<Summary>) -> String {
    summary.map_or("–".into(), |s| format!("{:.0} ms (p90 {:.0})", s.p50, s.p90))
}

fn median(summary: Option<Summary>) -> String {
    summary.map_or("–".into(), |s| format!("{:.0} ms", s.p50))
}

/// The line on the cost of one event.
fn event_markdown(cost: Option<&EventCost>) -> String {
    let Some(cost) = cost else { return "\n### Applying one event\n\nNot measured in this run.\n".into() };
    format!(
        "\n### Applying one event\n\n\
         With {} entries in the cache (catalog pages, products, order pages, orders, the dashboard), one product \
         or order update applied by the live layer in Chromium (the release build; `tests/event_cost_probe.rs`, \
         {} events, {} values changed in all, {:.1} per event) takes **{:.2} ms** on average, median {:.2} ms, \
         p90 {:.2} ms, worst {:.1} ms: {:.1} µs per cached entry.\n",
        cost.entries,
        cost.events,
        cost.values_changed,
        cost.values_changed as f64 / cost.events.max(1) as f64,
        cost.mean_ms,
        cost.p50_ms,
        cost.p90_ms,
        cost.max_ms,
        cost.mean_ms * 1000.0 / cost.entries.max(1) as f64,
    )
}

/// The start tables: the owner dashboard's first render, cold, warm and from the persisted cache.
fn markdown(samples: usize, fast: &Setting, slow: Option<&Setting>) -> String {
    let mut md = String::new();
    md.push_str("### Time to first dashboard render\n\n");
    md.push_str(&format!(
        "The owner dashboard (`/owner`, owner1) opened in headless Chromium over loopback, the session already \
         stored (written with the app's own codec from `POST /api/auth/login`, so no login page is involved). \
         Times are the page's own `performance.now()`, from the start of the navigation, stamped by a \
         `MutationObserver` installed at document start by a script added to a copy of `index.html` (the app is \
         unchanged): *mounted* is the app's first element in the body, *figures* the stat cards showing numbers \
         (a loading skeleton has none), *products* the products table showing rows. Medians of {samples} rounds, \
         each in a fresh browser profile that makes three visits in turn:\n\n"
    ));
    for condition in Condition::ALL {
        md.push_str(&format!("- **{}**: {}.\n", condition.label(), condition.meaning()));
    }
    md.push('\n');
    md.push_str(
        "| API | Visit | Mounted | Figures | Products | Dashboard answer arrived |\n\
         |---|---|---:|---:|---:|---:|\n",
    );
    let settings: Vec<&Setting> = std::iter::once(fast).chain(slow).collect();
    for setting in &settings {
        let api =
            if setting.api_delay_ms == 0 { "loopback".to_owned() } else { format!("+{} ms", setting.api_delay_ms) };
        for condition in Condition::ALL {
            let loads = setting.loads(condition);
            let answered = loads.iter().filter(|l| l.api_end.is_some()).count();
            let api_cell = match summary(loads, |l| l.api_end) {
                Some(s) if answered == loads.len() => format!("{:.0} ms", s.p50),
                Some(s) => format!("{:.0} ms ({answered} of {} visits asked)", s.p50, loads.len()),
                None => "none asked".to_owned(),
            };
            md.push_str(&format!(
                "| {api} | {} | {} | {} | {} | {api_cell} |\n",
                condition.label(),
                median(summary(loads, |l| l.mounted)),
                median_p90(summary(loads, |l| l.figures)),
                median(summary(loads, |l| l.products)),
            ));
        }
    }
    md.push('\n');

    for setting in &settings {
        let figures = |c: Condition| summary(setting.loads(c), |l| l.figures);
        let (Some(cold), Some(warm), Some(persisted)) =
            (figures(Condition::Cold), figures(Condition::Warm), figures(Condition::Persisted))
        else {
            continue;
        };
        let round_trip = summary(setting.loads(Condition::Warm), |l| Some(l.api_end? - l.api_start?));
        let persisted_loads = &setting.persisted;
        let asked = persisted_loads.iter().filter(|l| l.api_start.is_some()).count();
        let before_answer = persisted_loads
            .iter()
            .filter(|l| match (l.figures, l.api_end) {
                (Some(figures), Some(answer)) => figures < answer,
                (Some(_), None) => true,
                _ => false,
            })
            .count();
        let first_render = persisted_loads
            .iter()
            .filter(|l| matches!((l.mounted, l.figures), (Some(m), Some(f)) if f - m < 1.0))
            .count();
        let api = if setting.api_delay_ms == 0 {
            "With the API at loopback speed".to_owned()
        } else {
            format!("With every API answer held back {} ms (a slow network)", setting.api_delay_ms)
        };
        md.push_str(&format!(
            "{api}: the persisted cache shows the figures at {:.0} ms against {:.0} ms cold ({:.0} ms sooner) and \
             {:.0} ms with the files cached but no data ({:.0} ms sooner); the dashboard request's own round trip \
             in the page is {} (median of the second visits). Of the {} visits from the persisted cache, {} showed \
             the figures before any dashboard answer arrived and {first_render} already in the app's first render; \
             {asked} then asked the API for the dashboard in the background (restored entries are shown at once and \
             revalidated: events may have been missed while the app was closed).\n\n",
            persisted.p50,
            cold.p50,
            cold.p50 - persisted.p50,
            warm.p50,
            warm.p50 - persisted.p50,
            round_trip.map_or("not measured".into(), |s| format!("{:.0} ms", s.p50)),
            persisted_loads.len(),
            before_answer,
        ));
    }
    let cold_wasm = summary(&fast.cold, |l| l.wasm_transfer);
    let warm_wasm = summary(&fast.warm, |l| l.wasm_transfer);
    if let (Some(cold), Some(warm)) = (cold_wasm, warm_wasm) {
        md.push_str(&format!(
            "On the wire, the wasm file took {} KB on a cold visit and {} KB on the second (resource timing's \
             `transferSize`: 0 when read from the HTTP cache, a few hundred bytes when revalidated with a 304).\n",
            size::kb(cold.p50 as u64),
            size::kb(warm.p50 as u64),
        ));
    }
    md
}

mod sizes;

use sizes::{BundleSize, size_markdown};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_to_whole_ms() {
        assert_eq!(median(Summary::of(&[10.4, 20.6, 30.0])), "21 ms");
        assert_eq!(median_p90(None), "–");
    }
}
