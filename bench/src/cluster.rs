//! Cluster mode: two server instances on one throwaway PostgreSQL and one throwaway Redis.
//!
//! - **Across instances**: sockets on A and on B (the same number, the same owner); writes on A; each
//!   `product_update` timed from just before the write to each socket's read, on A (same instance) and on B
//!   (carried over Redis), side by side in one run; at 100 + 100 and 10,000 + 10,000 sockets.
//! - **Resume storm**: 2,000 sockets on A get some events; A is killed (SIGKILL); writes land on B; then all
//!   2,000 reconnect to B at once, each resuming from the last seq it had: the time until every one has the
//!   newest event.
//!
//! One process may hold 20,000 open files here, so B's sockets are held by a second process of this binary
//! (`bench hold`), which stamps each frame with the system's monotonic clock, as this process does.
//!
//! Invariant: nothing but the measured writes changes the database during a run; each scenario gets a fresh
//! database.

use std::time::Duration;

use anyhow::{Context, bail};
use izishopin_live::data::dashboard::{DashboardRole, topics_for};
use protocol::{Page, Product, ProductId, Seq};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::time::Instant;

use crate::fanout::{collect_event, ms};
use crate::fmt::{fmt_ms, thousands};
use crate::server::ServerProc;
use crate::stats::Summary;
use crate::ws::Fleet;
use crate::{Opts, Section, http};

const PARALLEL_HANDSHAKES: usize = 128;
/// Pause between timed writes.
const SETTLE: Duration = Duration::from_millis(300);
const STORM_SOCKETS: usize = 2_000;
/// Writes on B while the storm's clients are away.
const STORM_MISSED_WRITES: usize = 10;

/// The system's monotonic clock in ns: comparable across processes on this machine.
fn mono_ns() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into a valid timespec.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now);
    }
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// Converts this process's instants to [`mono_ns`].
#[derive(Clone, Copy)]
struct Clock {
    base: Instant,
    base_ns: u64,
}

impl Clock {
    fn new() -> Self {
        Self { base: Instant::now(), base_ns: mono_ns() }
    }

    fn ns(&self, at: Instant) -> u64 {
        match at.checked_duration_since(self.base) {
            Some(after) => self.base_ns + after.as_nanos() as u64,
            None => self.base_ns.saturating_sub(self.base.duration_since(at).as_nanos() as u64),
        }
    }
}

/// The figures of one size of the cross-instance run.
#[derive(Debug, Serialize)]
struct Across {
    sockets_per_instance: usize,
    events: usize,
    same_instance_ms: Summary,
    other_instance_ms: Summary,
    /// Sockets reached (both instances) per second, per event: median.
    deliveries_per_sec_median: f64,
    missed_same: usize,
    missed_other: usize,
    /// Server CPU per event on A (the writer) and on B.
    cpu_ms_per_event_a: f64,
    cpu_ms_per_event_b: f64,
}

#[derive(Debug, Serialize)]
struct Storm {
    sockets: usize,
    missed_writes: usize,
    /// From the start of the reconnections until each socket had the newest event, ms.
    caught_up_ms: Summary,
    /// Until the last one had it, s.
    all_caught_up_secs: f64,
    not_caught_up: usize,
    resyncs: u64,
    /// Server CPU on B during the storm.
    cpu_secs_b: f64,
}

/// Runs the cluster part.
pub async fn run(opts: &Opts) -> anyhow::Result<Section> {
    let postgres = tokio::task::spawn_blocking(throwaway::Postgres::start).await?;
    let sizes: &[(usize, usize)] = if opts.quick { &[(100, 5)] } else { &[(100, 40), (10_000, 15)] };
    let mut across = Vec::new();
    for &(sockets, events) in sizes {
        println!("    {sockets} + {sockets} sockets, {events} writes on A");
        let row =
            measure_across(opts, &postgres, sockets, events).await.with_context(|| format!("{sockets} + {sockets}"))?;
        println!(
            "    same instance p50 {:.1} ms p99 {:.1} ms; other instance p50 {:.1} ms p99 {:.1} ms",
            row.same_instance_ms.p50, row.same_instance_ms.p99, row.other_instance_ms.p50, row.other_instance_ms.p99
        );
        across.push(row);
    }
    let storm_sockets = if opts.quick { 200 } else { STORM_SOCKETS };
    println!("    resume storm: {storm_sockets} sockets");
    let storm = measure_storm(opts, &postgres, storm_sockets).await.context("the resume storm")?;
    println!("    all caught up after {:.2} s", storm.all_caught_up_secs);
    drop(postgres);
    let markdown = markdown(opts, &across, &storm);
    Ok(Section { data: json!({ "quick": opts.quick, "across": across, "storm": storm }), markdown })
}

/// Two instances on a fresh database and one Redis.
struct Pair {
    a: ServerProc,
    b: ServerProc,
    _redis: throwaway::Redis,
}

async fn start_pair(opts: &Opts, postgres: &throwaway::Postgres) -> anyhow::Result<Pair> {
    let url = postgres.create_database();
    let redis = tokio::task::spawn_blocking(throwaway::Redis::start).await?;
    let settings = [("database_url", url.as_str()), ("redis_url", &redis.url())];
    // One after the other: the first migrates and seeds the database.
    let a = ServerProc::start(opts, &settings).await?;
    let b = ServerProc::start(opts, &settings).await?;
    Ok(Pair { a, b, _redis: redis })
}

/// owner1's token and the first product of its shop.
async fn owner_and_product(base: &str) -> anyhow::Result<(String, ProductId)> {
    let client = http::client();
    let owner = http::login(&client, base, "owner1@izishopin.test").await?;
    let shop = owner.user.shop_id.context("owner1 has no shop")?;
    let url = format!("{base}/api/products?shop_id={shop}&per_page=1");
    let products: Page<Product> = http::call(&client, Method::GET, &url, Some(&owner.token), None).await?;
    Ok((owner.token, products.items.first().context("owner1's shop has no product")?.id))
}

async fn set_stock(base: &str, token: &str, product: ProductId, stock: usize) -> anyhow::Result<()> {
    let url = format!("{base}/api/products/{product}");
    let _: Product = http::call(&http::client(), Method::PATCH, &url, Some(token), Some(&json!({ "stock": stock })))
        .await
        .context("a write")?;
    Ok(())
}

async fn measure_across(
    opts: &Opts,
    postgres: &throwaway::Postgres,
    sockets: usize,
    events: usize,
) -> anyhow::Result<Across> {
    let pair = start_pair(opts, postgres).await?;
    let (token, product) = owner_and_product(&pair.a.base_url).await?;
    let topics = topics_for(DashboardRole::ShopOwner);
    let holder = Holder::start(&pair.b.ws_url, &token, sockets).await?;
    let mut fleet =
        Fleet::open(&pair.a.ws_url, std::slice::from_ref(&token), sockets, topics, PARALLEL_HANDSHAKES).await?;
    let clock = Clock::new();
    let mut floor = 0;
    let mut writes = Vec::new(); // (t0 in ns, the timed seq)
    let mut same = Vec::new();
    let mut last_same = Vec::new();
    let (cpu_a, cpu_b) = (pair.a.usage()?.cpu_secs, pair.b.usage()?.cpu_secs);
    for event in 0..events {
        tokio::time::sleep(SETTLE).await;
        fleet.drain();
        let t0 = Instant::now();
        set_stock(&pair.a.base_url, &token, product, 500 + event).await?;
        let got = collect_event(&mut fleet, sockets, t0, &mut floor).await;
        last_same.push(got.latencies.iter().copied().fold(0.0, f64::max));
        same.extend(got.latencies);
        if let Some(target) = got.target {
            writes.push((clock.ns(t0), target));
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu_ms = |after: f64, before: f64| (after - before) * 1000.0 / events as f64;
    let (cpu_ms_per_event_a, cpu_ms_per_event_b) =
        (cpu_ms(pair.a.usage()?.cpu_secs, cpu_a), cpu_ms(pair.b.usage()?.cpu_secs, cpu_b));
    let deliveries = holder.finish().await?;
    let mut other = Vec::new();
    let mut rates = Vec::new();
    for (n, &(t0, target)) in writes.iter().enumerate() {
        let latencies: Vec<f64> = deliveries
            .iter()
            .filter(|(_, seq, _)| *seq == target)
            .map(|(_, _, at)| at.saturating_sub(t0) as f64 / 1e6)
            .collect();
        let last = latencies.iter().copied().fold(last_same.get(n).copied().unwrap_or(0.0), f64::max);
        rates.push((latencies.len() + sockets) as f64 / (last / 1000.0).max(1e-6));
        other.extend(latencies);
    }
    let timed = writes.len();
    let row = Across {
        sockets_per_instance: sockets,
        events: timed,
        missed_same: sockets * events - same.len(),
        missed_other: sockets * timed - other.len(),
        same_instance_ms: Summary::of(&same).context("no delivery on A")?,
        other_instance_ms: Summary::of(&other).context("no delivery on B")?,
        deliveries_per_sec_median: Summary::of(&rates).map_or(0.0, |s| s.p50),
        cpu_ms_per_event_a,
        cpu_ms_per_event_b,
    };
    drop(fleet);
    pair.a.stop().await;
    pair.b.stop().await;
    Ok(row)
}

async fn measure_storm(opts: &Opts, postgres: &throwaway::Postgres, sockets: usize) -> anyhow::Result<Storm> {
    let pair = start_pair(opts, postgres).await?;
    let (token, product) = owner_and_product(&pair.a.base_url).await?;
    let topics = topics_for(DashboardRole::ShopOwner);
    let tokens = std::slice::from_ref(&token);
    // One watcher on B tells which seq is the newest owner1 may see.
    let mut watcher = Fleet::open(&pair.b.ws_url, tokens, 1, topics, 1).await?;
    let mut fleet = Fleet::open(&pair.a.ws_url, tokens, sockets, topics, PARALLEL_HANDSHAKES).await?;
    let mut floor = 0;
    for event in 0..3 {
        set_stock(&pair.a.base_url, &token, product, 100 + event).await?;
        let got = collect_event(&mut fleet, sockets, Instant::now(), &mut floor).await;
        if got.latencies.len() < sockets {
            bail!("only {} of {sockets} sockets got a write before the kill", got.latencies.len());
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let last_seq = {
        let mut seen = fleet.collect(sockets * 10, Duration::from_millis(100)).await;
        seen.extend(watcher.collect(100, Duration::from_millis(100)).await);
        seen.iter().map(|d| d.seq).max().unwrap_or(floor).max(floor)
    };
    pair.a.kill().await;
    drop(fleet);
    for event in 0..STORM_MISSED_WRITES {
        set_stock(&pair.b.base_url, &token, product, 200 + event).await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let newest = watcher.collect(1_000, Duration::from_millis(500)).await.iter().map(|d| d.seq).max();
    let newest = newest.context("the watcher on B saw the writes")?;
    let cpu_before = pair.b.usage()?.cpu_secs;
    let t0 = Instant::now();
    let mut storm = Fleet::open_resuming(&pair.b.ws_url, tokens, sockets, topics, sockets, Some(last_seq)).await?;
    let mut caught_up = vec![None; sockets];
    let deadline = t0 + Duration::from_secs(60);
    while caught_up.iter().any(Option::is_none) && Instant::now() < deadline {
        for delivery in storm.collect(sockets, Duration::from_millis(200)).await {
            if delivery.seq >= newest {
                caught_up[delivery.socket].get_or_insert(ms(delivery.at.saturating_duration_since(t0)));
            }
        }
    }
    let cpu_secs_b = pair.b.usage()?.cpu_secs - cpu_before;
    let times: Vec<f64> = caught_up.iter().flatten().copied().collect();
    let resyncs = metric(&pair.b.base_url, "izi_ws_resyncs_total").await;
    drop(storm);
    pair.b.stop().await;
    let caught_up_ms = Summary::of(&times).context("no socket caught up")?;
    Ok(Storm {
        sockets,
        missed_writes: STORM_MISSED_WRITES,
        all_caught_up_secs: caught_up_ms.max / 1000.0,
        not_caught_up: sockets - times.len(),
        caught_up_ms,
        resyncs,
        cpu_secs_b,
    })
}

async fn metric(base: &str, name: &str) -> u64 {
    let Ok(answer) = reqwest::get(format!("{base}/metrics")).await else { return 0 };
    let text = answer.text().await.unwrap_or_default();
    text.lines().find_map(|line| line.strip_prefix(name)?.trim().parse().ok()).unwrap_or(0)
}

/// B's sockets, held by a child process of this binary (`bench hold`).
struct Holder {
    child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Holder {
    async fn start(ws_url: &str, token: &str, sockets: usize) -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["hold", ws_url, token, &sockets.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting `bench hold`")?;
        let mut lines = BufReader::new(child.stdout.take().context("its stdout")?).lines();
        match lines.next_line().await? {
            Some(line) if line == "ready" => Ok(Self { child, lines }),
            other => bail!("`bench hold` did not open its sockets: {other:?}"),
        }
    }

    /// Ends the holder: every delivery it saw, as (socket, seq, monotonic ns).
    async fn finish(mut self) -> anyhow::Result<Vec<(usize, Seq, u64)>> {
        drop(self.child.stdin.take());
        let mut deliveries = Vec::new();
        while let Some(line) = self.lines.next_line().await? {
            let mut fields = line.split(' ').map(str::parse::<u64>);
            if let (Some(Ok(socket)), Some(Ok(seq)), Some(Ok(at))) = (fields.next(), fields.next(), fields.next()) {
                deliveries.push((socket as usize, seq, at));
            }
        }
        let _ = self.child.wait().await;
        Ok(deliveries)
    }
}

/// `bench hold WS_URL TOKEN COUNT`: opens the sockets, says `ready`, records every event frame until its stdin
/// closes, then prints them (`socket seq monotonic_ns` per line).
pub async fn hold(args: &[String]) -> anyhow::Result<()> {
    let [url, token, count] = args else { bail!("usage: bench hold WS_URL TOKEN COUNT") };
    let count: usize = count.parse().context("COUNT")?;
    let topics = topics_for(DashboardRole::ShopOwner);
    let mut fleet = Fleet::open(url, std::slice::from_ref(token), count, topics, PARALLEL_HANDSHAKES).await?;
    let clock = Clock::new();
    println!("ready");
    let mut stdin = BufReader::new(tokio::io::stdin());
    let mut sink = Vec::new();
    let mut seen = Vec::new();
    let mut closed = Box::pin(async move { stdin.read_until(b'\n', &mut sink).await });
    loop {
        tokio::select! {
            _ = &mut closed => break,
            batch = fleet.collect(count, Duration::from_millis(50)) => seen.extend(batch),
        }
    }
    seen.extend(fleet.collect(count, Duration::from_millis(10)).await);
    let mut out = tokio::io::BufWriter::new(tokio::io::stdout());
    for delivery in seen {
        out.write_all(format!("{} {} {}\n", delivery.socket, delivery.seq, clock.ns(delivery.at)).as_bytes()).await?;
    }
    out.flush().await?;
    Ok(())
}

fn markdown(opts: &Opts, across: &[Across], storm: &Storm) -> String {
    let mut md = String::from("## Cluster\n\n");
    md.push_str(&format!(
        "Two server instances on one PostgreSQL and one Redis (throwaway servers on this machine), sockets of \
         owner1 on the owner dashboard's topics. **Across instances**: the same number of sockets on A and on B; \
         each write on A (`PATCH /api/products/{{id}}`, {} ms apart) timed until each socket read its \
         `product_update`, on A (the same instance) and on B (over Redis), in one run. B's sockets are held by a \
         second load process (one process may open 20,000 files here).{}\n\n",
        SETTLE.as_millis(),
        if opts.quick { " *Quick run: small samples.*" } else { "" },
    ));
    md.push_str(
        "| Sockets | Writes | Same instance p50 | p99 | Other instance p50 | p99 | p99 ratio | Deliveries/s (median) \
         | Missed (A / B) | CPU per write (A / B) |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in across {
        md.push_str(&format!(
            "| {} + {} | {} | {} | {} | {} | {} | {:.2}× | {} | {} / {} | {} / {} |\n",
            thousands(r.sockets_per_instance as f64),
            thousands(r.sockets_per_instance as f64),
            r.events,
            fmt_ms(r.same_instance_ms.p50),
            fmt_ms(r.same_instance_ms.p99),
            fmt_ms(r.other_instance_ms.p50),
            fmt_ms(r.other_instance_ms.p99),
            r.other_instance_ms.p99 / r.same_instance_ms.p99.max(0.001),
            thousands(r.deliveries_per_sec_median),
            r.missed_same,
            r.missed_other,
            fmt_ms(r.cpu_ms_per_event_a),
            fmt_ms(r.cpu_ms_per_event_b),
        ));
    }
    md.push_str(&format!(
        "\n**Resume storm**: {} sockets on A got 3 writes; A was killed (SIGKILL); {} writes landed on B; then all \
         {} reconnected to B at once, each resuming from the last seq it had (`auth {{token, topics, last_seq}}`). \
         Every one had the newest event after {:.2} s (p50 {}, p99 {}); {} never caught up; {} resyncs; B spent \
         {:.2} s of CPU on the storm.\n\n",
        thousands(storm.sockets as f64),
        storm.missed_writes,
        thousands(storm.sockets as f64),
        storm.all_caught_up_secs,
        fmt_ms(storm.caught_up_ms.p50),
        fmt_ms(storm.caught_up_ms.p99),
        storm.not_caught_up,
        storm.resyncs,
        storm.cpu_secs_b,
    ));
    md.push_str(
        "Goals (issue #14): cross-instance p99 within 2× of same-instance; the storm caught up within 10 s. The \
         two instances, Redis, PostgreSQL and both load processes share this machine's 2 cores.\n",
    );
    md
}
