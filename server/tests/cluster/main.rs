//! Cluster mode end to end: two instances of the real server binary on one throwaway PostgreSQL and one
//! throwaway Redis (and HAProxy in front of them where a test needs a balancer), each on a free loopback
//! port, spoken to over real HTTP and WebSocket clients.
//!
//! Invariant: every socket's stream is checked against the replay of the event log: strictly increasing,
//! nothing missing, nothing twice, whichever instance wrote and whichever instance the socket is on.

#[allow(dead_code)]
#[path = "../api/pg.rs"]
mod pg;

mod client;
mod procs;

use std::time::Duration;

use client::{Follower, Socket, TOPICS, a_product, assert_equals_replay, login, replay, set_stock};
use procs::{Balancer, Instance};
use protocol::{LoginResponse, ProductId, Seq};
use throwaway::Redis;
use tokio::time::{Instant, sleep};

const OWNER: &str = "owner1@izishopin.test";
const ADMIN: &str = "admin@izishopin.test";

/// A database of its own on the test PostgreSQL, and a pool on it for the checks.
async fn database() -> (String, sqlx::AnyPool) {
    let url = pg::fresh_database_url();
    let pool = server::db::connect(&url).await.expect("the test database");
    (url, pool)
}

fn dist() -> tempfile::TempDir {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html><title>IziShopin Live</title>").unwrap();
    dist
}

/// The newest seq `user` may see on the test topics (`None`: none yet).
async fn newest_visible(db: &sqlx::AnyPool, user: &protocol::User) -> Option<Seq> {
    replay(db, user, 0, &TOPICS).await.last().copied()
}

/// Two instances on a fresh database and one Redis, and owner1 (logged in on A) with a product of its shop.
/// Bind `redis` and `_dist` by name: a field left to `..` is dropped at once (Redis killed, the app deleted).
struct Two {
    a: Instance,
    b: Instance,
    redis: Redis,
    db: sqlx::AnyPool,
    owner: LoginResponse,
    product: ProductId,
    _dist: tempfile::TempDir,
}

async fn two_instances() -> Two {
    let (dist, redis) = (dist(), Redis::start());
    let (url, db) = database().await;
    let a = Instance::start(dist.path(), &url, &redis.url()).await;
    let b = Instance::start(dist.path(), &url, &redis.url()).await;
    let owner = login(&a.base(), OWNER).await;
    let product = a_product(&a.base(), &owner).await;
    Two { a, b, redis, db, owner, product, _dist: dist }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resumes_on_the_other_instance_with_exactly_what_it_missed() {
    let Two { a, b, mut redis, db, owner, product, _dist } = two_instances().await;

    // On A: 1..k arrive.
    let mut socket = Socket::open(&a.ws(), &owner.token, None).await;
    let start = socket.auth_seq;
    for stock in 1..=3 {
        assert!(set_stock(&a.base(), &owner.token, product, stock).await);
    }
    let first = replay(&db, &owner.user, start, &TOPICS).await;
    let got = socket.events_through(*first.last().unwrap(), Duration::from_secs(5)).await;
    assert_eq!(got, first, "live on A: every event, in order");
    let k = *got.last().unwrap();
    drop(socket);

    // Writes on both instances while the client is away.
    for stock in 10..14 {
        let through = if stock % 2 == 0 { a.base() } else { b.base() };
        assert!(set_stock(&through, &owner.token, product, stock).await);
    }
    // The client resumes on B while a write lands on A.
    let base_a = a.base();
    let token = owner.token.clone();
    let concurrent = tokio::spawn(async move { set_stock(&base_a, &token, product, 99).await });
    let mut socket = Socket::open(&b.ws(), &owner.token, Some(k)).await;
    assert!(concurrent.await.unwrap());
    let missed = replay(&db, &owner.user, k, &TOPICS).await;
    assert!(missed.len() >= 5, "the writes made events: {missed:?}");
    let got = socket.events_through(*missed.last().unwrap(), Duration::from_secs(5)).await;
    assert_eq!(got, missed, "on B: exactly k+1..n, in order, the write on A during the resume included");

    // And live from A to B afterwards.
    assert!(set_stock(&a.base(), &owner.token, product, 100).await);
    let newest = newest_visible(&db, &owner.user).await.unwrap();
    let got = socket.events_through(newest, Duration::from_secs(5)).await;
    assert_eq!(got, replay(&db, &owner.user, *missed.last().unwrap(), &TOPICS).await);
    assert!(b.metric("izi_relay_received").await >= 1.0, "B got A's writes over Redis");
    redis.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_two_instances_leave_every_stream_equal_to_the_replay() {
    let Two { a, b, redis: _redis, db, owner, product, _dist } = two_instances().await;
    let admin = login(&b.base(), ADMIN).await;

    let mut followers = Vec::new();
    for (n, instance) in [&a, &b, &a, &b].into_iter().enumerate() {
        let who = if n < 2 { &owner } else { &admin };
        let follower = Follower::start(instance.ws(), who.token.clone());
        follower.connected().await;
        followers.push((who.user.clone(), follower));
    }
    let mut writers = Vec::new();
    for (n, base) in [a.base(), b.base()].into_iter().enumerate() {
        let token = owner.token.clone();
        writers.push(tokio::spawn(async move {
            let mut acked = 0;
            for i in 0..40 {
                acked += u32::from(set_stock(&base, &token, product, 1_000 * (n as u32 + 1) + i).await);
            }
            acked
        }));
    }
    for writer in writers {
        assert_eq!(writer.await.unwrap(), 40, "every write is acknowledged");
    }
    for (n, (user, follower)) in followers.into_iter().enumerate() {
        let newest = newest_visible(&db, &user).await;
        assert!(follower.reached(newest, Duration::from_secs(10)).await, "socket {n} caught up");
        let seen = follower.stop().await;
        assert_equals_replay(&db, &user, &seen, &format!("socket {n}")).await;
        assert_eq!(seen.connections, 1, "socket {n} never had to reconnect");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_then_back_both_instances_subscribe_again_and_every_client_converges() {
    let Two { a, b, mut redis, db, owner, product, _dist } = two_instances().await;
    let on_a = Follower::start(a.ws(), owner.token.clone());
    let on_b = Follower::start(b.ws(), owner.token.clone());
    on_a.connected().await;
    on_b.connected().await;

    redis.kill();
    // REST and each instance's own events go on.
    for stock in 0..6 {
        let through = if stock % 2 == 0 { a.base() } else { b.base() };
        assert!(set_stock(&through, &owner.token, product, 500 + stock).await, "writes while Redis is away");
    }
    wait_for("both instances to see Redis down", async || {
        a.metric("izi_redis_up").await == 0.0 && b.metric("izi_redis_up").await == 0.0
    })
    .await;
    // Without Redis, the log probe still brings the other instance's writes.
    let newest = newest_visible(&db, &owner.user).await;
    assert!(on_a.reached(newest, Duration::from_secs(5)).await, "the socket on A converged while Redis was away");
    assert!(on_b.reached(newest, Duration::from_secs(5)).await, "the socket on B converged while Redis was away");

    redis.run();
    wait_for("both instances to subscribe again", async || {
        a.metric("izi_redis_up").await == 1.0
            && b.metric("izi_redis_up").await == 1.0
            && a.metric("izi_redis_resubscribes").await >= 1.0
            && b.metric("izi_redis_resubscribes").await >= 1.0
    })
    .await;
    let received = b.metric("izi_relay_received").await;
    assert!(set_stock(&a.base(), &owner.token, product, 600).await);
    let newest = newest_visible(&db, &owner.user).await;
    assert!(on_b.reached(newest, Duration::from_secs(5)).await);
    wait_for("the write on A to come to B over Redis again", async || b.metric("izi_relay_received").await > received)
        .await;
    for (name, follower) in [("on A", on_a), ("on B", on_b)] {
        let seen = follower.stop().await;
        assert_equals_replay(&db, &owner.user, &seen, name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_is_found_out_by_the_probe_and_subscribed_to_again() {
    let (dist, redis) = (dist(), Redis::start());
    let (url, _db) = database().await;
    let a = Instance::start(dist.path(), &url, &redis.url()).await;
    wait_for("A to subscribe", async || a.metric("izi_redis_up").await == 1.0).await;
    // SIGSTOP: the connections stay open and silent, as after a failover nobody announced.
    let pid = redis.pid();
    signal(pid, "STOP");
    wait_for("A to find the subscription silent", async || a.metric("izi_redis_up").await == 0.0).await;
    // Three probes (250 ms apart) unanswered, and A gives the subscription up.
    sleep(Duration::from_millis(1_500)).await;
    signal(pid, "CONT");
    wait_for("A to subscribe again", async || {
        a.metric("izi_redis_up").await == 1.0 && a.metric("izi_redis_resubscribes").await >= 1.0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_under_100_sockets_they_reconnect_through_the_balancer_and_lose_nothing() {
    let Two { mut a, b, redis: _redis, db, owner, product, _dist } = two_instances().await;
    let balancer = Balancer::start(&[a.port, b.port]).await;

    let mut followers = Vec::new();
    for _ in 0..100 {
        followers.push(Follower::start(balancer.ws(), owner.token.clone()));
    }
    for follower in &followers {
        follower.connected().await;
    }
    let on_a = a.metric("izi_ws_sockets").await;
    assert!(on_a >= 20.0, "the balancer spread the sockets: {on_a} on A");
    let base = balancer.base();
    let token = owner.token.clone();
    let writer = tokio::spawn(async move {
        let mut acked = 0;
        for stock in 0..60 {
            acked += u32::from(set_stock(&base, &token, product, 2_000 + stock).await);
            sleep(Duration::from_millis(30)).await;
        }
        acked
    });
    sleep(Duration::from_millis(600)).await;
    a.kill().await;
    assert!(writer.await.unwrap() >= 55, "writes go on through the balancer");
    let newest = newest_visible(&db, &owner.user).await;
    let mut reconnected = 0;
    for (n, follower) in followers.into_iter().enumerate() {
        assert!(follower.reached(newest, Duration::from_secs(15)).await, "socket {n} caught up");
        let seen = follower.stop().await;
        reconnected += usize::from(seen.connections > 1);
        assert_equals_replay(&db, &owner.user, &seen, &format!("socket {n}")).await;
    }
    assert!(reconnected as f64 >= on_a, "the sockets of A came back through the balancer: {reconnected}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_ends_the_session_on_the_other() {
    let Two { a, b, redis: _redis, owner, _dist, .. } = two_instances().await;
    let me = |base: String| {
        let token = owner.token.clone();
        async move { client::http().get(format!("{base}/api/me")).bearer_auth(token).send().await.unwrap().status() }
    };
    assert_eq!(me(b.base()).await, 200, "a token of A is valid on B");
    let (mut ws, _) = tokio_tungstenite::connect_async(b.ws()).await.unwrap();
    use futures_util::{SinkExt, StreamExt};
    let auth = protocol::ClientMsg::Auth { token: owner.token.clone(), topics: Some(TOPICS.to_vec()), last_seq: None };
    ws.send(tokio_tungstenite::tungstenite::Message::text(serde_json::to_string(&auth).unwrap())).await.unwrap();
    let _auth_ok = ws.next().await;

    let logout = client::http().post(format!("{}/api/auth/logout", a.base())).bearer_auth(&owner.token).send();
    assert_eq!(logout.await.unwrap().status(), 200);
    let closed_at = Instant::now();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("the socket on B was not closed: {other:?}"),
        }
    };
    assert!(closed_at.elapsed() < Duration::from_secs(1), "closed within a second");
    assert_eq!(close.map(|frame| u16::from(frame.code)), Some(4401));
    assert_eq!(me(b.base()).await, 401, "B refuses the revoked session");
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        sleep(Duration::from_millis(100)).await;
    }
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}
