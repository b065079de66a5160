//! The two bundles: a customer shops in the storefront alone, an owner works in the back office and crosses to
//! the storefront and back with a full page load that keeps the session and the persisted cache; the files
//! come compressed and cached as production serves them.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::page::{WAIT, mark_page, wait_until};
use crate::support;

const OWNER: &str = "owner1@izishopin.test";
const CUSTOMER: &str = "customer3@izishopin.test";

/// The app files this page loaded (paths of its resource entries under `/storefront/` or `/backoffice/`).
async fn loaded_files(browser: &Client) -> Vec<String> {
    let script = r#"
        return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)
            .filter(p => p.startsWith('/storefront/') || p.startsWith('/backoffice/'));
    "#;
    let files = browser.execute(script, vec![]).await.unwrap();
    serde_json::from_value(files).unwrap()
}

/// Asserts the page runs `bundle`'s wasm and loaded nothing of the other bundle.
async fn assert_runs(browser: &Client, bundle: &str) {
    let files = wait_until(
        WAIT,
        &format!("{bundle}'s wasm loads"),
        || loaded_files(browser),
        |files| files.iter().any(|f| f.ends_with(".wasm")),
    )
    .await;
    assert!(files.iter().all(|f| f.starts_with(&format!("/{bundle}/"))), "only {bundle}'s files: {files:?}");
}

fn dashboard_reads(state: &server::state::AppState) -> u64 {
    state.metrics.snapshot().by_route.get("GET /api/dashboard").copied().unwrap_or(0)
}

async fn shows(browser: &Client, css: &str) -> bool {
    browser.find(Locator::Css(css)).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_shops_in_the_storefront_alone() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, CUSTOMER).await;
        assert_runs(&browser, "storefront").await;
        let count = || async {
            let text = crate::page::text_of(&browser, "[data-testid=cart-count]").await;
            text.and_then(|text| text.parse::<u64>().ok())
        };
        let before = wait_until(WAIT, "the cart is counted", count, Option::is_some).await.unwrap();
        crate::page::click(&browser, "button[aria-label^='Add to cart: ']").await;
        wait_until(WAIT, "the cart counts the unit", count, |n| *n == Some(before + 1)).await;
        browser.goto(&format!("{base}/cart")).await.unwrap();
        wait_until(WAIT, "the cart page lists it", || shows(&browser, "[data-testid=cart-line]"), |yes| *yes).await;
        assert_runs(&browser, "storefront").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_goes_to_the_storefront_and_back_signed_in_and_with_the_cache() {
    let server = support::start_server().await;
    let (base, state) = (server.base_url.clone(), server.state.clone());
    support::with_browser(move |browser| async move {
        // The login page is the storefront's; the owner's home is the back office's, loaded in full.
        support::login(&browser, &base, OWNER).await;
        assert_runs(&browser, "backoffice").await;
        let dashboard = "[data-testid=owner-dashboard] tr[data-product-id]";
        wait_until(WAIT, "the owner's products show", || shows(&browser, dashboard), |yes| *yes).await;
        crate::page::wait_live(&browser).await;
        let reads = dashboard_reads(&state);
        assert!(reads >= 1, "the dashboard was read once at least");
        // Let the cache reach localStorage (it saves shortly after a change).
        tokio::time::sleep(Duration::from_millis(1_500)).await;

        let shop = Locator::XPath("//nav//a[normalize-space()='Shop']");
        browser.find(shop).await.expect("a Shop link").click().await.unwrap();
        crate::page::wait_path(&browser, "/shop").await;
        assert_runs(&browser, "storefront").await;
        let catalog = "button[aria-label^='Add to cart: ']";
        wait_until(WAIT, "the catalog shows", || shows(&browser, catalog), |yes| *yes).await;
        // Back, with every API answer held 8 s: what paints before comes from the persisted cache.
        state.api_delay_ms.store(8_000, Ordering::Relaxed);
        let my_shop = Locator::XPath("//nav//a[normalize-space()='My shop']");
        browser.find(my_shop).await.expect("still signed in: a My shop link").click().await.unwrap();
        crate::page::wait_path(&browser, "/owner").await;
        assert_runs(&browser, "backoffice").await;
        let painted = Duration::from_secs(5);
        wait_until(painted, "the dashboard paints from the cache", || shows(&browser, dashboard), |yes| *yes).await;
        assert!(!shows(&browser, "section.login").await, "no login asked");
        state.api_delay_ms.store(0, Ordering::Relaxed);
        mark_page(&browser).await;
        crate::page::wait_live(&browser).await;
        let revalidated = || async { dashboard_reads(&state) };
        wait_until(WAIT, "the restored dashboard is revalidated once", revalidated, |n| *n == reads + 1).await;
        crate::page::assert_not_reloaded(&browser).await;
    })
    .await;
}

/// A GET with `headers`: the status, the answer's headers (names lowercase) and the body's bytes.
fn get(base: &str, path: &str, headers: &[(&str, &str)]) -> (u16, HashMap<String, String>, Vec<u8>) {
    use std::io::{Read, Write};
    let host = base.strip_prefix("http://").expect("an http:// URL");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect::<HashMap<_, _>>();
    assert!(!headers.contains_key("transfer-encoding"), "the app's files have a length");
    (status, headers, answer[split + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_files_come_compressed_and_a_revalidated_page_is_a_304() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    tokio::task::spawn_blocking(move || {
        for (path, bundle) in [("/shop", "storefront"), ("/owner", "backoffice")] {
            let (status, headers, body) = get(&base, path, &[]);
            assert_eq!(status, 200, "{path}");
            assert_eq!(headers["cache-control"], "no-cache", "{path}");
            let html = String::from_utf8(body).unwrap();
            let wasm = html
                .split(['"', '`', ' ', '>'])
                .find(|part| part.starts_with(&format!("/{bundle}/")) && part.ends_with("_bg.wasm"))
                .unwrap_or_else(|| panic!("{path} names {bundle}'s wasm: {html}"))
                .to_owned();
            let other = if bundle == "storefront" { "/backoffice/" } else { "/storefront/" };
            assert!(!html.contains(other), "{path} names nothing of the other bundle");

            let (status, file, compressed) = get(&base, &wasm, &[("Accept-Encoding", "gzip, deflate, br")]);
            assert_eq!((status, file["content-encoding"].as_str()), (200, "br"), "{wasm}");
            assert_eq!(file["cache-control"], "public, max-age=31536000, immutable");
            let (_, plain, raw) = get(&base, &wasm, &[]);
            assert!(!plain.contains_key("content-encoding"), "asked for nothing, sent as built");
            assert!(compressed.len() * 2 < raw.len(), "brotli {} of {} bytes", compressed.len(), raw.len());

            let tag = headers["etag"].clone();
            let (status, again, body) = get(&base, path, &[("If-None-Match", &tag)]);
            assert_eq!((status, body.len()), (304, 0), "{path} revalidated with {tag}");
            assert_eq!(again["etag"], tag);
        }
    })
    .await
    .unwrap();
}
