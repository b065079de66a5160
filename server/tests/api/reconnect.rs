//! Reconnecting without loss: events committed between `auth_ok` and `subscribe`/`resume` (the older frame
//! sequence, also with the two frames read apart), and the `auth {token, topics, last_seq}` frame that leaves
//! no window at all.
//!
//! Invariant: a test proves an event was NOT delivered twice by reading through a later marker event.

use std::time::Duration;

use protocol::{ClientMsg, Seq, ServerMsg, Topic};
use server::events::Audience;

use crate::support::{dist_with_index, spawn};
use crate::ws::{Client, auth, cast, emit, next_msg, note, open, send, seq_of, token};

/// Every frame up to the event with seq `last`: `Some(seq)` for events, `None` for a `resync`; control frames
/// (`subscribed`) are skipped.
async fn frames_through(ws: &mut Client, last: Seq) -> Vec<Option<Seq>> {
    let mut seen = Vec::new();
    loop {
        match next_msg(ws).await {
            ServerMsg::Subscribed { .. } => continue,
            ServerMsg::Resync => seen.push(None),
            msg => {
                let seq = seq_of(&msg);
                seen.push(Some(seq));
                if seq >= last {
                    return seen;
                }
            }
        }
    }
}

/// A socket of the cast's customer authenticated with a bare token; the seq of its `auth_ok`.
async fn bare_customer(server: &crate::support::TestServer, cast: &crate::ws::Cast) -> (Client, Seq) {
    let mut ws = open(server).await;
    let seq = auth(&mut ws, &token(server, &cast.customer), &cast.customer).await;
    (ws, seq)
}

/// The older sequence's `subscribe` to notifications, sent without waiting for its answer.
async fn subscribe_notes(ws: &mut Client) {
    send(ws, &ClientMsg::Subscribe { topics: vec![Topic::Notifications] }).await;
}

#[tokio::test]
async fn events_committed_between_auth_ok_and_subscribe_are_replayed_by_the_resume() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let (mut ws, auth_seq) = bare_customer(&server, &cast).await;
    let mine = Audience::user(cast.customer.id);
    let first = emit(&server, mine, note).await;
    let second = emit(&server, mine, note).await;
    // Give the server every chance to see them before the subscribe arrives.
    tokio::time::sleep(Duration::from_millis(50)).await;
    subscribe_notes(&mut ws).await;
    send(&mut ws, &ClientMsg::Resume { last_seq: auth_seq }).await;
    let marker = emit(&server, mine, note).await;
    assert_eq!(frames_through(&mut ws, marker).await, [Some(first), Some(second), Some(marker)]);
}

#[tokio::test]
async fn a_resume_read_apart_from_its_subscribe_replays_in_order_without_resync() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let mine = Audience::user(cast.customer.id);
    // Events the client missed while it was away, after the last one it applied.
    let applied = emit(&server, mine, note).await;
    let missed = emit(&server, mine, note).await;
    let (mut ws, _) = bare_customer(&server, &cast).await;
    subscribe_notes(&mut ws).await;
    // A live event lands between the two frames, which the server reads apart.
    let live = emit(&server, mine, note).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    send(&mut ws, &ClientMsg::Resume { last_seq: applied }).await;
    let marker = emit(&server, mine, note).await;
    assert_eq!(frames_through(&mut ws, marker).await, [Some(missed), Some(live), Some(marker)]);
}

#[tokio::test]
async fn a_bare_subscribe_without_resume_still_gets_every_event_after_auth_ok() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let mine = Audience::user(cast.customer.id);
    let (mut ws, _) = bare_customer(&server, &cast).await;
    let before_subscribe = emit(&server, mine, note).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    subscribe_notes(&mut ws).await;
    let after = emit(&server, mine, note).await;
    assert_eq!(frames_through(&mut ws, after).await, [Some(before_subscribe), Some(after)]);
}

#[tokio::test]
async fn an_auth_frame_with_topics_and_last_seq_leaves_no_window() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let mine = Audience::user(cast.customer.id);
    let applied = emit(&server, mine, note).await;
    let missed = emit(&server, mine, note).await;
    let mut ws = open(&server).await;
    let frame = ClientMsg::Auth {
        token: token(&server, &cast.customer),
        topics: Some(vec![Topic::Notifications, Topic::Orders]),
        last_seq: Some(applied),
    };
    send(&mut ws, &frame).await;
    match next_msg(&mut ws).await {
        ServerMsg::AuthOk { topics, seq, .. } => {
            assert_eq!(topics, Some(vec![Topic::Orders, Topic::Notifications]), "auth_ok echoes the topics");
            assert_eq!(seq, missed);
        }
        other => panic!("expected auth_ok, got {other:?}"),
    }
    // No subscribe, no resume: the missed event is replayed and live events follow at once.
    let live = emit(&server, mine, note).await;
    assert_eq!(frames_through(&mut ws, live).await, [Some(missed), Some(live)]);
}

#[tokio::test]
async fn fifty_clients_reconnecting_under_writes_miss_nothing() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let mine = Audience::user(cast.customer.id);
    let token = token(&server, &cast.customer);
    let start = emit(&server, mine, note).await;
    // Writes run all along while 50 clients connect with the older sequence and resume from `start`.
    let writer = {
        let server_state = server.state.clone();
        tokio::spawn(async move {
            let mut last = 0;
            for _ in 0..60 {
                let mut tx = server::store::begin_write(&server_state.db).await.unwrap();
                let now_ms = server_state.clock.now_ms();
                let stored = server::events::append_at(&mut tx, now_ms, mine, note).await.unwrap();
                server_state.hub.commit_and_publish(tx, vec![stored.clone()]).await.unwrap();
                last = stored.seq;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            last
        })
    };
    let mut clients = Vec::new();
    for _ in 0..50 {
        let mut ws = open(&server).await;
        send(&mut ws, &ClientMsg::auth(token.clone())).await;
        assert!(matches!(next_msg(&mut ws).await, ServerMsg::AuthOk { .. }));
        subscribe_notes(&mut ws).await;
        send(&mut ws, &ClientMsg::Resume { last_seq: start }).await;
        clients.push(ws);
    }
    let last = writer.await.unwrap();
    let marker = emit(&server, mine, note).await;
    let expected: Vec<Option<Seq>> = (start + 1..=last).chain([marker]).map(Some).collect();
    for ws in &mut clients {
        assert_eq!(frames_through(ws, marker).await, expected);
    }
}
