//! Design (b), this system: the real app in real Chromium sessions, one per measured actor, with the page's
//! clock and timers running `SPEED` times faster (an injected script), so an hour of the app's TTLs,
//! heartbeats and token refresh passes in minutes. Every request counted is one the app really made.

use std::time::Duration;

use anyhow::Context;
use fantoccini::Client;
use tokio::time::Instant;

use super::plan::{Action, Actor, Plan, Step};
use super::{Outcome, SPEED};
use crate::browser::{Browsers, eval, wait_for};

/// How long one browser action may take (real time).
const ACTION_WAIT: Duration = Duration::from_secs(20);

/// The script run before the app in every page: `Date.now`, `performance.now`, `setTimeout` and `setInterval`
/// run `SPEED` times faster than real time from `start_ms` (epoch ms) on, the same across page loads.
pub fn time_warp_script(start_ms: u64) -> String {
    format!(
        "(function(){{var K={SPEED},T0={start_ms},rn=Date.now.bind(Date),pn=performance.now.bind(performance),\
         P0=pn();Date.now=function(){{return T0+(rn()-T0)*K}};\
         performance.now=function(){{return P0+(pn()-P0)*K}};\
         var st=window.setTimeout.bind(window),si=window.setInterval.bind(window);\
         window.setTimeout=function(f,d){{var a=[].slice.call(arguments,2);return st.apply(null,[f,(+d||0)/K].concat(a))}};\
         window.setInterval=function(f,d){{var a=[].slice.call(arguments,2);return si.apply(null,[f,(+d||0)/K].concat(a))}};\
         window.__izi_time_warp=K;}})();"
    )
}

/// Runs the three measured sessions of `plan` in `browsers` (owner, admin, customer) against `base_url`,
/// starting at `start` (real time; step times are divided by `SPEED`).
pub async fn run_sessions(browsers: &Browsers, base_url: &str, plan: &Plan, start: Instant) -> Vec<Outcome> {
    let mut tasks = Vec::new();
    for (index, actor) in Actor::SESSIONS.into_iter().enumerate() {
        let client = browsers.clients[index].clone();
        let (base, steps) = (base_url.to_owned(), plan.of(actor));
        tasks.push(tokio::spawn(async move { run_actor(&client, &base, actor, steps, start).await }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap_or_else(|e| Outcome::failed(format!("session task: {e}"))));
    }
    outcomes
}

async fn run_actor(client: &Client, base: &str, actor: Actor, steps: Vec<Step>, start: Instant) -> Outcome {
    let mut outcome = Outcome::default();
    for step in steps {
        tokio::time::sleep_until(start + Duration::from_secs_f64(step.at_ms as f64 / 1000.0 / SPEED)).await;
        let done = perform(client, base, actor, &step.action).await;
        outcome.record(&step, done);
    }
    outcome
}

async fn perform(client: &Client, base: &str, actor: Actor, action: &Action) -> anyhow::Result<bool> {
    match action {
        Action::Login => {
            client.goto(&format!("{base}/login")).await?;
            wait_for(client, "return !!document.querySelector('input[type=email]')", ACTION_WAIT).await?;
            let script = "const set = (sel, v) => { const e = document.querySelector(sel); \
                e.value = v; e.dispatchEvent(new Event('input', {bubbles: true})); };\
                set('input[type=email]', arguments[0]); set('input[type=password]', arguments[1]);\
                document.querySelector('button[type=submit]').click(); return true;";
            eval(client, script, vec![actor.email().into(), crate::http::PASSWORD.into()]).await?;
            wait_path(client, actor.home()).await?;
            Ok(true)
        }
        Action::Visit(path) => {
            visit(client, path).await?;
            Ok(true)
        }
        Action::MarkPaid => {
            let button = "button[aria-label^='Mark order #'][aria-label$=' paid']";
            wait_for(client, &format!("return !!document.querySelector(\"{button}\")"), Duration::from_secs(5))
                .await
                .ok();
            click(client, button, Duration::from_secs(2)).await
        }
        Action::Order(item) => {
            visit(client, &format!("/shop/products/{}", item.id)).await?;
            let before = cart_count(client).await?;
            if !click(client, &format!("button[aria-label='Add {} to cart']", item.name), ACTION_WAIT).await? {
                anyhow::bail!("no Add to cart button for {}", item.name);
            }
            let grown = format!(
                "const e = document.querySelector('[data-testid=cart-count]'); \
                 return !!e && Number(e.textContent) > {before};"
            );
            wait_for(client, &grown, ACTION_WAIT).await.context("the cart count grows")?;
            visit(client, "/checkout").await?;
            if !click(client, "[data-testid=place-order]", ACTION_WAIT).await? {
                anyhow::bail!("no Place order button");
            }
            wait_for(client, "return !!document.querySelector('[data-testid=placed-order]')", ACTION_WAIT)
                .await
                .context("the order is placed")?;
            visit(client, "/orders").await?;
            wait_for(client, "return !!document.querySelector('[data-testid=order-row]')", ACTION_WAIT).await?;
            Ok(true)
        }
        Action::BackgroundOrder(_) => Ok(false),
    }
}

/// Follows a link to `path` inside the app (the router handles it: no page load), as a user clicking.
async fn visit(client: &Client, path: &str) -> anyhow::Result<()> {
    let script = "const a = document.createElement('a'); a.href = arguments[0]; document.body.appendChild(a); \
                  a.click(); a.remove(); return true;";
    eval(client, script, vec![path.into()]).await?;
    wait_path(client, path).await
}

async fn wait_path(client: &Client, path: &str) -> anyhow::Result<()> {
    let path = serde_json::to_string(path)?;
    wait_for(client, &format!("return location.pathname === {path};"), ACTION_WAIT).await.map(drop)
}

/// Clicks the first element matching `css` once it exists and is enabled; false when it never is.
async fn click(client: &Client, css: &str, within: Duration) -> anyhow::Result<bool> {
    let css = serde_json::to_string(css)?;
    let script =
        format!("const e = document.querySelector({css}); if (!e || e.disabled) return false; e.click(); return true;");
    Ok(wait_for(client, &script, within).await.is_ok())
}

async fn cart_count(client: &Client) -> anyhow::Result<u64> {
    let script =
        "const e = document.querySelector('[data-testid=cart-count]'); return e ? Number(e.textContent) || 0 : 0;";
    Ok(eval(client, script, vec![]).await?.as_u64().unwrap_or(0))
}

/// The speed-up installed in the page (0 when the warp script did not run).
pub async fn warp_of(client: &Client) -> anyhow::Result<f64> {
    Ok(eval(client, "return window.__izi_time_warp || 0;", vec![]).await?.as_f64().unwrap_or(0.0))
}
