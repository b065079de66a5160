//! The WebSocket's events and `GET /api/events`: topic and audience filtering, resume (also across a
//! restart), resync past retention, lag, and the polling page.
//!
//! Invariant: a test proves an event was NOT delivered by delivering a later marker event first, never by
//! waiting for silence.

use std::time::Duration;

use protocol::{ClientMsg, ErrorBody, EventsPage, Seq, ServerMsg, Topic, User};
use server::events::{self, Audience};

use crate::support::{TestServer, dist_with_index, spawn, spawn_with, test_config};
use crate::ws::{
    append, auth, cast, closed, connect, dash, emit, next_msg, note, open, send, seq_of, subscribe, token,
};

/// Reads events until the one with seq `last`; the seqs received, in order.
async fn events_through(ws: &mut crate::ws::Client, last: Seq) -> Vec<Seq> {
    let mut seqs = Vec::new();
    loop {
        let msg = next_msg(ws).await;
        let seq = seq_of(&msg);
        seqs.push(seq);
        if seq >= last {
            return seqs;
        }
    }
}

#[tokio::test]
async fn subscribe_and_unsubscribe_are_acknowledged_and_filter_topics() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let mut ws = open(&server).await;
    auth(&mut ws, &token(&server, &cast.owner_a), &cast.owner_a).await;
    let acked = async |ws: &mut crate::ws::Client, msg: ClientMsg| {
        send(ws, &msg).await;
        match next_msg(ws).await {
            ServerMsg::Subscribed { topics } => topics,
            other => panic!("expected subscribed, got {other:?}"),
        }
    };
    assert_eq!(
        acked(&mut ws, ClientMsg::Subscribe { topics: vec![Topic::Notifications] }).await,
        [Topic::Notifications]
    );
    assert_eq!(
        acked(&mut ws, ClientMsg::Subscribe { topics: vec![Topic::Dashboard, Topic::Notifications] }).await,
        [Topic::Dashboard, Topic::Notifications]
    );
    assert_eq!(acked(&mut ws, ClientMsg::Unsubscribe { topics: vec![Topic::Dashboard] }).await, [Topic::Notifications]);

    let shop_a = cast.owner_a.shop_id.unwrap();
    emit(&server, Audience::shop_staff(shop_a), |seq| dash(shop_a, seq)).await;
    let marker = emit(&server, Audience::everyone(), note).await;
    assert_eq!(events_through(&mut ws, marker).await, [marker], "the dashboard event is filtered out");

    assert_eq!(acked(&mut ws, ClientMsg::Unsubscribe { topics: vec![Topic::Notifications] }).await, []);
    emit(&server, Audience::everyone(), note).await;
    assert_eq!(acked(&mut ws, ClientMsg::Subscribe { topics: vec![Topic::Dashboard] }).await, [Topic::Dashboard]);
    let marker = emit(&server, Audience::shop_staff(shop_a), |seq| dash(shop_a, seq)).await;
    assert_eq!(events_through(&mut ws, marker).await, [marker], "the note is filtered out");
}

#[tokio::test]
async fn events_reach_exactly_their_audience() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let shop_a = cast.owner_a.shop_id.unwrap();
    let users: [&User; 4] = [&cast.owner_a, &cast.owner_b, &cast.admin, &cast.customer];
    let mut sockets = Vec::new();
    for user in users {
        sockets.push(connect(&server, user).await);
    }
    let staff_a = emit(&server, Audience::shop_staff(shop_a), |seq| dash(shop_a, seq)).await;
    let for_customer = emit(&server, Audience::user(cast.customer.id), note).await;
    let public = emit(&server, Audience::everyone(), note).await;
    let expected: [&[Seq]; 4] = [&[staff_a, public], &[public], &[staff_a, public], &[for_customer, public]];
    for ((ws, user), want) in sockets.iter_mut().zip(users).zip(expected) {
        assert_eq!(events_through(ws, public).await, want, "{}", user.name);
    }
}

#[tokio::test]
async fn a_live_event_is_the_stored_json_byte_for_byte() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let mut ws = connect(&server, &cast.customer).await;
    let seq = emit(&server, Audience::everyone(), note).await;
    let stored: String = sqlx::query_scalar("SELECT payload FROM events WHERE seq = $1")
        .bind(seq as i64)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    let msg = next_msg(&mut ws).await;
    assert_eq!(serde_json::to_string(&msg).unwrap(), stored);
}

#[tokio::test]
async fn resume_replays_missed_events_in_order_exactly_once() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let shop_a = cast.owner_a.shop_id.unwrap();
    let shop_b = cast.owner_b.shop_id.unwrap();

    let mut ws = connect(&server, &cast.owner_a).await;
    let seen = emit(&server, Audience::shop_staff(shop_a), note).await;
    assert_eq!(events_through(&mut ws, seen).await, [seen]);
    drop(ws);

    // While away: two for shop A, one for shop B.
    let away_1 = emit(&server, Audience::shop_staff(shop_a), |seq| dash(shop_a, seq)).await;
    emit(&server, Audience::shop_staff(shop_b), |seq| dash(shop_b, seq)).await;
    let away_2 = emit(&server, Audience::shop_staff(shop_a), note).await;

    let mut ws = connect(&server, &cast.owner_a).await;
    // Committed but not yet published when the resume reads the database: replayed now, and its late live
    // copy must not be delivered again.
    let late = append(&server, vec![(Audience::shop_staff(shop_a), note)]).await;
    let late_seq = late[0].seq;
    send(&mut ws, &ClientMsg::Resume { last_seq: seen }).await;
    assert_eq!(events_through(&mut ws, late_seq).await, [away_1, away_2, late_seq]);
    server.state.hub.publish(late).await;
    let next = emit(&server, Audience::shop_staff(shop_a), note).await;
    assert_eq!(events_through(&mut ws, next).await, [next]);
    send(&mut ws, &ClientMsg::Ping).await;
    assert_eq!(next_msg(&mut ws).await, ServerMsg::Pong);
}

#[tokio::test]
async fn resume_replays_only_subscribed_topics() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let shop_a = cast.owner_a.shop_id.unwrap();
    let start = emit(&server, Audience::everyone(), note).await;
    emit(&server, Audience::shop_staff(shop_a), |seq| dash(shop_a, seq)).await;
    let wanted = emit(&server, Audience::shop_staff(shop_a), note).await;
    let mut ws = open(&server).await;
    auth(&mut ws, &token(&server, &cast.owner_a), &cast.owner_a).await;
    subscribe(&mut ws, &[Topic::Notifications]).await;
    send(&mut ws, &ClientMsg::Resume { last_seq: start }).await;
    assert_eq!(events_through(&mut ws, wanted).await, [wanted]);
}

#[tokio::test]
async fn resume_after_a_server_restart_replays_what_was_written_meanwhile() {
    let dist = dist_with_index();
    let (config, _data) = test_config(dist.path());
    let first = spawn_with(config.clone()).await;
    let cast = cast(&first).await;
    let shop_a = cast.owner_a.shop_id.unwrap();
    // The JWT secret is fixed, so the token outlives the restart.
    let token = token(&first, &cast.owner_a);

    let mut ws = open(&first).await;
    auth(&mut ws, &token, &cast.owner_a).await;
    subscribe(&mut ws, &Topic::ALL).await;
    let seen = emit(&first, Audience::shop_staff(shop_a), note).await;
    assert_eq!(events_through(&mut ws, seen).await, [seen]);
    drop(ws);
    let before_stop = emit(&first, Audience::shop_staff(shop_a), |seq| dash(shop_a, seq)).await;
    drop(first);

    let second = spawn_with(config).await;
    let after_start = emit(&second, Audience::shop_staff(shop_a), note).await;
    let mut ws = open(&second).await;
    assert_eq!(auth(&mut ws, &token, &cast.owner_a).await, after_start);
    subscribe(&mut ws, &Topic::ALL).await;
    send(&mut ws, &ClientMsg::Resume { last_seq: seen }).await;
    assert_eq!(events_through(&mut ws, after_start).await, [before_stop, after_start]);
}

/// A server keeping 2 events, with 5 public notes appended and pruned (seqs 1–3 gone).
async fn pruned_server() -> (TestServer, tempfile::TempDir, tempfile::TempDir) {
    let dist = dist_with_index();
    let (mut config, data) = test_config(dist.path());
    config.event_retention_count = 2;
    let server = spawn_with(config).await;
    for _ in 0..5 {
        emit(&server, Audience::everyone(), note).await;
    }
    events::prune_at(&server.state.db, server.state.clock.now_ms(), server.config.event_retention, 2).await.unwrap();
    (server, dist, data)
}

#[tokio::test]
async fn resume_from_before_retention_answers_resync() {
    let (server, _dist, _data) = pruned_server().await;
    let cast = cast(&server).await;
    let mut ws = connect(&server, &cast.customer).await;
    send(&mut ws, &ClientMsg::Resume { last_seq: 0 }).await;
    assert_eq!(next_msg(&mut ws).await, ServerMsg::Resync);
    // From the retention edge on, a replay is still possible.
    send(&mut ws, &ClientMsg::Resume { last_seq: 3 }).await;
    assert_eq!(events_through(&mut ws, 5).await, [4, 5]);
    // A seq this server never had (another database) also answers resync.
    send(&mut ws, &ClientMsg::Resume { last_seq: 99 }).await;
    assert_eq!(next_msg(&mut ws).await, ServerMsg::Resync);
}

#[tokio::test]
async fn a_socket_that_falls_behind_is_closed_with_1013() {
    let dist = dist_with_index();
    let (mut config, _data) = test_config(dist.path());
    config.ws_socket_queue = 4;
    let server = spawn_with(config).await;
    let cast = cast(&server).await;
    let mut ws = connect(&server, &cast.customer).await;
    // Twenty writes published at once: the socket's queue (4 writes deep) cannot keep up.
    let burst = append(&server, (0..20).map(|_| (Audience::everyone(), note as fn(Seq) -> ServerMsg)).collect()).await;
    for event in burst {
        server.state.hub.publish(vec![event]).await;
    }
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 1013, "{reason}");
}

async fn get_events(server: &TestServer, token: Option<&str>, query: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}/api/events{query}", server.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    tokio::time::timeout(Duration::from_secs(5), request.send()).await.unwrap().unwrap()
}

async fn page(server: &TestServer, user: &User, after: Seq) -> EventsPage {
    let response = get_events(server, Some(&token(server, user)), &format!("?after={after}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_events_endpoint_returns_the_visible_events_after_a_seq() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let (shop_a, shop_b) = (cast.owner_a.shop_id.unwrap(), cast.owner_b.shop_id.unwrap());
    let staff_a = emit(&server, Audience::shop_staff(shop_a), |seq| dash(shop_a, seq)).await;
    let for_customer = emit(&server, Audience::user(cast.customer.id), note).await;
    let public = emit(&server, Audience::everyone(), note).await;
    let staff_b = emit(&server, Audience::shop_staff(shop_b), |seq| dash(shop_b, seq)).await;

    let seqs = |page: &EventsPage| page.events.iter().map(seq_of).collect::<Vec<_>>();
    let owner_a = page(&server, &cast.owner_a, 0).await;
    assert_eq!((seqs(&owner_a), owner_a.last_seq, owner_a.resync), (vec![staff_a, public], staff_b, false));
    assert_eq!(seqs(&page(&server, &cast.owner_a, staff_a).await), [public]);
    assert_eq!(seqs(&page(&server, &cast.owner_b, 0).await), [public, staff_b]);
    assert_eq!(seqs(&page(&server, &cast.admin, 0).await), [staff_a, public, staff_b]);
    assert_eq!(seqs(&page(&server, &cast.customer, 0).await), [for_customer, public]);
    let nothing_new = page(&server, &cast.customer, staff_b).await;
    assert_eq!((nothing_new.events.len(), nothing_new.last_seq, nothing_new.resync), (0, staff_b, false));
    // The polled events are the same messages the socket pushes.
    assert!(matches!(&page(&server, &cast.owner_a, 0).await.events[0], ServerMsg::DashboardUpdate(_)));
}

#[tokio::test]
async fn the_events_endpoint_flags_resync_past_retention() {
    let (server, _dist, _data) = pruned_server().await;
    let cast = cast(&server).await;
    let stale = page(&server, &cast.customer, 0).await;
    assert_eq!(stale, EventsPage { events: vec![], last_seq: 5, resync: true });
    let fresh = page(&server, &cast.customer, 3).await;
    assert_eq!((fresh.events.iter().map(seq_of).collect::<Vec<_>>(), fresh.resync), (vec![4, 5], false));
}

#[tokio::test]
async fn without_a_token_the_events_endpoint_answers_a_visitor_with_the_public_events_only() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    let shop_a = cast.owner_a.shop_id.unwrap();
    let staff = emit(&server, Audience::shop_staff(shop_a), |seq| dash(shop_a, seq)).await;
    let for_customer = emit(&server, Audience::user(cast.customer.id), note).await;
    let public = emit(&server, Audience::everyone(), note).await;
    let not_for_staff = emit(&server, Audience::everyone_but_staff(shop_a), note).await;

    let response = get_events(&server, None, "?after=0").await;
    assert_eq!(response.status(), 200);
    let visitor: EventsPage = response.json().await.unwrap();
    let seqs: Vec<Seq> = visitor.events.iter().map(seq_of).collect();
    assert_eq!(seqs, [public, not_for_staff], "staff {staff} and customer {for_customer} events stay private");
    assert_eq!((visitor.last_seq, visitor.resync), (not_for_staff, false));
    let response = get_events(&server, None, &format!("?after={public}")).await;
    assert_eq!(
        response.json::<EventsPage>().await.unwrap().events.iter().map(seq_of).collect::<Vec<_>>(),
        [not_for_staff]
    );
    // The storefront's first poll: beyond any history, so nothing is replayed and the newest seq comes back.
    let first_contact: EventsPage =
        get_events(&server, None, &format!("?after={}", EventsPage::FIRST_CONTACT)).await.json().await.unwrap();
    assert_eq!(first_contact, EventsPage { events: vec![], last_seq: not_for_staff, resync: true });
}

#[tokio::test]
async fn the_events_endpoint_refuses_a_bad_token_and_wants_a_numeric_after() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let cast = cast(&server).await;
    // A token that is sent must be good: never read as a visitor.
    let response = get_events(&server, Some("not-a-token"), "?after=0").await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.json::<ErrorBody>().await.unwrap().code, "unauthorized");
    let basic = reqwest::Client::new()
        .get(format!("{}/api/events?after=0", server.base))
        .header("Authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401, "another scheme is not a visitor either");
    let token = token(&server, &cast.customer);
    for (token, query) in [Some(token.as_str()), None]
        .into_iter()
        .flat_map(|t| ["", "?after=", "?after=-1", "?after=abc"].map(move |q| (t, q)))
    {
        let response = get_events(&server, token, query).await;
        assert_eq!(response.status(), 422, "{query}");
        assert_eq!(response.json::<ErrorBody>().await.unwrap().field.as_deref(), Some("after"), "{query}");
    }
}
