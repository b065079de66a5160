//! Three people at once, each in their own browser, as a person would try it: a customer orders through the
//! shop's pages while the owner and the admin watch their dashboards; the new order reaches both without a
//! request from their pages; the owner moves it along in the UI and the customer's order page follows. Run in
//! Chromium and in Firefox ESR.

use std::time::Duration;

use serde_json::json;

use crate::page::{WAIT, attribute_of, click, eventually, screenshot, text_of, wait_live, wait_path};
use crate::support::{self, Engine};

const CUSTOMER: &str = "customer2@izishopin.test";
const OWNER: &str = "owner1@izishopin.test";
const ADMIN: &str = "admin@izishopin.test";

/// How many `[data-order-id]` rows under `list` show order `id`.
async fn rows_of(browser: &fantoccini::Client, list: &str, id: i64) -> usize {
    let script = "return document.querySelectorAll(arguments[0]).length;";
    let css = format!("{list} [data-order-id='{id}']");
    browser.execute(script, vec![json!(css)]).await.unwrap().as_u64().unwrap_or(0) as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_orders_while_the_owner_and_the_admin_watch_and_the_owner_ships_it() {
    journey(Engine::Chromium).await;
}

/// The same journey in a second engine, so Firefox guards every change too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_journey_in_firefox() {
    journey(Engine::Firefox).await;
}

async fn journey(engine: Engine) {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let state = server.state.clone();
    let fern = {
        let api = support::api_login(&base, OWNER, crate::page::PASSWORD).await;
        let (status, created) = support::http_json(
            "POST",
            &format!("{base}/api/products"),
            Some(&api.token),
            Some(json!({"name": "Journey Fern", "description": "A fern", "price_cents": 1250, "stock": 5})),
        )
        .await;
        assert_eq!(status, 200, "{created}");
        serde_json::from_value::<protocol::Product>(created).unwrap()
    };
    support::with_engine(engine, 3, move |browsers| async move {
        let (customer, owner, admin) = (&browsers[0], &browsers[1], &browsers[2]);
        support::login(owner, &base, OWNER).await;
        support::login(admin, &base, ADMIN).await;
        support::login(customer, &base, CUSTOMER).await;
        for browser in [owner, admin, customer] {
            wait_live(browser).await;
        }
        eventually(WAIT, "the owner's orders show", || async {
            text_of(owner, "[data-testid=owner-total-orders]").await.filter(|t| t.chars().any(|c| c.is_ascii_digit()))
        })
        .await;
        eventually(WAIT, "the admin's feed shows", || async {
            (rows_of(admin, "[data-testid=admin-feed]", 0).await == 0
                && text_of(admin, "[data-testid=admin-feed]").await.is_some())
            .then_some(())
        })
        .await;
        let owner_id = support::api_login(&base, OWNER, crate::page::PASSWORD).await.user.id.0;
        let admin_id = support::api_login(&base, ADMIN, crate::page::PASSWORD).await.user.id.0;
        let owner_requests = state.metrics.requests_by_user(owner_id);
        let admin_requests = state.metrics.requests_by_user(admin_id);

        // The customer buys through the pages: product page, cart, checkout.
        let page = format!("/shop/products/{}", fern.id);
        customer.goto(&format!("{base}{page}")).await.unwrap();
        click(customer, &format!("button[aria-label='Add to cart: {}']", fern.name)).await;
        eventually(WAIT, "the cart counts the fern", || async {
            (text_of(customer, "[data-testid=cart-count]").await.as_deref() == Some("1")).then_some(())
        })
        .await;
        click(customer, "a.cart-link").await;
        wait_path(customer, "/cart").await;
        click(customer, "a[data-testid=checkout]").await;
        wait_path(customer, "/checkout").await;
        click(customer, "[data-testid=place-order]").await;
        let id: i64 = eventually(WAIT, "the order is placed", || async {
            attribute_of(customer, "[data-testid=placed-order]", "data-order-id").await?.parse().ok()
        })
        .await;

        // The owner's dashboard and the admin's feed show it live, with a toast for the owner.
        eventually(Duration::from_secs(10), "the owner sees the new order", || async {
            (rows_of(owner, "[data-testid=owner-orders]", id).await == 1).then_some(())
        })
        .await;
        eventually(Duration::from_secs(10), "the owner gets a toast", || async {
            text_of(owner, ".toasts").await.filter(|t| t.contains(&format!("#{id}")))
        })
        .await;
        eventually(Duration::from_secs(10), "the admin's feed shows the new order", || async {
            (rows_of(admin, "[data-testid=admin-feed]", id).await == 1).then_some(())
        })
        .await;
        assert_eq!(state.metrics.requests_by_user(owner_id), owner_requests, "no request from the owner's page");
        assert_eq!(state.metrics.requests_by_user(admin_id), admin_requests, "no request from the admin's page");
        screenshot(owner, &format!("journey-owner-{engine:?}.png")).await;
        screenshot(admin, &format!("journey-admin-{engine:?}.png")).await;

        // The customer watches the order; the owner marks it paid in the dashboard.
        customer.goto(&format!("{base}/orders/{id}")).await.unwrap();
        let badge = "[data-testid=order] [data-testid=order-status]";
        eventually(WAIT, "the order page shows pending", || async {
            (attribute_of(customer, badge, "data-status").await.as_deref() == Some("pending")).then_some(())
        })
        .await;
        wait_live(customer).await;
        click(owner, &format!("button[aria-label='Mark paid order #{id}']")).await;
        eventually(Duration::from_secs(10), "the customer's order page shows paid", || async {
            (attribute_of(customer, badge, "data-status").await.as_deref() == Some("paid")).then_some(())
        })
        .await;
        screenshot(customer, &format!("journey-customer-{engine:?}.png")).await;
    })
    .await;
}
