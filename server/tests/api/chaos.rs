//! Chaos: the real server binary is killed (SIGKILL) and restarted on the same database several times while
//! two writers keep changing a product over REST and five sockets reconnect and resume as the app does
//! (`auth {token, topics, last_seq}`). Afterwards, against the event log: every socket's stream is strictly
//! increasing (no duplicate, no reordering) and equal to the replay of what its user may see from where it
//! started (no gap); every acknowledged write has its event in the log.
//!
//! Invariant: bounded: a fixed number of restarts, every wait under a deadline; the server process is killed
//! whatever the outcome.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMsg, LoginResponse, Page, Product, Seq, ServerMsg, Topic};
use server::events::{self, Replay};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::tungstenite::Message;

use crate::support::dist_with_index;

const RESTARTS: usize = 5;
const SOCKETS: usize = 5;
const TOPICS: [Topic; 2] = [Topic::Products, Topic::Dashboard];

/// The server binary on a fixed port and database; killed when dropped.
struct Process {
    args: Vec<String>,
    base: String,
    child: Option<Child>,
}

impl Process {
    async fn start(args: Vec<String>, base: String) -> Self {
        let mut process = Process { args, base, child: None };
        process.spawn().await;
        process
    }

    async fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(&self.args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let health = format!("{}/api/health", self.base);
        while reqwest::get(&health).await.map_or(true, |r| !r.status().is_success()) {
            assert!(Instant::now() < deadline, "the server did not come up");
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, then start again on the same port and database.
    async fn crash_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill -9");
        }
        self.spawn().await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One socket that reconnects and resumes like the app; the seqs it received, and where it started.
async fn follow(ws_url: String, token: String, seen: Arc<Mutex<(Option<Seq>, Vec<Seq>)>>, stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let Ok(Ok((mut ws, _))) = timeout(Duration::from_secs(2), tokio_tungstenite::connect_async(&ws_url)).await
        else {
            sleep(Duration::from_millis(50)).await;
            continue;
        };
        let last_seq = {
            let seen = seen.lock().unwrap();
            seen.1.last().copied().or(seen.0)
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
                // Closed or reset (the server was killed): reconnect and resume.
                Ok(_) => break,
            };
            let Message::Text(text) = frame else { continue };
            let msg: ServerMsg = serde_json::from_str(text.as_str()).expect("a server frame");
            let mut seen = seen.lock().unwrap();
            match msg {
                ServerMsg::AuthOk { seq, .. } => {
                    seen.0.get_or_insert(seq);
                }
                ServerMsg::Resync => panic!("resync: the log should cover every resume here"),
                event => seen.1.push(event.seq().expect("an event")),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_restarts_under_writes_lose_nothing_and_duplicate_nothing() {
    let dist = dist_with_index();
    let data = tempfile::tempdir().unwrap();
    let database_url = match crate::pg::enabled() {
        true => crate::pg::fresh_database_url(),
        false => format!("sqlite://{}", data.path().join("chaos.db").display()),
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--dist-dir",
        &dist.path().display().to_string(),
        "--database-url",
        &database_url,
        "--jwt-secret",
        "chaos-secret",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut process = Process::start(args, base.clone()).await;

    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    let login =
        protocol::LoginRequest { email: "owner1@izishopin.test".into(), password: server::seed::DEMO_PASSWORD.into() };
    let owner: LoginResponse =
        http.post(format!("{base}/api/auth/login")).json(&login).send().await.unwrap().json().await.unwrap();
    let products: Page<Product> = http
        .get(format!("{base}/api/products?shop_id={}", owner.user.shop_id.unwrap().0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let product = products.items[0].id;

    let (stop_tx, stop) = watch::channel(false);
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        let seen = Arc::new(Mutex::new((None, Vec::new())));
        let task =
            tokio::spawn(follow(format!("ws://127.0.0.1:{port}/ws"), owner.token.clone(), seen.clone(), stop.clone()));
        sockets.push((seen, task));
    }
    // Writers: each sets the stock to values of its own; the acknowledged ones are kept.
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..2u32 {
        let (http, base, token, acked, stop) =
            (http.clone(), base.clone(), owner.token.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !*stop.borrow() {
                n += 1;
                let stock = 1_000 + writer * 100_000 + n;
                let sent = http
                    .patch(format!("{base}/api/products/{}", product.0))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "stock": stock }))
                    .send()
                    .await;
                if sent.is_ok_and(|answer| answer.status().is_success()) {
                    acked.lock().unwrap().push(stock);
                }
                sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    for _ in 0..RESTARTS {
        sleep(Duration::from_millis(1_500)).await;
        process.crash_and_restart().await;
    }
    sleep(Duration::from_millis(1_000)).await;
    stop_tx.send(true).unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    // Let every socket catch up with the log, then stop them.
    let pool = sqlx::AnyPool::connect(&database_url).await.unwrap();
    let newest = events::current_seq(&pool).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    for (seen, _) in &sockets {
        while seen.lock().unwrap().1.last().is_none_or(|last| *last < newest) && Instant::now() < deadline {
            sleep(Duration::from_millis(50)).await;
        }
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 50, "the writers got through: {}", acked.len());

    let user = owner.user.clone();
    let topic_of = |json: &str| serde_json::from_str::<ServerMsg>(json).ok().and_then(|m| m.topic());
    for (n, (seen, task)) in sockets.into_iter().enumerate() {
        task.abort();
        let (start, got) = seen.lock().unwrap().clone();
        let start = start.expect("the socket connected at least once");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "socket {n}: not strictly increasing: {got:?}");
        let Replay::Events { events, .. } = events::replay_after(&pool, &user, start).await.unwrap() else {
            panic!("the log covers the run");
        };
        let expected: Vec<Seq> = events
            .iter()
            .filter(|(_, json)| topic_of(json).is_some_and(|t| TOPICS.contains(&t)))
            .map(|(seq, _)| *seq)
            .collect();
        assert_eq!(got, expected, "socket {n}: the stream equals the replay");
    }
    // Every acknowledged write is in the log.
    let payloads: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM events WHERE topic = 'products'").fetch_all(&pool).await.unwrap();
    let logged: std::collections::HashSet<u32> = payloads
        .iter()
        .filter_map(|json| match serde_json::from_str::<ServerMsg>(json).ok()? {
            ServerMsg::ProductUpdate(update) if update.product.id == product => Some(update.product.stock),
            _ => None,
        })
        .collect();
    let lost: Vec<_> = acked.iter().filter(|stock| !logged.contains(stock)).collect();
    assert!(lost.is_empty(), "acknowledged writes missing from the log: {lost:?}");
    drop(process);
}
