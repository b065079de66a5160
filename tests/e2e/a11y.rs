//! Accessibility: axe-core (npm `axe-core`, installed by `scripts/lib.sh ensure_tools`) runs in the e2e browser
//! on every route, as the person who uses it, once its data is shown, with its experimental rules on; no rule
//! may report a serious or critical violation.

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::page::{PASSWORD, WAIT};
use crate::support::{self, http_json};

/// axe-core's script: `AXE_CORE_JS` when set, else where `scripts/lib.sh` installs it.
fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS").unwrap_or_else(|_| {
        let tools = std::env::var("IZI_TOOLS_DIR")
            .unwrap_or_else(|_| format!("{}/.cache/izishopin-tools", std::env::var("HOME").unwrap_or_default()));
        format!("{tools}/node_modules/axe-core/axe.min.js")
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core at {path}: {e} (scripts/setup installs it, or set AXE_CORE_JS)"))
}

/// The serious and critical violations axe finds on the page as it is now, one line each.
async fn serious_violations(browser: &Client, axe: &str) -> Vec<String> {
    browser.execute(&format!("{axe}\n;window.axe = axe;"), vec![]).await.expect("axe-core loads");
    // The experimental rules too: label-content-name-mismatch (WCAG 2.5.3, label in name) is one of them.
    let run = "const done = arguments[arguments.length - 1];
        const rules = Object.fromEntries(axe.getRules(['experimental']).map((r) => [r.ruleId, { enabled: true }]));
        axe.run(document, { resultTypes: ['violations'], rules })
            .then((r) => done(r.violations
                .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                .map((v) => `${v.impact} ${v.id}: ${v.help} — ` +
                    v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(', ') +
                    ` (${(v.nodes[0].failureSummary || '').replace(/\\s+/g, ' ').slice(0, 240)})`)))
            .catch((e) => done(['axe failed: ' + e]));";
    let found = browser.execute_async(run, vec![]).await.expect("axe runs");
    found.as_array().map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

/// Opens `path` and waits for `ready` (the route's data on screen).
async fn open(browser: &Client, base: &str, path: &str, ready: &str) {
    browser.goto(&format!("{base}{path}")).await.unwrap();
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(ready))
        .await
        .unwrap_or_else(|e| panic!("{path}: {ready} not shown: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_nothing_serious_on_any_route() {
    let axe = axe_source();
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browsers(3, move |browsers| async move {
        let (visitor, owner, admin) = (&browsers[0], &browsers[1], &browsers[2]);
        let customer = support::api_login(&base, "customer1@izishopin.test", PASSWORD).await;
        let (_, listed) = http_json("GET", &format!("{base}/api/products?per_page=20"), None, None).await;
        let in_stock = listed["items"].as_array().unwrap().iter().find(|p| p["stock"].as_i64() > Some(2));
        let product = in_stock.and_then(|p| p["id"].as_i64()).expect("a product with a few units in stock");
        let placed = support::checkout_over_rest(&base, &customer, protocol::ProductId(product)).await;
        let order = placed.orders[0].id;
        let body = json!({"product_id": product, "quantity": 1});
        let (status, added) =
            http_json("POST", &format!("{base}/api/cart/items"), Some(&customer.token), Some(body)).await;
        assert_eq!(status, 200, "a line in the cart for /cart and /checkout: {added}");

        let mut found = Vec::new();
        let mut check = async |browser: &Client, path: &str, ready: &str| {
            open(browser, &base, path, ready).await;
            for violation in serious_violations(browser, &axe).await {
                found.push(format!("{path}: {violation}"));
            }
        };
        // A visitor, then the same browser signed in as a customer.
        check(visitor, "/login", "section.login form").await;
        check(visitor, "/shop", "[data-testid=product-card]").await;
        check(visitor, &format!("/shop/products/{product}"), "[data-testid=product] h1").await;
        check(visitor, "/no-such-page", ".not-found h1").await;
        support::login(visitor, &base, "customer1@izishopin.test").await;
        check(visitor, "/shop", "[data-testid=product-card]").await;
        check(visitor, "/cart", "[data-testid=cart-line]").await;
        check(visitor, "/wishlist", "[data-testid=wishlist]").await;
        check(visitor, "/checkout", "[data-testid=place-order]").await;
        check(visitor, "/orders", "[data-testid=order-row]").await;
        check(visitor, &format!("/orders/{order}"), "[data-testid=order] h1").await;
        support::login(owner, &base, "owner1@izishopin.test").await;
        check(owner, "/owner", "table.product-table tbody tr").await;
        support::login(admin, &base, "admin@izishopin.test").await;
        check(admin, "/admin", ".feed-row").await;
        check(admin, "/admin/shops/1", "[data-testid=shop-orders-list] .feed-row").await;
        assert!(found.is_empty(), "axe, serious or critical:\n{}", found.join("\n"));
    })
    .await;
    drop(server);
}
