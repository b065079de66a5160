//! The sans-IO connection core of the WebSocket context: fed inputs and the current time, it says what to do.
//!
//! Invariant: no `web_sys`, no leptos, no clock, no timer, no entropy source; at most one socket exists at a
//! time (`OpenSocket` is never emitted while a socket is opening or open), and events are delivered at most
//! once, in increasing `seq` order.
//!
//! # Driver contract
//! The driver (the only code that touches `web_sys::WebSocket`) reads the clock once per event, calls
//! [`Connection::handle`] or [`Connection::handle_timeout`], drains [`Connection::poll_action`] and re-arms one
//! timer at [`Connection::poll_timeout`] (`None`: no timer; a time in the past: fire at once).
//! - `now` and `token_expires_at` are on one millisecond clock that never goes backwards (for example
//!   `Date.now()`; a session's `expires_at` in Unix seconds becomes `Millis(expires_at * 1000)`).
//! - Jitter comes from a SplitMix64 generator seeded once by the driver in [`Connection::new`].
//! - [`Action::OpenSocket`]: create the socket (`config::ws_url()`); report `Opened`, `Message`, `Error`,
//!   `Closed`. [`Action::CloseSocket`]: detach the handlers, then close: feed nothing more from that socket.
//! - [`Action::Send`]: `serde_json::to_string` the frame and send it. [`Action::Deliver`]: hand the event
//!   to its topic's subscribers. [`Action::Resync`]: refetch everything subscribed.
//! - [`Action::RefreshToken`]: answer with `TokenRefreshed` or `RefreshFailed`. [`Action::GoToLogin`]: log
//!   out and navigate to `/login`. [`Action::StartPoll`]: `GET /api/events?after=N`, answer with
//!   `PollResult` (always, an error included, so that polling goes on).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use protocol::{ClientMsg, Seq, Topic};

use super::backoff::{self, Rng};

/// The close code the server uses for a missing, invalid or expired token.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// The close code this machine uses for a deliberate close (stop, hidden tab, logout).
pub const CLOSE_NORMAL: u16 = 1000;
/// The close code this machine uses for a connection it gave up on (no pong, no auth, socket error).
pub const CLOSE_DEAD: u16 = 4000;
/// The shortest polling interval: a lower configured value is raised to this.
pub const MIN_POLLING_INTERVAL: Duration = Duration::from_secs(5);

mod events;
mod types;

pub use types::{Action, Config, Counters, Input, Millis, StateKind, Status, Transport};

/// The connection state; each variant holds only what exists in it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Idle,
    Connecting { deadline: Millis },
    Authenticating { deadline: Millis },
    Open { since: Millis, next_ping: Millis, pong_deadline: Option<Millis> },
    Backoff { until: Millis },
    WaitingForToken,
    Paused,
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refresh {
    Idle,
    InFlight,
    /// A proactive refresh failed: not asked again for this token (a 4401 asks once more).
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    ConnectDeadline,
    Ping,
    PongDeadline,
    Stable,
    Retry,
    Poll,
    TokenRefresh,
    HiddenPause,
}

/// The connection state machine. See the module docs for the driver contract.
#[derive(Debug)]
pub struct Connection {
    config: Config,
    rng: Rng,
    state: State,
    actions: VecDeque<Action>,
    token: Option<String>,
    token_expires_at: Option<Millis>,
    refresh: Refresh,
    /// A 4401 was answered by a refresh and no `auth_ok` followed yet: the next 4401 is final.
    rejected_once: bool,
    attempt: u32,
    consecutive_failures: u32,
    transport: Transport,
    next_poll_at: Option<Millis>,
    poll_in_flight: bool,
    hidden_since: Option<Millis>,
    topics: BTreeMap<Topic, u32>,
    last_seq: Option<Seq>,
    /// The `auth_ok` seq of the current connection: the server's newest seq when it authenticated us.
    auth_seq: Option<Seq>,
    counters: Counters,
    last_error: Option<String>,
    last_close_code: Option<u16>,
}

impl Connection {
    /// An idle machine; `seed` feeds the jitter generator (any value; give each tab a different one).
    pub fn new(config: Config, seed: u64) -> Self {
        Connection {
            config,
            rng: Rng::new(seed),
            state: State::Idle,
            actions: VecDeque::new(),
            token: None,
            token_expires_at: None,
            refresh: Refresh::Idle,
            rejected_once: false,
            attempt: 0,
            consecutive_failures: 0,
            transport: Transport::WebSocket,
            next_poll_at: None,
            poll_in_flight: false,
            hidden_since: None,
            topics: BTreeMap::new(),
            last_seq: None,
            auth_seq: None,
            counters: Counters::default(),
            last_error: None,
            last_close_code: None,
        }
    }

    /// Feeds one input at time `now`, then runs every timer due at `now`.
    pub fn handle(&mut self, input: Input, now: Millis) {
        match input {
            Input::Start { token, token_expires_at } => self.on_start(token, token_expires_at, now),
            Input::TokenRefreshed { token, expires_at } => self.on_token(token, expires_at, now),
            Input::RefreshFailed => self.on_refresh_failed(),
            Input::Opened => self.on_opened(),
            Input::Closed { code } => self.on_closed(code, now),
            Input::Error => {
                if self.has_socket() {
                    self.last_error = Some("socket error".into());
                    self.close_dead("socket error", now);
                }
            }
            Input::Message(text) => self.on_message(&text, now),
            Input::VisibilityChanged { visible } => self.on_visibility(visible, now),
            Input::Online => {
                if matches!(self.state, State::Backoff { .. }) {
                    self.connect(now);
                }
                if self.transport == Transport::Polling && !self.poll_in_flight && self.running() {
                    self.next_poll_at = Some(now);
                }
            }
            Input::PollResult(result) => self.on_poll_result(result, now),
            Input::Subscribe(topic) => self.on_subscribe(topic),
            Input::Unsubscribe(topic) => self.on_unsubscribe(topic),
            Input::Stop => {
                self.close_socket(CLOSE_NORMAL, "stopped");
                self.enter_stopped();
            }
            Input::ResumeFrom(seq) => {
                if self.last_seq.is_none_or(|last| last < seq) {
                    self.last_seq = Some(seq);
                }
            }
        }
        self.run_timers(now);
    }

    /// Runs every timer due at `now`; call it when the timer armed at [`Connection::poll_timeout`] fires.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.run_timers(now);
    }

    /// The next thing to do, oldest first; drain it after every `handle*` call.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call [`Connection::handle_timeout`] next; `None` when nothing is scheduled.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.next_timer().map(|(at, _)| at)
    }

    /// The topics with at least one subscriber.
    pub fn topics(&self) -> Vec<Topic> {
        self.topics.keys().copied().collect()
    }

    fn has_socket(&self) -> bool {
        matches!(self.state, State::Connecting { .. } | State::Authenticating { .. } | State::Open { .. })
    }

    /// Started and not paused: timers run.
    fn running(&self) -> bool {
        !matches!(self.state, State::Idle | State::Paused | State::Stopped)
    }

    fn polling_interval(&self) -> Duration {
        self.config.polling_interval.max(MIN_POLLING_INTERVAL)
    }

    fn hidden_past_grace(&self, now: Millis) -> bool {
        self.hidden_since.is_some_and(|since| since + self.config.hidden_grace <= now)
    }

    fn on_start(&mut self, token: Option<String>, expires_at: Option<Millis>, now: Millis) {
        self.close_socket(CLOSE_NORMAL, "restart");
        self.state = State::Idle;
        self.token = token;
        self.token_expires_at = expires_at;
        self.refresh = Refresh::Idle;
        self.rejected_once = false;
        self.attempt = 0;
        self.consecutive_failures = 0;
        self.transport = Transport::WebSocket;
        self.next_poll_at = None;
        self.poll_in_flight = false;
        self.last_seq = None;
        self.auth_seq = None;
        self.connect(now);
    }

    fn on_token(&mut self, token: String, expires_at: Option<Millis>, now: Millis) {
        if matches!(self.state, State::Idle | State::Stopped) {
            return;
        }
        self.token = Some(token.clone());
        self.token_expires_at = expires_at;
        self.refresh = Refresh::Idle;
        match self.state {
            State::WaitingForToken => self.connect(now),
            State::Open { .. } => self.actions.push_back(Action::Send(ClientMsg::auth(token))),
            _ => {}
        }
    }

    fn on_refresh_failed(&mut self) {
        if matches!(self.state, State::Idle | State::Stopped) {
            return;
        }
        self.last_error = Some("token refresh failed".into());
        if self.state == State::WaitingForToken {
            self.go_to_login();
        } else {
            self.refresh = Refresh::Failed;
        }
    }

    fn on_opened(&mut self) {
        let State::Connecting { deadline } = self.state else { return };
        match self.token.clone() {
            Some(token) => {
                self.state = State::Authenticating { deadline };
                // The topics and the resume point ride in the first frame, so no event can slip between
                // `auth_ok` and a later `subscribe`; a server that ignores them does not echo the topics in
                // `auth_ok`, and then gets `subscribe` and `resume` frames as before.
                let topics = Some(self.topics());
                self.actions.push_back(Action::Send(ClientMsg::Auth { token, topics, last_seq: self.last_seq }));
            }
            // Unreachable through `connect`, which never opens a socket without a token.
            None => {
                self.close_socket(CLOSE_NORMAL, "no token");
                self.state = State::WaitingForToken;
                self.request_refresh();
            }
        }
    }

    fn on_closed(&mut self, code: u16, now: Millis) {
        if !self.has_socket() {
            return;
        }
        self.last_close_code = Some(code);
        let reached_open = matches!(self.state, State::Open { .. });
        if code != CLOSE_UNAUTHORIZED {
            self.socket_lost(reached_open, now);
        } else if self.rejected_once {
            // The refreshed token was refused too: reconnecting again would only storm the server.
            self.state = State::Idle;
            self.go_to_login();
        } else {
            self.rejected_once = true;
            self.auth_seq = None;
            self.state = State::WaitingForToken;
            self.request_refresh();
        }
    }

    fn on_visibility(&mut self, visible: bool, now: Millis) {
        if !visible {
            self.hidden_since.get_or_insert(now);
            return;
        }
        self.hidden_since = None;
        if matches!(self.state, State::Paused | State::Backoff { .. }) {
            self.connect(now);
        }
    }

    fn on_subscribe(&mut self, topic: Topic) {
        let count = self.topics.entry(topic).or_insert(0);
        *count += 1;
        if *count == 1 && matches!(self.state, State::Open { .. }) {
            let topics = vec![topic];
            self.actions.push_back(Action::Send(ClientMsg::Subscribe { topics }));
        }
    }

    fn on_unsubscribe(&mut self, topic: Topic) {
        let Some(count) = self.topics.get_mut(&topic) else { return };
        *count -= 1;
        if *count == 0 {
            self.topics.remove(&topic);
            if matches!(self.state, State::Open { .. }) {
                let topics = vec![topic];
                self.actions.push_back(Action::Send(ClientMsg::Unsubscribe { topics }));
            }
        }
    }

    fn request_refresh(&mut self) {
        if self.refresh != Refresh::InFlight {
            self.refresh = Refresh::InFlight;
            self.actions.push_back(Action::RefreshToken);
        }
    }

    /// Opens a socket, unless there is no token (ask for one) or the tab has been hidden for long (pause).
    fn connect(&mut self, now: Millis) {
        if self.has_socket() {
            return;
        }
        if self.hidden_past_grace(now) {
            self.state = State::Paused;
        } else if self.token.is_none() {
            self.state = State::WaitingForToken;
            self.request_refresh();
        } else {
            self.state = State::Connecting { deadline: now + self.config.connect_timeout };
            self.counters.sockets_opened += 1;
            self.actions.push_back(Action::OpenSocket);
        }
    }

    fn close_socket(&mut self, code: u16, reason: &'static str) {
        if self.has_socket() {
            self.actions.push_back(Action::CloseSocket { code, reason });
        }
    }

    fn close_dead(&mut self, reason: &'static str, now: Millis) {
        let reached_open = matches!(self.state, State::Open { .. });
        self.close_socket(CLOSE_DEAD, reason);
        self.socket_lost(reached_open, now);
    }

    /// The socket is gone (closed by the peer, or by us): count the failure, maybe fall back to polling,
    /// and wait a jittered delay before the next attempt.
    fn socket_lost(&mut self, reached_open: bool, now: Millis) {
        self.auth_seq = None;
        if !reached_open {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            let threshold = self.config.polling_after_failures.max(1);
            if self.consecutive_failures >= threshold && self.transport == Transport::WebSocket {
                self.transport = Transport::Polling;
                self.next_poll_at = Some(now);
                self.poll_in_flight = false;
            }
        }
        let bound = backoff::bound(self.attempt, self.config.base_backoff, self.config.max_backoff);
        let delay = backoff::full_jitter(bound, self.rng.next_u64());
        self.attempt = self.attempt.saturating_add(1);
        self.state = State::Backoff { until: now + delay };
    }

    /// Only reached with no socket left (after a 4401 close, or while waiting for a token).
    fn go_to_login(&mut self) {
        self.actions.push_back(Action::GoToLogin);
        self.enter_stopped();
    }

    fn enter_stopped(&mut self) {
        self.state = State::Stopped;
        self.next_poll_at = None;
        self.poll_in_flight = false;
        self.auth_seq = None;
    }

    /// The earliest armed timer. Each fires at most once per arming: firing disarms or moves it.
    fn next_timer(&self) -> Option<(Millis, Timer)> {
        let mut timers: Vec<(Millis, Timer)> = Vec::with_capacity(4);
        match self.state {
            State::Connecting { deadline } | State::Authenticating { deadline } => {
                timers.push((deadline, Timer::ConnectDeadline));
            }
            State::Open { since, next_ping, pong_deadline } => {
                timers.push((next_ping, Timer::Ping));
                if let Some(deadline) = pong_deadline {
                    timers.push((deadline, Timer::PongDeadline));
                }
                if self.attempt > 0 {
                    timers.push((since + self.config.stable_after, Timer::Stable));
                }
            }
            State::Backoff { until } => timers.push((until, Timer::Retry)),
            State::Idle | State::WaitingForToken | State::Paused | State::Stopped => {}
        }
        if self.running() {
            let visible = self.hidden_since.is_none();
            if let Some(at) = self.next_poll_at
                && self.transport == Transport::Polling
                && visible
                && !self.poll_in_flight
            {
                timers.push((at, Timer::Poll));
            }
            if let Some(expires_at) = self.token_expires_at
                && self.refresh == Refresh::Idle
            {
                let at = expires_at.saturating_sub(self.config.token_refresh_margin);
                timers.push((at, Timer::TokenRefresh));
            }
            // While waiting for a token there is no socket to close; the token's arrival checks the grace.
            if let Some(since) = self.hidden_since
                && self.state != State::WaitingForToken
            {
                timers.push((since + self.config.hidden_grace, Timer::HiddenPause));
            }
        }
        timers.into_iter().min_by_key(|(at, _)| *at)
    }

    fn run_timers(&mut self, now: Millis) {
        // Every firing disarms or moves its timer; the bound only guards against a bug spinning forever.
        for _ in 0..64 {
            match self.next_timer() {
                Some((at, timer)) if at <= now => self.fire(timer, now),
                _ => return,
            }
        }
    }

    fn fire(&mut self, timer: Timer, now: Millis) {
        match timer {
            Timer::ConnectDeadline => self.close_dead("connect timeout", now),
            Timer::Ping => {
                let (interval, timeout) = (self.config.ping_interval, self.config.pong_timeout);
                if let State::Open { next_ping, pong_deadline, .. } = &mut self.state {
                    *next_ping = now + interval;
                    pong_deadline.get_or_insert(now + timeout);
                    self.actions.push_back(Action::Send(ClientMsg::Ping));
                }
            }
            Timer::PongDeadline => self.close_dead("heartbeat timeout", now),
            Timer::Stable => self.attempt = 0,
            Timer::Retry => self.connect(now),
            Timer::Poll => {
                self.poll_in_flight = true;
                self.counters.polls += 1;
                let after = self.last_seq.unwrap_or(0);
                self.actions.push_back(Action::StartPoll { after });
            }
            Timer::TokenRefresh => self.request_refresh(),
            Timer::HiddenPause => {
                self.close_socket(CLOSE_NORMAL, "hidden");
                self.state = State::Paused;
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
