//! The customer's side end to end: a visitor's add-to-cart carried through the login page into the account,
//! an order placed through cart and checkout, its status and a product's price and stock following the owner's
//! REST writes live (no reload), for a signed-in customer and for a visitor, and an unsafe return URL refused at
//! login.
//!
//! Screenshots of the catalog and the cart go to `target/screenshots/` (not committed).

use std::time::Duration;

use fantoccini::Locator;
use protocol::{Cart, LoginResponse, Order, Page, Product};
use serde_json::json;

use crate::page::{
    PASSWORD, WAIT, assert_not_reloaded, attribute_of, click, eventually, fill_login, mark_page, screenshot, text_of,
    wait_live, wait_path,
};
use crate::support;

/// Starts with an empty cart and wishlist.
const CUSTOMER: &str = "customer2@izishopin.test";
const OWNER: &str = "owner1@izishopin.test";

/// The first product whose name contains `search`, over REST.
async fn product_named(base: &str, user: &LoginResponse, search: &str) -> Product {
    let url = format!("{base}/api/products?q={}", search.replace(' ', "%20"));
    let (status, page) = support::http_json("GET", &url, Some(&user.token), None).await;
    assert_eq!(status, 200, "{page}");
    let page: Page<Product> = serde_json::from_value(page).unwrap();
    page.items.into_iter().next().unwrap_or_else(|| panic!("no product named {search}"))
}

async fn cart_of(base: &str, user: &LoginResponse) -> Cart {
    let (status, cart) = support::http_json("GET", &format!("{base}/api/cart"), Some(&user.token), None).await;
    assert_eq!(status, 200, "{cart}");
    serde_json::from_value(cart).unwrap()
}

async fn order_count(base: &str, user: &LoginResponse) -> u64 {
    let (status, page) = support::http_json("GET", &format!("{base}/api/orders"), Some(&user.token), None).await;
    assert_eq!(status, 200, "{page}");
    serde_json::from_value::<Page<Order>>(page).unwrap().total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_adds_to_cart_logs_in_and_comes_back_with_the_item_in_the_account() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let customer = support::api_login(&base, CUSTOMER, PASSWORD).await;
    let bread = product_named(&base, &customer, "Sourdough").await;
    assert!(cart_of(&base, &customer).await.items.is_empty(), "the fixture starts with an empty cart");
    support::with_browser(move |browser| async move {
        let page = format!("/shop/products/{}", bread.id);
        browser.goto(&format!("{base}{page}")).await.unwrap();
        click(&browser, &format!("button[aria-label='Add to cart: {}']", bread.name)).await;

        wait_path(&browser, "/login").await;
        let url = browser.current_url().await.unwrap();
        assert_eq!(url.query(), Some(format!("return={page}").as_str()), "the login page returns to the product");
        fill_login(&browser, CUSTOMER).await;

        wait_path(&browser, &page).await;
        let heading = eventually(WAIT, "the product shows", || async {
            text_of(&browser, "[data-testid=product] h1").await.filter(|h| h == &bread.name)
        })
        .await;
        assert_eq!(heading, bread.name);
        eventually(WAIT, "the header counts the unit", || async {
            (text_of(&browser, "[data-testid=cart-count]").await.as_deref() == Some("1")).then_some(())
        })
        .await;

        let cart = cart_of(&base, &customer).await;
        assert_eq!(cart.items.len(), 1, "{cart:?}");
        assert_eq!((cart.items[0].product.id, cart.items[0].quantity), (bread.id, 1), "added once, not twice");
        let stored = browser.execute("return localStorage.getItem('izi.guest_cart');", vec![]).await.unwrap();
        assert_eq!(stored, json!(null), "the guest cart is cleared once merged");

        // At phone width, the cart still reads and works.
        browser.set_window_size(390, 844).await.unwrap();
        click(&browser, "a.cart-link").await;
        let line = format!("[data-testid=cart-line][data-product-id='{}']", bread.id);
        browser.wait().at_most(WAIT).for_element(Locator::Css(&line)).await.unwrap();
        screenshot(&browser, "cart-phone.png").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_orders_through_cart_and_checkout_and_sees_the_status_change_live() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let customer = support::api_login(&base, CUSTOMER, PASSWORD).await;
    let owner = support::api_login(&base, OWNER, PASSWORD).await;
    let bread = product_named(&base, &customer, "Sourdough").await;
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, CUSTOMER).await;
        browser.wait().at_most(WAIT).for_element(Locator::Css("[data-testid=catalog] .product-card")).await.unwrap();
        // On the second page by name: found with the search box (typing, debounced).
        let search = browser.find(Locator::Css("[data-testid=search]")).await.unwrap();
        search.send_keys("sourdough").await.unwrap();
        wait_path(&browser, "/shop").await;
        eventually(WAIT, "the search narrows the catalog to the loaf", || async {
            let url = browser.current_url().await.unwrap();
            let one = browser.find_all(Locator::Css("[data-testid=catalog] .product-card")).await.unwrap().len() == 1;
            (url.query() == Some("q=sourdough") && one).then_some(())
        })
        .await;
        let add = format!("button[aria-label='Add to cart: {}']", bread.name);
        click(&browser, &add).await;
        eventually(WAIT, "the header counts the unit", || async {
            (text_of(&browser, "[data-testid=cart-count]").await.as_deref() == Some("1")).then_some(())
        })
        .await;
        screenshot(&browser, "shop.png").await;

        click(&browser, "a.cart-link").await;
        wait_path(&browser, "/cart").await;
        let line = format!("[data-testid=cart-line][data-product-id='{}']", bread.id);
        browser.wait().at_most(WAIT).for_element(Locator::Css(&line)).await.unwrap();
        // One more through the stepper: the line and the header follow the server's answer.
        click(&browser, &format!("button[aria-label='One more {}']", bread.name)).await;
        eventually(WAIT, "the line has 2 units", || async {
            (text_of(&browser, "[data-testid=cart-count]").await.as_deref() == Some("2")).then_some(())
        })
        .await;
        let total = text_of(&browser, "[data-testid=cart-total]").await.unwrap();
        assert_eq!(total, bread.price_cents.times(2).to_string());
        screenshot(&browser, "cart.png").await;

        click(&browser, "a[data-testid=checkout]").await;
        wait_path(&browser, "/checkout").await;
        click(&browser, "[data-testid=place-order]").await;
        let id: i64 = eventually(WAIT, "the order is placed", || async {
            attribute_of(&browser, "[data-testid=placed-order]", "data-order-id").await?.parse().ok()
        })
        .await;
        let (status, order) =
            support::http_json("GET", &format!("{base}/api/orders/{id}"), Some(&customer.token), None).await;
        assert_eq!(status, 200, "{order}");
        let order: Order = serde_json::from_value(order).unwrap();
        assert_eq!((order.items[0].product_id, order.items[0].quantity), (bread.id, 2));
        assert!(cart_of(&base, &customer).await.items.is_empty(), "checkout empties the cart");
        assert_eq!(text_of(&browser, "[data-testid=cart-count]").await.as_deref(), Some("0"));

        click(&browser, "a[href='/orders']").await;
        wait_path(&browser, "/orders").await;
        let row = format!("[data-testid=order-row][data-order-id='{id}']");
        browser.wait().at_most(WAIT).for_element(Locator::Css(&row)).await.unwrap();
        assert_eq!(text_of(&browser, &format!("{row} [data-testid=order-status]")).await.as_deref(), Some("Pending"));

        click(&browser, &format!("{row} a[href='/orders/{id}']")).await;
        wait_path(&browser, &format!("/orders/{id}")).await;
        let badge = "[data-testid=order] [data-testid=order-status]";
        eventually(WAIT, "the order page shows pending", || async {
            (attribute_of(&browser, badge, "data-status").await.as_deref() == Some("pending")).then_some(())
        })
        .await;
        wait_live(&browser).await;
        mark_page(&browser).await;

        let url = format!("{base}/api/orders/{id}");
        let (status, answer) =
            support::http_json("PATCH", &url, Some(&owner.token), Some(json!({"status": "paid"}))).await;
        assert_eq!(status, 200, "{answer}");
        eventually(Duration::from_secs(10), "the status badge shows paid without a reload", || async {
            (attribute_of(&browser, badge, "data-status").await.as_deref() == Some("paid")).then_some(())
        })
        .await;
        assert_eq!(text_of(&browser, badge).await.as_deref(), Some("Paid"));
        assert_not_reloaded(&browser).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_price_change_shows_in_the_open_catalog_without_a_reload() {
    a_price_and_stock_change_reaches_the_open_catalog(Some(CUSTOMER)).await;
}

/// A signed-out visitor has no socket: the storefront polls the public events for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_sees_a_price_and_stock_change_in_the_open_catalog_without_a_reload() {
    a_price_and_stock_change_reaches_the_open_catalog(None).await;
}

/// The owner changes a product's price, then sets its stock to 2, over REST; the catalog open in the browser
/// (signed in as `customer`, or a visitor's) shows both without a reload.
async fn a_price_and_stock_change_reaches_the_open_catalog(customer: Option<&'static str>) {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let owner = support::api_login(&base, OWNER, PASSWORD).await;
    // Of the owner's shop and on the catalog's first page (ordered by name).
    let milk = product_named(&base, &owner, "Almond Milk").await;
    support::with_browser(move |browser| async move {
        match customer {
            Some(customer) => support::login(&browser, &base, customer).await,
            None => browser.goto(&format!("{base}/shop")).await.unwrap(),
        }
        let card = format!("[data-testid=catalog] [data-product-id='{}']", milk.id);
        let price = format!("{card} [data-testid=price]");
        let before =
            eventually(WAIT, "the catalog shows the product", || async { text_of(&browser, &price).await }).await;
        assert_eq!(before, milk.price_cents.to_string());
        if customer.is_some() {
            wait_live(&browser).await;
        }
        mark_page(&browser).await;

        let new_price = milk.price_cents.0 + 101;
        let url = format!("{base}/api/products/{}", milk.id);
        let (status, answer) =
            support::http_json("PATCH", &url, Some(&owner.token), Some(json!({"price_cents": new_price}))).await;
        assert_eq!(status, 200, "{answer}");
        let expected = protocol::Cents(new_price).to_string();
        eventually(Duration::from_secs(15), "the new price shows without a reload", || async {
            (text_of(&browser, &price).await.as_deref() == Some(expected.as_str())).then_some(())
        })
        .await;

        let (status, answer) = support::http_json("PATCH", &url, Some(&owner.token), Some(json!({"stock": 2}))).await;
        assert_eq!(status, 200, "{answer}");
        let stock = format!("{card} [data-testid=stock]");
        let shown = eventually(Duration::from_secs(15), "the low stock shows without a reload", || async {
            text_of(&browser, &stock).await.filter(|text| text.contains('2'))
        })
        .await;
        assert!(shown.contains("2 left"), "{shown}");
        assert_not_reloaded(&browser).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsafe_return_url_lands_on_the_role_home() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        browser.goto(&format!("{base}/login?return=//evil.test")).await.unwrap();
        fill_login(&browser, CUSTOMER).await;
        wait_path(&browser, "/shop").await;
        let url = browser.current_url().await.unwrap();
        assert_eq!(url.host_str(), Some("127.0.0.1"), "stayed on this origin: {url}");
        browser.wait().at_most(WAIT).for_element(Locator::Css("[data-testid=catalog]")).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_refused_for_stock_names_the_product_and_keeps_the_cart() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let customer = support::api_login(&base, CUSTOMER, PASSWORD).await;
    let owner = support::api_login(&base, OWNER, PASSWORD).await;
    let honey = product_named(&base, &customer, "Wildflower Honey").await;
    let body = json!({"product_id": honey.id, "quantity": 2});
    let (status, answer) =
        support::http_json("POST", &format!("{base}/api/cart/items"), Some(&customer.token), Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    let orders_before = order_count(&base, &customer).await;
    // The shop sells out after the line was written: checkout must refuse it.
    let url = format!("{base}/api/products/{}", honey.id);
    let (status, answer) = support::http_json("PATCH", &url, Some(&owner.token), Some(json!({"stock": 1}))).await;
    assert_eq!(status, 200, "{answer}");
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, CUSTOMER).await;
        browser.goto(&format!("{base}/checkout")).await.unwrap();
        click(&browser, "[data-testid=place-order]").await;
        let error =
            eventually(WAIT, "the refusal shows", || async { text_of(&browser, "[data-testid=checkout-error]").await })
                .await;
        assert!(error.contains(&honey.name), "the product is named: {error}");
        assert!(error.contains("not placed"), "{error}");
        let cart = cart_of(&base, &customer).await;
        assert_eq!((cart.items.len(), cart.items[0].quantity), (1, 2), "nothing lost: {cart:?}");
        assert_eq!(order_count(&base, &customer).await, orders_before, "no order made");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_wishlist_add_is_done_after_login() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    let customer = support::api_login(&base, CUSTOMER, PASSWORD).await;
    let beanie = product_named(&base, &customer, "Wool Beanie").await;
    support::with_browser(move |browser| async move {
        let page = format!("/shop/products/{}", beanie.id);
        browser.goto(&format!("{base}{page}")).await.unwrap();
        click(&browser, &format!("button[aria-label='Add to wishlist: {}']", beanie.name)).await;
        wait_path(&browser, "/login").await;
        fill_login(&browser, CUSTOMER).await;
        wait_path(&browser, &page).await;
        let url = format!("{base}/api/wishlist");
        let (status, list) = support::http_json("GET", &url, Some(&customer.token), None).await;
        assert_eq!(status, 200, "{list}");
        let list: protocol::Wishlist = serde_json::from_value(list).unwrap();
        assert_eq!(list.items.iter().map(|p| p.id).collect::<Vec<_>>(), vec![beanie.id]);
        assert!(cart_of(&base, &customer).await.items.is_empty(), "a wishlist add puts nothing in the cart");
        click(&browser, "a[href='/wishlist']").await;
        let item = format!("[data-testid=wishlist-item][data-product-id='{}']", beanie.id);
        browser.wait().at_most(WAIT).for_element(Locator::Css(&item)).await.unwrap();
    })
    .await;
}
