//! Offline: a customer's storefront in headless Chromium, its service worker installed. (a) The app's start
//! with the server down, from the service worker and the persisted cache: from the navigation to the catalog
//! on screen. (b) 50 cart changes made with the server down, then the server started again: from the moment
//! it listens to the outbox drained, and what the server received.

use std::time::Duration;

use anyhow::Context;
use fantoccini::Client;
use izishopin_live::auth::session::{STORAGE_KEY, Session, encode};
use protocol::Cart;
use serde::Serialize;
use serde_json::json;

use crate::browser::{self, Browsers};
use crate::server::ServerProc;
use crate::stats::Summary;
use crate::{Opts, Section, fmt, http};

const CUSTOMER: &str = "customer2@izishopin.test";
/// How long a page is given to show what is waited for.
const LIMIT: Duration = Duration::from_secs(30);
/// Queued writes in (b).
const WRITES: usize = 50;
/// Offline starts measured in (a).
const STARTS: usize = 7;

/// Resolves, in the page, with `performance.now()` once the catalog shows a product (the time since the
/// navigation started).
const CATALOG_SHOWN: &str = r#"
  return new Promise(resolve => {
    const look = () => document.querySelector('[data-testid=product-card]')
      ? resolve(performance.now()) : requestAnimationFrame(look);
    look();
  });"#;

#[derive(Debug, Clone, Serialize)]
struct Drain {
    writes: usize,
    /// From the server listening again to the header showing no waiting change.
    drained_ms: f64,
    /// `POST /api/cart/items` the server answered (a retry that got no answer is not counted by it).
    posts_answered: u64,
    /// Units added to the cart, as the server has it.
    units_added: u64,
}

#[derive(Debug, Clone, Serialize)]
struct Results {
    offline_start_ms: Option<Summary>,
    starts: Vec<f64>,
    online_start_ms: Option<Summary>,
    drain: Drain,
}

pub async fn run(opts: &Opts) -> anyhow::Result<Section> {
    let server = ServerProc::start(opts, &[]).await?;
    let mut browsers = Browsers::launch(0).await?;
    let outcome = measure(opts, server, &mut browsers).await;
    browsers.close().await;
    let results = outcome?;
    Ok(Section { data: serde_json::to_value(&results)?, markdown: markdown(&results) })
}

async fn measure(opts: &Opts, server: ServerProc, browsers: &mut Browsers) -> anyhow::Result<Results> {
    let base = server.base_url.clone();
    let customer = http::login(&http::client(), &base, CUSTOMER).await?;
    let index = browsers.open().await?;
    let page = browsers.clients[index].clone();
    page.goto(&format!("{base}/api/health")).await?;
    let session = encode(&Session::from(customer.clone()));
    browser::eval(&page, "localStorage.setItem(arguments[0], arguments[1]);", vec![json!(STORAGE_KEY), json!(session)])
        .await?;
    // Online first: the service worker installs, the catalog is cached (and persisted when the page goes).
    let mut online = Vec::new();
    for _ in 0..STARTS {
        page.goto(&format!("{base}/shop")).await?;
        online.push(shown(&page).await?);
    }
    browser::wait_for(&page, "return !!(navigator.serviceWorker && navigator.serviceWorker.controller);", LIMIT)
        .await
        .context("the service worker controls the page")?;

    let before = cart(&base, &customer.token).await?;
    // Products with stock for every add (a line over the stock would be refused, rightly), for (b).
    let listed: protocol::Page<protocol::Product> =
        http::call(&http::client(), reqwest::Method::GET, &format!("{base}/api/products?per_page=100"), None, None)
            .await?;
    let roomy: Vec<i64> = listed.items.iter().filter(|p| p.stock >= WRITES as u32).map(|p| p.id.0).collect();

    // (a) The server down: each start from the service worker and the persisted cache.
    let port = server.port;
    let mut starts = Vec::new();
    let mut server = server;
    server.crash().await;
    for _ in 0..STARTS {
        page.goto(&format!("http://127.0.0.1:{port}/shop")).await?;
        starts.push(shown(&page).await.context("the app opens offline")?);
    }

    // (b) 50 cart changes made offline, then the server back.
    let script = format!(
        "const roomy = new Set(arguments[0]);
         const buttons = [...document.querySelectorAll('[data-testid=product-card]')]
           .filter(card => roomy.has(Number(card.dataset.productId)))
           .map(card => card.querySelector('button.button:not(.secondary)'));
         for (let i = 0; i < {WRITES}; i++) buttons[i % buttons.length].click();
         return buttons.length;"
    );
    let used = browser::eval(&page, &script, vec![json!(roomy)]).await?;
    anyhow::ensure!(used.as_u64().unwrap_or(0) > 0, "no product on the page has stock for {WRITES} adds");
    let waiting = format!(
        "const p = document.querySelector('[data-testid=pending-writes]'); return p && p.dataset.pending === '{WRITES}';"
    );
    browser::wait_for(&page, &waiting, LIMIT).await.context("the 50 changes wait")?;
    let server = server.restart(opts, &opts.dist, &[]).await?;
    let back_at = browser::epoch_ms()?;
    let drained = browser::wait_for(
        &page,
        "return document.querySelector('[data-testid=pending-writes]') ? null : Date.now();",
        Duration::from_secs(180),
    )
    .await
    .context("the outbox drains")?;
    let drained_ms = drained.as_f64().context("a time")? - back_at;
    let after = cart(&base, &customer.token).await?;
    let admin = http::login(&http::client(), &base, "admin@izishopin.test").await?;
    let metrics = http::metrics(&http::client(), &base, &admin.token).await?;
    let posts_answered = metrics.by_route.get("POST /api/cart/items").copied().unwrap_or(0);
    let units_added = after.count.saturating_sub(before.count);
    server.stop().await;
    Ok(Results {
        offline_start_ms: Summary::of(&starts),
        starts,
        online_start_ms: Summary::of(&online),
        drain: Drain { writes: WRITES, drained_ms, posts_answered, units_added },
    })
}

async fn shown(page: &Client) -> anyhow::Result<f64> {
    let value = tokio::time::timeout(LIMIT, browser::eval(page, CATALOG_SHOWN, vec![]))
        .await
        .context("the catalog shows")??;
    value.as_f64().context("a time")
}

async fn cart(base: &str, token: &str) -> anyhow::Result<Cart> {
    http::call(&http::client(), reqwest::Method::GET, &format!("{base}/api/cart"), Some(token), None).await
}

fn markdown(r: &Results) -> String {
    let p =
        |s: Option<Summary>, f: fn(&Summary) -> f64| s.as_ref().map_or_else(|| "–".to_owned(), |s| fmt::fmt_ms(f(s)));
    format!(
        "## Offline\n\n\
         A customer's storefront (`/shop`, customer2 signed in) in headless Chromium over loopback, its service worker \
         installed by earlier visits. Times are the page's own `performance.now()` from the navigation's start to the \
         first product card on screen; medians of {n} starts.\n\n\
         | Start | Median | p90 |\n|---|---:|---:|\n\
         | Online (files from the service worker, data from the server) | {on} | {on90} |\n\
         | Offline, the server down (the page from the service worker, the data from the persisted cache) | {off} | {off90} |\n\n\
         Then, the server still down, {w} cart changes are made in the page (a click each on the catalog's \"Add to \
         cart\" buttons): each is shown at once and waits in the outbox. The server is started again on the same port \
         and database: **{d}** from it listening to the header showing no waiting change (the outbox drained: the \
         socket reconnects, which wakes the outbox, and the writes go one at a time, in order, in the cart's scope). \
         The server answered {posts} `POST /api/cart/items` (a replayed key counts too) and the cart grew by {units} units.\n",
        n = r.starts.len(),
        on = p(r.online_start_ms, |s| s.p50),
        on90 = p(r.online_start_ms, |s| s.p90),
        off = p(r.offline_start_ms, |s| s.p50),
        off90 = p(r.offline_start_ms, |s| s.p90),
        w = r.drain.writes,
        d = fmt::fmt_ms(r.drain.drained_ms),
        posts = r.drain.posts_answered,
        units = r.drain.units_added,
    )
}
