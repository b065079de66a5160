//! Requests saved: a scripted session of an owner, an admin and a customer (orders arriving every few minutes,
//! navigation between pages), replayed under (a) the old design, every data type polled every 15 s without a
//! cache, and (b) this system, the real app in real Chromium; the server counts every request and byte.
//!
//! Time is compressed `SPEED` times: an hour passes in three minutes. In (b) a script injected before the app
//! speeds up the page's clock and timers (the app is unchanged); (a) schedules its polls on the same clock.

pub mod count;
mod plan;
mod poll;
mod push;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use protocol::{LoginResponse, Page, Product, Shop};
use reqwest::Method;
use serde::Serialize;
use tokio::time::Instant;

use self::count::{Counts, tally};
use self::plan::{Action, Actor, Item, Plan, Step};
use crate::browser::Browsers;
use crate::server::ServerProc;
use crate::stats::percent;
use crate::{Opts, Section, http};

/// Simulated seconds per real second.
pub const SPEED: f64 = 20.0;

/// What the actions of one actor came to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub done: u64,
    /// Actions with nothing to do (no pending order to mark paid).
    pub skipped: u64,
    pub errors: Vec<String>,
}

impl Outcome {
    fn failed(error: String) -> Outcome {
        Outcome { errors: vec![error], ..Outcome::default() }
    }

    fn record(&mut self, step: &Step, result: anyhow::Result<bool>) {
        match result {
            Ok(true) => self.done += 1,
            Ok(false) => self.skipped += 1,
            Err(error) => {
                let minute = step.at_ms as f64 / 60_000.0;
                self.errors.push(format!("{} {:?} at minute {minute:.0}: {error:#}", step.actor.name(), step.action));
            }
        }
    }
}

/// One design's session.
#[derive(Debug, Clone, Serialize)]
struct Run {
    counts: Counts,
    /// The second half of the session alone: what the designs cost once every page has been seen.
    second_half: Counts,
    /// Signed-in API requests per measured actor (logins carry no token, so they are not in these).
    by_actor: BTreeMap<String, u64>,
    outcomes: BTreeMap<String, Outcome>,
    real_secs: f64,
}

pub async fn run(opts: &Opts) -> anyhow::Result<Section> {
    let minutes = if opts.quick { 12 } else { 60 };
    let http = http::client();
    let push = run_push(opts, &http, minutes).await.context("this system (b)")?;
    let poll = run_poll(opts, &http, minutes).await.context("the polling design (a)")?;
    Ok(Section {
        markdown: render(minutes, &poll, &push),
        data: serde_json::json!({ "minutes": minutes, "speed": SPEED, "polling": poll, "push": push }),
    })
}

/// The catalog the plan buys from (the owner's shop, names a CSS selector can quote) and the shops.
async fn fixtures(http: &reqwest::Client, base: &str, owner_shop: i64, minutes: u64) -> anyhow::Result<Plan> {
    let url = format!("{base}/api/products?shop_id={owner_shop}&page=1");
    let page: Page<Product> = http::call(http, Method::GET, &url, None, None).await?;
    let items: Vec<Item> = page
        .items
        .into_iter()
        .filter(|p| p.stock > 100 && !p.name.contains(['\'', '"', '\\']))
        .take(4)
        .map(|p| Item { id: p.id, name: p.name })
        .collect();
    let shops: Vec<Shop> = http::call(http, Method::GET, &format!("{base}/api/shops"), None, None).await?;
    anyhow::ensure!(!items.is_empty(), "the owner's shop has no product in stock to buy");
    Ok(Plan::new(minutes, &items, &shops.iter().map(|s| s.id.0).collect::<Vec<_>>()))
}

/// The user ids of the actors and the tokens the bench itself needs, from logins made before counting starts.
struct Accounts {
    /// The admin's token, to read the counters.
    admin_token: String,
    background: LoginResponse,
    /// Every actor's user id.
    ids: BTreeMap<Actor, i64>,
    owner_shop: i64,
}

async fn accounts(http: &reqwest::Client, base: &str) -> anyhow::Result<Accounts> {
    let mut logins = BTreeMap::new();
    for actor in [Actor::Owner, Actor::Admin, Actor::Customer, Actor::Background] {
        logins.insert(actor, http::login(http, base, actor.email()).await?);
    }
    let ids = logins.iter().map(|(actor, login)| (*actor, login.user.id.0)).collect();
    let owner_shop = logins[&Actor::Owner].user.shop_id.map_or(1, |s| s.0);
    let admin_token = logins[&Actor::Admin].token.clone();
    let background = logins.remove(&Actor::Background).context("the background customer logged in")?;
    Ok(Accounts { admin_token, background, ids, owner_shop })
}

async fn run_push(opts: &Opts, http: &reqwest::Client, minutes: u64) -> anyhow::Result<Run> {
    let dist =
        crate::instrument::instrumented_dist(&opts.dist, &push::time_warp_script(crate::browser::epoch_ms()? as u64))?;
    let server = ServerProc::start_serving(opts, dist.path(), &[]).await?;
    let browsers = Browsers::launch(Actor::SESSIONS.len()).await;
    let result = match &browsers {
        Ok(browsers) => {
            let base = server.base_url.as_str();
            measure(http, base, minutes, |plan, start| async move {
                let outcomes = push::run_sessions(browsers, base, &plan, start).await;
                let warp = push::warp_of(&browsers.clients[0]).await.unwrap_or(0.0);
                anyhow::ensure!(warp == SPEED, "the time warp is not installed in the pages (found {warp})");
                Ok(outcomes)
            })
            .await
        }
        Err(error) => Err(anyhow::anyhow!("launching Chromium: {error:#}")),
    };
    if let Ok(browsers) = browsers {
        browsers.close().await;
    }
    server.stop().await;
    result
}

async fn run_poll(opts: &Opts, http: &reqwest::Client, minutes: u64) -> anyhow::Result<Run> {
    let server = ServerProc::start(opts, &[]).await?;
    let base = server.base_url.as_str();
    let result =
        measure(
            http,
            base,
            minutes,
            |plan, start| async move { Ok(poll::run_sessions(http, base, &plan, start).await) },
        )
        .await;
    server.stop().await;
    result
}

/// Counts what the three `sessions` (given the plan and the start) and the background orders cost the server
/// at `base` over `minutes` simulated minutes.
async fn measure<F, Fut>(http: &reqwest::Client, base: &str, minutes: u64, sessions: F) -> anyhow::Result<Run>
where
    F: FnOnce(Plan, Instant) -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<Outcome>>>,
{
    let accounts = accounts(http, base).await?;
    let plan = fixtures(http, base, accounts.owner_shop, minutes).await?;
    let before = http::metrics(http, base, &accounts.admin_token).await?;
    let start = Instant::now() + Duration::from_millis(500);
    let orders = tokio::spawn(background_orders(
        http.clone(),
        base.to_owned(),
        accounts.background.token.clone(),
        plan.of(Actor::Background),
        start,
    ));
    let halfway = {
        let (http, base, token) = (http.clone(), base.to_owned(), accounts.admin_token.clone());
        let at = start + poll::real(minutes * 30_000);
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            http::metrics(&http, &base, &token).await
        })
    };
    let outcomes = sessions(plan, start).await?;
    tokio::time::sleep_until(start + poll::real(minutes * 60_000)).await;
    let after = http::metrics(http, base, &accounts.admin_token).await?;
    let halfway = halfway.await.context("the halfway snapshot")??;
    let background = orders.await.unwrap_or_else(|e| Outcome::failed(e.to_string()));
    let background_id = accounts.ids[&Actor::Background];
    let mut by_actor = BTreeMap::new();
    for actor in Actor::SESSIONS {
        let id = accounts.ids[&actor];
        let grown =
            after.by_user.get(&id).copied().unwrap_or(0).saturating_sub(before.by_user.get(&id).copied().unwrap_or(0));
        by_actor.insert(actor.name().to_owned(), grown);
    }
    let mut named: BTreeMap<String, Outcome> =
        Actor::SESSIONS.into_iter().map(|a| a.name().to_owned()).zip(outcomes).collect();
    named.insert(Actor::Background.name().to_owned(), background);
    Ok(Run {
        counts: tally(&before, &after, Some(background_id)),
        second_half: tally(&halfway, &after, Some(background_id)),
        by_actor,
        outcomes: named,
        real_secs: start.elapsed().as_secs_f64(),
    })
}

/// customer2's orders over REST, on the plan's schedule.
async fn background_orders(
    http: reqwest::Client,
    base: String,
    token: String,
    steps: Vec<Step>,
    start: Instant,
) -> Outcome {
    let mut outcome = Outcome::default();
    for step in steps {
        tokio::time::sleep_until(start + poll::real(step.at_ms)).await;
        let done = match step.action {
            Action::BackgroundOrder(product) => poll::checkout(&http, &base, &token, product).await.map(|()| true),
            _ => Ok(false),
        };
        outcome.record(&step, done);
    }
    outcome
}

fn render(minutes: u64, poll: &Run, push: &Run) -> String {
    let (a, b) = (&poll.counts, &push.counts);
    let saved = |x: u64, y: u64| format!("{:.1}% fewer", 100.0 - percent(y as f64, x as f64));
    let kb = |bytes: u64| format!("{:.1} KB", bytes as f64 / 1000.0);
    let mut md = format!(
        "## Requests saved: a scripted {minutes}-minute session\n\n\
         Three sessions at once: owner1 on their dashboard (a look at the catalog and an order marked paid every \
         10 minutes), the admin (drilling into a shop every 6 minutes), customer1 (an order every 8 minutes: \
         product page, cart, checkout, their orders); another customer orders from owner1's shop every 3 minutes \
         over REST, so an order reaches the owner about every 2 minutes ({} orders in all). Time runs {SPEED:.0}× \
         faster: (b) is the real app in three headless Chromium sessions whose clock and timers an injected \
         script speeds up (TTLs, heartbeats and the token refresh all see {minutes} minutes); (a) replays the same \
         plan over REST, each page fetching what it shows when opened and every data type of the role's \
         dashboard again every 15 s, no cache. Each design runs on a fresh server; the server counts. The other \
         customer's writes are the same in both and left out; response sizes are bodies (headers not counted, \
         which flatters polling).\n\n\
         | per session | (a) polling every 15 s, no cache | (b) this system | (b) against (a) |\n|---|---:|---:|---:|\n",
        Plan::new(minutes, &[Item { id: protocol::ProductId(0), name: String::new() }], &[0]).orders(),
    );
    md.push_str(&format!(
        "| **API requests** | **{}** | **{}** | **{}** |\n",
        a.api(),
        b.api(),
        saved(a.api(), b.api())
    ));
    let per_session = |run: &Run| {
        let counts: Vec<String> =
            Actor::SESSIONS.iter().map(|a| run.by_actor.get(a.name()).copied().unwrap_or(0).to_string()).collect();
        counts.join(" / ")
    };
    md.push_str(&format!(
        "| of which owner / admin / customer (signed-in requests; logins excluded) | {} | {} | |\n",
        per_session(poll),
        per_session(push)
    ));
    md.push_str(&format!(
        "| API reads (GET) | {} | {} | {} |\n",
        a.api_reads,
        b.api_reads,
        saved(a.api_reads, b.api_reads)
    ));
    md.push_str(&format!(
        "| API writes (logins, refreshes, cart, checkout, status) | {} | {} | same actions |\n",
        a.api_writes, b.api_writes
    ));
    md.push_str(&format!(
        "| bytes: API answers + WebSocket frames | {} | {} + {} = {} | {} |\n",
        kb(a.data_bytes()),
        kb(b.api_read_bytes + b.api_write_bytes),
        kb(b.ws_bytes),
        kb(b.data_bytes()),
        saved(a.data_bytes(), b.data_bytes())
    ));
    md.push_str(&format!(
        "| WebSocket: upgrades, frames pushed | — | {}, {} | |\n| app files loaded (html, js, wasm, css) | not simulated | {} ({}) | |\n",
        b.ws_upgrades, b.ws_frames, b.app_files, kb(b.app_file_bytes)
    ));
    let busiest_b = b.reads_by_endpoint.first().cloned().unwrap_or_default();
    let busiest_a = a.reads_by_endpoint.first().cloned().unwrap_or_default();
    let per_hour = |n: u64| n as f64 * 60.0 / minutes as f64;
    md.push_str(&format!(
        "\nAnchors: the spec promised 90% fewer API calls, our goal is 99%: measured **{}** for API requests, {} \
         for reads alone. Polling every 15 s costs 240 requests per endpoint per hour and per dashboard; the \
         busiest endpoint here made {:.0} reads per hour in (a) (`{}`, several sessions poll it) and {:.0} in (b) \
         (`{}`).\n\n",
        saved(a.api(), b.api()),
        saved(a.api_reads, b.api_reads),
        per_hour(busiest_a.1),
        busiest_a.0,
        per_hour(busiest_b.1),
        busiest_b.0
    ));
    let (a2, b2) = (&poll.second_half, &push.second_half);
    md.push_str(&format!(
        "The second half of the session alone (minutes {}–{minutes}, every page already seen once): (a) {} API \
         requests ({} reads), (b) {} ({} reads): **{}**, {} for reads. First loads are paid once per session, \
         so the longer a dashboard stays open, the closer the whole session gets to this figure.\n\n",
        minutes / 2,
        a2.api(),
        a2.api_reads,
        b2.api(),
        b2.api_reads,
        saved(a2.api(), b2.api()),
        saved(a2.api_reads, b2.api_reads),
    ));
    md.push_str("Reads per endpoint in (b): ");
    md.push_str(&b.reads_by_endpoint.iter().map(|(e, n)| format!("`{e}` {n}")).collect::<Vec<_>>().join(", "));
    md.push_str(".\n\n");
    for (name, run) in [("(a)", poll), ("(b)", push)] {
        let actions: Vec<String> = run
            .outcomes
            .iter()
            .map(|(actor, o)| {
                format!(
                    "{actor} {} done{}",
                    o.done,
                    if o.skipped > 0 { format!(", {} skipped", o.skipped) } else { String::new() }
                )
            })
            .collect();
        let errors: usize = run.outcomes.values().map(|o| o.errors.len()).sum();
        md.push_str(&format!(
            "Actions {name}: {}; {errors} failed; {:.0} s of real time.\n",
            actions.join("; "),
            run.real_secs
        ));
        for error in run.outcomes.values().flat_map(|o| o.errors.iter()).take(5) {
            md.push_str(&format!("- failed: {error}\n"));
        }
    }
    md
}
