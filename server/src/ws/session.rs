//! The protocol state of one authenticated `/ws` connection, sans IO: fed client frames, hub events, replays
//! and the current time, it says what to send; the driver in `socket.rs` does the sending and the reading.
//!
//! Invariant: the events a connection sends are strictly increasing in seq and each is sent at most once;
//! each is visible to the connection's user ([`Audience::can_see`]) and of a topic subscribed at the time.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use protocol::{ClientMsg, Seq, ServerMsg, Topic, User};
use serde::Deserialize;
use tokio::time::Instant;

use super::{CLOSE_POLICY, CLOSE_UNAUTHORIZED};
use crate::auth::{Claims, Keys, TokenError};
use crate::events::{Audience, Replay, StoredEvent};

/// Length of the window `ws_max_messages_per_10s` counts frames in.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

/// A client that authenticated with a bare token (the older sequence: `auth`, then `subscribe`, then maybe
/// `resume`) has its live events held back (they wait in the hub receiver, nothing is lost) until it resumes,
/// or for this long after its first `subscribe`: a `resume` read a moment after the `subscribe` then still
/// replays in order instead of finding newer events already sent and answering `resync`.
pub const RESUME_GRACE: Duration = Duration::from_millis(250);

/// Longest hold of a bare-token connection that never subscribes.
pub const HOLD_LIMIT: Duration = Duration::from_secs(2);

/// How to close a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
}

/// What the driver must do after feeding the session.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Serialize and send this control frame.
    Send(ServerMsg),
    /// Send this stored event's JSON as is.
    Forward(Utf8Bytes),
    /// The token was renewed: answer `auth_ok` with [`Session::user`] and the current seq.
    AuthOk,
    /// Read `events::replay_after(user, seq)` and feed the result to [`Session::on_replay`].
    Replay(Seq),
    /// Close the connection.
    Close(Close),
}

/// Counts client frames in fixed windows of [`RATE_WINDOW`].
#[derive(Debug, Clone)]
pub struct RateWindow {
    max: u32,
    started: Option<Instant>,
    count: u32,
}

impl RateWindow {
    /// A window allowing `max` frames per [`RATE_WINDOW`].
    pub fn new(max: u32) -> Self {
        Self { max, started: None, count: 0 }
    }

    /// Counts one frame received at `now`; `Some` close (1008) when the window's allowance is exceeded.
    pub fn count(&mut self, now: Instant) -> Option<Close> {
        match self.started {
            Some(started) if now.saturating_duration_since(started) < RATE_WINDOW => self.count += 1,
            _ => {
                self.started = Some(now);
                self.count = 1;
            }
        }
        (self.count > self.max).then_some(Close { code: CLOSE_POLICY, reason: "too many messages" })
    }
}

/// What the first `auth` frame asked for besides the token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Start {
    /// Topics to subscribe at once (`None`: the client subscribes with frames of its own).
    pub topics: Option<Vec<Topic>>,
    /// Resume after this seq at once.
    pub last_seq: Option<Seq>,
}

/// One authenticated connection.
///
/// Its bookkeeping, for every subscribed topic `t`: every event of `t` the user may see with a seq in
/// `(covered[t], position]` has been sent (or, after a resume from `covered[t]`, the client already had it).
/// A live event above `position` is sent if wanted; a replay sends what is above `position` and what is at
/// or below `covered[t]`, skipping the rest. Subscribing a topic starts its coverage at `position`.
#[derive(Debug)]
pub struct Session {
    user: User,
    /// The server-side session of the newest token.
    sid: i64,
    /// Seconds since the epoch at which the current token expires.
    token_expires_at: i64,
    /// The subscribed topics, each with where its coverage starts.
    covered: BTreeMap<Topic, Seq>,
    /// Every event up to here has been dealt with: live events at or below it are skipped.
    position: Seq,
    /// The highest seq sent on this connection.
    last_sent: Option<Seq>,
    /// Live events are held until then (see [`RESUME_GRACE`]).
    hold_until: Option<Instant>,
    /// The first auth frame carried topics: `auth_ok` echoes them.
    topics_in_auth: bool,
}

impl Session {
    /// A session for the token's user; `auth_seq` is the seq announced in `auth_ok` (live events after it are
    /// delivered), `start` what the auth frame asked for, `now` the time of the auth frame.
    pub fn new(claims: &Claims, auth_seq: Seq, start: &Start, now: Instant) -> Self {
        let mut session = Self {
            user: claims.user(),
            sid: claims.sid,
            token_expires_at: claims.exp,
            covered: BTreeMap::new(),
            position: auth_seq,
            last_sent: None,
            hold_until: None,
            topics_in_auth: start.topics.is_some(),
        };
        match &start.topics {
            Some(topics) => session.subscribe(topics.iter().copied()),
            None => session.hold_until = Some(now + HOLD_LIMIT),
        }
        session
    }

    /// The signed-in user (as their newest token says).
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The server-side session of the newest token: when it is revoked the connection closes with 4401.
    pub fn sid(&self) -> i64 {
        self.sid
    }

    /// When the current token expires, in seconds since the epoch: the connection closes then with 4401.
    pub fn token_expires_at(&self) -> i64 {
        self.token_expires_at
    }

    /// The topics subscribed, in order.
    pub fn topics(&self) -> Vec<Topic> {
        self.covered.keys().copied().collect()
    }

    /// The first `auth_ok`: with the subscribed topics when the auth frame carried some.
    pub fn auth_ok(&self, seq: Seq) -> ServerMsg {
        let topics = self.topics_in_auth.then(|| self.topics());
        ServerMsg::AuthOk { user: self.user.clone(), seq, topics }
    }

    /// Until when live events are held back (`None`: they flow).
    pub fn held_until(&self) -> Option<Instant> {
        self.hold_until
    }

    /// The hold is over: live events flow from the hub again (in order: they waited in its receiver).
    pub fn release(&mut self) {
        self.hold_until = None;
    }

    /// A text frame from the client, at `now_secs` (for token checks) and `now`.
    pub fn on_text(&mut self, text: &str, keys: &Keys, now_secs: i64, now: Instant) -> Action {
        let msg = match serde_json::from_str::<ClientMsg>(text) {
            Ok(msg) => msg,
            Err(error) => return bad_message(format!("not a client message: {error}")),
        };
        match msg {
            ClientMsg::Auth { token, .. } => self.reauthenticate(&token, keys, now_secs),
            ClientMsg::Subscribe { topics } => {
                self.subscribe(topics);
                if let Some(until) = &mut self.hold_until {
                    *until = (*until).min(now + RESUME_GRACE);
                }
                Action::Send(ServerMsg::Subscribed { topics: self.topics() })
            }
            ClientMsg::Unsubscribe { topics } => {
                for topic in topics {
                    self.covered.remove(&topic);
                }
                Action::Send(ServerMsg::Subscribed { topics: self.topics() })
            }
            ClientMsg::Ping => Action::Send(ServerMsg::Pong),
            ClientMsg::Resume { last_seq } => Action::Replay(last_seq),
        }
    }

    fn subscribe(&mut self, topics: impl IntoIterator<Item = Topic>) {
        for topic in topics {
            self.covered.entry(topic).or_insert(self.position);
        }
    }

    /// A new token for the same user extends the connection; anything else closes it.
    fn reauthenticate(&mut self, token: &str, keys: &Keys, now_secs: i64) -> Action {
        match keys.verify(token, now_secs) {
            Ok(claims) if claims.sub == self.user.id.0 => {
                self.user = claims.user();
                self.sid = claims.sid;
                self.token_expires_at = claims.exp;
                Action::AuthOk
            }
            Ok(_) => unauthorized("the token belongs to another user"),
            Err(TokenError::Expired) => unauthorized("the token has expired"),
            Err(TokenError::Invalid) => unauthorized("the token is not valid"),
        }
    }

    /// An event from the hub: its JSON when it must be sent to this connection.
    pub fn on_event(&mut self, event: &StoredEvent) -> Option<Utf8Bytes> {
        if event.seq <= self.position {
            return None;
        }
        self.position = event.seq;
        self.wants(event.topic, &event.audience).then(|| self.sent(event.seq, event.json.clone()))
    }

    /// The answer of the database to [`Action::Replay`] for `after`: the frames to send, in order. It ends
    /// the hold.
    ///
    /// Events the connection already sent (or the client had) are skipped; when an event the client lacks is
    /// older than one already sent, it cannot be delivered in order, so the client is told to `resync`
    /// instead, and the newer events follow.
    pub fn on_replay(&mut self, after: Seq, replay: Replay) -> Vec<Action> {
        self.release();
        let (events, last_seq) = match replay {
            Replay::Resync { last_seq } => {
                self.position = self.position.max(last_seq);
                self.restart_coverage();
                return vec![Action::Send(ServerMsg::Resync)];
            }
            Replay::Events { events, last_seq } => (events, last_seq),
        };
        let position = self.position;
        let mut resync = false;
        let mut to_send = Vec::new();
        for (seq, json) in events {
            let Some(covered) = event_topic(&json).and_then(|topic| self.covered.get(&topic)) else { continue };
            if seq > position || seq <= *covered {
                if self.last_sent.is_some_and(|sent| seq <= sent) {
                    resync = true;
                } else {
                    to_send.push((seq, json));
                }
            }
        }
        let mut actions = Vec::with_capacity(to_send.len() + 1);
        if resync {
            actions.push(Action::Send(ServerMsg::Resync));
            to_send.retain(|(seq, _)| *seq > position);
        }
        for (seq, json) in to_send {
            actions.push(Action::Forward(self.sent(seq, json.into())));
        }
        self.position = position.max(last_seq);
        if resync {
            self.restart_coverage();
        } else {
            for covered in self.covered.values_mut() {
                *covered = (*covered).min(after);
            }
        }
        actions
    }

    /// After a resync the client refetches everything: coverage starts afresh at the current position.
    fn restart_coverage(&mut self) {
        let position = self.position;
        self.covered.values_mut().for_each(|covered| *covered = position);
    }

    fn wants(&self, topic: Topic, audience: &Audience) -> bool {
        self.covered.contains_key(&topic) && audience.can_see(&self.user)
    }

    fn sent(&mut self, seq: Seq, json: Utf8Bytes) -> Utf8Bytes {
        self.last_sent = Some(seq);
        json
    }
}

/// The `error` frame for a frame the server cannot take.
pub fn bad_message(message: impl Into<String>) -> Action {
    Action::Send(ServerMsg::Error { code: "bad_message".into(), message: message.into() })
}

fn unauthorized(reason: &'static str) -> Action {
    Action::Close(Close { code: CLOSE_UNAUTHORIZED, reason })
}

/// The topic of a stored event's JSON, read from its `type` alone (the payload is not decoded).
fn event_topic(json: &str) -> Option<Topic> {
    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        OrderUpdate,
        ProductUpdate,
        DashboardUpdate,
        Notification,
        CatalogUpdate,
    }
    #[derive(Deserialize)]
    struct Tagged {
        #[serde(rename = "type")]
        kind: Kind,
    }
    let tagged: Tagged = serde_json::from_str(json).ok()?;
    Some(match tagged.kind {
        Kind::OrderUpdate => Topic::Orders,
        Kind::ProductUpdate => Topic::Products,
        Kind::DashboardUpdate => Topic::Dashboard,
        Kind::Notification => Topic::Notifications,
        Kind::CatalogUpdate => Topic::Catalog,
    })
}

#[cfg(test)]
mod tests {
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
}
