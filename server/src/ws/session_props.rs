//! Property tests of the session rules: random frames (garbage included), subscriptions, live events and
//! resumes against a model event log.

use std::collections::BTreeSet;

use proptest::prelude::*;
use protocol::{Role, Seq, ShopId, Topic, User, UserId};
use tokio::time::Instant;

use super::session::{Action, Session, Start};
use crate::auth::Keys;
use crate::events::{Audience, Replay, StoredEvent};
use crate::hub::TopicSet;

/// One logged event: its topic and whether the session's user may see it.
#[derive(Debug, Clone, Copy)]
struct Logged {
    topic: Topic,
    visible: bool,
}

fn topic() -> impl Strategy<Value = Topic> {
    prop::sample::select(Topic::ALL.to_vec())
}

fn log() -> impl Strategy<Value = Vec<Logged>> {
    prop::collection::vec((topic(), any::<bool>()).prop_map(|(topic, visible)| Logged { topic, visible }), 0..40)
}

#[derive(Debug, Clone)]
enum Op {
    /// The hub delivers the next committed event (if the session does not hold them).
    Publish,
    Subscribe(Topic),
    Unsubscribe(Topic),
    /// A resume after this many events of the log.
    Resume(usize),
    /// The hold's timer fires.
    Release,
    /// Any text at all.
    Text(String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Publish),
        1 => topic().prop_map(Op::Subscribe),
        1 => topic().prop_map(Op::Unsubscribe),
        1 => (0usize..40).prop_map(Op::Resume),
        1 => Just(Op::Release),
        1 => ".{0,40}".prop_map(Op::Text),
    ]
}

fn keys() -> Keys {
    Keys::new(Some("secret"), std::time::Duration::from_secs(60), std::time::Duration::ZERO)
}

fn owner() -> User {
    User { id: UserId(2), name: "O".into(), email: "o@x".into(), role: Role::Owner, shop_id: Some(ShopId(1)) }
}

fn json(seq: Seq, topic: Topic) -> String {
    let kind = match topic {
        Topic::Dashboard => "dashboard_update",
        Topic::Orders => "order_update",
        Topic::Products => "product_update",
        Topic::Notifications => "notification",
        Topic::Catalog => "catalog_update",
    };
    format!(r#"{{"type":"{kind}","seq":{seq}}}"#)
}

fn stored(seq: Seq, logged: Logged) -> StoredEvent {
    let audience = if logged.visible { Audience::shop_staff(ShopId(1)) } else { Audience::shop_staff(ShopId(2)) };
    StoredEvent { seq, topic: logged.topic, audience, json: json(seq, logged.topic).into() }
}

/// The replay the database would give after `after`, with `committed` events in the log.
fn replay(log: &[Logged], after: Seq, committed: usize) -> Replay {
    let events = (after as usize + 1..=committed)
        .filter(|seq| log[seq - 1].visible)
        .map(|seq| (seq as Seq, json(seq as Seq, log[seq - 1].topic)))
        .collect();
    Replay::Events { events, last_seq: committed as Seq }
}

fn forwarded_seq(action: &Action) -> Option<Seq> {
    match action {
        Action::Forward(json) => serde_json::from_str::<serde_json::Value>(json.as_str()).ok()?["seq"].as_u64(),
        _ => None,
    }
}

fn session(auth_seq: Seq, start: &Start) -> Session {
    let keys = keys();
    let (token, _) = keys.issue(&owner(), 1, 1_000);
    Session::new(&keys.verify(&token, 1_000).unwrap(), auth_seq, start, Instant::now())
}

proptest! {
    /// Whatever the client sends and whenever: nothing panics, every event sent is visible, of a topic
    /// subscribed at the time, and the seqs sent only ever grow.
    #[test]
    fn sent_events_are_visible_subscribed_and_increasing(log in log(), auth in 0usize..20, ops in prop::collection::vec(op(), 0..80)) {
        let auth = auth.min(log.len());
        let keys = keys();
        let mut s = session(auth as Seq, &Start::default());
        let (mut published, mut sent) = (auth, Vec::<Seq>::new());
        let mut subscribed = BTreeSet::new();
        for op in ops {
            match op {
                Op::Publish if published < log.len() && s.held_until().is_none() => {
                    published += 1;
                    if let Some(out) = s.on_event(&stored(published as Seq, log[published - 1])) {
                        sent.push(serde_json::from_str::<serde_json::Value>(out.as_str()).unwrap()["seq"].as_u64().unwrap());
                        let logged = log[published - 1];
                        prop_assert!(logged.visible && subscribed.contains(&logged.topic));
                    }
                }
                Op::Publish => {}
                Op::Subscribe(topic) => {
                    s.on_text(&format!(r#"{{"type":"subscribe","topics":["{}"]}}"#, name(topic)), &keys, 1_000, Instant::now());
                    subscribed.insert(topic);
                }
                Op::Unsubscribe(topic) => {
                    s.on_text(&format!(r#"{{"type":"unsubscribe","topics":["{}"]}}"#, name(topic)), &keys, 1_000, Instant::now());
                    subscribed.remove(&topic);
                }
                Op::Resume(after) => {
                    let after = after.min(log.len()) as Seq;
                    // The database may hold events the hub has not published yet.
                    for action in s.on_replay(after, replay(&log, after, log.len())) {
                        if let Some(seq) = forwarded_seq(&action) {
                            sent.push(seq);
                            let logged = log[seq as usize - 1];
                            prop_assert!(logged.visible && subscribed.contains(&logged.topic));
                        }
                    }
                    published = published.max(log.len());
                }
                Op::Release => s.release(),
                Op::Text(text) => {
                    let _ = s.on_text(&text, &keys, 1_000, Instant::now());
                }
            }
        }
        prop_assert!(sent.windows(2).all(|w| w[0] < w[1]), "{sent:?}");
    }

    /// A client that reconnects as the app does (topics and its last seq in the auth frame) gets every visible
    /// event of its topics after that seq exactly once, however live events and the replay interleave, and
    /// never a resync.
    #[test]
    fn an_app_like_resume_delivers_everything_exactly_once(
        log in log(),
        last in 0usize..40,
        auth in 0usize..40,
        topics in prop::collection::btree_set(topic(), 1..5),
        live_before_replay in 0usize..40,
    ) {
        let auth = auth.min(log.len());
        let last = last.min(auth);
        let start = Start { topics: Some(topics.iter().copied().collect()), last_seq: Some(last as Seq) };
        let mut s = session(auth as Seq, &start);
        let mut sent = Vec::new();
        // The replay is read when some events are committed; the hub then publishes from after the auth seq.
        let committed = (auth + live_before_replay).min(log.len());
        for action in s.on_replay(last as Seq, replay(&log, last as Seq, committed)) {
            prop_assert!(!matches!(action, Action::Send(protocol::ServerMsg::Resync)));
            sent.extend(forwarded_seq(&action));
        }
        for seq in auth + 1..=log.len() {
            if let Some(out) = s.on_event(&stored(seq as Seq, log[seq - 1])) {
                sent.push(serde_json::from_str::<serde_json::Value>(out.as_str()).unwrap()["seq"].as_u64().unwrap());
            }
        }
        let expected: Vec<Seq> = (last + 1..=log.len())
            .filter(|seq| log[seq - 1].visible && topics.contains(&log[seq - 1].topic))
            .map(|seq| seq as Seq)
            .collect();
        prop_assert_eq!(sent, expected);
    }
}

proptest! {
    /// With the hub's routing (a session gets only the events of the topics routed to it; a topic added is
    /// routed from the hub's position then, and a bare-token session gets every topic while held), a client
    /// that subscribes and unsubscribes at random and then resumes after the last seq it received gets every
    /// visible event of its topics after that seq exactly once, and never a resync.
    #[test]
    fn with_routing_a_resume_after_the_last_received_seq_misses_nothing(
        log in log(),
        auth in 0usize..20,
        bare in any::<bool>(),
        first in prop::collection::btree_set(topic(), 0..5),
        ops in prop::collection::vec(op(), 0..80),
    ) {
        let auth = auth.min(log.len());
        let keys = keys();
        let start = if bare { Start::default() } else { Start { topics: Some(first.iter().copied().collect()), last_seq: None } };
        let mut s = session(auth as Seq, &start);
        let mut routed: TopicSet = if bare { Topic::ALL.into_iter().collect() } else { first.iter().copied().collect() };
        let (mut published, mut sent) = (auth, Vec::<Seq>::new());
        for op in ops {
            match op {
                Op::Publish if published < log.len() => {
                    published += 1;
                    let logged = log[published - 1];
                    if s.held_until().is_none()
                        && logged.visible
                        && routed.contains(logged.topic)
                        && let Some(out) = s.on_event(&stored(published as Seq, logged))
                    {
                        sent.push(serde_json::from_str::<serde_json::Value>(out.as_str()).unwrap()["seq"].as_u64().unwrap());
                    }
                }
                Op::Publish | Op::Resume(_) | Op::Text(_) => {}
                Op::Subscribe(topic) => {
                    s.on_text(&format!(r#"{{"type":"subscribe","topics":["{}"]}}"#, name(topic)), &keys, 1_000, Instant::now());
                }
                Op::Unsubscribe(topic) => {
                    s.on_text(&format!(r#"{{"type":"unsubscribe","topics":["{}"]}}"#, name(topic)), &keys, 1_000, Instant::now());
                }
                Op::Release => s.release(),
            }
            // What the socket driver does after every step (`socket::follow`).
            if s.held_until().is_none() && s.topic_set() != routed {
                let added = s.topic_set().without(routed);
                routed = s.topic_set();
                s.routed_from(added, published as Seq);
            }
        }
        // The held events (a bare session never released) would flow in order at the release: none here.
        let last = sent.last().copied().unwrap_or(auth as Seq);
        let topics = s.topics();
        let mut after_resume = Vec::new();
        for action in s.on_replay(last, replay(&log, last, published)) {
            prop_assert!(!matches!(action, Action::Send(protocol::ServerMsg::Resync)), "a needless resync");
            after_resume.extend(forwarded_seq(&action));
        }
        for seq in published + 1..=log.len() {
            let logged = log[seq - 1];
            if logged.visible && topics.contains(&logged.topic)
                && let Some(out) = s.on_event(&stored(seq as Seq, logged))
            {
                after_resume.push(serde_json::from_str::<serde_json::Value>(out.as_str()).unwrap()["seq"].as_u64().unwrap());
            }
        }
        let expected: Vec<Seq> = (last as usize + 1..=log.len())
            .filter(|seq| log[seq - 1].visible && topics.contains(&log[seq - 1].topic))
            .map(|seq| seq as Seq)
            .collect();
        prop_assert_eq!(after_resume, expected);
    }
}

fn name(topic: Topic) -> String {
    serde_json::to_value(topic).unwrap().as_str().unwrap().to_owned()
}
