//! Event-to-screen latency: from an owner's write (a product renamed over REST) to the owner dashboard in a real
//! Chromium showing the new name, alone and with 1,000 other live dashboard sockets connected.
//!
//! Invariant: both stamps are wall-clock times of this machine (`SystemTime` here, `performance.timeOrigin +
//! performance.now()` in the page), and the bench's stamp is taken before the write is sent, so every figure is
//! an upper bound of commit-to-screen.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::{Client, Locator};
use protocol::{LoginResponse, Product, Topic};
use serde_json::json;
use tokio::time::Instant;

use crate::browser::{self, Browsers, epoch_ms};
use crate::fmt::{FRAME_MS, thousands};
use crate::instrument::instrumented_dist;
use crate::server::ServerProc;
use crate::stats::Summary;
use crate::ws::Fleet;
use crate::{Opts, Section, http};

const OWNER: &str = "owner1@izishopin.test";
/// Other live dashboards connected in the loaded condition.
const FLEET_SIZE: usize = 1_000;
/// Pause between events, so one event's rendering never overlaps the next write.
const PACE: Duration = Duration::from_millis(150);
/// How long the page may take to show one event before it counts as missed.
const EVENT_LIMIT: Duration = Duration::from_secs(10);
/// Missed events tolerated per condition before the run is abandoned as broken.
const MAX_MISSES: usize = 10;
/// One frame at 60 Hz, ms.
/// The polling design: every data type fetched every 15 s, so a change shows after 7.5 s on average.
const POLL_MS: f64 = 15_000.0;

/// Runs at document start in the page: records when each watched marker text first enters the DOM (the
/// MutationObserver callback runs before the next paint) and the start of the frame after it.
const PROBE: &str = r#"(() => {
  const now = () => performance.timeOrigin + performance.now();
  const pending = new Set(), seen = new Map(), waiters = new Map();
  const settle = (marker) => {
    const done = waiters.get(marker);
    if (done) { waiters.delete(marker); done(seen.get(marker)); }
  };
  const found = (marker, at) => {
    pending.delete(marker);
    const entry = { dom: at, frame: null };
    seen.set(marker, entry);
    requestAnimationFrame(() => { entry.frame = now(); settle(marker); });
    // A page that renders no frame still answers.
    setTimeout(() => settle(marker), 1000);
  };
  const check = (text, at) => {
    if (!text) return;
    for (const marker of pending) if (text.includes(marker)) found(marker, at);
  };
  new MutationObserver((records) => {
    if (pending.size === 0) return;
    const at = now();
    for (const record of records) {
      if (record.type === 'characterData') check(record.target.data, at);
      else for (const node of record.addedNodes) check(node.textContent, at);
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
  window.__benchLatency = {
    watch(marker) { if (!seen.has(marker)) pending.add(marker); },
    wait(marker, ms, done) {
      const entry = seen.get(marker);
      if (entry && entry.frame !== null) { done(entry); return; }
      waiters.set(marker, done);
      setTimeout(() => { if (waiters.get(marker) === done) { waiters.delete(marker); done(seen.get(marker) || null); } }, ms);
    },
  };
})();"#;

/// One event's figures, ms.
#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Sample {
    /// From just before the write was sent to the DOM holding the new name.
    dom_ms: f64,
    /// From just before the write was sent to the start of the next frame.
    frame_ms: Option<f64>,
    /// The write's HTTP round trip.
    write_ms: f64,
}

/// One condition's outcome.
#[derive(Debug, Default, serde::Serialize)]
struct Run {
    samples: Vec<Sample>,
    /// Events the page did not show within [`EVENT_LIMIT`].
    missed: usize,
}

impl Run {
    fn dom(&self) -> Option<Summary> {
        Summary::of(&self.samples.iter().map(|s| s.dom_ms).collect::<Vec<_>>())
    }

    fn frame(&self) -> Option<Summary> {
        Summary::of(&self.samples.iter().filter_map(|s| s.frame_ms).collect::<Vec<_>>())
    }

    fn write(&self) -> Option<Summary> {
        Summary::of(&self.samples.iter().map(|s| s.write_ms).collect::<Vec<_>>())
    }
}

/// What the 1,000 load sockets received during the loaded run.
#[derive(Debug, Default, serde::Serialize)]
struct FleetReport {
    sockets: usize,
    frames: usize,
    /// Distinct event sequence numbers seen.
    events: usize,
    /// The fewest sockets any one event reached.
    min_sockets_per_event: usize,
    /// Sockets the server closed during the run.
    closed: usize,
}

/// The page clock minus the bench clock, measured over WebDriver.
#[derive(Debug, Clone, Copy, serde::Serialize)]
struct ClockCheck {
    offset_ms: f64,
    /// Half the round trip of the probe the offset was read from: the offset's uncertainty.
    uncertainty_ms: f64,
}

pub async fn run(opts: &Opts) -> anyhow::Result<Section> {
    let events = if opts.quick { 30 } else { 300 };
    let dist = instrumented_dist(&opts.dist, PROBE)?;
    let server = ServerProc::start_serving(opts, dist.path(), &[]).await?;
    let outcome = match Browsers::launch(1).await {
        Ok(browsers) => {
            let outcome = measure(&server, &browsers.clients[0], events).await;
            browsers.close().await;
            outcome
        }
        Err(error) => Err(error),
    };
    server.stop().await;
    let (alone, loaded, fleet, clock) = outcome?;
    let data = json!({
        "events_per_condition": events,
        "pace_ms": PACE.as_millis() as u64,
        "alone": { "dom": alone.dom(), "frame": alone.frame(), "write": alone.write(), "missed": alone.missed,
                   "samples": alone.samples },
        "with_fleet": { "dom": loaded.dom(), "frame": loaded.frame(), "write": loaded.write(),
                        "missed": loaded.missed, "samples": loaded.samples },
        "fleet": fleet,
        "clock": clock,
    });
    Ok(Section { data, markdown: markdown(events, &alone, &loaded, &fleet, &clock) })
}

async fn measure(
    server: &ServerProc,
    page: &Client,
    events: usize,
) -> anyhow::Result<(Run, Run, FleetReport, ClockCheck)> {
    let http = http::client();
    let owner = http::login(&http, &server.base_url, OWNER).await?;
    login_in_page(page, &server.base_url).await?;
    browser::wait_for(
        page,
        "return document.querySelectorAll('table[data-testid=owner-products] tr[data-product-id]').length > 0 \
         && document.querySelector('.connection-badge')?.dataset.state === 'open';",
        Duration::from_secs(30),
    )
    .await
    .context("the owner page shows its products table with a live socket")?;
    let clock = clock_check(page).await?;

    let alone = events_run(page, &http, server, &owner, "A", events, None).await.context("events alone")?;

    let fleet_started = Instant::now();
    let fleet = Fleet::open(&server.ws_url, std::slice::from_ref(&owner.token), FLEET_SIZE, &Topic::ALL, 200)
        .await
        .context("opening the 1,000 load sockets")?;
    println!("    {FLEET_SIZE} load sockets open in {:.1} s", fleet_started.elapsed().as_secs_f64());
    let mut tally = Tally { fleet, per_seq: HashMap::new(), frames: 0 };
    tally.fleet.drain();
    let loaded =
        events_run(page, &http, server, &owner, "F", events, Some(&mut tally)).await.context("events with sockets")?;
    tally.absorb(Duration::from_millis(500)).await;
    let report = FleetReport {
        sockets: tally.fleet.size,
        frames: tally.frames,
        events: tally.per_seq.len(),
        min_sockets_per_event: tally.per_seq.values().copied().min().unwrap_or(0),
        closed: tally.fleet.closed(),
    };
    Ok((alone, loaded, report, clock))
}

/// Signs owner1 in through the real login page and waits for `/owner`.
async fn login_in_page(page: &Client, base_url: &str) -> anyhow::Result<()> {
    page.goto(&format!("{base_url}/login")).await.context("opening /login")?;
    let wait = Duration::from_secs(30);
    let field =
        page.wait().at_most(wait).for_element(Locator::Css("input[type=email]")).await.context("the login form")?;
    field.send_keys(OWNER).await?;
    page.find(Locator::Css("input[type=password]")).await?.send_keys(http::PASSWORD).await?;
    page.find(Locator::Css("button[type=submit]")).await?.click().await?;
    let deadline = Instant::now() + wait;
    while page.current_url().await?.path() != "/owner" {
        if Instant::now() > deadline {
            bail!("the login page did not lead to /owner within {wait:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The load sockets and what they have received so far.
struct Tally {
    fleet: Fleet,
    /// Sockets reached per event sequence number.
    per_seq: HashMap<u64, usize>,
    frames: usize,
}

impl Tally {
    /// Counts the frames received so far, waiting at most `wait` for more.
    async fn absorb(&mut self, wait: Duration) {
        for delivery in self.fleet.collect(FLEET_SIZE * 4, wait).await {
            self.frames += 1;
            *self.per_seq.entry(delivery.seq).or_default() += 1;
        }
    }
}

/// Runs `events` events, pacing them; `tag` keeps this run's markers apart from the other run's. The load
/// sockets' frames, if any, are counted between events so they never pile up.
async fn events_run(
    page: &Client,
    http: &reqwest::Client,
    server: &ServerProc,
    owner: &LoginResponse,
    tag: &str,
    events: usize,
    mut tally: Option<&mut Tally>,
) -> anyhow::Result<Run> {
    let mut run = Run::default();
    for index in 0..events {
        let outcome = one_event(page, http, server, owner, index, &format!("Bench {tag}{index:04}")).await?;
        record(&mut run, outcome)?;
        tokio::time::sleep(PACE).await;
        if let Some(tally) = tally.as_deref_mut() {
            tally.absorb(Duration::ZERO).await;
        }
    }
    Ok(run)
}

fn record(run: &mut Run, outcome: Option<Sample>) -> anyhow::Result<()> {
    match outcome {
        Some(sample) => run.samples.push(sample),
        None => {
            run.missed += 1;
            if run.missed > MAX_MISSES {
                bail!("{} events did not reach the page within {EVENT_LIMIT:?}", run.missed);
            }
        }
    }
    Ok(())
}

/// Renames a product listed on the page (the `index`-th, round robin) to `marker` and waits for the page to
/// show it; `None` when it did not within [`EVENT_LIMIT`].
async fn one_event(
    page: &Client,
    http: &reqwest::Client,
    server: &ServerProc,
    owner: &LoginResponse,
    index: usize,
    marker: &str,
) -> anyhow::Result<Option<Sample>> {
    let listed = browser::eval(
        page,
        "window.__benchLatency.watch(arguments[0]);
         return [...document.querySelectorAll('table[data-testid=owner-products] tr[data-product-id]')]
           .map(tr => Number(tr.dataset.productId)).sort((a, b) => a - b);",
        vec![json!(marker)],
    )
    .await?;
    let ids: Vec<i64> = serde_json::from_value(listed).context("product ids listed on the page")?;
    // Round robin over the listed products: each rename moves a different row in the table.
    let Some(id) = ids.get(index % ids.len().max(1)) else {
        bail!("the owner page lists no product");
    };

    let url = format!("{}/api/products/{id}", server.base_url);
    let body = json!({ "name": marker });
    let sent_at = epoch_ms()?;
    let started = Instant::now();
    let saved: Product = http::call(http, reqwest::Method::PATCH, &url, Some(&owner.token), Some(&body)).await?;
    let write_ms = started.elapsed().as_secs_f64() * 1000.0;
    if saved.name != marker {
        bail!("PATCH {url} answered the name {:?}, not {marker:?}", saved.name);
    }

    let script = "const done = arguments[arguments.length - 1];
                  window.__benchLatency.wait(arguments[0], arguments[1], done);";
    let limit = EVENT_LIMIT.as_millis() as u64;
    let seen = page
        .execute_async(script, vec![json!(marker), json!(limit)])
        .await
        .with_context(|| format!("waiting for {marker:?} on the page"))?;
    if seen.is_null() {
        return Ok(None);
    }
    let dom = seen["dom"].as_f64().with_context(|| format!("the page's record of {marker:?}: {seen}"))?;
    Ok(Some(Sample { dom_ms: dom - sent_at, frame_ms: seen["frame"].as_f64().map(|f| f - sent_at), write_ms }))
}

/// Compares the page's clock with this process's: the probe with the shortest round trip of ten.
async fn clock_check(page: &Client) -> anyhow::Result<ClockCheck> {
    let mut best: Option<ClockCheck> = None;
    for _ in 0..10 {
        let before = epoch_ms()?;
        let value = browser::eval(page, "return performance.timeOrigin + performance.now();", vec![]).await?;
        let after = epoch_ms()?;
        let in_page = value.as_f64().with_context(|| format!("the page's clock: {value}"))?;
        let check = ClockCheck { offset_ms: in_page - (before + after) / 2.0, uncertainty_ms: (after - before) / 2.0 };
        if best.is_none_or(|b| check.uncertainty_ms < b.uncertainty_ms) {
            best = Some(check);
        }
    }
    best.context("no clock probe")
}

fn markdown(events: usize, alone: &Run, loaded: &Run, fleet: &FleetReport, clock: &ClockCheck) -> String {
    let mut md = String::from("## Event-to-screen latency\n\n");
    md.push_str(&format!(
        "Time from a committed write to the DOM showing it in a real Chromium. The owner of Green Leaf Grocery is \
         signed in through the login page of a headless Chromium, on `/owner`; the benchmark renames one of the \
         products listed there with `PATCH /api/products/{{id}}` (a unique name per event) and waits until the \
         products table shows the new name. {events} events per condition, one at a time, {} ms apart; the \
         second condition adds {} other live dashboard sockets of the same owner (every topic \
         subscribed, held by the benchmark process), so each event is sent to {} sockets.\n\n",
        PACE.as_millis(),
        thousands(FLEET_SIZE as f64),
        thousands((FLEET_SIZE + 1) as f64),
    ));
    md.push_str(
        "| Condition | Events | p50 | p90 | p99 | max | Next frame p50 | Write round trip p50 |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let with_fleet = format!("With {} other live sockets", thousands(FLEET_SIZE as f64));
    for (name, run) in [("Alone", alone), (with_fleet.as_str(), loaded)] {
        let cell = |s: Option<Summary>, f: fn(&Summary) -> f64| s.map_or("–".into(), |s| format!("{:.1} ms", f(&s)));
        let dom = run.dom();
        md.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |\n",
            run.samples.len(),
            cell(dom, |s| s.p50),
            cell(dom, |s| s.p90),
            cell(dom, |s| s.p99),
            cell(dom, |s| s.max),
            cell(run.frame(), |s| s.p50),
            cell(run.write(), |s| s.p50),
        ));
    }
    let missed = alone.missed + loaded.missed;
    if missed > 0 {
        md.push_str(&format!(
            "\n{missed} event(s) did not show within {} s and are left out ({} alone, {} with the sockets).\n",
            EVENT_LIMIT.as_secs(),
            alone.missed,
            loaded.missed
        ));
    }

    md.push_str("\nAnchors: one frame at 60 Hz is 16.7 ms. ");
    if let (Some(a), Some(l)) = (alone.dom(), loaded.dom()) {
        md.push_str(&format!(
            "The median is {} a frame alone and {} with the sockets; the p99 is {:.1} and {:.1} frames. ",
            frames_phrase(a.p50),
            frames_phrase(l.p50),
            a.p99 / FRAME_MS,
            l.p99 / FRAME_MS,
        ));
        md.push_str(&format!(
            "The polling design shows a change after {:.1} s on average and {:.0} s at worst: about {} times the \
             median here alone ({} with the sockets), and {} times the worst event seen.\n",
            POLL_MS / 2000.0,
            POLL_MS / 1000.0,
            thousands(POLL_MS / 2.0 / a.p50),
            thousands(POLL_MS / 2.0 / l.p50),
            thousands(POLL_MS / a.max.max(l.max)),
        ));
    } else {
        md.push('\n');
    }

    md.push_str(&format!(
        "\nThe {} load sockets received {} event frames during the loaded run: {} distinct events ({:.1} per \
         write, the shop's `dashboard_update` besides `product_update`), each reaching at least {} sockets; {} \
         sockets were closed by the server.\n",
        thousands(fleet.sockets as f64),
        thousands(fleet.frames as f64),
        thousands(fleet.events as f64),
        fleet.events as f64 / events.max(1) as f64,
        thousands(fleet.min_sockets_per_event as f64),
        fleet.closed,
    ));

    md.push_str(&format!(
        "\nHow it is measured: both stamps are wall-clock times of the same machine. The benchmark takes its \
         stamp (`SystemTime`, sub-millisecond) just before it sends the write; the page takes its own \
         (`performance.timeOrigin + performance.now()`) in a `MutationObserver` installed at document start by a \
         script added to a copy of `index.html` (the app is unchanged), which runs right after the DOM change and \
         before the next paint; \"next frame\" is the following `requestAnimationFrame` callback, when the frame \
         that paints it starts. The two clocks agreed to {:+.2} ms (±{:.2} ms, half the round trip of the \
         probe). Because the first stamp is taken before the request leaves, every figure includes the write's \
         own handling (HTTP, validation, the SQLite commit) before the event is sent: it is an upper bound of \
         commit-to-screen. The path measured: the server commits, sends `product_update` on the owner's \
         socket, the app's cache applies it to the cached products page and Leptos re-renders the table.\n",
        clock.offset_ms, clock.uncertainty_ms,
    ));
    md
}

/// "0.31 of", "2.4 times" a frame.
fn frames_phrase(ms: f64) -> String {
    let frames = ms / FRAME_MS;
    if frames < 1.0 { format!("{frames:.2} of") } else { format!("{frames:.1} times") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_worded() {
        assert_eq!(frames_phrase(8.35), "0.50 of");
        assert_eq!(frames_phrase(33.4), "2.0 times");
    }
}
