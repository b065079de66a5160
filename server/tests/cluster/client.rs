//! Clients of a test cluster: REST calls, one socket driven step by step, and followers that reconnect and
//! resume as the app does; and the check every test ends with: a stream equals the replay of the log.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMsg, LoginResponse, Page, Product, ProductId, Seq, ServerMsg, Topic, User};
use server::events::{self, Replay};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const TOPICS: [Topic; 2] = [Topic::Products, Topic::Dashboard];

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

pub async fn login(base: &str, email: &str) -> LoginResponse {
    let login = protocol::LoginRequest { email: email.into(), password: server::seed::DEMO_PASSWORD.into() };
    let answer = http().post(format!("{base}/api/auth/login")).json(&login).send().await.unwrap();
    assert_eq!(answer.status(), 200, "login of {email} at {base}");
    answer.json().await.unwrap()
}

/// The first product of the user's shop.
pub async fn a_product(base: &str, owner: &LoginResponse) -> ProductId {
    let shop = owner.user.shop_id.expect("an owner").0;
    let page: Page<Product> =
        http().get(format!("{base}/api/products?shop_id={shop}")).send().await.unwrap().json().await.unwrap();
    page.items[0].id
}

/// Sets a product's stock through `base`; whether it was acknowledged.
pub async fn set_stock(base: &str, token: &str, product: ProductId, stock: u32) -> bool {
    let sent = http()
        .patch(format!("{base}/api/products/{}", product.0))
        .bearer_auth(token)
        .json(&serde_json::json!({ "stock": stock }))
        .send()
        .await;
    sent.is_ok_and(|answer| answer.status().is_success())
}

/// The seqs of the events after `after` that `user` may see on `topics`, as the log has them.
pub async fn replay(db: &sqlx::AnyPool, user: &User, after: Seq, topics: &[Topic]) -> Vec<Seq> {
    let Replay::Events { events, .. } = events::replay_after(db, user, after).await.unwrap() else {
        panic!("the log covers the test");
    };
    events
        .iter()
        .filter(|(_, json)| {
            serde_json::from_str::<ServerMsg>(json).ok().and_then(|m| m.topic()).is_some_and(|t| topics.contains(&t))
        })
        .map(|(seq, _)| *seq)
        .collect()
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One socket, driven by the test.
pub struct Socket {
    ws: Ws,
    /// The seq of `auth_ok`.
    pub auth_seq: Seq,
}

impl Socket {
    /// Connects and authenticates with `topics`, resuming after `last_seq` when given.
    pub async fn open(url: &str, token: &str, last_seq: Option<Seq>) -> Self {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("the socket connects");
        let auth = ClientMsg::Auth { token: token.into(), topics: Some(TOPICS.to_vec()), last_seq };
        ws.send(Message::text(serde_json::to_string(&auth).unwrap())).await.unwrap();
        match next_message(&mut ws, Duration::from_secs(5)).await {
            Some(ServerMsg::AuthOk { seq, .. }) => Self { ws, auth_seq: seq },
            Some(other) => panic!("expected auth_ok, got {other:?}"),
            None => panic!("no auth_ok"),
        }
    }

    /// The events received until one at or above `seq` (or `within` passed).
    pub async fn events_through(&mut self, seq: Seq, within: Duration) -> Vec<Seq> {
        let deadline = Instant::now() + within;
        let mut seqs = Vec::new();
        while seqs.last().is_none_or(|last| *last < seq) {
            let left = deadline.saturating_duration_since(Instant::now());
            match next_message(&mut self.ws, left).await {
                Some(ServerMsg::Resync) => panic!("resync: the log covers the test"),
                Some(message) => seqs.extend(message.seq()),
                None => break,
            }
        }
        seqs
    }
}

async fn next_message(ws: &mut Ws, within: Duration) -> Option<ServerMsg> {
    loop {
        let frame = timeout(within, ws.next()).await.ok()??.ok()?;
        if let Message::Text(text) = frame {
            return Some(serde_json::from_str(text.as_str()).expect("a server frame"));
        }
    }
}

/// What a follower received.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// The seq of its first `auth_ok`: its stream must equal the replay from there.
    pub start: Option<Seq>,
    pub seqs: Vec<Seq>,
    pub connections: usize,
}

/// A socket that reconnects and resumes like the app (`auth {token, topics, last_seq}`) until stopped.
pub struct Follower {
    pub seen: Arc<Mutex<Seen>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Follower {
    pub fn start(url: String, token: String) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(follow(url, token, Arc::clone(&seen), stopped));
        Self { seen, stop, task }
    }

    /// Waits until the follower is connected.
    pub async fn connected(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.seen.lock().unwrap().start.is_none() {
            assert!(Instant::now() < deadline, "the follower did not connect");
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (at most `within`) until it has received `last`; whether it did.
    pub async fn reached(&self, last: Option<Seq>, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if self.seen.lock().unwrap().seqs.last().copied() >= last {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(self) -> Seen {
        let _ = self.stop.send(true);
        let _ = timeout(Duration::from_secs(2), self.task).await;
        self.seen.lock().unwrap().clone()
    }
}

async fn follow(url: String, token: String, seen: Arc<Mutex<Seen>>, stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let Ok(Ok((mut ws, _))) = timeout(Duration::from_secs(2), tokio_tungstenite::connect_async(&url)).await else {
            sleep(Duration::from_millis(50)).await;
            continue;
        };
        let last_seq = {
            let seen = seen.lock().unwrap();
            seen.seqs.last().copied().or(seen.start)
        };
        let auth = ClientMsg::Auth { token: token.clone(), topics: Some(TOPICS.to_vec()), last_seq };
        if ws.send(Message::text(serde_json::to_string(&auth).unwrap())).await.is_err() {
            continue;
        }
        loop {
            let frame = match timeout(Duration::from_millis(200), ws.next()).await {
                Err(_) if *stop.borrow() => return,
                Err(_) => continue,
                Ok(Some(Ok(frame))) => frame,
                // Closed or reset (an instance was killed): reconnect and resume.
                Ok(_) => break,
            };
            let Message::Text(text) = frame else { continue };
            let message: ServerMsg = serde_json::from_str(text.as_str()).expect("a server frame");
            let mut seen = seen.lock().unwrap();
            match message {
                ServerMsg::AuthOk { seq, .. } => {
                    seen.start.get_or_insert(seq);
                    seen.connections += 1;
                }
                ServerMsg::Resync => panic!("resync: the log covers every resume here"),
                event => seen.seqs.extend(event.seq()),
            }
        }
    }
}

/// Asserts that `seen` is strictly increasing and equal to the replay of what `user` may see from its start.
pub async fn assert_equals_replay(db: &sqlx::AnyPool, user: &User, seen: &Seen, what: &str) {
    let start = seen.start.unwrap_or_else(|| panic!("{what}: never connected"));
    assert!(seen.seqs.windows(2).all(|w| w[0] < w[1]), "{what}: not strictly increasing: {:?}", seen.seqs);
    assert_eq!(seen.seqs, replay(db, user, start, &TOPICS).await, "{what}: the stream equals the replay");
}
