//! The WebSocket at `/ws`, connection side: handshake origin rule, authentication and token expiry, control
//! frames, limits. Shared helpers (clients, users, events) live here too; `ws_events.rs` covers the events.
//!
//! Invariant: every wait is bounded by [`STEP`], so a missing frame fails the test instead of hanging it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::{
    ClientMsg, DashboardUpdate, Notification, NotificationEvent, NotificationId, NotificationKind, Role, Seq,
    ServerMsg, ShopId, ShopStats, Topic, User, UserId,
};
use server::auth::Keys;
use server::clock;
use server::events::{self, Audience, StoredEvent};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{TestServer, dist_with_index, spawn, spawn_with, test_config};

/// The longest any single step of a test may take.
pub const STEP: Duration = Duration::from_secs(5);

/// A test client socket.
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the server said next.
#[derive(Debug)]
pub enum Frame {
    Msg(ServerMsg),
    Closed { code: u16, reason: String },
}

/// Opens a socket, optionally with an `Origin` header.
pub async fn try_open(server: &TestServer, origin: Option<&str>) -> Result<Client, tungstenite::Error> {
    let mut request = server.ws_url.as_str().into_client_request().unwrap();
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    let (client, _) = timeout(STEP, tokio_tungstenite::connect_async(request)).await.expect("handshake in time")?;
    Ok(client)
}

/// Opens a socket without `Origin` (a non-browser client).
pub async fn open(server: &TestServer) -> Client {
    try_open(server, None).await.expect("the handshake succeeds")
}

/// Sends a client message.
pub async fn send(ws: &mut Client, msg: &ClientMsg) {
    send_text(ws, &serde_json::to_string(msg).unwrap()).await;
}

/// Sends a raw text frame.
pub async fn send_text(ws: &mut Client, text: &str) {
    timeout(STEP, ws.send(Message::text(text))).await.expect("send in time").expect("send");
}

/// The next server message or close frame (protocol pings skipped).
pub async fn next(ws: &mut Client) -> Frame {
    loop {
        let frame = timeout(STEP, ws.next()).await.expect("a frame in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                return Frame::Msg(serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("{e}: {text}")));
            }
            Some(Ok(Message::Close(Some(close)))) => {
                return Frame::Closed { code: u16::from(close.code), reason: close.reason.to_string() };
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a message or a close frame, got {other:?}"),
        }
    }
}

/// The next server message; panics on a close.
pub async fn next_msg(ws: &mut Client) -> ServerMsg {
    match next(ws).await {
        Frame::Msg(msg) => msg,
        closed => panic!("expected a message, got {closed:?}"),
    }
}

/// Reads (skipping messages) until the close frame; its code and reason.
pub async fn closed(ws: &mut Client) -> (u16, String) {
    loop {
        if let Frame::Closed { code, reason } = next(ws).await {
            return (code, reason);
        }
    }
}

/// Sends `auth` and expects `auth_ok`; the announced seq.
pub async fn auth(ws: &mut Client, token: &str, user: &User) -> Seq {
    send(ws, &ClientMsg::auth(token)).await;
    match next_msg(ws).await {
        ServerMsg::AuthOk { user: got, seq, .. } => {
            assert_eq!(&got, user);
            seq
        }
        other => panic!("expected auth_ok, got {other:?}"),
    }
}

/// Subscribes and checks the acknowledgement.
pub async fn subscribe(ws: &mut Client, topics: &[Topic]) {
    send(ws, &ClientMsg::Subscribe { topics: topics.to_vec() }).await;
    match next_msg(ws).await {
        ServerMsg::Subscribed { topics: now } => assert!(topics.iter().all(|t| now.contains(t)), "{now:?}"),
        other => panic!("expected subscribed, got {other:?}"),
    }
}

/// An authenticated socket subscribed to every topic.
pub async fn connect(server: &TestServer, user: &User) -> Client {
    let mut ws = open(server).await;
    auth(&mut ws, &token(server, user), user).await;
    subscribe(&mut ws, &Topic::ALL).await;
    ws
}

/// A token for `user` from the server's own keys.
pub fn token(server: &TestServer, user: &User) -> String {
    server.state.keys.issue(user, 0, server.state.clock.now_secs()).0
}

/// The people of a small marketplace: an admin, the owners of shops A and B, a customer.
pub struct Cast {
    pub admin: User,
    pub owner_a: User,
    pub owner_b: User,
    pub customer: User,
}

async fn insert_user(server: &TestServer, name: &str, role: Role) -> User {
    let email = format!("{}@izishopin.test", name.to_lowercase().replace(' ', "."));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, 'x', $4) RETURNING id",
    )
    .bind(&email)
    .bind(name)
    .bind(role.as_str())
    .bind(server.state.clock.now_rfc3339())
    .fetch_one(&server.state.db)
    .await
    .unwrap();
    let shop_id = if role == Role::Owner {
        let shop: i64 =
            sqlx::query_scalar("INSERT INTO shops (name, owner_id, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(format!("Shop of {name}"))
                .bind(id)
                .bind(server.state.clock.now_rfc3339())
                .fetch_one(&server.state.db)
                .await
                .unwrap();
        Some(ShopId(shop))
    } else {
        None
    };
    User { id: UserId(id), name: name.into(), email, role, shop_id }
}

/// Creates the cast directly in the database.
pub async fn cast(server: &TestServer) -> Cast {
    Cast {
        admin: insert_user(server, "Ada Admin", Role::Admin).await,
        owner_a: insert_user(server, "Olga Owner", Role::Owner).await,
        owner_b: insert_user(server, "Otto Owner", Role::Owner).await,
        customer: insert_user(server, "Carl Customer", Role::Customer).await,
    }
}

/// A `notification` event (topic notifications).
pub fn note(seq: Seq) -> ServerMsg {
    let notification = Notification {
        id: NotificationId(seq as i64),
        kind: NotificationKind::Info,
        title: format!("Note {seq}"),
        message: "hello".into(),
        read: false,
        created_at: wall_rfc3339(),
    };
    ServerMsg::Notification(NotificationEvent { notification, seq })
}

/// A `dashboard_update` event of `shop` (topic dashboard).
pub fn dash(shop: ShopId, seq: Seq) -> ServerMsg {
    let shop_stats = ShopStats {
        shop_id: shop,
        shop_name: format!("Shop {shop}"),
        total_orders: seq,
        open_orders: 0,
        monthly_revenue_cents: protocol::Cents(0),
        product_count: 0,
        low_stock_count: 0,
    };
    ServerMsg::DashboardUpdate(DashboardUpdate { shop_stats, notifications: vec![], timestamp: wall_rfc3339(), seq })
}

/// Who may see an event, and how to build it from its seq.
pub type Planned = (Audience, fn(Seq) -> ServerMsg);

/// Appends events in one committed transaction without publishing them.
pub async fn append(server: &TestServer, events: Vec<Planned>) -> Vec<StoredEvent> {
    let mut tx = server::store::begin_write(&server.state.db).await.unwrap();
    let mut stored = Vec::new();
    for (audience, build) in events {
        stored.push(events::append_at(&mut tx, server.state.clock.now_ms(), audience, build).await.unwrap());
    }
    tx.commit().await.unwrap();
    stored
}

/// Appends one event, commits and publishes it, as a write of the API would; its seq.
pub async fn emit(server: &TestServer, audience: Audience, build: impl FnOnce(Seq) -> ServerMsg) -> Seq {
    let mut tx = server::store::begin_write(&server.state.db).await.unwrap();
    let stored = events::append_at(&mut tx, server.state.clock.now_ms(), audience, build).await.unwrap();
    tx.commit().await.unwrap();
    let seq = stored.seq;
    server.state.hub.publish(vec![stored]).await;
    seq
}

/// The seq of an event message.
pub fn seq_of(msg: &ServerMsg) -> Seq {
    msg.seq().unwrap_or_else(|| panic!("not an event: {msg:?}"))
}

/// A server with an edited test configuration; keep the two folders alive as long as it runs.
pub async fn spawn_config(
    edit: impl FnOnce(&mut server::config::Config),
) -> (TestServer, tempfile::TempDir, tempfile::TempDir) {
    let dist = dist_with_index();
    let (mut config, data) = test_config(dist.path());
    edit(&mut config);
    (spawn_with(config).await, dist, data)
}

#[tokio::test]
async fn auth_ok_carries_the_user_and_the_current_seq() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let mut ws = open(&server).await;
    assert_eq!(auth(&mut ws, &token(&server, &cast.owner_a), &cast.owner_a).await, 0);
    let counted = server.state.metrics.snapshot();
    assert_eq!(counted.ws_messages_sent, 1, "auth_ok is counted as a sent frame");
    assert!(counted.ws_bytes_sent > 20, "with its payload bytes: {}", counted.ws_bytes_sent);
    let seq = emit(&server, Audience::everyone(), note).await;
    let mut ws = open(&server).await;
    assert_eq!(auth(&mut ws, &token(&server, &cast.customer), &cast.customer).await, seq);
}

#[tokio::test]
async fn no_auth_within_the_timeout_closes_with_4401() {
    let (server, _dist, _data) = spawn_config(|c| c.ws_auth_timeout = Duration::from_millis(300)).await;
    let mut ws = open(&server).await;
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 4401, "{reason}");
}

#[tokio::test]
async fn bad_or_expired_tokens_close_with_4401() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let foreign = Keys::new(Some("another-secret"), Duration::from_secs(60), Duration::ZERO);
    let expired = server.state.keys.issue(&cast.owner_a, 0, server.state.clock.now_secs() - 7200).0;
    for (token, why) in [
        ("garbage".to_owned(), "not valid"),
        (foreign.issue(&cast.owner_a, 0, server.state.clock.now_secs()).0, "not valid"),
        (expired, "expired"),
    ] {
        let mut ws = open(&server).await;
        send(&mut ws, &ClientMsg::auth(token)).await;
        let (code, reason) = closed(&mut ws).await;
        assert_eq!(code, 4401);
        assert!(reason.contains(why), "{reason}");
    }
}

#[tokio::test]
async fn a_first_frame_other_than_auth_closes_with_4401() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    for first in [r#"{"type":"ping"}"#, "not json", r#"{"type":"subscribe","topics":["orders"]}"#] {
        let mut ws = open(&server).await;
        send_text(&mut ws, first).await;
        let (code, reason) = closed(&mut ws).await;
        assert_eq!(code, 4401, "{first}");
        assert!(reason.contains("first frame"), "{reason}");
    }
}

#[tokio::test]
async fn an_expiring_token_closes_with_4401_unless_renewed_for_the_same_user() {
    let (server, _dist, _data) = spawn_config(|c| c.token_ttl = Duration::from_secs(2)).await;
    let cast = cast(&server).await;
    let long_keys = Keys::new(Some("test-secret"), Duration::from_secs(3600), Duration::ZERO);

    // Not renewed: closed when the 2 s token expires.
    let mut lapsing = open(&server).await;
    auth(&mut lapsing, &token(&server, &cast.owner_a), &cast.owner_a).await;

    // Renewed with a fresh token of the same user: a second auth_ok, and still open after the first expiry.
    let mut renewed = open(&server).await;
    auth(&mut renewed, &token(&server, &cast.owner_a), &cast.owner_a).await;
    auth(&mut renewed, &long_keys.issue(&cast.owner_a, 0, server.state.clock.now_secs()).0, &cast.owner_a).await;

    // Renewed with someone else's token: closed at once.
    let mut hijacked = open(&server).await;
    auth(&mut hijacked, &token(&server, &cast.owner_a), &cast.owner_a).await;
    send(&mut hijacked, &ClientMsg::auth(long_keys.issue(&cast.customer, 0, server.state.clock.now_secs()).0)).await;
    let (code, reason) = closed(&mut hijacked).await;
    assert_eq!(code, 4401);
    assert!(reason.contains("another user"), "{reason}");

    let (code, reason) = closed(&mut lapsing).await;
    assert_eq!(code, 4401);
    assert!(reason.contains("expired"), "{reason}");

    tokio::time::sleep(Duration::from_millis(2500)).await;
    send(&mut renewed, &ClientMsg::Ping).await;
    assert_eq!(next_msg(&mut renewed).await, ServerMsg::Pong);
}

#[tokio::test]
async fn a_browser_handshake_from_another_origin_is_refused() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let port = server.base.rsplit(':').next().unwrap();
    for evil in ["https://evil.example", "http://localhost:1", "null"] {
        match try_open(&server, Some(evil)).await {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403, "{evil}"),
            other => panic!("{evil}: expected a 403, got {other:?}"),
        }
    }
    for good in [format!("http://localhost:{port}"), format!("http://127.0.0.1:{port}"), "http://localhost:8080".into()]
    {
        let mut ws = try_open(&server, Some(&good)).await.unwrap_or_else(|e| panic!("{good}: {e}"));
        auth(&mut ws, &token(&server, &cast.admin), &cast.admin).await;
    }
    // No Origin (not a browser): accepted, and must authenticate like anyone.
    let mut ws = open(&server).await;
    auth(&mut ws, &token(&server, &cast.admin), &cast.admin).await;
}

#[tokio::test]
async fn configured_origins_replace_the_defaults() {
    let (server, _dist, _data) = spawn_config(|c| c.allowed_origins = vec!["https://shop.example".into()]).await;
    assert!(try_open(&server, Some("https://shop.example")).await.is_ok());
    assert!(matches!(try_open(&server, Some("http://localhost:8080")).await, Err(tungstenite::Error::Http(_))));
}

#[tokio::test]
async fn ping_answers_pong() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let mut ws = open(&server).await;
    auth(&mut ws, &token(&server, &cast.customer), &cast.customer).await;
    for _ in 0..3 {
        send(&mut ws, &ClientMsg::Ping).await;
        assert_eq!(next_msg(&mut ws).await, ServerMsg::Pong);
    }
}

#[tokio::test]
async fn malformed_unknown_and_binary_frames_get_an_error_and_the_socket_stays_usable() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let mut ws = open(&server).await;
    auth(&mut ws, &token(&server, &cast.customer), &cast.customer).await;
    for text in ["{not json", r#"{"type":"dance"}"#, r#"{"type":"subscribe","topics":["weather"]}"#, "[]", ""] {
        send_text(&mut ws, text).await;
        match next_msg(&mut ws).await {
            ServerMsg::Error { code, message } => assert_eq!(code, "bad_message", "{text}: {message}"),
            other => panic!("{text}: expected an error, got {other:?}"),
        }
    }
    timeout(STEP, ws.send(Message::binary(vec![1, 2, 3]))).await.unwrap().unwrap();
    assert!(matches!(next_msg(&mut ws).await, ServerMsg::Error { code, .. } if code == "bad_message"));
    send(&mut ws, &ClientMsg::Ping).await;
    assert_eq!(next_msg(&mut ws).await, ServerMsg::Pong);
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let big = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(server.config.ws_max_frame_bytes));

    // Before and after authentication.
    let mut ws = open(&server).await;
    send_text(&mut ws, &big).await;
    assert_eq!(closed(&mut ws).await.0, 1009);

    let mut ws = open(&server).await;
    auth(&mut ws, &token(&server, &cast.customer), &cast.customer).await;
    // Just under the limit is fine (an unknown field is ignored).
    let fits = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(server.config.ws_max_frame_bytes - 100));
    send_text(&mut ws, &fits).await;
    assert_eq!(next_msg(&mut ws).await, ServerMsg::Pong);
    send_text(&mut ws, &big).await;
    assert_eq!(closed(&mut ws).await.0, 1009);
}

#[tokio::test]
async fn flooding_closes_with_1008() {
    let (server, _dist, _data) = spawn_config(|c| c.ws_max_messages_per_10s = 10).await;
    let cast = cast(&server).await;
    let mut ws = open(&server).await;
    auth(&mut ws, &token(&server, &cast.customer), &cast.customer).await;
    let ping = serde_json::to_string(&ClientMsg::Ping).unwrap();
    for _ in 0..30 {
        // The server may already have closed: later sends may fail.
        if timeout(STEP, ws.send(Message::text(ping.as_str()))).await.unwrap().is_err() {
            break;
        }
    }
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 1008, "{reason}");
}

/// The wall clock as the events' text timestamps (events built without a server at hand).
fn wall_rfc3339() -> String {
    clock::rfc3339(time::OffsetDateTime::now_utc())
}
