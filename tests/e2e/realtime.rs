//! Live updates end to end: the header badge goes live, counts the events of REST writes, survives a server
//! restart without losing or repeating an event, and renews an expiring token without the user noticing.
//!
//! The badge subscribes to every topic (until the dashboards subscribe themselves), so its `data-events` counts
//! every event the signed-in user may see, and `data-last-seq` is the newest one applied.

use std::time::{Duration, Instant};

use fantoccini::Client;
use protocol::{EventsPage, LoginResponse, Product};
use serde_json::json;

use crate::page::{PASSWORD, wait_until};
use crate::support;

const OWNER: &str = "owner1@izishopin.test";

/// What the badge says, read in one script so the attributes are consistent with each other.
#[derive(Debug, Clone, PartialEq)]
struct Badge {
    state: String,
    transport: String,
    last_seq: Option<u64>,
    events: u64,
    text: String,
    label: String,
}

async fn read_badge(browser: &Client) -> Option<Badge> {
    let script = r#"
        const b = document.querySelector('.connection-badge');
        if (!b) return null;
        return { state: b.dataset.state, transport: b.dataset.transport, last_seq: b.dataset.lastSeq,
                 events: b.dataset.events, text: b.textContent.trim(), label: b.getAttribute('aria-label') };
    "#;
    let value = browser.execute(script, vec![]).await.unwrap();
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    value.is_object().then(|| Badge {
        state: field("state"),
        transport: field("transport"),
        last_seq: field("last_seq").parse().ok(),
        events: field("events").parse().unwrap_or(0),
        text: field("text"),
        label: field("label"),
    })
}

/// Polls the badge until `done` holds, failing with the last reading after `limit`.
async fn wait_for_badge(browser: &Client, limit: Duration, what: &str, done: impl Fn(&Badge) -> bool) -> Badge {
    let badge = wait_until(limit, what, || read_badge(browser), |b| b.as_ref().is_some_and(&done)).await;
    badge.expect("a badge that satisfies `done`")
}

/// Unlike `page::wait_live`, this takes its own limit (a restart can take longer) and checks what the badge says
/// once live, returning it.
async fn wait_live(browser: &Client, limit: Duration) -> Badge {
    let badge = wait_for_badge(browser, limit, "the badge goes live", |b| b.state == "open").await;
    assert_eq!(badge.text, "Live");
    assert_eq!(badge.label, "Live updates: Live");
    assert_eq!(badge.transport, "websocket");
    badge
}

/// A product of the owner's shop.
async fn a_product_of(base: &str, owner: &LoginResponse) -> Product {
    let shop = owner.user.shop_id.expect("an owner has a shop");
    let url = format!("{base}/api/products?shop_id={shop}");
    let (status, page) = support::http_json("GET", &url, Some(&owner.token), None).await;
    assert_eq!(status, 200, "{page}");
    serde_json::from_value(page["items"][0].clone()).expect("the shop has a product")
}

/// Changes a product's stock through the REST API (a `product_update` and a `dashboard_update`).
async fn set_stock(base: &str, owner: &LoginResponse, product: &Product, stock: i64) {
    let url = format!("{base}/api/products/{}", product.id);
    let (status, answer) = support::http_json("PATCH", &url, Some(&owner.token), Some(json!({ "stock": stock }))).await;
    assert_eq!(status, 200, "{answer}");
}

/// The events after `after` the user may see, as `GET /api/events` answers them.
async fn events_after(base: &str, user: &LoginResponse, after: u64) -> EventsPage {
    let url = format!("{base}/api/events?after={after}");
    let (status, page) = support::http_json("GET", &url, Some(&user.token), None).await;
    assert_eq!(status, 200, "{page}");
    serde_json::from_value(page).expect("an EventsPage")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_badge_goes_live_and_counts_the_events_of_a_rest_write() {
    let data = support::server_data();
    let server = support::start_server_on(0, &data).await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        support::browser_login(&browser, &base, OWNER, PASSWORD, "/owner").await;
        let before = wait_live(&browser, Duration::from_secs(30)).await;
        let seq_before = before.last_seq.expect("auth_ok gives a seq");

        let owner = support::api_login(&base, OWNER, PASSWORD).await;
        let product = a_product_of(&base, &owner).await;
        set_stock(&base, &owner, &product, 41).await;
        let page = events_after(&base, &owner, seq_before).await;
        assert!(page.events.len() >= 2, "a stock change is a product and a dashboard event: {page:?}");
        let newest = page.events.iter().filter_map(|e| e.seq()).max().unwrap();

        let after =
            wait_for_badge(&browser, Duration::from_secs(20), "the events arrive", |b| b.last_seq == Some(newest))
                .await;
        assert_eq!(after.events, before.events + page.events.len() as u64, "each event delivered once");
        assert_eq!(after.state, "open");
    })
    .await;
    server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_restart_the_page_reconnects_and_applies_every_missed_event_once() {
    let data = support::server_data();
    let server = support::start_server_on(0, &data).await;
    let base = server.base_url.clone();
    // The servers move into the browser task; should it fail, dropping them stops them.
    support::with_browser(move |browser| async move {
        support::browser_login(&browser, &base, OWNER, PASSWORD, "/owner").await;
        let before = wait_live(&browser, Duration::from_secs(30)).await;
        let seq_before = before.last_seq.expect("auth_ok gives a seq");
        let port = server.port;

        server.kill().await;
        wait_for_badge(&browser, Duration::from_secs(20), "the page notices the server is gone", |b| b.state != "open")
            .await;
        // While the page's server is down, the same database takes writes through another port: the page cannot
        // receive those events live, whatever its timing.
        let elsewhere = support::start_server_on(0, &data).await;
        let owner = support::api_login(&elsewhere.base_url, OWNER, PASSWORD).await;
        let product = a_product_of(&elsewhere.base_url, &owner).await;
        for stock in [7, 8] {
            set_stock(&elsewhere.base_url, &owner, &product, stock).await;
        }
        elsewhere.kill().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_ne!(read_badge(&browser).await.unwrap().state, "open", "no server on the page's port yet");

        // Back on the same port and database; one more write right away, before or after the page reconnects.
        let server = support::start_server_on(port, &data).await;
        set_stock(&base, &owner, &product, 9).await;
        let page = events_after(&base, &owner, seq_before).await;
        assert!(!page.resync, "the missed events are within the retention window");
        assert_eq!(page.events.len(), 6, "three stock changes, two events each: {page:?}");
        let newest = page.events.iter().filter_map(|e| e.seq()).max().unwrap();
        assert_eq!(newest, page.last_seq, "the newest event on the server is one the owner sees");

        let after = wait_for_badge(&browser, Duration::from_secs(60), "the page catches up and is live again", |b| {
            b.state == "open" && b.last_seq == Some(newest)
        })
        .await;
        assert_eq!(after.events, before.events + 6, "every missed event exactly once: {after:?}");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let settled = read_badge(&browser).await.unwrap();
        assert_eq!((settled.events, settled.last_seq), (after.events, after.last_seq), "nothing delivered twice");
        assert_eq!(settled.text, "Live");
        server.kill().await;
        drop(data);
    })
    .await;
}

/// The token of the session the app keeps in localStorage.
async fn stored_token(browser: &Client) -> String {
    let value = browser.execute("return localStorage.getItem('izi.session');", vec![]).await.unwrap();
    let text = value.as_str().expect("a stored session").to_owned();
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    record["session"]["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_token_is_renewed_without_the_user_noticing() {
    let mut data = support::server_data();
    // The app asks for a new token 60 s before expiry: a 65 s token is renewed about 5 s after login.
    data.config.token_ttl = Duration::from_secs(65);
    let server = support::start_server_on(0, &data).await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        support::browser_login(&browser, &base, OWNER, PASSWORD, "/owner").await;
        wait_live(&browser, Duration::from_secs(30)).await;
        let first = stored_token(&browser).await;

        let deadline = Instant::now() + Duration::from_secs(30);
        let renewed = loop {
            let token = stored_token(&browser).await;
            if token != first {
                break token;
            }
            assert!(Instant::now() < deadline, "the token was not renewed within 30 s");
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        assert_ne!(renewed, first);

        // The socket was re-authenticated in place: it stays live, on the same page, and events still flow.
        let before = wait_live(&browser, Duration::from_secs(10)).await;
        assert_eq!(browser.current_url().await.unwrap().path(), "/owner");
        let owner = support::api_login(&base, OWNER, PASSWORD).await;
        let product = a_product_of(&base, &owner).await;
        set_stock(&base, &owner, &product, 12).await;
        let page = events_after(&base, &owner, before.last_seq.unwrap()).await;
        let newest = page.events.iter().filter_map(|e| e.seq()).max().unwrap();
        wait_for_badge(&browser, Duration::from_secs(20), "events flow after the renewal", |b| {
            b.state == "open" && b.last_seq == Some(newest)
        })
        .await;
        assert_eq!(browser.current_url().await.unwrap().path(), "/owner", "never sent to the login page");
    })
    .await;
    server.kill().await;
}

/// A browser's WebSocket that sends more than the server takes gets the 1009 close frame, not a reset.
///
/// Before the server drained the raw stream after the limit (issue #11, point 7), Chromium reported
/// `[1006, 1006, 1009, 1006]` here: the connection ended with the rest of the message unread, and the reset
/// ate the close frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sending_an_oversized_message_sees_1009() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        browser.goto(&format!("{base}/login")).await.unwrap();
        let script = r#"
            const sizes = [1 << 17, 1 << 20, 4 << 20, 16 << 20];
            window.closeCodes = [];
            const next = (i) => {
                if (i === sizes.length) return;
                const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws');
                ws.onopen = () => ws.send('{"type":"auth","token":"' + 'x'.repeat(sizes[i]) + '"}');
                ws.onclose = (event) => { window.closeCodes.push(event.code); next(i + 1); };
            };
            next(0);
        "#;
        browser.execute(script, vec![]).await.unwrap();
        let codes = wait_until(
            Duration::from_secs(20),
            "every oversized socket closed",
            || async { browser.execute("return window.closeCodes;", vec![]).await.unwrap() },
            |codes| codes.as_array().is_some_and(|codes| codes.len() == 4),
        )
        .await;
        assert_eq!(codes, json!([1009, 1009, 1009, 1009]));
    })
    .await;
}
