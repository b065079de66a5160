//! The server's one integration test binary: the real server on `127.0.0.1:0` with a fresh SQLite file,
//! spoken to over real HTTP and WebSocket clients using the `protocol` types.

mod assets;
mod catalog;
mod chaos;
mod clock;
// The cluster tests' clients: a socket that reconnects and resumes like the app, and the replay check.
#[allow(dead_code)]
#[path = "../cluster/client.rs"]
mod client;
mod fanout;
mod hostile;
mod live;
mod offline_writes;
mod order_flow;
mod pg;
mod reconnect;
mod rest;
mod sessions;
mod shopping;
mod support;
mod ws;
mod ws_events;
mod ws_tls;

use protocol::{ErrorBody, Health};
use support::{dist_with_index, spawn};

#[tokio::test]
async fn health_answers_ok_with_the_version() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let response = reqwest::get(format!("{}/api/health", server.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let health: Health = response.json().await.unwrap();
    assert_eq!(health, Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() });
}

#[tokio::test]
async fn unknown_api_route_is_a_json_404() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let response = reqwest::get(format!("{}/api/no-such-thing", server.base)).await.unwrap();
    assert_eq!(response.status(), 404);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.code, "not_found");
    assert!(body.message.contains("/api/no-such-thing"), "{}", body.message);
}

#[tokio::test]
async fn app_files_are_served_and_client_routes_fall_back_to_index() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let js = reqwest::get(format!("{}/app.js", server.base)).await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.text().await.unwrap(), "console.log('app')");
    for path in ["/", "/owner", "/admin/shops/2"] {
        let page = reqwest::get(format!("{}{path}", server.base)).await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(page.text().await.unwrap().contains("<title>IziShopin Live</title>"), "{path}");
    }
}

#[tokio::test]
async fn stops_when_asked() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let url = format!("{}/api/health", server.base);
    assert!(reqwest::get(&url).await.is_ok());
    drop(server);
    let mut refused = false;
    for _ in 0..50 {
        if reqwest::get(&url).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "the server still answers after it was told to stop");
}
