//! The machine's interface: the time it is given, its configuration, what the driver reports (`Input`),
//! what it asks (`Action`) and what it shows (`Status`).

use std::ops::Add;
use std::time::Duration;

use protocol::{ClientMsg, EventsPage, Seq, ServerMsg, Topic};

use super::{MIN_POLLING_INTERVAL, State};

/// A point in time: milliseconds on the driver's monotonic clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Add<Duration> for Millis {
    type Output = Millis;
    fn add(self, d: Duration) -> Millis {
        Millis(self.0.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
    }
}

impl Millis {
    /// This time minus `d`, stopping at zero.
    pub fn saturating_sub(self, d: Duration) -> Millis {
        Millis(self.0.saturating_sub(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
    }
}

/// Timing and limits. `Config::default()` holds the values of issue 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Bound of the first reconnect delay (attempt 0). Default 500 ms.
    pub base_backoff: Duration,
    /// Cap of the reconnect delay bound. Default 30 s.
    pub max_backoff: Duration,
    /// A connection open this long resets the attempt counter. Default 10 s.
    pub stable_after: Duration,
    /// A `Ping` is sent this often while open. Default 25 s.
    pub ping_interval: Duration,
    /// With no frame at all this long after a ping, the connection is dead. Default 10 s.
    pub pong_timeout: Duration,
    /// From `OpenSocket` to `auth_ok` at most this long, or the attempt failed. Default 10 s.
    pub connect_timeout: Duration,
    /// Hidden this long, the tab closes its socket and stops its timers. Default 60 s.
    pub hidden_grace: Duration,
    /// After this many attempts in a row that never reached `auth_ok`, poll over HTTP. Default 3 (min 1).
    pub polling_after_failures: u32,
    /// Time between polls; raised to [`MIN_POLLING_INTERVAL`] if lower. Default 5 s.
    pub polling_interval: Duration,
    /// `RefreshToken` is asked this long before the token expires. Default 60 s.
    pub token_refresh_margin: Duration,
    /// Longer text frames are dropped unparsed. Default 1 MiB.
    pub max_message_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            stable_after: Duration::from_secs(10),
            ping_interval: Duration::from_secs(25),
            pong_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            hidden_grace: Duration::from_secs(60),
            polling_after_failures: 3,
            polling_interval: MIN_POLLING_INTERVAL,
            token_refresh_margin: Duration::from_secs(60),
            max_message_bytes: 1024 * 1024,
        }
    }
}

/// Something that happened, reported by the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Begin a session (again): forgets the seq, the token and the failure counts, keeps topics and counters.
    /// With no token, the machine asks for one (`RefreshToken`) before connecting.
    Start { token: Option<String>, token_expires_at: Option<Millis> },
    /// The answer to `RefreshToken`.
    TokenRefreshed { token: String, expires_at: Option<Millis> },
    /// The answer to `RefreshToken` when no token could be had.
    RefreshFailed,
    /// The socket's `open` event.
    Opened,
    /// The socket's `close` event.
    Closed { code: u16 },
    /// The socket's `error` event.
    Error,
    /// A text frame, raw.
    Message(String),
    /// `visibilitychange`.
    VisibilityChanged { visible: bool },
    /// The window's `online` event.
    Online,
    /// The answer to `StartPoll`.
    PollResult(Result<EventsPage, String>),
    /// One more subscriber of a topic.
    Subscribe(Topic),
    /// One subscriber of a topic fewer.
    Unsubscribe(Topic),
    /// End the session: close the socket, stop every timer.
    Stop,
    /// Resume after this seq (a tab taking over the connection other tabs shared, after `Start`): the next
    /// authentication asks for the events after it. Ignored when the machine already applied a newer seq.
    ResumeFrom(Seq),
}

/// Something the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create the WebSocket. Never emitted while one is opening or open.
    OpenSocket,
    /// Detach the socket's handlers and close it.
    CloseSocket { code: u16, reason: &'static str },
    /// Send this frame on the open socket.
    Send(ClientMsg),
    /// Hand this event to the subscribers of its topic. Deduplicated and in increasing `seq` order.
    Deliver(ServerMsg),
    /// Events may have been missed: refetch every subscribed thing.
    Resync,
    /// Get a fresh token; answer with `TokenRefreshed` or `RefreshFailed`.
    RefreshToken,
    /// The session cannot be renewed: log out and go to the login page. The machine is stopped.
    GoToLogin,
    /// Fetch `GET /api/events?after={after}`; answer with `PollResult`.
    StartPoll { after: Seq },
}

/// What the badge shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// Not started.
    Idle,
    /// The socket is opening.
    Connecting,
    /// The socket is open and `auth` was sent.
    Authenticating,
    /// Authenticated: events flow over the WebSocket.
    Open,
    /// Waiting before the next attempt.
    Backoff,
    /// Waiting for a token before connecting.
    RefreshingToken,
    /// Hidden for long: no socket, no timers.
    Paused,
    /// Events come by polling while the WebSocket is probed in the background.
    Polling,
    /// Stopped, or sent to the login page.
    Stopped,
}

/// How events currently arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    WebSocket,
    Polling,
}

/// A snapshot for the badge and the monitoring panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub state: StateKind,
    pub transport: Transport,
    /// Reconnect attempts since the last stable connection.
    pub attempt: u32,
    /// Attempts in a row that never reached `auth_ok`.
    pub consecutive_failures: u32,
    /// When the next attempt starts, in backoff.
    pub next_retry_at: Option<Millis>,
    /// When the current connection was authenticated.
    pub connected_since: Option<Millis>,
    /// The newest applied seq.
    pub last_seq: Option<Seq>,
    pub counters: Counters,
    /// The last server `error` frame, poll failure or refresh failure.
    pub last_error: Option<String>,
    pub last_close_code: Option<u16>,
}

/// Running totals (never reset, not even by `Start`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Text frames received (malformed and oversized ones included).
    pub messages_received: u64,
    pub malformed_messages: u64,
    pub oversized_messages: u64,
    /// Events dropped because their seq was already applied.
    pub duplicates_dropped: u64,
    pub events_delivered: u64,
    /// `error` frames from the server.
    pub server_errors: u64,
    pub sockets_opened: u64,
    pub resyncs: u64,
    pub polls: u64,
    pub poll_failures: u64,
}

impl super::Connection {
    /// A snapshot for the UI.
    pub fn status(&self) -> Status {
        let probing = self.transport == Transport::Polling;
        let state = match self.state {
            State::Idle => StateKind::Idle,
            State::Open { .. } => StateKind::Open,
            State::Connecting { .. } | State::Authenticating { .. } | State::Backoff { .. } if probing => {
                StateKind::Polling
            }
            State::Connecting { .. } => StateKind::Connecting,
            State::Authenticating { .. } => StateKind::Authenticating,
            State::Backoff { .. } => StateKind::Backoff,
            State::WaitingForToken => StateKind::RefreshingToken,
            State::Paused => StateKind::Paused,
            State::Stopped => StateKind::Stopped,
        };
        Status {
            state,
            transport: self.transport,
            attempt: self.attempt,
            consecutive_failures: self.consecutive_failures,
            next_retry_at: match self.state {
                State::Backoff { until } => Some(until),
                _ => None,
            },
            connected_since: match self.state {
                State::Open { since, .. } => Some(since),
                _ => None,
            },
            last_seq: self.last_seq,
            counters: self.counters.clone(),
            last_error: self.last_error.clone(),
            last_close_code: self.last_close_code,
        }
    }
}
