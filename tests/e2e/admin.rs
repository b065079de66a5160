//! The admin dashboard end to end: totals, every shop and the live feed; a checkout made elsewhere appears live
//! with no request from the admin's page; the shop drill-down lists only that shop; the monitoring panel opens
//! from the keyboard and counts exactly the requests the page made.

use std::time::Duration;

use fantoccini::{Client, Locator};
use protocol::{LoginResponse, Page, Product};
use serde_json::Value;

use crate::page::{PASSWORD, WAIT, screenshot, wait_until};
use crate::support;

const ADMIN: &str = "admin@izishopin.test";
const CUSTOMER: &str = "customer1@izishopin.test";

/// What the admin page shows, read in one script so the parts agree with each other.
#[derive(Debug, Clone, Default)]
struct AdminView {
    total_orders: Option<u64>,
    /// (shop id, orders cell) per shop row.
    shops: Vec<(i64, u64)>,
    /// (order id, shop id, highlighted as new) per feed row, top first.
    feed: Vec<(i64, i64, bool)>,
    live: bool,
}

async fn read_admin(browser: &Client) -> AdminView {
    let script = r#"
        const text = (el) => el ? el.textContent.trim() : null;
        return {
            total: text(document.querySelector('[data-testid=admin-total-orders]')),
            shops: [...document.querySelectorAll('tr[data-shop-id]')]
                .map(r => [r.dataset.shopId, text(r.querySelector('[data-testid=shop-orders]'))]),
            feed: [...document.querySelectorAll('[data-testid=admin-feed] [data-order-id]')]
                .map(li => [li.dataset.orderId, li.dataset.shopId, li.classList.contains('is-new')]),
            live: document.querySelector('.connection-badge')?.dataset.state === 'open',
        };
    "#;
    let value = browser.execute(script, vec![]).await.unwrap();
    let number = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok());
    let id = |v: &Value| v.as_str().and_then(|s| s.parse::<i64>().ok()).unwrap_or(-1);
    AdminView {
        total_orders: number(&value["total"]),
        shops: value["shops"]
            .as_array()
            .map(|rows| rows.iter().map(|r| (id(&r[0]), number(&r[1]).unwrap_or(0))).collect())
            .unwrap_or_default(),
        feed: value["feed"]
            .as_array()
            .map(|rows| rows.iter().map(|r| (id(&r[0]), id(&r[1]), r[2].as_bool().unwrap_or(false))).collect())
            .unwrap_or_default(),
        live: value["live"].as_bool().unwrap_or(false),
    }
}

/// Waits until the dashboard is on screen (totals, the three seeded shops, a feed) and the page is live.
async fn wait_for_dashboard(browser: &Client) -> AdminView {
    wait_until(
        WAIT,
        "the admin dashboard loads and goes live",
        || read_admin(browser),
        |v| v.total_orders.is_some() && v.shops.len() == 3 && !v.feed.is_empty() && v.live,
    )
    .await
}

async fn get_json(base: &str, path: &str, token: &str) -> Value {
    let (status, body) = support::http_json("GET", &format!("{base}{path}"), Some(token), None).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_sees_the_totals_every_shop_and_the_feed() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, ADMIN).await;
        let view = wait_for_dashboard(&browser).await;

        let admin = support::api_login(&base, ADMIN, PASSWORD).await;
        let dashboard = get_json(&base, "/api/dashboard", &admin.token).await;
        assert_eq!(view.total_orders, dashboard["totals"]["total_orders"].as_u64());
        let expected_shops: Vec<(i64, u64)> = dashboard["shops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["shop_id"].as_i64().unwrap(), s["total_orders"].as_u64().unwrap()))
            .collect();
        assert_eq!(view.shops, expected_shops, "every shop with its order count");
        let expected_feed: Vec<i64> =
            dashboard["recent_orders"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect();
        let feed: Vec<i64> = view.feed.iter().map(|(id, _, _)| *id).collect();
        assert_eq!(feed, expected_feed, "the feed is the newest orders, newest first");
        assert!(view.feed.iter().all(|(_, _, new)| !new), "nothing is highlighted at first");

        let revenue = browser.find(Locator::Css("[data-testid=admin-total-revenue]")).await.unwrap();
        assert!(revenue.text().await.unwrap().starts_with('$'), "money is shown in dollars");
        let link = browser.find(Locator::Css("tr[data-shop-id='1'] a")).await.unwrap();
        assert_eq!(link.attr("href").await.unwrap().as_deref(), Some("/admin/shops/1"));

        screenshot(&browser, "admin.png").await;
        browser.set_window_size(390, 844).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        screenshot(&browser, "admin-phone.png").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_elsewhere_appears_live_with_no_request_from_the_admin() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let state = server.state.clone();
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, ADMIN).await;
        let before = wait_for_dashboard(&browser).await;
        let admin_id = support::api_login(&base, ADMIN, PASSWORD).await.user.id.0;
        // Let anything the page started settle before counting.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let requests_before = state.metrics.requests_by_user(admin_id);

        let customer: LoginResponse = support::api_login(&base, CUSTOMER, PASSWORD).await;
        let products: Page<Product> =
            serde_json::from_value(get_json(&base, "/api/products?shop_id=3", &customer.token).await).unwrap();
        let product = products.items.iter().find(|p| p.stock >= 1).expect("shop 3 has a product in stock");
        let checkout = support::checkout_over_rest(&base, &customer, product.id).await;
        assert!(checkout.orders.iter().any(|o| o.shop_id.0 == 3), "an order of shop 3: {checkout:?}");

        let orders_of = |view: &AdminView, shop: i64| view.shops.iter().find(|(id, _)| *id == shop).map(|(_, n)| *n);
        let after = wait_until(
            WAIT,
            "the new orders appear in the feed and the shops' counts rise",
            || read_admin(&browser),
            |view| {
                checkout.orders.iter().all(|order| {
                    view.feed.iter().any(|(id, _, _)| *id == order.id.0)
                        && orders_of(view, order.shop_id.0) == orders_of(&before, order.shop_id.0).map(|n| n + 1)
                })
            },
        )
        .await;
        let newest: Vec<i64> = checkout.orders.iter().map(|o| o.id.0).collect();
        for (id, shop, is_new) in after.feed.iter().take(newest.len()) {
            assert!(newest.contains(id), "the new orders are at the top of the feed: {after:?}");
            assert!(*is_new, "a new order is highlighted");
            let order = checkout.orders.iter().find(|o| o.id.0 == *id).unwrap();
            assert_eq!(*shop, order.shop_id.0);
        }
        let added = checkout.orders.len() as u64;
        assert_eq!(after.total_orders, before.total_orders.map(|n| n + added), "the platform total rises too");

        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            state.metrics.requests_by_user(admin_id),
            requests_before,
            "the admin's page made no request: the events updated it"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drill_down_shows_only_that_shops_orders_and_products() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, ADMIN).await;
        wait_for_dashboard(&browser).await;
        browser.find(Locator::Css("tr[data-shop-id='2'] a")).await.unwrap().click().await.unwrap();
        let rows = browser
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("[data-testid=shop-orders-list] [data-order-id]"))
            .await
            .expect("the shop's orders load");
        drop(rows);
        assert_eq!(browser.current_url().await.unwrap().path(), "/admin/shops/2");
        let title = browser.find(Locator::Css("[data-testid=shop-title]")).await.unwrap().text().await.unwrap();
        assert_eq!(title, "Urban Threads");

        let script = r#"
            const shops = (sel) => [...document.querySelectorAll(sel)].map(r => r.dataset.shopId);
            return { orders: shops('[data-testid=shop-orders-list] [data-order-id]'),
                     products: shops('[data-testid=shop-products-list] [data-product-id]'),
                     total: document.querySelector('[data-testid=shop-orders-total]')?.textContent.trim() };
        "#;
        let value = wait_until(
            WAIT,
            "the products load",
            || async { browser.execute(script, vec![]).await.unwrap() },
            |v| v["products"].as_array().is_some_and(|p| !p.is_empty()),
        )
        .await;
        let all_of_shop_2 = |list: &Value| list.as_array().unwrap().iter().all(|s| s.as_str() == Some("2"));
        assert!(all_of_shop_2(&value["orders"]), "only shop 2's orders: {value}");
        assert!(all_of_shop_2(&value["products"]), "only shop 2's products: {value}");

        let admin = support::api_login(&base, ADMIN, PASSWORD).await;
        let orders = get_json(&base, "/api/orders?shop_id=2", &admin.token).await;
        let total = orders["total"].as_u64().unwrap();
        assert_eq!(value["total"].as_str(), Some(format!("{total} orders").as_str()));
        let figure = browser.find(Locator::Css("[data-testid=shop-figures] [data-testid=shop-orders]")).await.unwrap();
        assert_eq!(figure.text().await.unwrap(), total.to_string(), "the figures agree with the list");

        browser.goto(&format!("{base}/admin/shops/abc")).await.unwrap();
        let notice = browser.wait().at_most(WAIT).for_element(Locator::Css("section.notice h1")).await.unwrap();
        assert_eq!(notice.text().await.unwrap(), "No such shop");
    })
    .await;
}

/// What the monitoring panel shows.
async fn read_panel(browser: &Client) -> Value {
    let script = r#"
        const text = (sel) => document.querySelector(sel)?.textContent.trim() ?? null;
        const toggle = document.querySelector('[data-testid=monitor-toggle]');
        return {
            expanded: toggle?.getAttribute('aria-expanded') ?? null,
            panel: !!document.querySelector('[data-testid=monitoring-panel]'),
            requests: text('[data-testid=monitor-requests]'),
            state: document.querySelector('[data-testid=monitor-connection-state]')?.dataset.state ?? null,
            state_text: text('[data-testid=monitor-connection-state]'),
            last: text('[data-testid=monitor-last-message]'),
            kinds: [...document.querySelectorAll('[data-testid=monitor-cache] tr[data-kind]')].map(r => r.dataset.kind),
            dashboard_fetches: text('[data-testid=monitor-cache] tr[data-kind=dashboard-data] td:nth-of-type(4)'),
        };
    "#;
    browser.execute(script, vec![]).await.unwrap()
}

const ENTER: &str = "\u{E007}";

async fn press_enter_on_toggle(browser: &Client) {
    browser.execute("document.querySelector('[data-testid=monitor-toggle]').focus();", vec![]).await.unwrap();
    let focused = browser.active_element().await.unwrap();
    assert_eq!(focused.attr("data-testid").await.unwrap().as_deref(), Some("monitor-toggle"));
    focused.send_keys(ENTER).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitoring_panel_opens_from_the_keyboard_and_counts_the_pages_requests() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let state = server.state.clone();
    support::with_browser(move |browser| async move {
        // A visitor has the panel when asking for it (`?monitor`), closed at first.
        browser.goto(&format!("{base}/login?monitor")).await.unwrap();
        browser.wait().at_most(WAIT).for_element(Locator::Css("[data-testid=monitor-toggle]")).await.unwrap();
        let closed = read_panel(&browser).await;
        assert_eq!((closed["expanded"].as_str(), closed["panel"].as_bool()), (Some("false"), Some(false)));

        support::login(&browser, &base, ADMIN).await;
        let admin_id = support::api_login(&base, ADMIN, PASSWORD).await.user.id.0;
        wait_for_dashboard(&browser).await;
        // A fresh load of the page: its request counter starts again at 0 (the dashboard may come from the
        // snapshot of the cache, with no request).
        tokio::time::sleep(Duration::from_secs(1)).await;
        let server_before = state.metrics.requests_by_user(admin_id);
        browser.goto(&format!("{base}/admin")).await.unwrap();
        wait_for_dashboard(&browser).await;
        // The shop's lists are not cached yet: going there asks the server for them (two requests at least).
        browser.find(Locator::Css("tr[data-shop-id='1'] a")).await.unwrap().click().await.unwrap();
        for list in ["shop-orders-list", "shop-products-list"] {
            let selector = format!("[data-testid={list}]");
            browser.wait().at_most(WAIT).for_element(Locator::Css(&selector)).await.unwrap();
        }

        press_enter_on_toggle(&browser).await;
        let open = wait_until(
            WAIT,
            "the panel opens and shows the live connection",
            || read_panel(&browser),
            |p| p["panel"].as_bool() == Some(true) && p["state"].as_str() == Some("open"),
        )
        .await;
        assert_eq!(open["expanded"].as_str(), Some("true"));
        assert!(open["state_text"].as_str().unwrap().contains("Live"), "{open}");
        assert!(!open["last"].as_str().unwrap_or_default().is_empty(), "{open}");
        let kinds: Vec<&str> = open["kinds"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(kinds.contains(&"dashboard-data") && kinds.contains(&"total"), "{kinds:?}");

        let matched = wait_until(
            WAIT,
            "the panel's request count matches what the server counted for this page",
            || async {
                let panel = read_panel(&browser).await;
                let shown: Option<u64> = panel["requests"].as_str().and_then(|s| s.parse().ok());
                (shown, state.metrics.requests_by_user(admin_id) - server_before)
            },
            |(shown, counted)| *shown == Some(*counted),
        )
        .await;
        eprintln!("requests made by the reloaded admin page: {matched:?}");
        assert!(matched.1 >= 2, "the shop's orders and products were fetched: {matched:?}");
        screenshot(&browser, "monitor.png").await;

        press_enter_on_toggle(&browser).await;
        let closed =
            wait_until(WAIT, "Enter closes it again", || read_panel(&browser), |p| p["panel"].as_bool() == Some(false))
                .await;
        assert_eq!(closed["expanded"].as_str(), Some("false"));
    })
    .await;
}
