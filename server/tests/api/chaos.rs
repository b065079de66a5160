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

use protocol::{LoginResponse, Page, Product, ServerMsg};
use server::events;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::time::{Instant, sleep};

use crate::client::{Follower, assert_equals_replay};
use crate::support::dist_with_index;

const RESTARTS: usize = 5;
const SOCKETS: usize = 5;

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
    let sockets: Vec<Follower> =
        (0..SOCKETS).map(|_| Follower::start(format!("ws://127.0.0.1:{port}/ws"), owner.token.clone())).collect();
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
    let pool = server::db::connect(&database_url).await.unwrap();
    let newest = events::current_seq(&pool).await.unwrap();
    for socket in &sockets {
        socket.reached(Some(newest), Duration::from_secs(10)).await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 50, "the writers got through: {}", acked.len());

    for (n, socket) in sockets.into_iter().enumerate() {
        let seen = socket.stop().await;
        assert_equals_replay(&pool, &owner.user, &seen, &format!("socket {n}")).await;
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
