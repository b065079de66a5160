//! The tabs of one browser share one connection: three owner tabs hold one socket, an event shows in each, and
//! when the leading tab closes another takes the socket over within 2 s without losing or repeating an event.

use std::time::{Duration, Instant};

use fantoccini::wd::WindowHandle;
use fantoccini::{Client, Locator};
use protocol::{Page, Product};

use crate::page::{PASSWORD, WAIT, wait_until};
use crate::support;

const OWNER: &str = "owner1@izishopin.test";
const CUSTOMER: &str = "customer1@izishopin.test";

/// The toasts of the page in `tab` that name `order` (one per `order_update` the page applied), and whether
/// the page is live.
async fn toasts_of(browser: &Client, tab: &WindowHandle, order: i64) -> (usize, bool) {
    browser.switch_to_window(tab.clone()).await.unwrap();
    let script = r#"
        const wanted = 'New order #' + arguments[0];
        return [
            [...document.querySelectorAll('.toast')].filter(t => t.textContent.includes(wanted + ' ')).length,
            document.querySelector('.connection-badge')?.dataset.state === 'open',
        ];
    "#;
    let value = browser.execute(script, vec![order.into()]).await.unwrap();
    (value[0].as_u64().unwrap_or(0) as usize, value[1].as_bool().unwrap_or(false))
}

/// Whether the owner page in `tab` has its products and shows the connection live.
async fn live_and_loaded(browser: &Client, tab: &WindowHandle) -> bool {
    browser.switch_to_window(tab.clone()).await.unwrap();
    let script = r#"
        return document.querySelectorAll('tr[data-product-id]').length > 0
            && document.querySelector('.connection-badge')?.dataset.state === 'open';
    "#;
    browser.execute(script, vec![]).await.unwrap().as_bool().unwrap_or(false)
}

/// The owner signed in, on `/owner` in `count` tabs of the one browser, each loaded and live; their handles.
async fn owner_tabs(browser: &Client, base: &str, count: usize) -> Vec<WindowHandle> {
    support::login(browser, base, OWNER).await;
    let mut tabs = vec![browser.window().await.unwrap()];
    for _ in 1..count {
        let tab = browser.new_window(true).await.unwrap().handle;
        browser.switch_to_window(tab.clone()).await.unwrap();
        browser.goto(&format!("{base}/owner")).await.unwrap();
        tabs.push(tab);
    }
    for (index, tab) in tabs.iter().enumerate() {
        wait_until(WAIT, &format!("tab {index} loads and goes live"), || live_and_loaded(browser, tab), |ok| *ok).await;
    }
    tabs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_owner_tabs_share_one_socket_and_a_handover_loses_and_repeats_nothing() {
    let server = support::start_server().await;
    let (base, state) = (server.base_url.clone(), server.state.clone());
    support::with_browser(move |browser| async move {
        let tabs = owner_tabs(&browser, &base, 3).await;
        let sockets =
            wait_until(WAIT, "the three tabs hold one socket", || async { state.hub.members() }, |n| *n == 1).await;
        assert_eq!(sockets, 1);
        // The monitoring panel of each tab says whether it leads or follows, and how many tabs share.
        let expected = ["leads, shared by 3 tabs", "follows, shared by 3 tabs", "follows, shared by 3 tabs"];
        for (tab, expected) in tabs.iter().zip(expected) {
            browser.switch_to_window(tab.clone()).await.unwrap();
            browser.find(Locator::Css("[data-testid=monitor-toggle]")).await.unwrap().click().await.unwrap();
            let read = || async {
                let element = browser.find(Locator::Css("[data-testid=monitor-tabs]")).await.unwrap();
                element.text().await.unwrap()
            };
            wait_until(WAIT, "the panel tells how the tab shares", read, |text| text == expected).await;
        }

        // An order placed elsewhere shows in every tab, once.
        let customer = support::api_login(&base, CUSTOMER, PASSWORD).await;
        let shop = support::api_login(&base, OWNER, PASSWORD).await.user.shop_id.unwrap();
        let (status, body) =
            support::http_json("GET", &format!("{base}/api/products?shop_id={shop}&q=Almond"), None, None).await;
        assert_eq!(status, 200, "{body}");
        let milk: Page<Product> = serde_json::from_value(body).unwrap();
        let first = support::checkout_over_rest(&base, &customer, milk.items[0].id).await;
        let first = first.orders.iter().find(|o| o.shop_id == shop).unwrap().id.0;
        for (index, tab) in tabs.iter().enumerate() {
            let what = format!("tab {index} shows the first order once");
            wait_until(Duration::from_secs(10), &what, || toasts_of(&browser, tab, first), |(n, _)| *n == 1).await;
        }

        // The leading tab (the first, granted the lock first) closes; an order is placed at once, during the
        // handover.
        let upgrades = |state: &server::state::AppState| state.metrics.snapshot().by_route.get("GET /ws").copied();
        let upgrades_before = upgrades(&state).unwrap_or(0);
        browser.switch_to_window(tabs[0].clone()).await.unwrap();
        browser.close_window().await.unwrap();
        let closed = Instant::now();
        let second = support::checkout_over_rest(&base, &customer, milk.items[0].id).await;
        let second = second.orders.iter().find(|o| o.shop_id == shop).unwrap().id.0;
        wait_until(
            Duration::from_secs(5),
            "another tab opened the socket",
            || async { upgrades(&state) },
            |n| n.unwrap_or(0) > upgrades_before,
        )
        .await;
        let took = closed.elapsed();
        assert!(took < Duration::from_secs(2), "the handover took {took:?}");
        let remaining = &tabs[1..];
        for (index, tab) in remaining.iter().enumerate() {
            let what = format!("remaining tab {index} shows the order placed during the handover");
            let (count, _) = wait_until(
                Duration::from_secs(10),
                &what,
                || toasts_of(&browser, tab, second),
                |(n, live)| *n >= 1 && *live,
            )
            .await;
            assert_eq!(count, 1, "tab {index} applied it once");
        }
        // Nothing arrives twice later either, and still one socket.
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        for (index, tab) in remaining.iter().enumerate() {
            assert_eq!(toasts_of(&browser, tab, second).await.0, 1, "tab {index}");
            assert_eq!(toasts_of(&browser, tab, first).await.0, 1, "tab {index}");
        }
        assert_eq!(state.hub.members(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_in_one_tab_takes_every_tab_to_the_login_page_at_once() {
    let server = support::start_server().await;
    let (base, state) = (server.base_url.clone(), server.state.clone());
    support::with_browser(move |browser| async move {
        let tabs = owner_tabs(&browser, &base, 2).await;
        let (first, second) = (tabs[0].clone(), tabs[1].clone());

        // The first tab (the leader) logs out: the second goes to the login page at once, from the session
        // the tabs share, without taking the connection over first (no new socket).
        let upgrades = || state.metrics.snapshot().by_route.get("GET /ws").copied().unwrap_or(0);
        let upgrades_before = upgrades();
        browser.switch_to_window(first.clone()).await.unwrap();
        let logout = Locator::XPath("//button[normalize-space()='Log out']");
        browser.find(logout).await.expect("a log out button").click().await.unwrap();
        browser.switch_to_window(second.clone()).await.unwrap();
        let path = || async { browser.current_url().await.unwrap().path().to_owned() };
        wait_until(WAIT, "the other tab is on the login page", path, |path| path == "/login").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(upgrades(), upgrades_before, "the other tab opened a socket with the ended session");
        wait_until(WAIT, "no socket is left", || async { state.hub.members() }, |n| *n == 0).await;
    })
    .await;
}

/// API reads the server answered so far (every `GET /api/...`).
fn api_reads(state: &server::state::AppState) -> u64 {
    state.metrics.snapshot().by_route.iter().filter(|(route, _)| route.starts_with("GET /api/")).map(|(_, n)| n).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fourth_tab_paints_from_the_others_and_asks_the_server_nothing() {
    let server = support::start_server().await;
    let (base, state) = (server.base_url.clone(), server.state.clone());
    support::with_browser(move |browser| async move {
        let tabs = owner_tabs(&browser, &base, 3).await;
        // What the three tabs hold is fresh; let their last reads settle.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let reads_before = api_reads(&state);

        let fourth = browser.new_window(true).await.unwrap().handle;
        browser.switch_to_window(fourth.clone()).await.unwrap();
        browser.goto(&format!("{base}/owner")).await.unwrap();
        wait_until(WAIT, "the fourth tab paints and goes live", || live_and_loaded(&browser, &fourth), |ok| *ok).await;
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        assert_eq!(api_reads(&state) - reads_before, 0, "the fourth tab asked the server for what the others hold");
        assert_eq!(state.hub.members(), 1, "and still one socket");

        // A product added in the fourth tab's page (a write over REST) reaches all four through the one socket,
        // and the other tabs' caches: the first tab shows it with no read of its own either.
        let owner = support::api_login(&base, OWNER, PASSWORD).await;
        let body = serde_json::json!({
            "name": "Shared Tab Loaf", "description": "Baked once, seen in every tab", "price_cents": 450, "stock": 8
        });
        let (status, created) =
            support::http_json("POST", &format!("{base}/api/products"), Some(&owner.token), Some(body)).await;
        assert_eq!(status, 200, "{created}");
        for (index, tab) in tabs.iter().chain([&fourth]).enumerate() {
            browser.switch_to_window(tab.clone()).await.unwrap();
            let shows = || async {
                let script = "return document.body.innerText.includes('Shared Tab Loaf');";
                browser.execute(script, vec![]).await.unwrap().as_bool().unwrap_or(false)
            };
            wait_until(WAIT, &format!("tab {index} shows the new product"), shows, |yes| *yes).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_change_in_one_storefront_tab_shows_in_the_other() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let (status, body) = support::http_json("GET", &format!("{base}/api/products?q=Sourdough"), None, None).await;
    assert_eq!(status, 200, "{body}");
    let bread = serde_json::from_value::<Page<Product>>(body).unwrap().items.remove(0);
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, CUSTOMER).await;
        let page = format!("{base}/shop/products/{}", bread.id);
        browser.goto(&page).await.unwrap();
        let first = browser.window().await.unwrap();
        let second = browser.new_window(true).await.unwrap().handle;
        browser.switch_to_window(second.clone()).await.unwrap();
        browser.goto(&format!("{base}/shop")).await.unwrap();
        let count = || async {
            let text = crate::page::text_of(&browser, "[data-testid=cart-count]").await;
            text.and_then(|text| text.parse::<u64>().ok())
        };
        let before = wait_until(WAIT, "the second tab counts the cart", count, Option::is_some).await.unwrap();
        // The header shows no number until it knows the server's: never a "0" while the cart loads.
        let token = support::api_login(&base, CUSTOMER, PASSWORD).await.token;
        let (status, cart) = support::http_json("GET", &format!("{base}/api/cart"), Some(&token), None).await;
        assert_eq!((status, cart["count"].as_u64()), (200, Some(before)), "{cart}");
        crate::page::mark_page(&browser).await;

        // Added in the first tab: the second tab's header counts it, with no reload.
        browser.switch_to_window(first.clone()).await.unwrap();
        crate::page::click(&browser, &format!("button[aria-label='Add to cart: {}']", bread.name)).await;
        wait_until(WAIT, "the first tab counts it", count, |n| *n == Some(before + 1)).await;
        browser.switch_to_window(second.clone()).await.unwrap();
        wait_until(WAIT, "the second tab counts it too", count, |n| *n == Some(before + 1)).await;
        crate::page::assert_not_reloaded(&browser).await;

        // Signed out, a visitor's cart (in localStorage) is the same in both tabs too.
        let logout = Locator::XPath("//button[normalize-space()='Log out']");
        browser.find(logout).await.expect("a log out button").click().await.unwrap();
        browser.goto(&format!("{base}/shop")).await.unwrap();
        wait_until(WAIT, "the visitor's cart is empty", count, |n| *n == Some(0)).await;
        crate::page::mark_page(&browser).await;
        browser.switch_to_window(first.clone()).await.unwrap();
        browser.goto(&format!("{base}/shop/products/{}", bread.id)).await.unwrap();
        crate::page::click(&browser, &format!("button[aria-label='Add to cart: {}']", bread.name)).await;
        browser.switch_to_window(second.clone()).await.unwrap();
        wait_until(WAIT, "the second tab counts the visitor's unit", count, |n| *n == Some(1)).await;
        crate::page::assert_not_reloaded(&browser).await;
    })
    .await;
}
