//! The session rules, stepped by hand: live events, resumes, holds, re-authentication, garbage.

use super::*;
use protocol::{Notification, NotificationEvent, NotificationId, NotificationKind, Role, ShopId, UserId};

fn keys() -> Keys {
    Keys::new(Some("secret"), Duration::from_secs(60), Duration::ZERO)
}

fn owner() -> User {
    User { id: UserId(2), name: "O".into(), email: "o@x".into(), role: Role::Owner, shop_id: Some(ShopId(1)) }
}

fn claims() -> Claims {
    let keys = keys();
    let (token, _) = keys.issue(&owner(), 1, 1_000);
    keys.verify(&token, 1_000).unwrap()
}

/// A bare-token session that then subscribed to notifications.
fn session(auth_seq: Seq) -> Session {
    let mut session = Session::new(&claims(), auth_seq, &Start::default(), Instant::now());
    session.on_text(r#"{"type":"subscribe","topics":["notifications"]}"#, &keys(), 1_000, Instant::now());
    session
}

fn note_json(seq: Seq) -> String {
    let notification = Notification {
        id: NotificationId(seq as i64),
        kind: NotificationKind::Info,
        title: "t".into(),
        message: "m".into(),
        read: false,
        created_at: "2026-01-01T00:00:00Z".into(),
    };
    serde_json::to_string(&ServerMsg::Notification(NotificationEvent { notification, seq })).unwrap()
}

fn live(seq: Seq) -> StoredEvent {
    StoredEvent {
        seq,
        topic: Topic::Notifications,
        audience: Audience::shop_staff(ShopId(1)),
        json: note_json(seq).into(),
    }
}

fn replay(seqs: &[Seq], last_seq: Seq) -> Replay {
    Replay::Events { events: seqs.iter().map(|s| (*s, note_json(*s))).collect(), last_seq }
}

fn forwarded(actions: &[Action]) -> Vec<Seq> {
    actions
        .iter()
        .map(|a| match a {
            Action::Forward(json) => serde_json::from_str::<ServerMsg>(json.as_str()).unwrap().seq().unwrap(),
            other => panic!("not a forward: {other:?}"),
        })
        .collect()
}

#[test]
fn live_events_after_the_auth_seq_pass_once_and_in_order() {
    let mut s = session(10);
    assert!(s.on_event(&live(9)).is_none(), "before auth_ok's seq");
    assert!(s.on_event(&live(11)).is_some());
    assert!(s.on_event(&live(11)).is_none(), "duplicate");
    let mut other_shop = live(12);
    other_shop.audience = Audience::shop_staff(ShopId(2));
    assert!(s.on_event(&other_shop).is_none(), "not visible");
    let mut orders = live(13);
    orders.topic = Topic::Orders;
    assert!(s.on_event(&orders).is_none(), "not subscribed");
}

#[test]
fn a_resume_replays_the_gap_then_live_skips_what_was_replayed() {
    let mut s = session(10);
    assert_eq!(s.on_text(r#"{"type":"resume","last_seq":7}"#, &keys(), 1_000, Instant::now()), Action::Replay(7));
    // 12 was committed before the replay read but is published to the hub only afterwards.
    assert_eq!(forwarded(&s.on_replay(7, replay(&[8, 10, 12], 12))), [8, 10, 12]);
    assert!(s.on_event(&live(12)).is_none());
    assert!(s.on_event(&live(13)).is_some());
}

#[test]
fn events_between_auth_ok_and_subscribe_are_replayed_by_the_resume() {
    // The probe's case: auth_ok at 2866, a write stores 2867-2868, then subscribe + resume {2866}.
    let mut s = Session::new(&claims(), 2866, &Start::default(), Instant::now());
    // The hold ran out (or the driver read them anyway): the session moved past them unsubscribed.
    s.release();
    assert!(s.on_event(&live(2867)).is_none());
    assert!(s.on_event(&live(2868)).is_none());
    s.on_text(r#"{"type":"subscribe","topics":["notifications"]}"#, &keys(), 1_000, Instant::now());
    assert_eq!(forwarded(&s.on_replay(2866, replay(&[2867, 2868], 2868))), [2867, 2868]);
    assert!(s.on_event(&live(2868)).is_none(), "already replayed");
    assert!(s.on_event(&live(2869)).is_some());
}

#[test]
fn a_topic_subscribed_later_is_replayed_without_resending_the_others() {
    let mut s = session(10);
    let mut order = live(11);
    order.topic = Topic::Orders;
    assert!(s.on_event(&order).is_none(), "orders not subscribed yet");
    assert!(s.on_event(&live(12)).is_some());
    s.on_text(r#"{"type":"subscribe","topics":["orders"]}"#, &keys(), 1_000, Instant::now());
    let order_json = |seq: Seq| -> String {
        let mut value: serde_json::Value = serde_json::from_str(&note_json(seq)).unwrap();
        value["type"] = "order_update".into();
        value.to_string()
    };
    // 11 (orders) is older than 12, already sent: it cannot come in order any more.
    let events = vec![(11, order_json(11)), (12, note_json(12)), (13, note_json(13))];
    let actions = s.on_replay(10, Replay::Events { events, last_seq: 13 });
    assert_eq!(actions[0], Action::Send(ServerMsg::Resync));
    assert_eq!(forwarded(&actions[1..]), [13]);
}

#[test]
fn a_bare_token_session_holds_live_events_until_its_resume_or_a_grace() {
    let now = Instant::now();
    let mut s = Session::new(&claims(), 5, &Start::default(), now);
    assert_eq!(s.held_until(), Some(now + HOLD_LIMIT), "nothing subscribed yet");
    let later = now + Duration::from_millis(100);
    s.on_text(r#"{"type":"subscribe","topics":["notifications"]}"#, &keys(), 1_000, later);
    assert_eq!(s.held_until(), Some(later + RESUME_GRACE));
    // The resume arrives in a second read; the held live event 7 comes after the replay, once.
    assert_eq!(forwarded(&s.on_replay(3, replay(&[4, 6, 7], 7))), [4, 6, 7]);
    assert_eq!(s.held_until(), None, "a replay ends the hold");
    assert!(s.on_event(&live(7)).is_none());
    assert!(s.on_event(&live(8)).is_some());
}

#[test]
fn an_auth_frame_with_topics_subscribes_at_once_and_holds_nothing() {
    let start = Start { topics: Some(vec![Topic::Notifications]), last_seq: Some(3) };
    let mut s = Session::new(&claims(), 5, &start, Instant::now());
    assert_eq!(s.held_until(), None);
    assert!(matches!(s.auth_ok(5), ServerMsg::AuthOk { topics: Some(ref t), .. } if t == &[Topic::Notifications]));
    assert_eq!(forwarded(&s.on_replay(3, replay(&[4, 5, 6], 6))), [4, 5, 6]);
    assert!(s.on_event(&live(6)).is_none());
    let bare = Session::new(&claims(), 5, &Start::default(), Instant::now());
    assert!(matches!(bare.auth_ok(5), ServerMsg::AuthOk { topics: None, .. }), "old clients see the old shape");
}

#[test]
fn a_resume_after_live_events_skips_them_and_resyncs_for_older_ones() {
    let mut s = session(10);
    assert!(s.on_event(&live(11)).is_some());
    // Resume from past the auth seq: 11 was sent, only 12 is new.
    assert_eq!(forwarded(&s.on_replay(10, replay(&[11, 12], 12))), [12]);
    // Resume from before: 9 would come after 12, out of order.
    let actions = s.on_replay(5, replay(&[9, 11, 12, 13], 13));
    assert_eq!(actions[0], Action::Send(ServerMsg::Resync));
    assert_eq!(forwarded(&actions[1..]), [13]);
    // Nothing older was visible: no resync, just the newer ones.
    assert_eq!(forwarded(&s.on_replay(1, replay(&[14], 14))), [14]);
}

#[test]
fn past_retention_answers_resync_and_moves_on() {
    let mut s = session(10);
    assert_eq!(s.on_replay(0, Replay::Resync { last_seq: 20 }), [Action::Send(ServerMsg::Resync)]);
    assert!(s.on_event(&live(20)).is_none());
    assert!(s.on_event(&live(21)).is_some());
}

#[test]
fn replays_keep_only_subscribed_topics() {
    let mut s = session(0);
    s.on_text(r#"{"type":"unsubscribe","topics":["notifications"]}"#, &keys(), 1_000, Instant::now());
    assert!(s.on_replay(0, replay(&[1, 2], 2)).is_empty());
    assert_eq!(event_topic(&note_json(1)), Some(Topic::Notifications));
    assert_eq!(event_topic(r#"{"type":"pong"}"#), None);
}

#[test]
fn reauthentication_takes_only_a_fresh_token_of_the_same_user() {
    let keys = keys();
    let mut s = session(0);
    let (fresh, exp) = keys.issue(&owner(), 1, 1_030);
    assert_eq!(
        s.on_text(&format!(r#"{{"type":"auth","token":"{fresh}"}}"#), &keys, 1_031, Instant::now()),
        Action::AuthOk
    );
    assert_eq!(s.token_expires_at(), exp);
    let stranger = User { id: UserId(9), ..owner() };
    let (theirs, _) = keys.issue(&stranger, 2, 1_031);
    let close = s.on_text(&format!(r#"{{"type":"auth","token":"{theirs}"}}"#), &keys, 1_031, Instant::now());
    assert!(matches!(close, Action::Close(Close { code: CLOSE_UNAUTHORIZED, .. })));
    let close = s.on_text(&format!(r#"{{"type":"auth","token":"{fresh}"}}"#), &keys, exp, Instant::now());
    assert_eq!(close, unauthorized("the token has expired"));
}

#[test]
fn garbage_is_a_bad_message_not_a_crash() {
    let mut s = session(0);
    for text in ["", "null", "{", r#"{"type":"dance"}"#, r#"{"type":"subscribe","topics":["weather"]}"#] {
        assert!(
            matches!(s.on_text(text, &keys(), 1_000, Instant::now()), Action::Send(ServerMsg::Error { ref code, .. }) if code == "bad_message"),
            "{text}"
        );
    }
}

#[test]
fn the_rate_window_allows_max_frames_per_ten_seconds() {
    let start = Instant::now();
    let mut window = RateWindow::new(3);
    for _ in 0..3 {
        assert_eq!(window.count(start), None);
    }
    assert_eq!(window.count(start + Duration::from_secs(9)).map(|c| c.code), Some(CLOSE_POLICY));
    assert_eq!(window.count(start + Duration::from_secs(10)), None, "a new window");
}

#[test]
fn a_topic_the_hub_routes_from_a_later_seq_is_not_claimed_sent_before_it() {
    // Authenticated with topics (orders only) at seq 10; the hub had routed up to 14 when notifications
    // were added, so notifications 12 and 13 never reached this socket.
    let start = Start { topics: Some(vec![Topic::Orders]), last_seq: None };
    let mut s = Session::new(&claims(), 10, &start, Instant::now());
    s.on_text(r#"{"type":"subscribe","topics":["notifications"]}"#, &keys(), 1_000, Instant::now());
    s.routed_from([Topic::Notifications].into_iter().collect(), 14);
    let mut order = live(16);
    order.topic = Topic::Orders;
    assert!(s.on_event(&order).is_some());
    // A resume from 10 finds 12 and 13 lacking, older than 16 already sent: resync, never a silent gap
    // (without the routed seq, 12 and 13 would count as sent and be skipped).
    let actions = s.on_replay(10, replay(&[12, 13], 16));
    assert_eq!(actions.first(), Some(&Action::Send(ServerMsg::Resync)));
}

#[test]
fn routing_a_topic_later_does_not_move_the_coverage_of_topics_already_routed() {
    let mut s = session(10);
    assert!(s.on_event(&live(11)).is_some());
    // Notifications were routed from the start: a later `routed_from` for another topic leaves them alone, so
    // a replay knows 11 was sent (no resync, nothing forwarded twice).
    s.routed_from([Topic::Orders].into_iter().collect(), 20);
    assert_eq!(s.on_replay(10, replay(&[11], 11)), []);
}
