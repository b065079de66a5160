//! REST writes reaching live sockets: many concurrent writes arrive on a subscribed socket in seq order,
//! each exactly once, matching what a replay of the same range gives.

use std::time::Duration;

use protocol::{Page, Product, ProductPatch, ServerMsg, Topic};
use server::events::{self, Replay};

use crate::support::{dist_with_index, ok, spawn};
use crate::ws::{auth, next_msg, open, subscribe};

#[tokio::test]
async fn concurrent_writes_arrive_live_in_seq_order_exactly_once() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let mut socket = open(&server).await;
    let start = auth(&mut socket, &owner.token, &owner.user).await;
    subscribe(&mut socket, &Topic::ALL).await;

    let page: Page<Product> =
        owner.get_ok(&format!("/api/products?shop_id={}&per_page=8", owner.user.shop_id.unwrap())).await;
    let writes = page.items.iter().enumerate().map(|(i, product)| {
        let owner = &owner;
        async move {
            let patch = ProductPatch { price_cents: Some(1_000 + i as i64), ..ProductPatch::default() };
            let _: Product = ok(owner.patch(&format!("/api/products/{}", product.id), &patch).await).await;
        }
    });
    futures_util::future::join_all(writes).await;

    let Replay::Events { events: expected, .. } =
        events::replay_after(&server.state.db, &owner.user, start).await.unwrap()
    else {
        panic!("no resync expected")
    };
    assert!(expected.len() >= page.items.len(), "each write appends at least one event for the owner");
    let mut received = Vec::new();
    while received.len() < expected.len() {
        let msg =
            tokio::time::timeout(Duration::from_secs(10), next_msg(&mut socket)).await.expect("every event arrives");
        if let Some(seq) = msg.seq() {
            received.push(seq);
        } else {
            assert!(matches!(msg, ServerMsg::Pong), "unexpected frame {msg:?}");
        }
    }
    let expected: Vec<u64> = expected.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(received, expected, "live delivery is the replay: same events, same order, no gaps");
}
