//! The fan-out: each socket gets only what it shows (an owner's dashboard never carries another shop's product
//! changes unless the catalog is watched), and a burst of writes to many sockets loses nothing.
//!
//! Invariant: every wait is bounded, so a missing frame fails the test instead of hanging it.

use std::time::Duration;

use futures_util::future::join_all;
use protocol::{Cents, ClientMsg, Page, Product, ProductPatch, Seq, ServerMsg, ShopId, Topic, User};
use server::events::{self, Replay};
use tokio::time::timeout;

use crate::support::{Api, TestServer, dist_with_index, ok, spawn};
use crate::ws::{Client, STEP, next_msg, open, send, subscribe};

/// The topics of the owner dashboard (the app's `topics_for(ShopOwner)`): not the public catalog.
const OWNER_DASHBOARD: [Topic; 4] = [Topic::Dashboard, Topic::Orders, Topic::Products, Topic::Notifications];
/// The customer dashboard's topics.
const CUSTOMER_DASHBOARD: [Topic; 3] = [Topic::Orders, Topic::Catalog, Topic::Notifications];

/// A socket authenticated with its topics in the first frame, as the app does; the seq of `auth_ok`.
async fn connect_with(server: &TestServer, token: &str, topics: &[Topic]) -> (Client, Seq) {
    let mut ws = open(server).await;
    let auth = ClientMsg::Auth { token: token.to_owned(), topics: Some(topics.to_vec()), last_seq: None };
    send(&mut ws, &auth).await;
    match next_msg(&mut ws).await {
        ServerMsg::AuthOk { seq, topics: Some(echoed), .. } => {
            assert_eq!(echoed.len(), topics.len());
            (ws, seq)
        }
        other => panic!("expected auth_ok with the topics, got {other:?}"),
    }
}

async fn first_product(api: &Api, shop: ShopId) -> Product {
    let page: Page<Product> = api.get_ok(&format!("/api/products?shop_id={shop}&per_page=1")).await;
    page.items.into_iter().next().expect("a seeded shop has products")
}

async fn set_price(api: &Api, product: &Product, price_cents: i64) {
    let patch = ProductPatch { price_cents: Some(price_cents), ..ProductPatch::default() };
    let _: Product = ok(api.patch(&format!("/api/products/{}", product.id), &patch).await).await;
}

/// The shop a product event is about, if the message is one.
fn product_shop(msg: &ServerMsg) -> Option<ShopId> {
    match msg {
        ServerMsg::ProductUpdate(update) => Some(update.product.shop_id),
        ServerMsg::CatalogUpdate(update) => Some(update.product.shop_id),
        _ => None,
    }
}

/// Reads until the `product_update` of `product` at `price_cents`, then up to the `pong` of a ping (the rest
/// of that write's events come in the same write, before it); every event read.
async fn until_own_update(ws: &mut Client, product: &Product, price_cents: i64) -> Vec<ServerMsg> {
    let mut seen = Vec::new();
    loop {
        let msg = timeout(STEP, next_msg(ws)).await.expect("the own shop's change arrives");
        let done = matches!(&msg, ServerMsg::ProductUpdate(u) if u.product.id == product.id && u.product.price_cents == Cents(price_cents));
        seen.push(msg);
        if done {
            break;
        }
    }
    send(ws, &ClientMsg::Ping).await;
    loop {
        match timeout(STEP, next_msg(ws)).await.expect("pong") {
            ServerMsg::Pong => return seen,
            msg => seen.push(msg),
        }
    }
}

#[tokio::test]
async fn an_owner_socket_gets_another_shops_product_change_only_while_watching_the_catalog() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let (owner1, owner2) = (server.login("owner1@izishopin.test").await, server.login("owner2@izishopin.test").await);
    let (shop1, shop2) = (owner1.user.shop_id.unwrap(), owner2.user.shop_id.unwrap());
    let (own, theirs) = (first_product(&owner1, shop1).await, first_product(&owner2, shop2).await);
    let (mut dashboard, _) = connect_with(&server, &owner1.token, &OWNER_DASHBOARD).await;

    // Shop 2 changes a product, then shop 1 does: the dashboard sees its own change and nothing of shop 2's.
    set_price(&owner2, &theirs, 4_001).await;
    set_price(&owner1, &own, 5_001).await;
    let seen = until_own_update(&mut dashboard, &own, 5_001).await;
    assert!(seen.iter().all(|msg| product_shop(msg) != Some(shop2)), "another shop's change arrived: {seen:?}");

    // The catalog opens: shop 2's next change arrives as a public `catalog_update` (no figures).
    subscribe(&mut dashboard, &[Topic::Catalog]).await;
    set_price(&owner2, &theirs, 4_002).await;
    let msg = timeout(STEP, next_msg(&mut dashboard)).await.expect("the catalog change arrives");
    match &msg {
        ServerMsg::CatalogUpdate(update) => {
            assert_eq!((update.product.id, update.product.price_cents), (theirs.id, Cents(4_002)))
        }
        other => panic!("expected shop 2's catalog_update, got {other:?}"),
    }
    // The own shop's change still comes once, as the staff's `product_update` with figures.
    set_price(&owner1, &own, 5_002).await;
    let seen = until_own_update(&mut dashboard, &own, 5_002).await;
    assert!(!seen.iter().any(|msg| matches!(msg, ServerMsg::CatalogUpdate(_))), "{seen:?}");

    // The catalog closes: shop 2's changes stop again.
    send(&mut dashboard, &ClientMsg::Unsubscribe { topics: vec![Topic::Catalog] }).await;
    assert!(matches!(timeout(STEP, next_msg(&mut dashboard)).await.unwrap(), ServerMsg::Subscribed { .. }));
    set_price(&owner2, &theirs, 4_003).await;
    set_price(&owner1, &own, 5_003).await;
    let seen = until_own_update(&mut dashboard, &own, 5_003).await;
    assert!(seen.iter().all(|msg| product_shop(msg) != Some(shop2)), "{seen:?}");
}

/// Lets this process hold the test's sockets and the server's (two descriptors per socket in one process).
fn raise_open_files_limit(needed: u64) {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write a valid rlimit struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < needed {
            limit.rlim_cur = limit.rlim_max.min(needed.max(limit.rlim_cur));
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    assert!(limit.rlim_cur >= needed, "the open-files limit {} is below the {needed} this test needs", limit.rlim_cur);
}

/// The seqs `user` may see after `after`, of the given topics: what a socket must receive live.
async fn expected(server: &TestServer, user: &User, after: Seq, topics: &[Topic]) -> Vec<Seq> {
    let Replay::Events { events, .. } = events::replay_after(&server.state.db, user, after).await.unwrap() else {
        panic!("no resync expected")
    };
    let topic_of = |json: &str| serde_json::from_str::<ServerMsg>(json).ok().and_then(|msg| msg.topic());
    events
        .into_iter()
        .filter(|(_, json)| topic_of(json).is_some_and(|t| topics.contains(&t)))
        .map(|(seq, _)| seq)
        .collect()
}

/// Reads event seqs until `count` have arrived (other frames fail the test).
async fn read_events(mut ws: Client, count: usize) -> Vec<Seq> {
    let mut seqs = Vec::with_capacity(count);
    while seqs.len() < count {
        let msg = next_msg(&mut ws).await;
        seqs.push(msg.seq().unwrap_or_else(|| panic!("expected an event, got {msg:?}")));
    }
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_100_writes_to_1000_sockets_loses_nothing() {
    const SOCKETS: usize = 1_000;
    const WRITES: usize = 100;
    raise_open_files_limit(2 * SOCKETS as u64 + 256);
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let admin = server.login("admin@izishopin.test").await;
    let customer = server.login("customer1@izishopin.test").await;
    let who: [(&Api, &[Topic]); 3] =
        [(&owner, &OWNER_DASHBOARD), (&admin, &OWNER_DASHBOARD), (&customer, &CUSTOMER_DASHBOARD)];

    let mut sockets = Vec::with_capacity(SOCKETS);
    for i in 0..SOCKETS {
        let (api, topics) = who[i % who.len()];
        let (ws, seq) = connect_with(&server, &api.token, topics).await;
        sockets.push((i % who.len(), ws, seq));
    }
    let start = sockets.iter().map(|(_, _, seq)| *seq).min().unwrap();

    // 100 writes from 10 writers at once, each write yielding several events (staff, catalog, dashboard).
    let page: Page<Product> =
        owner.get_ok(&format!("/api/products?shop_id={}&per_page=10", owner.user.shop_id.unwrap())).await;
    let per_writer = WRITES / page.items.len();
    assert_eq!(page.items.len() * per_writer, WRITES);
    let writers = page.items.iter().map(|product| {
        let owner = &owner;
        async move {
            for k in 0..per_writer {
                set_price(owner, product, 2_000 + k as i64).await;
            }
        }
    });
    join_all(writers).await;

    let mut wanted = Vec::new();
    for (api, topics) in who {
        wanted.push(expected(&server, &api.user, start, topics).await);
    }
    assert!(
        wanted.iter().all(|seqs| seqs.len() >= WRITES),
        "every account sees every write: {:?}",
        wanted.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let readers = sockets.into_iter().map(|(account, ws, seq)| {
        let expected: Vec<Seq> = wanted[account].iter().copied().filter(|s| *s > seq).collect();
        tokio::spawn(async move {
            let got = timeout(Duration::from_secs(60), read_events(ws, expected.len())).await;
            (got.expect("every event arrives within a minute"), expected)
        })
    });
    for (socket, reader) in join_all(readers).await.into_iter().enumerate() {
        let (got, expected) = reader.unwrap();
        assert_eq!(got, expected, "socket {socket}: live delivery is the replay, nothing lost or repeated");
    }
}
