//! The server on a set clock: every "now" of a request is the state's clock, so a test pins dates and moves
//! across a month without waiting.

use protocol::{Cart, CartItemInput, CheckoutResult, Dashboard, NewProduct, OwnerDashboard, Product};
use server::clock::Clock;
use time::macros::datetime;

use crate::support::{Api, dist_with_index, error, ok, spawn_at};

async fn owner_board(owner: &Api) -> OwnerDashboard {
    match owner.get_ok("/api/dashboard").await {
        Dashboard::Owner(board) => board,
        other => panic!("not an owner's dashboard: {other:?}"),
    }
}

#[tokio::test]
async fn a_checkout_is_dated_by_the_server_clock_and_counts_only_in_its_month() {
    let clock = Clock::fixed(datetime!(2026-03-15 12:00:00 UTC));
    let dist = dist_with_index();
    let server = spawn_at(dist.path(), clock.clone()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;

    let input = NewProduct {
        shop_id: None,
        name: "Wall Calendar".into(),
        description: String::new(),
        price_cents: 1250,
        stock: 5,
    };
    let calendar: Product = ok(owner.post("/api/products", &input).await).await;
    assert_eq!(calendar.updated_at, "2026-03-15T12:00:00Z");

    // Only the calendar in the cart (the seed may have put other lines there).
    let cart: Cart = customer.get_ok("/api/cart").await;
    for line in &cart.items {
        let _: Cart = ok(customer.delete(&format!("/api/cart/items/{}", line.product.id)).await).await;
    }
    let item = CartItemInput { product_id: calendar.id, quantity: 2 };
    let _: Cart = ok(customer.post("/api/cart/items", &item).await).await;

    let before = owner_board(&owner).await;
    let result: CheckoutResult = ok(customer.post("/api/orders", &serde_json::json!({})).await).await;
    let [order] = result.orders.as_slice() else { panic!("one shop, one order: {result:?}") };
    assert_eq!(order.created_at, "2026-03-15T12:00:00Z");
    assert_eq!(order.total_cents.0, 2500);

    let march = owner_board(&owner).await;
    assert_eq!(march.shop_stats.monthly_revenue_cents.0, before.shop_stats.monthly_revenue_cents.0 + 2500);
    assert_eq!(march.shop_stats.total_orders, before.shop_stats.total_orders + 1);
    let today = march.revenue_by_day.last().unwrap();
    assert_eq!(today.date, "2026-03-15");
    assert!(today.revenue_cents.0 >= 2500, "{today:?}");
    assert_eq!(march.recent_orders[0].id, order.id, "the newest order");

    // Into April: the March order still exists but no longer counts as this month's revenue.
    clock.advance(time::Duration::days(17));
    assert_eq!(server.state.clock.now_rfc3339(), "2026-04-01T12:00:00Z", "the server holds the test's clock");
    let stale = owner.get("/api/dashboard").await;
    assert_eq!(error(stale, 401).await.code, "token_expired", "tokens expire by the server's clock too");
    let owner = server.login("owner1@izishopin.test").await;
    let april = owner_board(&owner).await;
    assert_eq!(april.shop_stats.monthly_revenue_cents.0, 0, "no order is dated April");
    assert_eq!(april.shop_stats.total_orders, march.shop_stats.total_orders);
    assert_eq!(april.revenue_by_day.last().unwrap().date, "2026-04-01");
    let march_15 = april.revenue_by_day.iter().find(|day| day.date == "2026-03-15").expect("within 30 days");
    assert_eq!(march_15, today, "the day itself keeps its revenue");
}
