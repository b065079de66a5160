//! One voice: statuses, dates and notifications read the same way on every page (the `format` module and the
//! server's notification text).

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::page::WAIT;
use crate::support;

/// The texts of every element matching `css` on the page.
async fn texts(browser: &Client, css: &str) -> Vec<String> {
    let script = "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent.trim());";
    let found = browser.execute(script, vec![Value::from(css)]).await.unwrap();
    found.as_array().unwrap().iter().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// Dates are the browser's short form ("Dec 1, 09:47 AM", "Dec 1, 2026"), never raw ISO text.
fn is_iso(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 10 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-' && bytes[7] == b'-'
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_dates_and_notifications_read_the_same_everywhere() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browsers(3, move |browsers| async move {
        let (customer, owner, admin) = (&browsers[0], &browsers[1], &browsers[2]);
        let mut statuses = Vec::new();
        let mut dates = Vec::new();

        support::login(customer, &base, "customer1@izishopin.test").await;
        customer.goto(&format!("{base}/orders")).await.unwrap();
        customer.wait().at_most(WAIT).for_element(Locator::Css("[data-testid=order-row]")).await.unwrap();
        statuses.extend(texts(customer, "[data-testid=order-row] [data-status]").await);
        dates.extend(texts(customer, "[data-testid=order-row] time").await);

        support::login(owner, &base, "owner1@izishopin.test").await;
        owner.wait().at_most(WAIT).for_element(Locator::Css("[data-testid=owner-notifications] .note")).await.unwrap();
        statuses.extend(texts(owner, "[data-testid=order-status]").await);
        dates.extend(texts(owner, ".owner time").await);
        let notes = texts(owner, "[data-testid=owner-notifications] .note-text").await;
        let orders: Vec<&String> = notes.iter().filter(|n| n.contains(" ordered ")).collect();
        assert!(!orders.is_empty(), "the seeded new-order notifications: {notes:?}");
        for note in &orders {
            assert!(!note.contains('@') && !note.contains("(s)"), "named by name, properly counted: {note}");
            assert!(note.contains(" item for ") || note.contains(" items for "), "{note}");
        }

        support::login(admin, &base, "admin@izishopin.test").await;
        admin.goto(&format!("{base}/admin/shops/1")).await.unwrap();
        admin.wait().at_most(WAIT).for_element(Locator::Css(".feed-row .status-pill")).await.unwrap();
        statuses.extend(texts(admin, ".status-pill").await);
        dates.extend(texts(admin, ".feed-row time").await);

        assert!(statuses.len() > 3 && dates.len() > 3, "{statuses:?} {dates:?}");
        let words = ["Pending", "Paid", "Shipped", "Delivered", "Cancelled"];
        for status in &statuses {
            assert!(words.contains(&status.as_str()), "one word per status, capitalized: {status:?}");
        }
        for date in &dates {
            assert!(!is_iso(date) && !date.is_empty(), "dates in the browser's short form: {date:?}");
        }
    })
    .await;
    drop(server);
}
