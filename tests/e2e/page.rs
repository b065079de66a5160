//! Reading and driving a page in the browser: bounded waits, text and attributes through the DOM, clicks that
//! survive re-renders, reload detection, the live badge, screenshots.
//!
//! Invariant: every wait is bounded and fails with what it waited for.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;

/// The demo password of every seeded account.
pub const PASSWORD: &str = "demo1234";
/// How long a page may take to show what a test waits for.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `probe` until it answers `Some`, failing with `what` after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Reads with `read` until `done` holds, failing with `what` and the last reading after `limit`.
pub async fn wait_until<T, F, Fut>(limit: Duration, what: &str, read: F, done: impl Fn(&T) -> bool) -> T
where
    T: std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    let deadline = Instant::now() + limit;
    loop {
        let value = read().await;
        if done(&value) {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}; last reading {value:#?}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The text of the first element matching `css`, trimmed; `None` when there is none.
pub async fn text_of(browser: &Client, css: &str) -> Option<String> {
    let script = "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null;";
    let value = browser.execute(script, vec![json!(css)]).await.unwrap();
    value.as_str().map(str::to_owned)
}

/// An attribute of the first element matching `css`.
pub async fn attribute_of(browser: &Client, css: &str, name: &str) -> Option<String> {
    let script = "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;";
    let value = browser.execute(script, vec![json!(css), json!(name)]).await.unwrap();
    value.as_str().map(str::to_owned)
}

pub async fn wait_path(browser: &Client, path: &str) {
    eventually(WAIT, &format!("the browser reaches {path}"), || async {
        (browser.current_url().await.unwrap().path() == path).then_some(())
    })
    .await;
}

pub async fn click(browser: &Client, css: &str) {
    browser.wait().at_most(WAIT).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    // Through the DOM: the element may have been re-rendered between the lookup and a WebDriver click.
    let script =
        "const e = document.querySelector(arguments[0]); if (!e || e.disabled) return false; e.click(); return true;";
    eventually(WAIT, &format!("{css} can be clicked"), || async {
        browser.execute(script, vec![json!(css)]).await.unwrap().as_bool().filter(|clicked| *clicked)
    })
    .await;
}

/// Fills and sends the login form already on screen.
pub async fn fill_login(browser: &Client, email: &str) {
    let field = browser.wait().at_most(WAIT).for_element(Locator::Css("input[type=email]")).await.unwrap();
    field.send_keys(email).await.unwrap();
    browser.find(Locator::Css("input[type=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
}

/// Marks the page so that a reload (which drops the mark) can be detected.
pub async fn mark_page(browser: &Client) {
    browser.execute("window.__shopMark = 'kept'; return null;", vec![]).await.unwrap();
}

pub async fn assert_not_reloaded(browser: &Client) {
    let mark = browser.execute("return window.__shopMark || null;", vec![]).await.unwrap();
    assert_eq!(mark, json!("kept"), "the page was reloaded");
}

/// Waits until the header's badge says the WebSocket is live, so events reach the page.
pub async fn wait_live(browser: &Client) {
    eventually(WAIT, "the WebSocket goes live", || async {
        (attribute_of(browser, ".connection-badge", "data-state").await.as_deref() == Some("open")).then_some(())
    })
    .await;
}

pub async fn screenshot(browser: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = browser.screenshot().await.unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}
