//! The owner dashboard end to end: figures, chart, products and orders of the owner's shop only; a status
//! change; the product form (checks before sending, a server 422 next to its field, create, edit, delete with
//! a confirm step); and a checkout made elsewhere appearing live, with a toast and no request from the page.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use protocol::{Cents, Dashboard, LoginResponse, Order, Page, Product};
use serde_json::{Value, json};

use crate::page::{PASSWORD, WAIT, eventually, screenshot, wait_until};
use crate::support;

const OWNER: &str = "owner1@izishopin.test";
const CUSTOMER: &str = "customer1@izishopin.test";
const SHOP_NAME: &str = "Green Leaf Grocery";

/// What the owner page shows, read in one script so the parts agree with each other.
#[derive(Debug, Clone, Default)]
struct OwnerView {
    total_orders: Option<u64>,
    revenue: Option<String>,
    products_card: Option<u64>,
    /// (order id, status, shop id) per order row, top first.
    orders: Vec<(i64, String, String)>,
    /// (product id, row text) per product row.
    products: Vec<(i64, String)>,
    chart_label: Option<String>,
    bars: usize,
    toasts: Vec<String>,
    live: bool,
}

async fn read_owner(browser: &Client) -> OwnerView {
    let script = r#"
        const text = (el) => el ? el.textContent.trim() : null;
        const chart = document.querySelector('svg.revenue-chart[role=img]');
        return {
            total: text(document.querySelector('[data-testid=owner-total-orders] .stat-value')),
            revenue: text(document.querySelector('[data-testid=owner-revenue] .stat-value')),
            products_card: text(document.querySelector('[data-testid=owner-products-count] .stat-value')),
            orders: [...document.querySelectorAll('[data-testid=owner-orders] [data-order-id]')]
                .map(li => [li.dataset.orderId, li.dataset.status, li.dataset.shopId]),
            products: [...document.querySelectorAll('tr[data-product-id]')]
                .map(tr => [tr.dataset.productId, tr.textContent.replace(/\s+/g, ' ').trim()]),
            chart_label: chart ? chart.getAttribute('aria-label') : null,
            bars: chart ? chart.querySelectorAll('rect.bar').length : 0,
            toasts: [...document.querySelectorAll('.toast')].map(t => t.textContent.trim()),
            live: document.querySelector('.connection-badge')?.dataset.state === 'open',
        };
    "#;
    let value = browser.execute(script, vec![]).await.unwrap();
    let string = |v: &Value| v.as_str().map(str::to_owned);
    let number = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok());
    let id = |v: &Value| v.as_str().and_then(|s| s.parse::<i64>().ok()).unwrap_or(-1);
    let rows = |v: &Value| v.as_array().cloned().unwrap_or_default();
    OwnerView {
        total_orders: number(&value["total"]),
        revenue: string(&value["revenue"]),
        products_card: number(&value["products_card"]),
        orders: rows(&value["orders"])
            .iter()
            .map(|r| (id(&r[0]), string(&r[1]).unwrap_or_default(), string(&r[2]).unwrap_or_default()))
            .collect(),
        products: rows(&value["products"]).iter().map(|r| (id(&r[0]), string(&r[1]).unwrap_or_default())).collect(),
        chart_label: string(&value["chart_label"]),
        bars: value["bars"].as_u64().unwrap_or(0) as usize,
        toasts: rows(&value["toasts"]).iter().filter_map(string).collect(),
        live: value["live"].as_bool().unwrap_or(false),
    }
}

/// Polls the page until `done` holds, failing with the last reading after `limit`.
async fn wait_view(browser: &Client, limit: Duration, what: &str, done: impl Fn(&OwnerView) -> bool) -> OwnerView {
    wait_until(limit, what, || read_owner(browser), done).await
}

/// Every section has its data: cards, chart, orders, products.
fn loaded(view: &OwnerView) -> bool {
    view.total_orders.is_some() && view.bars > 0 && !view.orders.is_empty() && !view.products.is_empty()
}

pub(crate) async fn get<T: serde::de::DeserializeOwned>(base: &str, path: &str, user: &LoginResponse) -> T {
    let (status, body) = support::http_json("GET", &format!("{base}/api{path}"), Some(&user.token), None).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_value(body).unwrap()
}

async fn owner_dashboard(base: &str, owner: &LoginResponse) -> protocol::OwnerDashboard {
    match get::<Dashboard>(base, "/dashboard", owner).await {
        Dashboard::Owner(dashboard) => dashboard,
        other => panic!("not an owner dashboard: {other:?}"),
    }
}

/// The element with this accessible name given by `aria-label`.
pub(crate) async fn by_label(browser: &Client, label: &str) -> fantoccini::elements::Element {
    let css = format!("[aria-label=\"{label}\"]");
    browser.wait().at_most(WAIT).for_element(Locator::Css(&css)).await.unwrap_or_else(|e| panic!("{css}: {e}"))
}

/// Replaces the text of an input, as a person would (select all, type).
pub(crate) async fn retype(browser: &Client, css: &str, text: &str) {
    let input = browser.find(Locator::Css(css)).await.unwrap();
    input.send_keys(&(Key::Control + "a")).await.unwrap();
    input.send_keys(&format!("{}{}", Key::Backspace, text)).await.unwrap();
}

/// The rendered text of an element that must be there. Unlike `page::text_of` (the `textContent` of an element
/// that may be missing), this is what WebDriver says a person sees, and a missing element fails at once.
async fn text_of(browser: &Client, css: &str) -> String {
    let element = browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    element.text().await.unwrap()
}

/// Waits until the rendered text of `css` (empty while it is missing) satisfies `done`.
async fn wait_text(browser: &Client, css: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let read = || async {
        match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    };
    wait_until(WAIT, &format!("{what} ({css})"), read, |text: &String| done(text)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_sees_the_shop_figures_and_moves_an_order_on() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        let owner = support::api_login(&base, OWNER, PASSWORD).await;
        let expected = owner_dashboard(&base, &owner).await;
        let orders: Page<Order> = get(&base, "/orders?page=1", &owner).await;
        let products: Page<Product> =
            get(&base, &format!("/products?shop_id={}&page=1", expected.shop_stats.shop_id), &owner).await;

        support::login(&browser, &base, OWNER).await;
        let view = wait_view(&browser, WAIT, "the dashboard loads", loaded).await;

        // Figures, as the API has them.
        assert_eq!(view.total_orders, Some(expected.shop_stats.total_orders));
        assert_eq!(view.revenue, Some(expected.shop_stats.monthly_revenue_cents.to_string()));
        assert_eq!(view.products_card, Some(expected.shop_stats.product_count));
        let heading = text_of(&browser, ".owner-head h1").await;
        assert_eq!(heading, SHOP_NAME);

        // The chart: 30 bars and a sentence for screen readers.
        assert_eq!(view.bars, 30);
        let label = view.chart_label.clone().unwrap();
        assert!(label.starts_with("Revenue by day over the last 30 days"), "{label}");
        let total: Cents = expected.revenue_by_day.iter().map(|d| d.revenue_cents).sum();
        assert!(label.contains(&total.to_string()), "{label} names the total {total}");

        // Orders: the shop's own only, in the API's order.
        let ids: Vec<i64> = view.orders.iter().map(|o| o.0).collect();
        assert_eq!(ids, orders.items.iter().map(|o| o.id.0).collect::<Vec<_>>());
        let shop_id = expected.shop_stats.shop_id.to_string();
        assert!(view.orders.iter().all(|o| o.2 == shop_id), "another shop's order is listed: {:?}", view.orders);

        // Products: every product of page 1, each with named buttons.
        assert_eq!(view.products.len(), products.items.len());
        let first = &products.items[0];
        by_label(&browser, &format!("Edit {}", first.name)).await;
        by_label(&browser, &format!("Delete {}", first.name)).await;

        screenshot(&browser, "owner.png").await;

        // At phone width the page does not scroll sideways (cards wrap, the table scrolls in its box).
        browser.set_window_size(390, 844).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let script = r#"
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > width + 1 && !el.closest('.table-scroll') && !el.closest('.toasts'))
                .map(el => el.tagName.toLowerCase() + '.' + [...el.classList].join('.'));
            return { overflow: document.documentElement.scrollWidth - width, wide: wide.slice(0, 8) };
        "#;
        let layout = browser.execute(script, vec![]).await.unwrap();
        assert_eq!(layout["overflow"], json!(0), "the page is wider than a phone: {layout}");
        browser.execute("document.querySelector('.owner-orders').scrollIntoView()", vec![]).await.unwrap();
        screenshot(&browser, "owner-phone.png").await;
        browser.set_window_size(1280, 900).await.unwrap();

        // Move a pending order on: the row follows, and so does the server.
        let (pending, _, _) = view.orders.iter().find(|o| o.1 == "pending").cloned().expect("a pending order");
        by_label(&browser, &format!("Mark paid order #{pending}")).await.click().await.unwrap();
        // The row may follow the server's event before the answer (and its toast) arrives: wait for both.
        wait_view(&browser, WAIT, "the row shows paid, with a toast", |v| {
            v.orders.iter().any(|o| o.0 == pending && o.1 == "paid")
                && v.toasts.iter().any(|t| t.contains(&format!("Order #{pending} is paid")))
        })
        .await;
        let badge = text_of(&browser, &format!("[data-order-id=\"{pending}\"] [data-testid=order-status]")).await;
        assert_eq!(badge, "Paid");
        by_label(&browser, &format!("Mark shipped order #{pending}")).await;
        let order: Order = get(&base, &format!("/orders/{pending}"), &owner).await;
        assert_eq!(order.status, protocol::OrderStatus::Paid);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_product_form_checks_creates_edits_and_deletes() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        let owner = support::api_login(&base, OWNER, PASSWORD).await;
        support::login(&browser, &base, OWNER).await;
        let before = wait_view(&browser, WAIT, "the dashboard loads", loaded).await;

        browser.find(Locator::Css(".owner-products .section-head button")).await.unwrap().click().await.unwrap();
        browser.wait().at_most(WAIT).for_element(Locator::Css("#product-name")).await.unwrap();

        // Checked before sending: every field at fault says why.
        retype(&browser, "#product-price", "12.505").await;
        retype(&browser, "#product-stock", "-1").await;
        browser.find(Locator::Css("form.product-form button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_text(&browser, "#product-name-error", "the name is required", |t| t == "Enter a name.").await;
        assert_eq!(text_of(&browser, "#product-price-error").await, "Use at most two decimals (cents).");
        assert_eq!(text_of(&browser, "#product-stock-error").await, "Stock cannot be negative.");
        let focused = browser.execute("return document.activeElement.id", vec![]).await.unwrap();
        assert_eq!(focused, json!("product-name"), "the focus goes to the first field at fault");

        // The server's limit: its 422 lands next to the price.
        retype(&browser, "#product-name", "Fern").await;
        retype(&browser, "#product-price", "2,000,000").await;
        retype(&browser, "#product-stock", "7").await;
        browser.find(Locator::Css("form.product-form button[type=submit]")).await.unwrap().click().await.unwrap();
        let message =
            wait_text(&browser, "#product-price-error", "the server's 422", |t| t.contains("100000000")).await;
        assert_eq!(message, "Must be between 0 and 100000000 cents.");
        browser.execute("document.querySelector('form.product-form').scrollIntoView()", vec![]).await.unwrap();
        screenshot(&browser, "owner-form.png").await;
        assert_eq!(text_of(&browser, "#product-name-error").await, "");

        // Fixed, it is created and listed.
        retype(&browser, "#product-price", "12.5").await;
        browser.find(Locator::Css("form.product-form button[type=submit]")).await.unwrap().click().await.unwrap();
        let view =
            wait_view(&browser, WAIT, "Fern is listed", |v| v.products.iter().any(|p| p.1.starts_with("Fern"))).await;
        let (fern_id, row) = view.products.iter().find(|p| p.1.starts_with("Fern")).cloned().unwrap();
        assert!(row.contains("$12.50") && row.contains('7'), "{row}");
        let fern: Product = get(&base, &format!("/products/{fern_id}"), &owner).await;
        assert_eq!((fern.price_cents, fern.stock), (Cents(1250), 7), "exact cents");
        assert!(browser.find(Locator::Css("form.product-form")).await.is_err(), "the form closes");
        wait_view(&browser, WAIT, "the products card counts it", |v| {
            v.products_card == before.products_card.map(|n| n + 1)
        })
        .await;

        // Edited in place.
        // From the keyboard (a toast may cover the row for the mouse).
        by_label(&browser, "Edit Fern").await.send_keys(&Key::Enter.to_string()).await.unwrap();
        browser.wait().at_most(WAIT).for_element(Locator::Css("#product-price")).await.unwrap();
        retype(&browser, "#product-price", "$13").await;
        browser.find(Locator::Css("#product-price")).await.unwrap().send_keys(&Key::Enter.to_string()).await.unwrap();
        wait_view(&browser, WAIT, "Fern costs $13.00", |v| {
            v.products.iter().any(|p| p.0 == fern_id && p.1.contains("$13.00"))
        })
        .await;

        // Deleted after a confirm step, from the keyboard. The edit showed at once and the server's answer and
        // event render the row again: a key sent to the row of a moment before is retried.
        eventually(WAIT, "the delete button takes the key", || async {
            by_label(&browser, "Delete Fern").await.send_keys(&Key::Enter.to_string()).await.ok()?;
            browser.find(Locator::Css("[aria-label=\"Confirm delete Fern\"]")).await.ok().map(|_| ())
        })
        .await;
        let confirm = by_label(&browser, "Confirm delete Fern").await;
        let focused =
            browser.execute("return document.activeElement.getAttribute('aria-label')", vec![]).await.unwrap();
        assert_eq!(focused, json!("Confirm delete Fern"), "the confirm button takes the focus");
        assert!(
            read_owner(&browser).await.products.iter().any(|p| p.0 == fern_id),
            "nothing is deleted before the confirmation"
        );
        confirm.send_keys(&Key::Enter.to_string()).await.unwrap();
        wait_view(&browser, WAIT, "Fern is gone", |v| !v.products.iter().any(|p| p.0 == fern_id)).await;
        // The row may go before the server's answer (the delete goes through the outbox): wait for the server.
        eventually(WAIT, "the server has deleted Fern", || async {
            let url = format!("{base}/api/products/{fern_id}");
            (support::http_json("GET", &url, Some(&owner.token), None).await.0 == 404).then_some(())
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_elsewhere_appears_live_with_a_toast_and_no_request() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let state = server.state.clone();
    support::with_browser(move |browser| async move {
        let owner = support::api_login(&base, OWNER, PASSWORD).await;
        support::login(&browser, &base, OWNER).await;
        let before = wait_view(&browser, WAIT, "the dashboard loads and goes live", |v| loaded(v) && v.live).await;

        // Let the first loads settle, then count the owner's requests.
        let requests = {
            let mut last = state.metrics.requests_by_user(owner.user.id.0);
            loop {
                tokio::time::sleep(Duration::from_millis(800)).await;
                let now = state.metrics.requests_by_user(owner.user.id.0);
                if now == last {
                    break now;
                }
                last = now;
            }
        };

        // A customer checks out over REST: one line of this shop added to the cart they already have (which
        // holds another shop's product too).
        let customer = support::api_login(&base, CUSTOMER, PASSWORD).await;
        let shop = owner.user.shop_id.unwrap();
        let milk: Page<Product> = get(&base, &format!("/products?shop_id={shop}&q=Almond"), &customer).await;
        let checkout = support::checkout_over_rest(&base, &customer, milk.items[0].id).await;
        let ours = checkout.orders.iter().find(|o| o.shop_id == shop).expect("an order of the owner's shop");
        let others: Vec<i64> = checkout.orders.iter().filter(|o| o.shop_id != shop).map(|o| o.id.0).collect();
        assert!(!others.is_empty(), "the cart spanned two shops");

        let total = before.total_orders.unwrap() + 1;
        let after = wait_view(&browser, Duration::from_secs(10), "the new order arrives live", |v| {
            v.orders.first().map(|o| o.0) == Some(ours.id.0)
                && v.total_orders == Some(total)
                && v.toasts.iter().any(|t| t.contains(&format!("New order #{}", ours.id)))
        })
        .await;
        let toast = after.toasts.iter().find(|t| t.contains("New order #")).unwrap();
        assert!(toast.contains(&format!("New order #{} — {}", ours.id, ours.total_cents)), "{toast}");
        assert!(after.orders.iter().all(|o| o.2 == shop.to_string() && !others.contains(&o.0)), "{:?}", after.orders);

        // Nothing was fetched for it (give a stray refetch the time to show up).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(state.metrics.requests_by_user(owner.user.id.0), requests, "the owner's page made a request");

        // The new order pushed the list past one page: the pager appears and moves.
        let first_page: Vec<i64> = after.orders.iter().map(|o| o.0).collect();
        by_label(&browser, "Next page of orders").await.send_keys(&Key::Enter.to_string()).await.unwrap();
        let next = wait_view(&browser, WAIT, "page 2 of the orders", |v| {
            !v.orders.is_empty() && v.orders.iter().all(|o| !first_page.contains(&o.0))
        })
        .await;
        let page_two: Page<Order> = get(&base, "/orders?page=2", &owner).await;
        assert_eq!(
            next.orders.iter().map(|o| o.0).collect::<Vec<_>>(),
            page_two.items.iter().map(|o| o.id.0).collect::<Vec<_>>()
        );
        assert_eq!(text_of(&browser, ".owner-orders .pager-position").await, "Page 2 of 2");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_jumps_between_sections_and_the_url_keeps_the_one_shown() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, OWNER).await;
        wait_view(&browser, WAIT, "the dashboard loads", loaded).await;
        let top_of = |id: &'static str| {
            let browser = browser.clone();
            async move {
                let script = "return Math.round(document.getElementById(arguments[0]).getBoundingClientRect().top);";
                browser.execute(script, vec![json!(id)]).await.unwrap().as_i64().unwrap()
            }
        };
        browser
            .find(Locator::Css("[data-testid=owner-sections] a[href='#products']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually(WAIT, "the products section comes to the top", || async {
            let top = top_of("products").await;
            (0..=120).contains(&top).then_some(())
        })
        .await;
        assert_eq!(browser.current_url().await.unwrap().fragment(), Some("products"), "the URL keeps the section");

        // A reload (or a shared link) lands on the same section once the page is drawn.
        browser.refresh().await.unwrap();
        wait_view(&browser, WAIT, "the dashboard loads again", loaded).await;
        eventually(WAIT, "the reload lands on the products section", || async {
            (0..=120).contains(&top_of("products").await).then_some(())
        })
        .await;
        // The sections bar stays in view: the orders are one click away.
        browser
            .find(Locator::Css("[data-testid=owner-sections] a[href='#orders']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually(WAIT, "the orders section comes to the top", || async {
            (0..=120).contains(&top_of("orders").await).then_some(())
        })
        .await;
    })
    .await;
}

/// "Refresh" asks the server again for what the dashboard shows: a change made behind the app's back (in the
/// database, so no event announces it) shows only after the click, and the control says when it was done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_asks_the_server_again_for_a_change_no_event_announced() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let db = server.state.db.clone();
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, OWNER).await;
        let view = wait_view(&browser, WAIT, "the dashboard loads", loaded).await;
        let (id, before) = view.products[0].clone();
        assert_eq!(text_of(&browser, "[data-testid=refreshed]").await, "", "nothing refreshed yet");

        let renamed = "Renamed behind the app";
        let patch = protocol::ProductPatch { name: Some(renamed.into()), ..Default::default() };
        let changes = server::store::products::ProductChanges::parse(&patch).unwrap();
        let mut conn = db.acquire().await.unwrap();
        let at = "2026-12-03T10:00:00Z";
        server::store::products::update(&mut conn, protocol::ProductId(id), &changes, at).await.unwrap().unwrap();
        drop(conn);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let view = read_owner(&browser).await;
        assert_eq!(view.products[0], (id, before.clone()), "no event told the page: it still shows the old name");

        let requests = server.state.metrics.snapshot().requests;
        browser.find(Locator::Css("[data-testid=refresh]")).await.unwrap().click().await.unwrap();
        let view = wait_view(&browser, WAIT, "the new name after the refresh", |v| {
            v.products.iter().any(|(row, text)| *row == id && text.contains(renamed))
        })
        .await;
        assert!(view.products.iter().all(|(_, text)| !text.contains(&before)), "{:?}", view.products);
        let status = wait_text(&browser, "[data-testid=refreshed]", "the refresh is reported", |t| !t.is_empty()).await;
        assert!(status.starts_with("Updated "), "{status}");
        assert_eq!(text_of(&browser, "[data-testid=refresh]").await, "Refresh");
        let asked = server.state.metrics.snapshot().requests - requests;
        assert!((2..=8).contains(&asked), "the page's reads were asked again, once each: {asked} requests");
    })
    .await;
}
