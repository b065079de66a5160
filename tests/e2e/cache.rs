//! The TTL cache against the real server: a revisit within the TTL asks nothing, a reload renders from the
//! persisted cache before the network answers, an aged entry is shown and revalidated in the background, a
//! change made while the app was closed shows after a reload, and logout clears what was persisted. Requests
//! are counted at the server.

use std::sync::atomic::Ordering;
use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::page::{PASSWORD, WAIT, eventually, text_of, wait_path};
use crate::support;

const TOTAL_ORDERS: &str = "[data-testid=owner-total-orders]";

/// Completed `GET /api/dashboard` requests the server has answered.
fn dashboard_requests(server: &support::TestServer) -> u64 {
    server.state.metrics.snapshot().by_route.get("GET /api/dashboard").copied().unwrap_or(0)
}

/// Waits (bounded) until the owner's total-orders card shows a number; returns its text. It polls faster than
/// `page::eventually` because the reload check races a 4 s API delay with a 3 s limit.
async fn wait_for_total_orders(browser: &Client, within: Duration) -> String {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Ok(card) = browser.find(Locator::Css(TOTAL_ORDERS)).await {
            let text = card.text().await.unwrap_or_default();
            if text.chars().any(|c| c.is_ascii_digit()) {
                return text;
            }
        }
        assert!(std::time::Instant::now() < deadline, "the total-orders card never showed a number");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn stored_snapshot(browser: &Client) -> Option<String> {
    let value = browser.execute("return window.localStorage.getItem('izi.cache');", vec![]).await.unwrap();
    value.as_str().map(str::to_owned)
}

/// Clicks the link `text` once it is on screen: after a crossing between bundles the new page's header may
/// still be rendering when the address has changed.
async fn click_link(browser: &Client, text: &str) {
    let link = browser.wait().at_most(WAIT).for_element(Locator::LinkText(text)).await;
    link.unwrap_or_else(|e| panic!("a `{text}` link: {e}")).click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_saves_requests_survives_reloads_and_is_cleared_at_logout() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, "owner1@izishopin.test").await;
        let first = wait_for_total_orders(&browser, Duration::from_secs(20)).await;
        let after_first_visit = dashboard_requests(&server);
        assert!(after_first_visit >= 1, "the first visit fetched the dashboard");

        // A revisit within the TTL (2 min for dashboard data) is served from the cache.
        click_link(&browser, "Shop").await;
        wait_path(&browser, "/shop").await;
        click_link(&browser, "My shop").await;
        assert_eq!(wait_for_total_orders(&browser, Duration::from_secs(10)).await, first);
        assert_eq!(dashboard_requests(&server), after_first_visit, "no request while the data is fresh");

        // A reload renders from the persisted cache before the network answers: the API now takes 4 s.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while stored_snapshot(&browser).await.is_none_or(|s| !s.contains("dashboard-data")) {
            assert!(std::time::Instant::now() < deadline, "the dashboard was persisted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server.state.api_delay_ms.store(4_000, Ordering::Relaxed);
        let before_reload = dashboard_requests(&server);
        browser.refresh().await.unwrap();
        assert_eq!(wait_for_total_orders(&browser, Duration::from_secs(3)).await, first);
        assert_eq!(dashboard_requests(&server), before_reload, "shown before any dashboard answer arrived");

        // After the TTL the persisted value is still shown at once, and revalidated in the background.
        server.state.api_delay_ms.store(0, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(4_500)).await; // let any request of the delayed reload finish
        // Leave the app first (it saves its cache when the page goes away), age the persisted entries by ten
        // minutes from a page of the same origin that is not the app, then open the dashboard again.
        browser.goto(&format!("{base}/api/health")).await.unwrap();
        let aged = "const s = JSON.parse(localStorage.getItem('izi.cache'));
                    s.entries.forEach(e => { e.fetched_at -= 10 * 60 * 1000; });
                    localStorage.setItem('izi.cache', JSON.stringify(s));";
        browser.execute(aged, vec![]).await.unwrap();
        let before_stale = dashboard_requests(&server);
        browser.goto(&format!("{base}/owner")).await.unwrap();
        assert_eq!(wait_for_total_orders(&browser, Duration::from_secs(10)).await, first);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while dashboard_requests(&server) == before_stale {
            assert!(std::time::Instant::now() < deadline, "the stale dashboard was revalidated");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // Logout forgets the persisted data.
        let logout = Locator::XPath("//button[normalize-space()='Log out']");
        browser.find(logout).await.expect("a log out button").click().await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while stored_snapshot(&browser).await.is_some() {
            assert!(std::time::Instant::now() < deadline, "logout removes the persisted cache");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_while_the_app_was_closed_shows_after_a_reload_within_the_ttl() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let owner = support::api_login(&base, "owner1@izishopin.test", PASSWORD).await;
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, "owner1@izishopin.test").await;
        let row = "table[data-testid=owner-products] tr[data-product-id]";
        let id: i64 = eventually(WAIT, "the products table lists a product", || async {
            let script = "const e = document.querySelector(arguments[0]); return e ? e.dataset.productId : null;";
            let value = browser.execute(script, vec![serde_json::json!(row)]).await.unwrap();
            value.as_str().and_then(|v| v.parse().ok())
        })
        .await;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while stored_snapshot(&browser).await.is_none_or(|s| !s.contains("\"products\"")) {
            assert!(std::time::Instant::now() < deadline, "the products page was persisted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // The app is closed (a page of the same origin that is not the app); the product is renamed meanwhile.
        browser.goto(&format!("{base}/api/health")).await.unwrap();
        let body = serde_json::json!({ "name": "Renamed while away" });
        let url = format!("{base}/api/products/{id}");
        let (status, answer) = support::http_json("PATCH", &url, Some(&owner.token), Some(body)).await;
        assert_eq!(status, 200, "{answer}");

        // Reopened well within the products' 10 min TTL: the snapshot shows at once, then catches up.
        browser.goto(&format!("{base}/owner")).await.unwrap();
        let name = format!("{row}[data-product-id='{id}'] .product-name");
        eventually(Duration::from_secs(10), "the rename made while away shows", || async {
            text_of(&browser, &name).await.filter(|text| text.contains("Renamed while away"))
        })
        .await;
    })
    .await;
}
