//! When the WebSocket cannot open (here: the server refuses the page's origin, as a proxy or firewall that
//! blocks WebSockets would), the page falls back to polling `/api/events` and still receives every event.

use std::time::Duration;

use serde_json::json;

use crate::page::{PASSWORD, WAIT, attribute_of, eventually};
use crate::support;

const OWNER: &str = "owner1@izishopin.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_websocket_falls_back_to_polling_and_still_delivers_events() {
    let server =
        support::start_server_with(|config| config.allowed_origins = vec!["https://elsewhere.test".into()]).await;
    let base = server.base_url.clone();
    let owner = support::api_login(&base, OWNER, PASSWORD).await;
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, OWNER).await;
        eventually(WAIT, "the page falls back to polling", || async {
            (attribute_of(&browser, ".connection-badge", "data-transport").await.as_deref() == Some("polling"))
                .then_some(())
        })
        .await;
        let events_before = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let before = events_before(attribute_of(&browser, ".connection-badge", "data-events").await);

        // A write: its events reach the page through polling (every 5 s at most).
        let (status, page) = support::http_json("GET", &format!("{base}/api/products?shop_id=1"), None, None).await;
        assert_eq!(status, 200, "{page}");
        let id = page["items"][0]["id"].as_i64().unwrap();
        let url = format!("{base}/api/products/{id}");
        let (status, answer) = support::http_json("PATCH", &url, Some(&owner.token), Some(json!({"stock": 42}))).await;
        assert_eq!(status, 200, "{answer}");
        eventually(Duration::from_secs(20), "the write's events arrive by polling", || async {
            let now = events_before(attribute_of(&browser, ".connection-badge", "data-events").await);
            (now > before).then_some(())
        })
        .await;
        assert_eq!(
            attribute_of(&browser, ".connection-badge", "data-transport").await.as_deref(),
            Some("polling"),
            "still polling: the WebSocket stays refused"
        );
        let polls =
            server.state.metrics.snapshot().by_route.iter().filter(|(r, _)| r.starts_with("GET /api/events")).count();
        assert!(polls >= 1, "the events came through GET /api/events");
    })
    .await;
}
