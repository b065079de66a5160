//! What a hostile or broken client can do, and what it cannot: grow the server's memory through request
//! metrics, hold connections open with unfinished requests, get a non-JSON answer from `/api`, have a body of
//! the wrong JSON kind accepted, or miss the close frame of an oversized WebSocket message.
//!
//! Invariant: every wait is bounded (by `STEP`), so a server that never answers fails the test.

use std::time::Duration;

use futures_util::SinkExt;
use protocol::{ErrorBody, Page, Product};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{TestServer, dist_with_index, error, spawn};
use crate::ws::{STEP, closed, open, spawn_config};

fn addr(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (or `STEP` passes: a panic); what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    timeout(STEP, stream.read_to_end(&mut all)).await.expect("the server closes the connection").ok();
    String::from_utf8_lossy(&all).into_owned()
}

#[tokio::test]
async fn request_metrics_stay_small_whatever_paths_clients_invent() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let long = "x".repeat(8 * 1024);
    for n in 0..200 {
        http.get(format!("{}/api/{n}{long}", server.base)).send().await.unwrap();
        http.get(format!("{}/{n}{long}/deeper", server.base)).send().await.unwrap();
    }
    for id in [1, 2, 3] {
        http.get(format!("{}/api/products/{id}", server.base)).send().await.unwrap();
    }
    let routes = server.state.metrics.snapshot().by_route;
    let key_bytes: usize = routes.keys().map(String::len).sum();
    assert!(key_bytes < 64 * 1024, "{} routes, {key_bytes} bytes of keys", routes.len());
    assert_eq!(routes.get("GET /api/products/{id}"), Some(&3), "{:?}", routes.keys().take(5).collect::<Vec<_>>());
    assert_eq!(routes.get("GET /api/(no route)"), Some(&200));
}

#[tokio::test]
async fn unfinished_headers_and_idle_connections_are_closed() {
    let (server, _dist, _data) = spawn_config(|c| c.http_header_timeout = Duration::from_millis(300)).await;
    // Headers that never end.
    let mut slow = TcpStream::connect(addr(&server)).await.unwrap();
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let answer = read_to_close(&mut slow).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    // A kept-alive connection left idle after its answer.
    let mut idle = TcpStream::connect(addr(&server)).await.unwrap();
    idle.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let answer = read_to_close(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A connection that never says anything.
    let mut silent = TcpStream::connect(addr(&server)).await.unwrap();
    read_to_close(&mut silent).await;
}

#[tokio::test]
async fn a_withheld_body_is_answered_408() {
    let (server, _dist, _data) = spawn_config(|c| c.http_body_timeout = Duration::from_millis(300)).await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    let head =
        "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(br#"{"email":"#).await.unwrap();
    let mut answer = vec![0; 4096];
    let read = timeout(STEP, stream.read(&mut answer)).await.expect("an answer in time").unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let (server, _dist, _data) = spawn_config(|c| c.max_connections = 2).await;
    let health = format!("{}/api/health", server.base);
    let quick = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let held = [TcpStream::connect(addr(&server)).await.unwrap(), TcpStream::connect(addr(&server)).await.unwrap()];
    assert!(quick.get(&health).send().await.is_err(), "a third connection is not served while two are open");
    drop(held);
    let answer = timeout(STEP, reqwest::get(&health)).await.expect("served in time").unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn every_api_answer_is_json_and_bodies_must_be_objects() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let wrong = http.delete(format!("{}/api/health", server.base)).send().await.unwrap();
    assert_eq!(error(wrong, 405).await.code, "method_not_allowed");
    let wrong = http.put(format!("{}/api/auth/login", server.base)).json(&json!({})).send().await.unwrap();
    assert_eq!(error(wrong, 405).await.code, "method_not_allowed");

    let owner = server.login("owner1@izishopin.test").await;
    let products: Page<Product> = owner.get_ok("/api/products?shop_id=1").await;
    let path = format!("/api/products/{}", products.items[0].id.0);
    for body in [json!([]), json!([1, 2]), json!("text"), json!(42), json!(null)] {
        let answer: ErrorBody = error(owner.patch(&path, &body).await, 422).await;
        assert_eq!(answer.field.as_deref(), Some("body"), "{body}: {answer:?}");
    }
    let broken = owner.http.patch(format!("{}{path}", server.base)).bearer_auth(&owner.token);
    let broken = broken.header("content-type", "application/json").body("[1,").send().await.unwrap();
    assert_eq!(error(broken, 400).await.code, "bad_request");
    let after: Product = owner.get_ok(&path).await;
    assert_eq!(after, products.items[0], "nothing changed");
}

#[tokio::test]
async fn answers_carry_the_security_headers() {
    let dist = dist_with_index();
    std::fs::write(dist.path().join("index.html"), "<title>x</title><script type=\"module\">init()</script>").unwrap();
    let server = spawn(dist.path()).await;
    for path in ["/", "/owner", "/api/health", "/api/nothing"] {
        let answer = reqwest::get(format!("{}{path}", server.base)).await.unwrap();
        let header = |name: &str| answer.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(header("referrer-policy").as_deref(), Some("strict-origin-when-cross-origin"), "{path}");
        let csp = header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-w4ujnOpjBoH2vcasx+reJRUwYivG8Q3afx/XevGJod8='"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn an_oversized_message_in_fragments_gets_its_1009_close_frame() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let chunk = vec![b'x'; 16 * 1024];
    for round in 0..10 {
        let mut ws = open(&server).await;
        // Each frame fits; the message they make does not, and the client keeps sending after the limit.
        let first = Frame::message(chunk.clone(), OpCode::Data(Data::Text), false);
        let mut frames = vec![first];
        frames.extend((0..300).map(|_| Frame::message(chunk.clone(), OpCode::Data(Data::Continue), false)));
        for frame in frames {
            if timeout(STEP, ws.send(Message::Frame(frame))).await.map_or(true, |sent| sent.is_err()) {
                break;
            }
        }
        assert_eq!(closed(&mut ws).await.0, 1009, "round {round}");
    }
}

#[tokio::test]
async fn every_oversized_message_gets_its_1009_close_frame() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let big = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(64 * server.config.ws_max_frame_bytes));
    for round in 0..20 {
        let mut ws = open(&server).await;
        // The server may close before the whole message is written: a failed send is fine.
        let _ = timeout(STEP, ws.send(Message::text(big.as_str()))).await;
        assert_eq!(closed(&mut ws).await.0, 1009, "round {round}");
    }
}

#[tokio::test]
async fn a_request_to_ws_that_is_not_a_websocket_handshake_gets_a_json_error() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/ws", server.base);
    let plain = error(http.get(&url).send().await.unwrap(), 400).await;
    assert_eq!(plain.code, "bad_handshake");
    assert!(plain.message.contains("Connection: upgrade"), "{}", plain.message);
    let old_version = http
        .get(&url)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "8")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(error(old_version, 426).await.code, "bad_handshake");
}
