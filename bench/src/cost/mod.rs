//! Server cost: CPU seconds, peak memory and traffic of the server for many owner dashboards over a window,
//! polling every 15 s versus loading once and holding a WebSocket, with the same background writes; and the
//! resident memory each idle authenticated socket costs.
//!
//! Invariant: every measurement runs on its own fresh server process, and its window starts only once that
//! server is up, seeded and idle, so start-up is never counted in the CPU figures. No measured server ever
//! checks a password: the tokens come from a throwaway server with the same JWT secret and the same seed, since
//! one argon2 check (19 MiB) leaves its memory resident in the server's allocator and would swamp the figures.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use izishopin_live::data::dashboard::{DashboardRole, data_types_of, query_for, topics_for};
use protocol::{CheckoutResult, LoginResponse, Page, Product};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::fmt::{mib, mib_bytes, thousands};
use crate::server::{ProcUsage, ServerProc};
use crate::stats::{Summary, percent};
use crate::ws::Fleet;
use crate::{Opts, Section, http};

mod report;
mod steady;
use report::markdown;
use steady::{Snapshot, Steady, run_dashboards};

/// How often a polling dashboard refetches everything it shows (the design this system replaces).
const POLL_EVERY: Duration = Duration::from_secs(15);
/// One background checkout every this long, in both modes.
const WRITE_EVERY: Duration = Duration::from_secs(2);
/// HTTP requests in flight at once (and so connections in the pool).
const MAX_IN_FLIGHT: usize = 64;
/// A request that starts later than this after its scheduled time counts as late: the generator fell behind.
const LATE_AFTER: Duration = Duration::from_secs(1);
/// Handshakes in flight at once while idle sockets open.
const PARALLEL_HANDSHAKES: usize = 128;
/// Pause on a fresh server before the "before" reading, so that start-up work is over.
const SETTLE: Duration = Duration::from_secs(1);
/// The steady state starts this long after the window does: every first load (spread over one poll interval)
/// is over by then.
const STEADY_AFTER: Duration = Duration::from_secs(20);
/// Pause after the idle sockets are open, before the "after" reading.
const IDLE_WAIT: Duration = Duration::from_secs(3);
/// The per-socket read buffer and write threshold the server sets (server/src/ws/mod.rs), KiB.
const READ_BUFFER_KIB: f64 = 1.0;
const WRITE_BUFFER_KIB: f64 = 4.0;

const OWNERS: [&str; 3] = ["owner1@izishopin.test", "owner2@izishopin.test", "owner3@izishopin.test"];
const CUSTOMERS: [&str; 2] = ["customer1@izishopin.test", "customer2@izishopin.test"];

/// Polling or push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Polling,
    Push,
}

/// The figures of one mode's window.
#[derive(Debug, Serialize)]
struct ModeRun {
    mode: Mode,
    dashboards: usize,
    window_secs: f64,
    /// Server CPU (user + system) over the window, seconds.
    server_cpu_secs: f64,
    /// `VmHWM` of the server process just before the window (start-up) and at the end, KiB.
    server_peak_before_kib: u64,
    server_peak_rss_kib: u64,
    /// `VmRSS` just before the window and at its end, KiB.
    server_rss_before_kib: u64,
    server_rss_end_kib: u64,
    /// The load generator's own CPU over the window, seconds.
    generator_cpu_secs: f64,
    /// The dashboards' API requests and response body bytes (the owners' accounts, from the server's counters).
    dashboard_requests: u64,
    dashboard_bytes: u64,
    /// The background writer's API requests and response bytes (the customers' accounts).
    writer_requests: u64,
    writer_bytes: u64,
    /// Every HTTP request and response byte the server counted over the window.
    all_requests: u64,
    all_response_bytes: u64,
    /// WebSocket text frames and their bytes sent by the server over the window.
    ws_frames: u64,
    ws_bytes: u64,
    /// Background checkouts that succeeded and failed.
    writes_ok: u64,
    writes_failed: u64,
    /// Dashboard requests the generator made, failed, and started more than `LATE_AFTER` behind schedule.
    requests_made: u64,
    requests_failed: u64,
    requests_late: u64,
    /// How far behind schedule requests started, ms.
    lateness_ms: Option<Summary>,
    /// Time to answer a dashboard request, ms.
    response_ms: Option<Summary>,
    /// Push only: sockets that could not be opened, and sockets closed before the end.
    sockets_failed: u64,
    sockets_closed: u64,
    /// The same figures from `STEADY_AFTER` to the end of the window (`None` when the window is too short).
    steady: Option<Steady>,
}

/// Memory of idle sockets on one fresh server.
#[derive(Debug, Serialize)]
struct IdleRun {
    sockets: usize,
    server_rss_before_kib: u64,
    server_rss_after_kib: u64,
    server_kib_per_socket: f64,
    /// The load generator's side (its client sockets keep tungstenite's default buffers). Rough: the generator
    /// reuses memory freed by earlier steps, so it is kept in the raw figures only.
    generator_kib_per_socket: f64,
    open_secs: f64,
    closed: usize,
}

/// Runs the cost part.
pub async fn run(opts: &Opts) -> anyhow::Result<Section> {
    let (dashboards, window) =
        if opts.quick { (200, Duration::from_secs(15)) } else { (1_000, Duration::from_secs(60)) };
    let accounts = Accounts::log_in(opts).await.context("logging the accounts in")?;
    let mut modes = Vec::new();
    for mode in [Mode::Polling, Mode::Push] {
        println!("    {mode:?}: {dashboards} dashboards over {} s", window.as_secs());
        let run = measure_mode(opts, &accounts, mode, dashboards, window).await.with_context(|| format!("{mode:?}"))?;
        println!(
            "    {mode:?}: server CPU {:.2} s, peak RSS {}, {} dashboard requests ({} late, {} failed), {} frames",
            run.server_cpu_secs,
            mib(run.server_peak_rss_kib),
            run.dashboard_requests,
            run.requests_late,
            run.requests_failed,
            run.ws_frames
        );
        modes.push(run);
    }
    // 19,000: about what one process holds under the open-files limit of 20,000 (the goal: 0 refused).
    let sizes: &[usize] = if opts.quick { &[1_000] } else { &[1_000, 10_000, 19_000] };
    let mut idle = Vec::new();
    for &sockets in sizes {
        let run = measure_idle(opts, &accounts, sockets).await.with_context(|| format!("{sockets} idle sockets"))?;
        println!("    {sockets} idle sockets: {:.1} KiB per socket on the server", run.server_kib_per_socket);
        idle.push(run);
    }
    let data = json!({ "quick": opts.quick, "poll_every_secs": POLL_EVERY.as_secs(), "modes": modes, "idle": idle });
    Ok(Section { data, markdown: markdown(opts, &modes, &idle) })
}

/// The logins of the seeded accounts the part uses. Tokens are stateless JWTs signed with the benchmark secret
/// and every server is seeded alike, so they are valid on every server of the part.
struct Accounts {
    admin: LoginResponse,
    owners: Vec<LoginResponse>,
    customers: Vec<LoginResponse>,
}

impl Accounts {
    /// Logs every account in on a throwaway server, stopped afterwards.
    async fn log_in(opts: &Opts) -> anyhow::Result<Accounts> {
        let server = ServerProc::start(opts, &[]).await?;
        let result = Self::log_in_on(&server.base_url).await;
        server.stop().await;
        result
    }

    async fn log_in_on(base: &str) -> anyhow::Result<Accounts> {
        let client = http::client();
        let admin = http::login(&client, base, "admin@izishopin.test").await?;
        let mut owners = Vec::new();
        for email in OWNERS {
            owners.push(http::login(&client, base, email).await?);
        }
        let mut customers = Vec::new();
        for email in CUSTOMERS {
            customers.push(http::login(&client, base, email).await?);
        }
        Ok(Accounts { admin, owners, customers })
    }

    fn owner_tokens(&self) -> Vec<String> {
        self.owners.iter().map(|o| o.token.clone()).collect()
    }
}

/// An owner's token and the dashboard URLs it reads on one server.
struct Owner {
    login: LoginResponse,
    urls: Vec<String>,
}

fn owners(accounts: &Accounts, base: &str) -> Vec<Owner> {
    let role = DashboardRole::ShopOwner;
    let urls_of = |login: &LoginResponse| -> Vec<String> {
        let shop = login.user.shop_id;
        data_types_of(role).iter().map(|kind| format!("{base}/api{}", query_for(role, *kind, shop).path())).collect()
    };
    accounts.owners.iter().map(|login| Owner { login: login.clone(), urls: urls_of(login) }).collect()
}

/// What the dashboards' requests gave, shared by their tasks.
#[derive(Default)]
struct Requests {
    made: AtomicU64,
    failed: AtomicU64,
    late: AtomicU64,
    lateness_ms: Mutex<Vec<f64>>,
    response_ms: Mutex<Vec<f64>>,
    first_error: Mutex<Option<String>>,
}

/// Issues one dashboard request scheduled at `at`, waiting for a slot among `MAX_IN_FLIGHT`; the caller waits
/// for the slot, so a saturated pool shows up as lateness rather than as an ever-growing backlog.
async fn request(
    tasks: &mut JoinSet<()>,
    gate: &Arc<Semaphore>,
    stats: &Arc<Requests>,
    client: &reqwest::Client,
    url: String,
    token: String,
    at: Instant,
) {
    let Ok(permit) = gate.clone().acquire_owned().await else { return };
    let started = Instant::now();
    let late = started.saturating_duration_since(at);
    stats.made.fetch_add(1, Ordering::Relaxed);
    if late > LATE_AFTER {
        stats.late.fetch_add(1, Ordering::Relaxed);
    }
    stats.lateness_ms.lock().await.push(late.as_secs_f64() * 1000.0);
    let (stats, client) = (stats.clone(), client.clone());
    tasks.spawn(async move {
        let result = http::get_len(&client, &url, &token).await;
        drop(permit);
        match result {
            Ok(_) => stats.response_ms.lock().await.push(started.elapsed().as_secs_f64() * 1000.0),
            Err(error) => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                stats.first_error.lock().await.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    });
}

/// The background writer: one checkout of one unit every `WRITE_EVERY` until `end`, customers and shops in
/// turn (the best-stocked product of each shop, so stock lasts). Returns (succeeded, failed).
async fn write_in_background(
    client: reqwest::Client,
    base: String,
    customers: Vec<String>,
    products: Vec<Product>,
    start: Instant,
    end: Instant,
) -> (u64, u64) {
    let (mut ok, mut failed) = (0, 0);
    for k in 0.. {
        let at = start + WRITE_EVERY * k;
        if at >= end {
            break;
        }
        tokio::time::sleep_until(at).await;
        let token = &customers[k as usize % customers.len()];
        let product = &products[k as usize % products.len()];
        let add = json!({ "product_id": product.id, "quantity": 1 });
        let cart: anyhow::Result<serde_json::Value> =
            http::call(&client, Method::POST, &format!("{base}/api/cart/items"), Some(token), Some(&add)).await;
        let checkout = match cart {
            Ok(_) => http::call::<CheckoutResult>(
                &client,
                Method::POST,
                &format!("{base}/api/orders"),
                Some(token),
                Some(&json!({})),
            )
            .await
            .map(|_| ()),
            Err(error) => Err(error),
        };
        match checkout {
            Ok(()) => ok += 1,
            Err(error) => {
                if failed == 0 {
                    eprintln!("    background checkout failed: {error:#}");
                }
                failed += 1;
            }
        }
    }
    (ok, failed)
}

/// The best-stocked product of each shop.
async fn products_to_buy(client: &reqwest::Client, base: &str, owners: &[Owner]) -> anyhow::Result<Vec<Product>> {
    let mut products = Vec::new();
    for owner in owners {
        let shop = owner.login.user.shop_id.context("an owner without a shop")?;
        let page: Page<Product> =
            http::call(client, Method::GET, &format!("{base}/api/products?shop_id={shop}&per_page=100"), None, None)
                .await?;
        products.push(page.items.into_iter().max_by_key(|p| p.stock).context("a shop without products")?);
    }
    Ok(products)
}

async fn measure_mode(
    opts: &Opts,
    accounts: &Accounts,
    mode: Mode,
    dashboards: usize,
    window: Duration,
) -> anyhow::Result<ModeRun> {
    let server = ServerProc::start(opts, &[]).await?;
    let result = measure_mode_on(&server, accounts, mode, dashboards, window).await;
    server.stop().await;
    result
}

async fn measure_mode_on(
    server: &ServerProc,
    accounts: &Accounts,
    mode: Mode,
    dashboards: usize,
    window: Duration,
) -> anyhow::Result<ModeRun> {
    let base = server.base_url.clone();
    let client = http::client();
    let (admin, customers) = (&accounts.admin, &accounts.customers);
    let owners = owners(accounts, &base);
    let products = products_to_buy(&client, &base, &owners).await?;
    tokio::time::sleep(SETTLE).await;

    let metrics_before = http::metrics(&client, &base, &admin.token).await?;
    let own_before = ProcUsage::own()?;
    let server_before = server.usage()?;
    let start = Instant::now();
    let end = start + window;
    let writer = tokio::spawn(write_in_background(
        client.clone(),
        base.clone(),
        customers.iter().map(|c| c.token.clone()).collect(),
        products,
        start,
        end,
    ));

    // The steady state's first snapshot, taken while the dashboards run; none when the window is too short
    // for a steady part of at least one poll interval.
    let steady_at = start + STEADY_AFTER;
    let steady_start = async {
        if steady_at + POLL_EVERY > end {
            return None;
        }
        tokio::time::sleep_until(steady_at).await;
        Some(Snapshot::take(server, &client, &admin.token).await)
    };
    let gate = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let stats = Arc::new(Requests::default());
    let dashboards_run = run_dashboards(server, &client, &owners, mode, dashboards, &gate, &stats, start, end);
    let (steady_start, (held, sockets_failed)) = tokio::join!(steady_start, dashboards_run);
    let steady_start = steady_start.transpose().context("the steady state's first snapshot")?;
    let steady_end = match steady_start {
        Some(_) => Some(Snapshot::take(server, &client, &admin.token).await?),
        None => None,
    };
    let (writes_ok, writes_failed) = writer.await.context("the background writer")?;
    let server_after = server.usage()?;
    let own_after = ProcUsage::own()?;
    let window_secs = start.elapsed().as_secs_f64();
    let metrics_after = http::metrics(&client, &base, &admin.token).await?;
    let sockets_closed = held.iter().map(|f| f.closed() as u64).sum();
    drop(held);

    if let Some(error) = stats.first_error.lock().await.as_ref() {
        eprintln!("    {} dashboard requests failed, the first: {error}", stats.failed.load(Ordering::Relaxed));
    }
    let owner_ids: Vec<i64> = owners.iter().map(|o| o.login.user.id.0).collect();
    let steady = steady_start.zip(steady_end).map(|(first, last)| first.steady_until(&last, &owner_ids));

    let customer_ids: Vec<i64> = customers.iter().map(|c| c.user.id.0).collect();
    let (before, after) = (&metrics_before, &metrics_after);
    let lateness = stats.lateness_ms.lock().await;
    let response = stats.response_ms.lock().await;
    Ok(ModeRun {
        mode,
        dashboards,
        window_secs,
        server_cpu_secs: server_after.cpu_secs - server_before.cpu_secs,
        server_peak_before_kib: server_before.peak_rss_kib,
        server_peak_rss_kib: server_after.peak_rss_kib,
        server_rss_before_kib: server_before.rss_kib,
        server_rss_end_kib: server_after.rss_kib,
        generator_cpu_secs: own_after.cpu_secs - own_before.cpu_secs,
        dashboard_requests: by_users(&before.by_user, &after.by_user, &owner_ids),
        dashboard_bytes: by_users(&before.bytes_by_user, &after.bytes_by_user, &owner_ids),
        writer_requests: by_users(&before.by_user, &after.by_user, &customer_ids),
        writer_bytes: by_users(&before.bytes_by_user, &after.bytes_by_user, &customer_ids),
        all_requests: after.requests.saturating_sub(before.requests),
        all_response_bytes: after.response_bytes.saturating_sub(before.response_bytes),
        ws_frames: after.ws_messages_sent.saturating_sub(before.ws_messages_sent),
        ws_bytes: after.ws_bytes_sent.saturating_sub(before.ws_bytes_sent),
        writes_ok,
        writes_failed,
        requests_made: stats.made.load(Ordering::Relaxed),
        requests_failed: stats.failed.load(Ordering::Relaxed),
        requests_late: stats.late.load(Ordering::Relaxed),
        lateness_ms: Summary::of(&lateness),
        response_ms: Summary::of(&response),
        sockets_failed,
        sockets_closed,
        steady,
    })
}

/// The growth of the counters of `users` between two snapshots.
fn by_users(before: &BTreeMap<i64, u64>, after: &BTreeMap<i64, u64>, users: &[i64]) -> u64 {
    let count = |map: &BTreeMap<i64, u64>| users.iter().map(|u| map.get(u).copied().unwrap_or(0)).sum::<u64>();
    count(after).saturating_sub(count(before))
}

/// Opens `sockets` idle sockets on a fresh server and reads its resident memory before and after.
async fn measure_idle(opts: &Opts, accounts: &Accounts, sockets: usize) -> anyhow::Result<IdleRun> {
    let server = ServerProc::start(opts, &[]).await?;
    let result = measure_idle_on(&server, &accounts.owner_tokens(), sockets).await;
    server.stop().await;
    result
}

async fn measure_idle_on(server: &ServerProc, tokens: &[String], sockets: usize) -> anyhow::Result<IdleRun> {
    tokio::time::sleep(SETTLE).await;
    let before = server.usage()?;
    let own_before = ProcUsage::own()?;
    let opening = Instant::now();
    let fleet = Fleet::open(&server.ws_url, tokens, sockets, topics_for(DashboardRole::ShopOwner), PARALLEL_HANDSHAKES)
        .await
        .context("opening the idle sockets")?;
    let open_secs = opening.elapsed().as_secs_f64();
    tokio::time::sleep(IDLE_WAIT).await;
    let after = server.usage()?;
    let own_after = ProcUsage::own()?;
    let closed = fleet.closed();
    drop(fleet);
    let per_socket = |before: u64, after: u64| (after as f64 - before as f64) / sockets as f64;
    Ok(IdleRun {
        sockets,
        server_rss_before_kib: before.rss_kib,
        server_rss_after_kib: after.rss_kib,
        server_kib_per_socket: per_socket(before.rss_kib, after.rss_kib),
        generator_kib_per_socket: per_socket(own_before.rss_kib, own_after.rss_kib),
        open_secs,
        closed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_of_some_users_grow() {
        let before = BTreeMap::from([(2, 5), (3, 1), (9, 100)]);
        let after = BTreeMap::from([(2, 15), (3, 4), (4, 2), (9, 500)]);
        assert_eq!(by_users(&before, &after, &[2, 3, 4]), 15);
        assert_eq!(by_users(&before, &after, &[7]), 0);
    }
}
