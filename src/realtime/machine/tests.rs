//! Tests of the connection machine: a hand-stepped clock, a test driver, and one test per rule of issue 4.

use super::*;
use protocol::{
    EventsPage, Notification, NotificationEvent, NotificationId, NotificationKind, Role, ServerMsg, User, UserId,
};

/// A test driver: steps time by hand and collects what the machine asks for.
struct Harness {
    conn: Connection,
    now: Millis,
}

impl Harness {
    fn new() -> Self {
        Self::with(Config::default(), 7)
    }

    fn with(config: Config, seed: u64) -> Self {
        Harness { conn: Connection::new(config, seed), now: Millis(0) }
    }

    /// Pings far apart, for tests about something else.
    fn quiet() -> Self {
        Self::with(Config { ping_interval: Duration::from_secs(86_400), ..Config::default() }, 7)
    }

    fn feed(&mut self, input: Input) -> Vec<Action> {
        self.conn.handle(input, self.now);
        self.drain()
    }

    fn drain(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.conn.poll_action()).collect()
    }

    /// Moves the clock to `to` the way the driver does: fires each timer at its due time.
    fn advance_to(&mut self, to: u64) -> Vec<Action> {
        let mut out = Vec::new();
        for _ in 0..10_000 {
            match self.conn.poll_timeout() {
                Some(at) if at.0 <= to => {
                    self.now = self.now.max(at);
                    self.conn.handle_timeout(self.now);
                    out.extend(self.drain());
                }
                _ => {
                    self.now = self.now.max(Millis(to));
                    return out;
                }
            }
        }
        panic!("timers never settle before {to}");
    }

    fn advance(&mut self, ms: u64) -> Vec<Action> {
        self.advance_to(self.now.0 + ms)
    }

    fn start(&mut self) -> Vec<Action> {
        self.feed(Input::Start { token: Some("t1".into()), token_expires_at: None })
    }

    fn msg(&mut self, msg: &ServerMsg) -> Vec<Action> {
        self.feed(Input::Message(serde_json::to_string(msg).unwrap()))
    }

    /// From a pending `OpenSocket` to `auth_ok(seq)`; returns what `auth_ok` produced.
    fn open(&mut self, seq: Seq) -> Vec<Action> {
        assert!(matches!(self.feed(Input::Opened)[..], [Action::Send(ClientMsg::Auth { .. })]));
        let out = self.msg(&auth_ok(seq));
        assert_eq!(self.state(), StateKind::Open);
        out
    }

    /// Advances until the machine opens a socket again.
    fn until_open_socket(&mut self) {
        let until = self.conn.poll_timeout().expect("a retry is scheduled");
        assert_eq!(self.advance_to(until.0), [Action::OpenSocket]);
    }

    fn state(&self) -> StateKind {
        self.conn.status().state
    }
}

fn auth_ok(seq: Seq) -> ServerMsg {
    let user =
        User { id: UserId(1), name: "Olga".into(), email: "o@izishopin.test".into(), role: Role::Owner, shop_id: None };
    ServerMsg::AuthOk { user, seq, topics: None }
}

/// The `auth_ok` of a server that took the topics and the resume point from the auth frame.
fn auth_ok_took(seq: Seq, topics: Vec<Topic>) -> ServerMsg {
    match auth_ok(seq) {
        ServerMsg::AuthOk { user, seq, .. } => ServerMsg::AuthOk { user, seq, topics: Some(topics) },
        _ => unreachable!(),
    }
}

fn auth_frame(token: &str, topics: Vec<Topic>, last_seq: Option<Seq>) -> Action {
    send(ClientMsg::Auth { token: token.into(), topics: Some(topics), last_seq })
}

/// A `notification` event with this seq (also the tab rules' test event).
pub(crate) fn note(seq: Seq) -> ServerMsg {
    ServerMsg::Notification(NotificationEvent {
        notification: Notification {
            id: NotificationId(seq as i64),
            kind: NotificationKind::Info,
            title: "t".into(),
            message: "m".into(),
            read: false,
            created_at: "2026-01-01T00:00:00Z".into(),
        },
        seq,
    })
}

fn page(events: Vec<ServerMsg>, last_seq: Seq, resync: bool) -> Input {
    Input::PollResult(Ok(EventsPage { events, last_seq, resync }))
}

fn delivered(actions: &[Action]) -> Vec<Seq> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Deliver(e) => e.seq(),
            _ => None,
        })
        .collect()
}

fn send(msg: ClientMsg) -> Action {
    Action::Send(msg)
}

#[test]
fn auth_is_the_first_frame_and_first_auth_ok_sets_the_starting_seq() {
    let mut h = Harness::new();
    assert_eq!(h.feed(Input::Subscribe(Topic::Orders)), []);
    assert_eq!(h.start(), [Action::OpenSocket]);
    assert_eq!(h.state(), StateKind::Connecting);
    assert_eq!(h.feed(Input::Opened), [auth_frame("t1", vec![Topic::Orders], None)]);
    assert_eq!(h.state(), StateKind::Authenticating);
    h.advance(1_000);
    // Subscribe with the wanted topics; no Resume on the first connection ever.
    let topics = vec![Topic::Orders];
    assert_eq!(h.msg(&auth_ok(41)), [send(ClientMsg::Subscribe { topics })]);
    let status = h.conn.status();
    assert_eq!(status.state, StateKind::Open);
    assert_eq!(status.last_seq, Some(41));
    assert_eq!(status.connected_since, Some(Millis(1_000)));
}

#[test]
fn a_server_that_takes_topics_and_resume_from_the_auth_frame_gets_no_subscribe_or_resume() {
    let mut h = Harness::new();
    h.feed(Input::Subscribe(Topic::Notifications));
    h.start();
    assert_eq!(h.feed(Input::Opened), [auth_frame("t1", vec![Topic::Notifications], None)]);
    assert_eq!(h.msg(&auth_ok_took(41, vec![Topic::Notifications])), [], "first contact: nothing more to send");
    assert_eq!(h.conn.status().last_seq, Some(41));
    assert_eq!(delivered(&h.msg(&note(42))), [42]);
    // Dropped and back: the resume point rides in the auth frame, the server replays on its own.
    h.feed(Input::Closed { code: 1006 });
    h.until_open_socket();
    assert_eq!(h.feed(Input::Opened), [auth_frame("t1", vec![Topic::Notifications], Some(42))]);
    assert_eq!(h.msg(&auth_ok_took(45, vec![Topic::Notifications])), []);
    assert!(delivered(&h.msg(&note(42))).is_empty(), "a duplicate is still dropped");
    assert_eq!(delivered(&h.msg(&note(43))), [43]);
}

#[test]
fn no_token_at_start_asks_for_one_before_connecting() {
    let mut h = Harness::new();
    assert_eq!(h.feed(Input::Start { token: None, token_expires_at: None }), [Action::RefreshToken]);
    assert_eq!(h.state(), StateKind::RefreshingToken);
    assert_eq!(h.conn.poll_timeout(), None);
    let fresh = Input::TokenRefreshed { token: "t2".into(), expires_at: None };
    assert_eq!(h.feed(fresh), [Action::OpenSocket]);
    assert_eq!(h.feed(Input::Opened), [auth_frame("t2", vec![], None)]);
}

#[test]
fn backoff_bounds_grow_from_base_and_are_capped() {
    let config = Config { polling_after_failures: 1_000, ..Config::default() };
    let mut longest = [0u64; 12];
    for seed in 0..50 {
        let mut h = Harness::with(config.clone(), seed);
        h.start();
        for (attempt, longest) in longest.iter_mut().enumerate() {
            h.feed(Input::Closed { code: 1006 });
            let status = h.conn.status();
            assert_eq!(status.attempt, attempt as u32 + 1);
            let delay = status.next_retry_at.map_or(0, |at| at.0 - h.now.0);
            let bound = backoff::bound(attempt as u32, config.base_backoff, config.max_backoff);
            assert!(delay <= bound.as_millis() as u64, "seed {seed} attempt {attempt}: {delay}");
            *longest = (*longest).max(delay);
            if status.state == StateKind::Backoff {
                h.until_open_socket();
            }
        }
    }
    // Bounds 500, 1 000, 2 000, 4 000 ms at first, then at most 30 s, and the cap is really reached.
    assert!(longest[0] <= 500 && longest[3] <= 4_000 && longest[3] > 2_000, "{longest:?}");
    assert!(longest.iter().all(|&d| d <= 30_000), "{longest:?}");
    assert!(longest[11] > 25_000, "{longest:?}");
}

#[test]
fn attempt_counter_resets_only_after_a_stable_connection() {
    let mut h = Harness::with(Config { polling_after_failures: 1_000, ..Config::default() }, 3);
    h.start();
    for _ in 0..4 {
        h.feed(Input::Closed { code: 1006 });
        h.until_open_socket();
    }
    assert_eq!(h.conn.status().attempt, 4);
    h.open(1);
    h.advance(9_999);
    assert_eq!(h.conn.status().attempt, 4, "not stable yet");
    h.advance(1);
    assert_eq!(h.conn.status().attempt, 0, "stable after 10 s");
    h.feed(Input::Closed { code: 1001 });
    let status = h.conn.status();
    assert!(status.next_retry_at.is_some_and(|at| at.0 - h.now.0 <= 500));
    assert_eq!(status.attempt, 1);
    // A connection that drops before `stable_after` keeps the count growing.
    h.until_open_socket();
    h.open(1);
    h.advance(5_000);
    h.feed(Input::Closed { code: 1006 });
    assert_eq!(h.conn.status().attempt, 2);
}

#[test]
fn heartbeat_pings_every_25s_and_closes_a_silent_connection_10s_later() {
    let mut h = Harness::new();
    h.start();
    h.open(1);
    assert_eq!(h.advance(24_999), []);
    assert_eq!(h.advance(1), [send(ClientMsg::Ping)]);
    h.advance(5_000);
    assert_eq!(h.msg(&ServerMsg::Pong), []);
    // Answered: the next ping comes 25 s after the first, and nothing closes.
    assert_eq!(h.advance(19_999), []);
    assert_eq!(h.advance(1), [send(ClientMsg::Ping)]);
    assert_eq!(h.advance(9_999), []);
    assert_eq!(h.state(), StateKind::Open);
    let closed = h.advance(1);
    assert_eq!(closed, [Action::CloseSocket { code: CLOSE_DEAD, reason: "heartbeat timeout" }]);
    assert_eq!(h.state(), StateKind::Backoff);
}

#[test]
fn any_frame_after_a_ping_counts_as_life() {
    let mut h = Harness::new();
    h.start();
    h.open(1);
    assert_eq!(h.advance(25_000), [send(ClientMsg::Ping)]);
    h.advance(9_000);
    // Neither a pong nor even usable: still proof that the connection is alive.
    h.feed(Input::Message("not json".into()));
    assert_eq!(h.advance(16_000), [send(ClientMsg::Ping)], "no close at +10 s");
    h.advance(3_000);
    h.msg(&note(2));
    assert_eq!(h.advance(22_000), [send(ClientMsg::Ping)]);
    assert_eq!(h.state(), StateKind::Open);
}

#[test]
fn a_tab_hidden_for_the_grace_closes_and_sleeps_then_resumes_when_visible() {
    let mut h = Harness::quiet();
    h.feed(Input::Subscribe(Topic::Notifications));
    h.start();
    h.open(10);
    assert_eq!(delivered(&h.msg(&note(11))), [11]);
    // A short absence changes nothing.
    h.feed(Input::VisibilityChanged { visible: false });
    h.advance(59_000);
    h.feed(Input::VisibilityChanged { visible: true });
    assert_eq!(h.advance(10_000), []);
    assert_eq!(h.state(), StateKind::Open);
    // A long one closes the socket and stops every timer.
    h.feed(Input::VisibilityChanged { visible: false });
    assert_eq!(h.advance(59_999), []);
    let closed = h.advance(1);
    assert_eq!(closed, [Action::CloseSocket { code: CLOSE_NORMAL, reason: "hidden" }]);
    assert_eq!(h.state(), StateKind::Paused);
    assert_eq!(h.conn.poll_timeout(), None);
    assert_eq!(h.advance(3_600_000), []);
    // Visible again: reconnect at once and resume from the last applied seq.
    assert_eq!(h.feed(Input::VisibilityChanged { visible: true }), [Action::OpenSocket]);
    let topics = vec![Topic::Notifications];
    assert_eq!(h.open(30), [send(ClientMsg::Subscribe { topics }), send(ClientMsg::Resume { last_seq: 11 })]);
}

#[test]
fn unauthorized_close_refreshes_the_token_once_then_reconnects() {
    let mut h = Harness::quiet();
    h.start();
    h.open(5);
    assert_eq!(h.feed(Input::Closed { code: CLOSE_UNAUTHORIZED }), [Action::RefreshToken]);
    assert_eq!(h.state(), StateKind::RefreshingToken);
    assert_eq!(h.advance(120_000), [], "no reconnect before the token arrives");
    let fresh = Input::TokenRefreshed { token: "t2".into(), expires_at: None };
    assert_eq!(h.feed(fresh), [Action::OpenSocket]);
    assert_eq!(h.feed(Input::Opened), [auth_frame("t2", vec![], Some(5))]);
    assert_eq!(h.msg(&auth_ok(6)), [send(ClientMsg::Resume { last_seq: 5 })]);
    // Once authenticated again, a later expiry gets its own single refresh.
    assert_eq!(h.feed(Input::Closed { code: CLOSE_UNAUTHORIZED }), [Action::RefreshToken]);
}

#[test]
fn a_second_unauthorized_close_after_the_refresh_goes_to_login_for_good() {
    let mut h = Harness::new();
    h.start();
    h.feed(Input::Opened);
    assert_eq!(h.feed(Input::Closed { code: CLOSE_UNAUTHORIZED }), [Action::RefreshToken]);
    h.feed(Input::TokenRefreshed { token: "t2".into(), expires_at: None });
    h.feed(Input::Opened);
    assert_eq!(h.feed(Input::Closed { code: CLOSE_UNAUTHORIZED }), [Action::GoToLogin]);
    assert_eq!(h.state(), StateKind::Stopped);
    assert_eq!(h.conn.poll_timeout(), None);
    assert_eq!(h.advance(3_600_000), []);
    assert_eq!(h.feed(Input::Online), []);
    assert_eq!(h.feed(Input::VisibilityChanged { visible: true }), []);
}

#[test]
fn a_failed_refresh_after_unauthorized_goes_to_login() {
    let mut h = Harness::new();
    h.start();
    h.open(1);
    assert_eq!(h.feed(Input::Closed { code: CLOSE_UNAUTHORIZED }), [Action::RefreshToken]);
    assert_eq!(h.feed(Input::RefreshFailed), [Action::GoToLogin]);
    assert_eq!(h.state(), StateKind::Stopped);
    assert_eq!(h.advance(3_600_000), []);
}

#[test]
fn the_token_is_refreshed_before_it_expires_and_re_sent_on_the_open_socket() {
    let mut h = Harness::quiet();
    h.feed(Input::Start { token: Some("t1".into()), token_expires_at: Some(Millis(120_000)) });
    h.open(1);
    assert_eq!(h.advance_to(59_999), []);
    assert_eq!(h.advance_to(60_000), [Action::RefreshToken]);
    assert_eq!(h.advance_to(200_000), [], "asked once");
    let fresh = Input::TokenRefreshed { token: "t2".into(), expires_at: Some(Millis(3_600_000)) };
    assert_eq!(h.feed(fresh), [send(ClientMsg::auth("t2"))], "a renewal carries the token alone");
    assert_eq!(h.msg(&auth_ok(1)), [], "a re-auth ack changes nothing");
    // A failed proactive refresh is not fatal and not retried in a loop.
    assert_eq!(h.advance_to(3_540_000), [Action::RefreshToken]);
    assert_eq!(h.feed(Input::RefreshFailed), []);
    assert_eq!(h.advance_to(4_000_000), []);
    assert_eq!(h.state(), StateKind::Open);
}

#[test]
fn reconnect_resumes_from_last_seq_and_drops_duplicates_in_order() {
    let mut h = Harness::quiet();
    h.feed(Input::Subscribe(Topic::Notifications));
    h.start();
    h.open(10);
    assert_eq!(delivered(&h.msg(&note(11))), [11]);
    assert_eq!(delivered(&h.msg(&note(12))), [12]);
    assert_eq!(h.msg(&note(12)), []);
    assert_eq!(h.msg(&note(9)), []);
    assert_eq!(h.conn.status().counters.duplicates_dropped, 2);
    h.feed(Input::Closed { code: 1006 });
    h.until_open_socket();
    let topics = vec![Topic::Notifications];
    assert_eq!(h.open(20), [send(ClientMsg::Subscribe { topics }), send(ClientMsg::Resume { last_seq: 12 })]);
    let mut out = Vec::new();
    for seq in [12, 13, 13, 14] {
        out.extend(h.msg(&note(seq)));
    }
    assert_eq!(delivered(&out), [13, 14]);
    let status = h.conn.status();
    assert_eq!(status.counters.duplicates_dropped, 4);
    assert_eq!(status.counters.events_delivered, 4);
    assert_eq!(status.last_seq, Some(14));
}

#[test]
fn server_resync_refetches_and_moves_to_the_auth_ok_seq() {
    let mut h = Harness::quiet();
    h.feed(Input::Subscribe(Topic::Notifications));
    h.start();
    h.open(10);
    h.msg(&note(11));
    h.feed(Input::Closed { code: 1006 });
    h.until_open_socket();
    h.open(500);
    assert_eq!(h.msg(&ServerMsg::Resync), [Action::Resync]);
    assert_eq!(h.conn.status().last_seq, Some(500));
    // The refetch covers up to 500; live events after it still flow.
    assert_eq!(h.msg(&note(500)), []);
    assert_eq!(delivered(&h.msg(&note(501))), [501]);
}

#[test]
fn a_server_whose_history_restarted_triggers_a_resync_instead_of_a_resume() {
    let mut h = Harness::quiet();
    h.start();
    h.open(40);
    h.feed(Input::Closed { code: 1012 });
    h.until_open_socket();
    assert_eq!(h.open(3), [Action::Resync]);
    assert_eq!(h.conn.status().last_seq, Some(3));
}

/// Connects once (auth_ok at `seq`), drops, then fails three opens in three different ways; the first
/// poll is left unanswered.
fn polling_harness(seq: Seq) -> Harness {
    let config = Config { polling_interval: Duration::from_secs(1), ..Config::default() };
    let mut h = Harness::with(config, 11);
    h.feed(Input::Subscribe(Topic::Notifications));
    h.start();
    h.open(seq);
    h.feed(Input::Closed { code: 1006 });
    h.until_open_socket();
    h.feed(Input::Closed { code: 1006 });
    h.until_open_socket();
    let error = h.feed(Input::Error);
    assert_eq!(error, [Action::CloseSocket { code: CLOSE_DEAD, reason: "socket error" }]);
    assert_eq!(h.conn.status().transport, Transport::WebSocket, "two failures only");
    h.until_open_socket();
    let out = h.advance(10_000);
    assert_eq!(out[0], Action::CloseSocket { code: CLOSE_DEAD, reason: "connect timeout" });
    assert_eq!(out[1..], [Action::StartPoll { after: seq }], "third failure: poll at once");
    h
}

impl Harness {
    /// Advances to `until` like a driver whose WebSocket probes all fail, answering each poll with an
    /// empty page if `answer`. Returns the times of the polls.
    fn run_polling(&mut self, until: u64, answer: bool) -> Vec<u64> {
        let mut polls = Vec::new();
        while let Some(at) = self.conn.poll_timeout().filter(|at| at.0 <= until) {
            let mut pending: VecDeque<Action> = self.advance_to(at.0).into();
            while let Some(action) = pending.pop_front() {
                match action {
                    Action::OpenSocket => pending.extend(self.feed(Input::Closed { code: 1006 })),
                    Action::StartPoll { after } => {
                        polls.push(self.now.0);
                        if answer {
                            pending.extend(self.feed(page(vec![], after, false)));
                        }
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        self.now = self.now.max(Millis(until));
        polls
    }
}

#[test]
fn three_failed_opens_fall_back_to_polling_at_least_5s_apart_with_dedup() {
    let mut h = polling_harness(10);
    let status = h.conn.status();
    assert_eq!((status.state, status.transport), (StateKind::Polling, Transport::Polling));
    let out = h.feed(page(vec![note(10), note(11), note(12)], 15, false));
    assert_eq!(delivered(&out), [11, 12]);
    assert_eq!(h.conn.status().last_seq, Some(15));
    assert_eq!(h.conn.status().counters.duplicates_dropped, 1);
    // For a minute: a poll every 5 s (the configured 1 s is clamped) while the probes keep failing.
    let (start, sockets) = (h.now.0, h.conn.status().counters.sockets_opened);
    let polls = h.run_polling(start + 60_000, true);
    let expected: Vec<u64> = (1..=12).map(|i| start + i * 5_000).collect();
    assert_eq!(polls, expected);
    assert!(h.conn.status().counters.sockets_opened > sockets, "the WebSocket is still probed");
    // A failed poll is counted and polling goes on; a resync page refetches.
    let at = h.run_polling(h.now.0 + 5_000, false);
    assert_eq!(h.feed(Input::PollResult(Err("502 Bad Gateway".into()))), []);
    assert_eq!(h.conn.status().counters.poll_failures, 1);
    assert_eq!(h.run_polling(at[0] + 5_000, false), [at[0] + 5_000]);
    assert_eq!(h.feed(page(vec![note(16)], 900, true)), [Action::Resync]);
    assert_eq!(h.conn.status().last_seq, Some(900));
    assert_eq!(h.conn.status().counters.events_delivered, 2, "11 and 12 only");
}

#[test]
fn polling_pauses_while_hidden_and_resumes_at_once_when_visible() {
    let mut h = polling_harness(10);
    h.feed(page(vec![], 10, false));
    h.feed(Input::VisibilityChanged { visible: false });
    assert!(h.run_polling(h.now.0 + 50_000, true).is_empty(), "no poll while hidden");
    let visible = h.feed(Input::VisibilityChanged { visible: true });
    assert!(visible.contains(&Action::StartPoll { after: 10 }), "{visible:?}");
    if visible.contains(&Action::OpenSocket) {
        h.feed(Input::Closed { code: 1006 });
    }
    // Past the grace everything sleeps, probes included.
    h.feed(page(vec![], 10, false));
    h.feed(Input::VisibilityChanged { visible: false });
    h.run_polling(h.now.0 + 60_000, true);
    assert_eq!(h.state(), StateKind::Paused);
    assert_eq!(h.conn.poll_timeout(), None);
}

#[test]
fn a_background_probe_that_opens_switches_back_to_the_websocket() {
    let mut h = polling_harness(10);
    h.until_open_socket();
    h.feed(Input::Opened);
    let topics = vec![Topic::Notifications];
    let resumed = h.msg(&auth_ok(20));
    assert_eq!(resumed, [send(ClientMsg::Subscribe { topics }), send(ClientMsg::Resume { last_seq: 10 })]);
    let status = h.conn.status();
    assert_eq!((status.state, status.transport), (StateKind::Open, Transport::WebSocket));
    assert_eq!(status.consecutive_failures, 0);
    // The poll still in flight is stale: the Resume covers it.
    assert_eq!(h.feed(page(vec![note(11)], 11, false)), []);
    assert_eq!(h.advance(20_000), [], "no more polls");
}

#[test]
fn online_or_visible_during_backoff_reconnects_at_once() {
    let config = Config { base_backoff: Duration::from_secs(30), ..Config::default() };
    let mut h = Harness::with(config, 5);
    h.start();
    for wake in [Input::Online, Input::VisibilityChanged { visible: true }] {
        h.feed(Input::Closed { code: 1006 });
        assert_eq!(h.state(), StateKind::Backoff);
        assert!(h.conn.status().next_retry_at > Some(Millis(h.now.0 + 1_000)));
        assert_eq!(h.feed(wake.clone()), [Action::OpenSocket]);
        assert_eq!(h.state(), StateKind::Connecting);
        assert_eq!(h.feed(wake), [], "never a second socket");
    }
}

#[test]
fn connecting_or_authenticating_too_long_fails_the_attempt() {
    let mut h = Harness::new();
    h.start();
    assert_eq!(h.advance(9_999), []);
    let timeout = [Action::CloseSocket { code: CLOSE_DEAD, reason: "connect timeout" }];
    assert_eq!(h.advance(1), timeout);
    assert_eq!(h.conn.status().consecutive_failures, 1);
    h.until_open_socket();
    h.advance(6_000);
    h.feed(Input::Opened);
    assert_eq!(h.advance(3_999), [], "the deadline counts from OpenSocket");
    assert_eq!(h.advance(1), timeout);
    assert_eq!(h.conn.status().consecutive_failures, 2);
}

#[test]
fn malformed_oversized_and_error_frames_are_counted_never_fatal() {
    let mut h = Harness::with(Config { max_message_bytes: 150, ..Config::default() }, 1);
    h.start();
    h.feed(Input::Opened);
    h.feed(Input::Message("{not json".into()));
    h.feed(Input::Message(r#"{"type":"mystery","seq":3}"#.into()));
    h.feed(Input::Message(r#"{"type":"order_update","seq":"x"}"#.into()));
    h.msg(&auth_ok(1));
    h.feed(Input::Message("x".repeat(150)));
    h.feed(Input::Message("x".repeat(151)));
    let error = ServerMsg::Error { code: "bad_request".into(), message: "unknown topic".into() };
    assert_eq!(h.msg(&error), []);
    let status = h.conn.status();
    assert_eq!(status.state, StateKind::Open);
    assert_eq!(status.counters.malformed_messages, 4, "three before auth, 150 x after");
    assert_eq!(status.counters.oversized_messages, 1);
    assert_eq!(status.counters.server_errors, 1);
    assert_eq!(status.counters.messages_received, 7);
    assert_eq!(status.last_error.as_deref(), Some("bad_request: unknown topic"));
}

#[test]
fn topics_are_reference_counted_and_sent_only_at_first_and_last() {
    let mut h = Harness::quiet();
    h.start();
    assert_eq!(h.open(1), [], "nothing wanted, nothing subscribed");
    let orders = || vec![Topic::Orders];
    assert_eq!(h.feed(Input::Subscribe(Topic::Orders)), [send(ClientMsg::Subscribe { topics: orders() })]);
    assert_eq!(h.feed(Input::Subscribe(Topic::Orders)), []);
    assert_eq!(h.feed(Input::Unsubscribe(Topic::Orders)), []);
    let last = h.feed(Input::Unsubscribe(Topic::Orders));
    assert_eq!(last, [send(ClientMsg::Unsubscribe { topics: orders() })]);
    assert_eq!(h.feed(Input::Unsubscribe(Topic::Orders)), [], "extra unsubscribes are ignored");
    // An event nobody wants is not delivered, but it is applied: a replay of it is a duplicate.
    assert_eq!(h.msg(&note(2)), []);
    h.feed(Input::Subscribe(Topic::Notifications));
    assert_eq!(h.msg(&note(2)), []);
    assert_eq!(h.conn.status().counters.duplicates_dropped, 1);
    // While disconnected, changes are only remembered; the next connection subscribes to what is wanted.
    h.feed(Input::Closed { code: 1006 });
    assert_eq!(h.feed(Input::Subscribe(Topic::Products)), []);
    assert_eq!(h.feed(Input::Unsubscribe(Topic::Notifications)), []);
    h.until_open_socket();
    let topics = vec![Topic::Products];
    assert_eq!(h.open(3), [send(ClientMsg::Subscribe { topics }), send(ClientMsg::Resume { last_seq: 2 })]);
    assert_eq!(h.conn.topics(), [Topic::Products]);
}

#[test]
fn stop_closes_the_socket_and_silences_every_timer() {
    let mut h = Harness::new();
    h.start();
    h.open(1);
    assert_eq!(h.feed(Input::Stop), [Action::CloseSocket { code: CLOSE_NORMAL, reason: "stopped" }]);
    assert_eq!(h.state(), StateKind::Stopped);
    assert_eq!(h.conn.poll_timeout(), None);
    assert_eq!(h.feed(Input::Closed { code: 1000 }), [], "a late close of the old socket is ignored");
    assert_eq!(h.feed(Input::Online), []);
    assert_eq!(h.start(), [Action::OpenSocket]);
}

/// A random driver: only reports events its socket could really produce, and checks after every step
/// that there is at most one socket, that timers never spin, and that deliveries only move forward.
#[test]
fn random_inputs_never_open_two_sockets_nor_spin_nor_deliver_backwards() {
    #[derive(PartialEq)]
    enum Sock {
        None,
        Opening,
        Open,
    }
    for seed in 0..300 {
        let mut rng = Rng::new(seed);
        let mut h = Harness::with(Config::default(), seed);
        let (mut sock, mut poll_pending, mut refresh_pending) = (Sock::None, false, false);
        let mut last_delivered: Option<Seq> = None;
        let mut stopped_by_login = false;
        for step in 0..400 {
            let pick = |rng: &mut Rng, n: u64| rng.next_u64() % n;
            let input = match pick(&mut rng, 14) {
                0 | 1 => None,
                2 if sock == Sock::Opening => Some(Input::Opened),
                3 if sock != Sock::None => {
                    sock = Sock::None;
                    Some(Input::Closed { code: [1000, 1006, 4401][pick(&mut rng, 3) as usize] })
                }
                4 if sock != Sock::None => Some(Input::Error),
                5 | 6 if sock == Sock::Open => {
                    let seq = pick(&mut rng, 40);
                    let msg = match pick(&mut rng, 6) {
                        0 => auth_ok(seq),
                        1 => ServerMsg::Pong,
                        2 => ServerMsg::Resync,
                        _ => note(seq),
                    };
                    Some(Input::Message(serde_json::to_string(&msg).unwrap()))
                }
                7 => Some(Input::VisibilityChanged { visible: pick(&mut rng, 2) == 0 }),
                8 => Some(Input::Online),
                9 if poll_pending => {
                    poll_pending = false;
                    let seq = pick(&mut rng, 40);
                    Some(match pick(&mut rng, 3) {
                        0 => Input::PollResult(Err("down".into())),
                        1 => page(vec![note(seq)], seq + 1, false),
                        _ => page(vec![], seq, true),
                    })
                }
                10 => {
                    let topic = Topic::ALL[pick(&mut rng, 4) as usize];
                    Some(if pick(&mut rng, 2) == 0 { Input::Subscribe(topic) } else { Input::Unsubscribe(topic) })
                }
                11 if refresh_pending => {
                    refresh_pending = false;
                    Some(if pick(&mut rng, 4) == 0 {
                        Input::RefreshFailed
                    } else {
                        let expires_at = Some(Millis(h.now.0 + pick(&mut rng, 200_000)));
                        Input::TokenRefreshed { token: "t".into(), expires_at }
                    })
                }
                12 if h.state() == StateKind::Stopped || step == 0 => {
                    stopped_by_login = false;
                    let expires = Some(Millis(h.now.0 + pick(&mut rng, 200_000)));
                    Some(Input::Start { token: Some("t".into()), token_expires_at: expires })
                }
                13 if pick(&mut rng, 10) == 0 => Some(Input::Stop),
                _ => None,
            };
            let actions = match input {
                Some(input) => h.feed(input),
                None => {
                    let to = h.now.0 + pick(&mut rng, 40_000);
                    h.advance_to(to)
                }
            };
            for action in actions {
                assert!(!stopped_by_login, "seed {seed}: {action:?} after GoToLogin");
                match action {
                    Action::OpenSocket => {
                        assert!(sock == Sock::None, "seed {seed} step {step}: a second socket");
                        sock = Sock::Opening;
                    }
                    Action::CloseSocket { .. } => {
                        assert!(sock != Sock::None, "seed {seed} step {step}: close without socket");
                        sock = Sock::None;
                    }
                    Action::StartPoll { .. } => poll_pending = true,
                    Action::RefreshToken => refresh_pending = true,
                    Action::Resync => last_delivered = None,
                    Action::Deliver(event) => {
                        let seq = event.seq();
                        assert!(seq > last_delivered, "seed {seed} step {step}: {seq:?} after {last_delivered:?}");
                        last_delivered = seq;
                    }
                    Action::GoToLogin => stopped_by_login = true,
                    Action::Send(_) => assert!(sock != Sock::None, "seed {seed}: send without socket"),
                }
            }
            if sock == Sock::Opening && h.state() == StateKind::Authenticating {
                sock = Sock::Open;
            }
            assert!(h.conn.poll_timeout().is_none_or(|at| at > h.now), "seed {seed} step {step}: spins");
            let state = h.state();
            let socket_states = [StateKind::Connecting, StateKind::Authenticating, StateKind::Open];
            if sock == Sock::None {
                assert!(!socket_states.contains(&state), "seed {seed} step {step}: {state:?}");
            } else {
                assert!(socket_states.contains(&state) || state == StateKind::Polling, "seed {seed}: {state:?}");
            }
            if matches!(state, StateKind::Paused | StateKind::Stopped | StateKind::Idle) {
                assert_eq!(h.conn.poll_timeout(), None, "seed {seed} step {step}: timer in {state:?}");
            }
        }
    }
}

#[test]
fn a_tab_taking_over_a_shared_connection_resumes_after_the_seq_it_is_given() {
    let mut h = Harness::new();
    h.feed(Input::Subscribe(Topic::Notifications));
    assert_eq!(h.start(), [Action::OpenSocket]);
    assert_eq!(h.feed(Input::ResumeFrom(40)), []);
    assert_eq!(h.feed(Input::Opened), [auth_frame("t1", vec![Topic::Notifications], Some(40))]);
    h.msg(&auth_ok_took(45, vec![Topic::Notifications]));
    assert!(delivered(&h.msg(&note(40))).is_empty(), "at or below the resume point");
    assert_eq!(delivered(&h.msg(&note(41))), [41]);
    // An older resume point never moves the applied seq back.
    h.feed(Input::ResumeFrom(30));
    assert_eq!(h.conn.status().last_seq, Some(41));
}
