//! Writes made while the server is down (cart adds, an order status, a new product): shown at once and
//! waiting in the outbox (through a reload of the storefront and of the back office, the app opening from the
//! service worker), applied exactly once when it is back (counted at the server) with the customer's and the
//! admin's pages following live, and a write the server then refuses rolled back with a toast; the app
//! opening offline; a new version offered.

use std::time::Duration;

use fantoccini::{Client, Locator};
use protocol::{Cart, Page, Product, ProductId};

use crate::page::{PASSWORD, WAIT, attribute_of, click, eventually, wait_live};
use crate::support::{self, http_json};

const CUSTOMER: &str = "customer2@izishopin.test";
const OWNER: &str = "owner1@izishopin.test";

async fn cart_over_rest(base: &str, token: &str) -> Cart {
    let (status, body) = http_json("GET", &format!("{base}/api/cart"), Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

fn quantity_of(cart: &Cart, product: ProductId) -> u32 {
    cart.items.iter().find(|line| line.product.id == product).map_or(0, |line| line.quantity)
}

async fn header_count(browser: &Client) -> Option<u64> {
    let text = browser.find(Locator::Css("[data-testid=cart-count]")).await.ok()?.text().await.ok()?;
    text.trim().parse().ok()
}

async fn wait_header_count(browser: &Client, expected: u64, what: &str) {
    eventually(WAIT, what, || async { (header_count(browser).await == Some(expected)).then_some(()) }).await;
}

async fn pending(browser: &Client) -> Option<String> {
    attribute_of(browser, "[data-testid=pending-writes]", "data-pending").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cart_changes_made_while_the_server_is_down_wait_then_apply_once_and_a_refused_one_rolls_back() {
    let data = support::server_data();
    let server = support::start_server_on(0, &data).await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        let customer = support::api_login(&base, CUSTOMER, PASSWORD).await;
        let before = cart_over_rest(&base, &customer.token).await;
        let (_, placed_before) = http_json("GET", &format!("{base}/api/orders"), Some(&customer.token), None).await;
        support::login(&browser, &base, CUSTOMER).await;
        browser.wait().at_most(WAIT).for_element(Locator::Css("[data-testid=product-card]")).await.unwrap();
        wait_header_count(&browser, before.count, "the header shows the account's cart").await;
        wait_live(&browser).await;
        eventually(WAIT, "the service worker controls the page", || async { controlled(&browser).await.then_some(()) })
            .await;

        // Two products of owner1's shop on the first catalog page, in stock, not in the cart yet.
        let (_, listed) = http_json("GET", &format!("{base}/api/products?shop_id=1&per_page=100"), None, None).await;
        let listed: Page<Product> = serde_json::from_value(listed).unwrap();
        let mut picked = Vec::new();
        for card in browser.find_all(Locator::Css("[data-testid=product-card]")).await.unwrap() {
            let id: i64 = card.attr("data-product-id").await.unwrap().unwrap().parse().unwrap();
            let fits =
                listed.items.iter().any(|p| p.id.0 == id && p.stock > 2) && quantity_of(&before, ProductId(id)) == 0;
            if fits && picked.len() < 2 {
                picked.push(ProductId(id));
            }
        }
        let [kept, deleted] = picked[..] else { panic!("two products of shop 1 on the first page: {picked:?}") };

        let port = server.port;
        server.kill().await;
        eventually(WAIT, "the page notices the server is gone", || async {
            (attribute_of(&browser, ".connection-badge", "data-state").await.as_deref() != Some("open")).then_some(())
        })
        .await;
        for product in [kept, deleted] {
            click(
                &browser,
                &format!("[data-testid=product-card][data-product-id='{product}'] button.button:not(.secondary)"),
            )
            .await;
        }
        wait_header_count(&browser, before.count + 2, "both adds show at once").await;
        eventually(WAIT, "the header says two changes wait", || async {
            (pending(&browser).await.as_deref() == Some("2")).then_some(())
        })
        .await;
        // A reload while the server is still down: the app opens (from the service worker) and the changes
        // still wait (the outbox is kept in localStorage).
        browser.refresh().await.unwrap();
        browser.wait().at_most(WAIT).for_element(Locator::Css("[data-testid=product-card]")).await.unwrap();
        eventually(WAIT, "after the reload the two changes still wait", || async {
            (pending(&browser).await.as_deref() == Some("2")).then_some(())
        })
        .await;
        // Checkout is never queued: it says it needs a connection, and nothing is kept to send later.
        browser.goto(&format!("{base}/checkout")).await.unwrap();
        click(&browser, "[data-testid=place-order]").await;
        let said = eventually(WAIT, "checkout says it needs a connection", || async {
            browser.find(Locator::Css("[data-testid=checkout-error]")).await.ok()?.text().await.ok()
        })
        .await;
        assert!(said.contains("checkout needs a connection"), "{said}");
        assert_eq!(pending(&browser).await.as_deref(), Some("2"), "the order is not queued");

        // While the page's server is down, the owner deletes one of them through another instance on the
        // same database: that add will be refused (404) when it is sent.
        let elsewhere = support::start_server_on(0, &data).await;
        let owner = support::api_login(&elsewhere.base_url, OWNER, PASSWORD).await;
        let url = format!("{}/api/products/{deleted}", elsewhere.base_url);
        assert_eq!(http_json("DELETE", &url, Some(&owner.token), None).await.0, 200);
        assert_eq!(cart_over_rest(&elsewhere.base_url, &customer.token).await, before, "nothing arrived yet");
        elsewhere.kill().await;

        let server = support::start_server_on(port, &data).await;
        eventually(Duration::from_secs(60), "the outbox drains once the server is back", || async {
            pending(&browser).await.is_none().then_some(())
        })
        .await;
        let after = cart_over_rest(&base, &customer.token).await;
        assert_eq!(quantity_of(&after, kept), 1, "applied exactly once: {after:?}");
        assert_eq!(quantity_of(&after, deleted), 0);
        assert_eq!(after.count, before.count + 1);
        let (_, orders) = http_json("GET", &format!("{base}/api/orders"), Some(&customer.token), None).await;
        assert_eq!(orders["total"], placed_before["total"], "no order placed by the offline checkout");
        wait_header_count(&browser, before.count + 1, "the refused add is rolled back on screen").await;
        let toasts = browser.find(Locator::Css(".toasts")).await.unwrap().text().await.unwrap();
        assert!(toasts.contains("A change was not saved"), "a toast says why: {toasts}");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(cart_over_rest(&base, &customer.token).await, after, "nothing sent twice");

        // The cart kept for an offline start (in the cache's snapshot) is the customer's alone: logging out
        // removes it.
        let kept = r#"const saved = localStorage.getItem('izi.cache');
            return !!saved && JSON.parse(saved).entries.some(e => e.key.kind === 'cart');"#;
        eventually(WAIT, "the cart is kept while signed in", || async {
            (browser.execute(kept, vec![]).await.ok()? == serde_json::json!(true)).then_some(())
        })
        .await;
        click(&browser, "button.logout").await;
        eventually(WAIT, "logging out removes the copy", || async {
            (browser.execute(kept, vec![]).await.ok()? == serde_json::json!(false)).then_some(())
        })
        .await;
        server.kill().await;
        drop(data);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_shipped_and_a_product_made_offline_show_at_once_survive_a_reload_and_apply_once_and_a_stale_edit_conflicts()
 {
    use protocol::{Order, OrderStatus};

    use crate::owner::{by_label, get, retype};

    let data = support::server_data();
    let server = support::start_server_on(0, &data).await;
    let base = server.base_url.clone();
    support::with_browsers(3, move |browsers| async move {
        let (browser, shopper, watcher) = (&browsers[0], &browsers[1], &browsers[2]);
        let owner = support::api_login(&base, OWNER, PASSWORD).await;
        let admin = support::api_login(&base, "admin@izishopin.test", PASSWORD).await;
        let customer = support::api_login(&base, CUSTOMER, PASSWORD).await;
        // The customer buys from owner1's shop; the owner marks the order paid.
        let listed: Page<Product> = get(&base, "/products?shop_id=1&per_page=100", &owner).await;
        let product = listed.items.iter().find(|p| p.stock > 0).expect("a product in stock");
        let mut placed = support::checkout_over_rest(&base, &customer, product.id).await;
        let order = placed.orders.pop().expect("one order");
        let url = format!("{base}/api/orders/{}", order.id);
        let paid = http_json("PATCH", &url, Some(&owner.token), Some(serde_json::json!({"status": "paid"}))).await;
        assert_eq!(paid.0, 200, "{}", paid.1);
        let order: Order = serde_json::from_value(paid.1).unwrap();
        let seq_before = {
            let (_, page) = http_json("GET", &format!("{base}/api/events?after=0"), Some(&admin.token), None).await;
            page["last_seq"].as_u64().unwrap()
        };
        // The customer follows the order on their orders page.
        support::login(shopper, &base, CUSTOMER).await;
        shopper.goto(&format!("{base}/orders")).await.unwrap();
        let badge = format!("[data-testid=order-row][data-order-id='{}'] [data-status]", order.id);
        eventually(WAIT, "the customer sees the order paid", || async {
            (attribute_of(shopper, &badge, "data-status").await.as_deref() == Some("paid")).then_some(())
        })
        .await;
        wait_live(shopper).await;
        // The admin follows owner1's shop on its page.
        support::login(watcher, &base, "admin@izishopin.test").await;
        watcher.goto(&format!("{base}/admin/shops/1")).await.unwrap();
        let pill = format!("[data-testid=shop-orders-list] [data-order-id='{}'] .status-pill", order.id);
        eventually(WAIT, "the admin sees the order paid", || async {
            (attribute_of(watcher, &pill, "data-status").await.as_deref() == Some("paid")).then_some(())
        })
        .await;
        wait_live(watcher).await;
        support::login(browser, &base, OWNER).await;
        let row = format!("[data-order-id='{}']", order.id);
        eventually(WAIT, "the order shows paid", || async {
            (attribute_of(browser, &row, "data-status").await.as_deref() == Some("paid")).then_some(())
        })
        .await;
        wait_live(browser).await;

        let port = server.port;
        server.kill().await;
        eventually(WAIT, "the page notices the server is gone", || async {
            (attribute_of(browser, ".connection-badge", "data-state").await.as_deref() != Some("open")).then_some(())
        })
        .await;
        by_label(browser, &format!("Mark shipped order #{}", order.id)).await.click().await.unwrap();
        eventually(WAIT, "shipped at once, marked as not saved", || async {
            let status = attribute_of(browser, &row, "data-status").await;
            let pending = attribute_of(browser, &row, "data-pending").await;
            (status.as_deref() == Some("shipped") && pending.as_deref() == Some("true")).then_some(())
        })
        .await;

        // A new product, made while the server is down: the form lets go and the table shows it, not saved.
        let lamp = "Lamp made offline";
        click(browser, ".owner-products .section-head button").await;
        browser.wait().at_most(WAIT).for_element(Locator::Css("#product-name")).await.unwrap();
        retype(browser, "#product-name", lamp).await;
        retype(browser, "#product-price", "19.90").await;
        retype(browser, "#product-stock", "3").await;
        browser.find(Locator::Css("form.product-form button[type=submit]")).await.unwrap().click().await.unwrap();
        let made = "[data-testid=new-product-row]";
        let shown = eventually(WAIT, "the new product shows at once, not saved", || async {
            let text = browser.find(Locator::Css(made)).await.ok()?.text().await.ok()?;
            let closed = browser.find(Locator::Css("form.product-form")).await.is_err();
            (closed && text.contains("Not saved yet")).then_some(text)
        })
        .await;
        assert!(shown.contains(lamp) && shown.contains("$19.90"), "{shown}");

        // A reload of the owner's page while the server is still down: it opens (from the service worker) with
        // both changes still waiting.
        browser.refresh().await.unwrap();
        eventually(WAIT, "after the reload both changes still wait", || async {
            let status = attribute_of(browser, &row, "data-status").await;
            let waiting = attribute_of(browser, &row, "data-pending").await;
            let made = browser.find(Locator::Css(made)).await.ok()?.text().await.ok()?;
            let both = pending(browser).await.as_deref() == Some("2");
            let shown = status.as_deref() == Some("shipped") && waiting.as_deref() == Some("true");
            (shown && made.contains(lamp) && both).then_some(())
        })
        .await;

        let server = support::start_server_on(port, &data).await;
        eventually(Duration::from_secs(60), "saved once the server is back", || async {
            let saved = attribute_of(browser, &row, "data-pending").await.as_deref() == Some("false");
            (saved && pending(browser).await.is_none()).then_some(())
        })
        .await;
        eventually(WAIT, "the new product takes its place in the table", || async {
            let gone = browser.find(Locator::Css(made)).await.is_err();
            let listed = browser.find(Locator::XPath(&format!("//tr[@data-product-id][.//*[text()='{lamp}']]"))).await;
            (gone && listed.is_ok()).then_some(())
        })
        .await;
        eventually(Duration::from_secs(60), "the customer's page follows live", || async {
            (attribute_of(shopper, &badge, "data-status").await.as_deref() == Some("shipped")).then_some(())
        })
        .await;
        eventually(Duration::from_secs(60), "the admin's page follows live", || async {
            (attribute_of(watcher, &pill, "data-status").await.as_deref() == Some("shipped")).then_some(())
        })
        .await;
        let now: Order = get(&base, &format!("/orders/{}", order.id), &owner).await;
        assert_eq!((now.status, now.version), (OrderStatus::Shipped, order.version + 1), "shipped once");
        let listed: Page<Product> = get(&base, "/products?shop_id=1&per_page=100", &owner).await;
        let lamps: Vec<&Product> = listed.items.iter().filter(|p| p.name == lamp).collect();
        assert_eq!(lamps.len(), 1, "created once: {lamps:?}");
        assert_eq!((lamps[0].price_cents.0, lamps[0].stock), (1990, 3));
        let (_, page) =
            http_json("GET", &format!("{base}/api/events?after={seq_before}"), Some(&admin.token), None).await;
        let changes = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "order_update" && e["order"]["id"] == order.id.0)
            .count();
        assert_eq!(changes, 1, "one status change reached the admin: {page}");

        // Two people edit one product: the admin's edit lands first; the owner's, made on the version before,
        // shows the admin's product instead of overwriting it.
        let products: Page<Product> = get(&base, "/products?shop_id=1&page=1", &owner).await;
        let product = products.items[0].clone();
        // Through the DOM: a toast of the drained writes may cover the row for a WebDriver click.
        click(browser, &format!("button[aria-label=\"Edit {}\"]", product.name)).await;
        browser.wait().at_most(WAIT).for_element(Locator::Css("#product-name")).await.unwrap();
        let url = format!("{base}/api/products/{}", product.id);
        let body = serde_json::json!({"name": "Renamed by the admin", "price_cents": 777});
        assert_eq!(http_json("PATCH", &url, Some(&admin.token), Some(body)).await.0, 200);
        retype(browser, "#product-stock", "42").await;
        browser.find(Locator::Css("form.product-form button[type=submit]")).await.unwrap().click().await.unwrap();
        let said = eventually(WAIT, "the form shows the conflict", || async {
            let text = browser.find(Locator::Css("form.product-form .error")).await.ok()?.text().await.ok()?;
            text.contains("Someone else changed this product").then_some(text)
        })
        .await;
        assert!(said.contains("“Renamed by the admin”, $7.77"), "{said}");
        let kept: Product = get(&base, &format!("/products/{}", product.id), &owner).await;
        assert_eq!((kept.name.as_str(), kept.stock), ("Renamed by the admin", product.stock), "not overwritten");
        server.kill().await;
        drop(data);
    })
    .await;
}

/// Copies the built app (`dist/`) to a folder of the test's own, which it may change.
fn own_dist() -> tempfile::TempDir {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            let is_compressed = name.to_string_lossy().ends_with(".br") || name.to_string_lossy().ends_with(".gz");
            match entry.file_type().unwrap().is_dir() {
                true => copy(&entry.path(), &to.join(&name)),
                false if !is_compressed => drop(std::fs::copy(entry.path(), to.join(&name)).unwrap()),
                false => {}
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist"), dir.path());
    dir
}

async fn controlled(browser: &Client) -> bool {
    let script = "return !!(navigator.serviceWorker && navigator.serviceWorker.controller);";
    browser.execute(script, vec![]).await.unwrap().as_bool().unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_opens_from_the_service_worker_while_the_server_is_down_and_offers_a_new_version() {
    let dist = own_dist();
    let mut data = support::server_data();
    data.config.dist_dir = dist.path().to_owned();
    let server = support::start_server_on(0, &data).await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, CUSTOMER).await;
        browser.wait().at_most(WAIT).for_element(Locator::Css("[data-testid=product-card]")).await.unwrap();
        eventually(WAIT, "the service worker controls the page", || async { controlled(&browser).await.then_some(()) })
            .await;
        let cards = browser.find_all(Locator::Css("[data-testid=product-card]")).await.unwrap().len();

        let port = server.port;
        server.kill().await;
        browser.refresh().await.unwrap();
        let note = eventually(WAIT, "the app opens offline and says so", || async {
            let note = browser.find(Locator::Css("[data-testid=offline-note]")).await.ok()?.text().await.ok()?;
            note.starts_with("Offline — data from").then_some(note)
        })
        .await;
        assert!(note.ends_with("UTC"), "{note}");
        let shown = browser.find_all(Locator::Css("[data-testid=product-card]")).await.unwrap().len();
        assert_eq!(shown, cards, "the catalog from the persisted cache");

        // Back: the note goes; then a new version is published and the open page offers it.
        let server = support::start_server_on(port, &data).await;
        wait_live(&browser).await;
        eventually(WAIT, "the offline note goes", || async {
            browser.find(Locator::Css("[data-testid=offline-note]")).await.is_err().then_some(())
        })
        .await;
        assert!(browser.find(Locator::Css("[data-testid=update-note]")).await.is_err(), "no new version yet");
        let sw = dist.path().join("sw.js");
        let text = std::fs::read_to_string(&sw).unwrap().replacen("const VERSION = \"", "const VERSION = \"next-", 1);
        std::fs::write(&sw, text).unwrap();
        for name in ["sw.js.br", "sw.js.gz"] {
            let _ = std::fs::remove_file(dist.path().join(name));
        }
        browser.execute("navigator.serviceWorker.getRegistration().then(r => r && r.update());", vec![]).await.unwrap();
        let offer = eventually(WAIT, "the page offers the new version", || async {
            browser.find(Locator::Css("[data-testid=update-note]")).await.ok()?.text().await.ok()
        })
        .await;
        assert!(offer.starts_with("A new version is available"), "{offer}");
        click(&browser, "[data-testid=update-note] button").await;
        eventually(WAIT, "reloaded under the new version, without the offer", || async {
            let fresh = browser.find(Locator::Css("[data-testid=update-note]")).await.is_err();
            let cards = browser.find(Locator::Css("[data-testid=product-card]")).await.is_ok();
            (fresh && cards && controlled(&browser).await).then_some(())
        })
        .await;
        server.kill().await;
        drop(data);
    })
    .await;
}
