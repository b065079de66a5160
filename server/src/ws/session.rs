//! The protocol state of one authenticated `/ws` connection, sans IO: fed client frames, hub events, replays
//! and the current time, it says what to send; the driver in `socket.rs` does the sending and the reading.
//!
//! Invariant: the events a connection sends are strictly increasing in seq and each is sent at most once;
//! each is visible to the connection's user ([`Audience::can_see`]) and of a topic subscribed at the time.

use std::collections::BTreeSet;
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

/// One authenticated connection.
#[derive(Debug)]
pub struct Session {
    user: User,
    /// Seconds since the epoch at which the current token expires.
    token_expires_at: i64,
    topics: BTreeSet<Topic>,
    /// Every event up to here has been dealt with (sent, filtered out, or covered by a replay or resync):
    /// live events at or below it are skipped.
    position: Seq,
    /// Every visible event of a subscribed topic in `(covered_from, position]` has been sent.
    covered_from: Seq,
    /// The highest seq sent on this connection.
    last_sent: Option<Seq>,
}

impl Session {
    /// A session for the token's user; `auth_seq` is the seq announced in `auth_ok` (live events after it are
    /// delivered). No topic is subscribed yet.
    pub fn new(claims: &Claims, auth_seq: Seq) -> Self {
        Self {
            user: claims.user(),
            token_expires_at: claims.exp,
            topics: BTreeSet::new(),
            position: auth_seq,
            covered_from: auth_seq,
            last_sent: None,
        }
    }

    /// The signed-in user (as their newest token says).
    pub fn user(&self) -> &User {
        &self.user
    }

    /// When the current token expires, in seconds since the epoch: the connection closes then with 4401.
    pub fn token_expires_at(&self) -> i64 {
        self.token_expires_at
    }

    /// The topics subscribed, in order.
    pub fn topics(&self) -> Vec<Topic> {
        self.topics.iter().copied().collect()
    }

    /// A text frame from the client, at `now_secs` (for token checks).
    pub fn on_text(&mut self, text: &str, keys: &Keys, now_secs: i64) -> Action {
        let msg = match serde_json::from_str::<ClientMsg>(text) {
            Ok(msg) => msg,
            Err(error) => return bad_message(format!("not a client message: {error}")),
        };
        match msg {
            ClientMsg::Auth { token } => self.reauthenticate(&token, keys, now_secs),
            ClientMsg::Subscribe { topics } => {
                self.topics.extend(topics);
                Action::Send(ServerMsg::Subscribed { topics: self.topics() })
            }
            ClientMsg::Unsubscribe { topics } => {
                for topic in topics {
                    self.topics.remove(&topic);
                }
                Action::Send(ServerMsg::Subscribed { topics: self.topics() })
            }
            ClientMsg::Ping => Action::Send(ServerMsg::Pong),
            ClientMsg::Resume { last_seq } => Action::Replay(last_seq),
        }
    }

    /// A new token for the same user extends the connection; anything else closes it.
    fn reauthenticate(&mut self, token: &str, keys: &Keys, now_secs: i64) -> Action {
        match keys.verify(token, now_secs) {
            Ok(claims) if claims.sub == self.user.id.0 => {
                self.user = claims.user();
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

    /// The answer of the database to [`Action::Replay`] for `after`: the frames to send, in order.
    ///
    /// Events the connection already sent are skipped; events older than something already sent cannot be
    /// delivered in order, so when there are any the client is told to `resync` instead.
    pub fn on_replay(&mut self, after: Seq, replay: Replay) -> Vec<Action> {
        let (events, last_seq) = match replay {
            Replay::Resync { last_seq } => {
                self.position = self.position.max(last_seq);
                self.covered_from = self.position;
                return vec![Action::Send(ServerMsg::Resync)];
            }
            Replay::Events { events, last_seq } => (events, last_seq),
        };
        let mut actions = Vec::new();
        let visible = events.into_iter().filter_map(|(seq, json)| {
            let topic = event_topic(&json)?;
            self.topics.contains(&topic).then_some((seq, json))
        });
        let (missing, newer): (Vec<_>, Vec<_>) = visible
            .filter(|(seq, _)| *seq <= self.covered_from || *seq > self.position)
            .partition(|(seq, _)| *seq <= self.covered_from);
        let sent_in_coverage = self.last_sent.is_some_and(|sent| sent > self.covered_from);
        if !missing.is_empty() {
            if sent_in_coverage {
                actions.push(Action::Send(ServerMsg::Resync));
            } else {
                actions.extend(self.forward_all(missing));
            }
        }
        actions.extend(self.forward_all(newer));
        self.covered_from = self.covered_from.min(after);
        self.position = self.position.max(last_seq);
        actions
    }

    fn forward_all(&mut self, events: Vec<(Seq, String)>) -> Vec<Action> {
        let mut actions = Vec::with_capacity(events.len());
        for (seq, json) in events {
            if self.last_sent.is_none_or(|sent| seq > sent) {
                actions.push(Action::Forward(self.sent(seq, json.into())));
            }
        }
        actions
    }

    fn wants(&self, topic: Topic, audience: &Audience) -> bool {
        self.topics.contains(&topic) && audience.can_see(&self.user)
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

    fn session(auth_seq: Seq) -> Session {
        let keys = keys();
        let (token, _) = keys.issue(&owner(), 1_000);
        let mut session = Session::new(&keys.verify(&token, 1_000).unwrap(), auth_seq);
        session.on_text(r#"{"type":"subscribe","topics":["notifications"]}"#, &keys, 1_000);
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
        assert_eq!(s.on_text(r#"{"type":"resume","last_seq":7}"#, &keys(), 1_000), Action::Replay(7));
        // 12 was committed before the replay read but is published to the hub only afterwards.
        assert_eq!(forwarded(&s.on_replay(7, replay(&[8, 10, 12], 12))), [8, 10, 12]);
        assert!(s.on_event(&live(12)).is_none());
        assert!(s.on_event(&live(13)).is_some());
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
        s.on_text(r#"{"type":"unsubscribe","topics":["notifications"]}"#, &keys(), 1_000);
        assert!(s.on_replay(0, replay(&[1, 2], 2)).is_empty());
        assert_eq!(event_topic(&note_json(1)), Some(Topic::Notifications));
        assert_eq!(event_topic(r#"{"type":"pong"}"#), None);
    }

    #[test]
    fn reauthentication_takes_only_a_fresh_token_of_the_same_user() {
        let keys = keys();
        let mut s = session(0);
        let (fresh, exp) = keys.issue(&owner(), 1_030);
        assert_eq!(s.on_text(&format!(r#"{{"type":"auth","token":"{fresh}"}}"#), &keys, 1_031), Action::AuthOk);
        assert_eq!(s.token_expires_at(), exp);
        let stranger = User { id: UserId(9), ..owner() };
        let (theirs, _) = keys.issue(&stranger, 1_031);
        let close = s.on_text(&format!(r#"{{"type":"auth","token":"{theirs}"}}"#), &keys, 1_031);
        assert!(matches!(close, Action::Close(Close { code: CLOSE_UNAUTHORIZED, .. })));
        let close = s.on_text(&format!(r#"{{"type":"auth","token":"{fresh}"}}"#), &keys, exp);
        assert_eq!(close, unauthorized("the token has expired"));
    }

    #[test]
    fn garbage_is_a_bad_message_not_a_crash() {
        let mut s = session(0);
        for text in ["", "null", "{", r#"{"type":"dance"}"#, r#"{"type":"subscribe","topics":["weather"]}"#] {
            assert!(
                matches!(s.on_text(text, &keys(), 1_000), Action::Send(ServerMsg::Error { ref code, .. }) if code == "bad_message"),
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
