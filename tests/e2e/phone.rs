//! A 390 × 844 phone: every page fits the width (no sideways scrolling of the page), wide tables scroll inside
//! a labelled region that says so, the header keeps the name and "Log out" whole, the chart's labels stay
//! readable, and the owner's Edit and Delete are reachable. Screenshots go to `target/screenshots/phone-*.png`.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::page::{WAIT, screenshot};
use crate::support;

/// The phone's CSS viewport.
const WIDTH: u64 = 390;
const HEIGHT: u64 = 844;

/// Makes the page's viewport `WIDTH` × `HEIGHT` (the window is larger by its frame, measured).
async fn phone(browser: &Client) {
    browser.set_window_size(WIDTH as u32, HEIGHT as u32).await.unwrap();
    let inner = browser.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.unwrap();
    let (w, h) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
    let (dw, dh) = ((WIDTH - w.min(WIDTH)) as u32, (HEIGHT - h.min(HEIGHT)) as u32);
    if dw > 0 || dh > 0 {
        browser.set_window_size(WIDTH as u32 + dw, HEIGHT as u32 + dh).await.unwrap();
    }
    let inner = browser.execute("return window.innerWidth;", vec![]).await.unwrap();
    assert_eq!(inner.as_u64(), Some(WIDTH), "the viewport is a phone's");
}

/// How far the page is wider than the viewport, in CSS pixels (0: it fits).
async fn overflow(browser: &Client) -> i64 {
    let script = "return document.documentElement.scrollWidth - window.innerWidth;";
    browser.execute(script, vec![]).await.unwrap().as_i64().unwrap()
}

/// Opens `path`, waits for `ready`, checks that the page fits, and saves a screenshot.
async fn visit(browser: &Client, base: &str, path: &str, ready: &str, name: &str) {
    browser.goto(&format!("{base}{path}")).await.unwrap();
    browser.wait().at_most(WAIT).for_element(Locator::Css(ready)).await.unwrap();
    assert!(overflow(browser).await <= 0, "{path} is wider than the phone by {} px", overflow(browser).await);
    screenshot(browser, &format!("phone-{name}.png")).await;
}

/// Rows of the header: its visible children grouped by their vertical middles (12 px apart at least).
async fn header_rows(browser: &Client) -> u64 {
    let script = "const middles = [...document.querySelector('header.topbar').children]
        .map((e) => e.getBoundingClientRect()).filter((r) => r.height > 0)
        .map((r) => r.top + r.height / 2).sort((a, b) => a - b);
        return middles.filter((m, i) => i === 0 || m - middles[i - 1] > 12).length;";
    browser.execute(script, vec![]).await.unwrap().as_u64().unwrap()
}

async fn one_line(browser: &Client, css: &str) -> bool {
    let script = "const e = document.querySelector(arguments[0]); if (!e) return false;
        const style = getComputedStyle(e); const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.3;
        return e.getClientRects().length === 1 && e.getBoundingClientRect().height <= line * 1.6 + 16;";
    browser.execute(script, vec![json!(css)]).await.unwrap().as_bool().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_works_on_a_phone() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browsers(3, move |browsers| async move {
        let (customer, owner, admin) = (&browsers[0], &browsers[1], &browsers[2]);
        for browser in &browsers {
            phone(browser).await;
        }
        visit(customer, &base, "/login", "section.login form", "login").await;
        support::login(customer, &base, "customer1@izishopin.test").await;
        visit(customer, &base, "/shop", "[data-testid=product-card]", "shop").await;
        assert!(one_line(customer, "header .user-name").await, "the customer's name on one line");
        assert!(one_line(customer, "header button.logout").await, "“Log out” on one line");
        assert!(header_rows(customer).await <= 2, "the header takes at most two rows");
        visit(customer, &base, "/cart", ".cart-page", "cart").await;
        visit(customer, &base, "/orders", "[data-testid=order-row]", "orders").await;

        support::login(owner, &base, "owner1@izishopin.test").await;
        visit(owner, &base, "/owner", "table.product-table tbody tr", "owner").await;
        assert!(header_rows(owner).await <= 2, "the owner's header takes at most two rows");
        // The products table is wider than the phone: it scrolls inside a labelled, focusable region that says
        // so, and Edit and Delete are reached by scrolling it.
        let region = owner.find(Locator::Css(".owner-products .table-scroll")).await.unwrap();
        assert_eq!(region.attr("role").await.unwrap().as_deref(), Some("region"));
        assert!(region.attr("aria-label").await.unwrap().is_some_and(|l| l.contains("scroll")));
        assert_eq!(region.attr("tabindex").await.unwrap().as_deref(), Some("0"));
        let reachable = "const b = document.querySelector('.owner-products button[aria-label^=\"Delete\"]');
            b.scrollIntoView({ inline: 'end', block: 'center' }); const r = b.getBoundingClientRect();
            return r.left >= 0 && r.right <= window.innerWidth;";
        assert_eq!(owner.execute(reachable, vec![]).await.unwrap(), json!(true), "Delete can be scrolled to");
        assert!(overflow(owner).await <= 0, "scrolling the table does not widen the page");
        screenshot(owner, "phone-owner-products.png").await;
        // The chart's axis labels keep a readable size (at least 11 px on screen).
        let smallest = "const sizes = [...document.querySelectorAll('[data-testid=owner-revenue-chart] text')]
            .map((t) => t.getBoundingClientRect().height); return sizes.length ? Math.min(...sizes) : 0;";
        owner
            .execute("document.querySelector('[data-testid=owner-revenue-chart]').scrollIntoView()", vec![])
            .await
            .unwrap();
        let height = owner.execute(smallest, vec![]).await.unwrap().as_f64().unwrap();
        assert!(height >= 11.0, "the chart's labels are {height:.1} px tall");
        screenshot(owner, "phone-owner-chart.png").await;

        support::login(admin, &base, "admin@izishopin.test").await;
        visit(admin, &base, "/admin", ".feed-row", "admin").await;
        visit(admin, &base, "/admin/shops/1", "[data-testid=shop-orders-list] .feed-row", "admin-shop").await;
    })
    .await;
    drop(server);
}
