//! The protocol state of one authenticated `/ws` connection, sans IO: fed client frames, hub events, replays
//! and the current time, it says what to send; the driver in `socket.rs` does the sending and the reading.
//!
//! Invariant: the events a connection sends are strictly increasing in seq and each is sent at most once;
//! each is visible to the connection's user ([`Audience::can_see`]) and of a topic subscribed at the time.

use std::collections::BTreeMap;
use std::time::Duration;

use protocol::{ClientMsg, Seq, ServerMsg, Topic, User};
use serde::Deserialize;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::{CLOSE_POLICY, CLOSE_UNAUTHORIZED};
use crate::auth::{Claims, Keys, TokenError};
use crate::events::{Audience, Replay, StoredEvent};
use crate::hub::TopicSet;

/// Length of the window `ws_max_messages_per_10s` counts frames in.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

/// A client that authenticated with a bare token (the older sequence: `auth`, then `subscribe`, then maybe
/// `resume`) has its live events held back (they wait in its hub queue, nothing is lost) until it resumes,
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

    /// The topics subscribed, as the hub's index routes them.
    pub fn topic_set(&self) -> TopicSet {
        self.covered.keys().copied().collect()
    }

    /// The hub routes the `added` topics to this connection from after `routed` on: their coverage cannot
    /// start before it (the events of them up to `routed` were not sent; a replay sends them).
    pub fn routed_from(&mut self, added: TopicSet, routed: Seq) {
        for (topic, covered) in &mut self.covered {
            if added.contains(*topic) {
                *covered = (*covered).max(routed);
            }
        }
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

    /// The hold is over: live events flow from the hub again (in order: they waited in the socket's queue).
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
mod tests;
