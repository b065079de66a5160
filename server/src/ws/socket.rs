//! The driver of one `/ws` connection: it authenticates the first frame, then reads client frames, forwards
//! hub events and watches the deadlines, doing the I/O the [`Session`] asks for.
//!
//! Invariant: the socket joins the hub (with the auth frame's topics) before the seq announced in `auth_ok`
//! (and before any replay) is read from the database, so an event committed later cannot be missed; the
//! topics the hub routes here follow the session's after every frame; while the session holds live events
//! they wait in the socket's hub queue; every way out closes with a code.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMsg, ServerMsg, Topic};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout, timeout_at};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::session::{Action, Close, RateWindow, Session, Start, bad_message};
use super::upgrade::Socket as WebSocket;
use super::{CLOSE_IDLE, CLOSE_INTERNAL, CLOSE_LAGGED, CLOSE_TOO_BIG, CLOSE_UNAUTHORIZED, IDLE_TIMEOUT};
use crate::auth::{Claims, TokenError};
use crate::events;
use crate::hub::{Batch, Ended, Feed, Membership};
use crate::state::AppState;

/// A send that does not complete in this time means a dead or stuck client: the socket is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// After sending a close frame, how long to wait for the client's close reply.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// While draining what follows an oversized message, a pause this long means the client has sent it all.
const DRAIN_QUIET: Duration = Duration::from_millis(250);
/// The longest a client may keep sending after its socket was closed for an oversized message.
const DRAIN_LIMIT: Duration = Duration::from_secs(3);

/// Why the connection loop stopped.
enum End {
    /// Close with this code.
    Close(Close),
    /// A frame or message over `ws_max_frame_bytes`: close with this (1009) and drain the raw stream.
    TooBig(Close),
    /// The client closed, vanished, or stopped reading: nothing more to say.
    Gone,
}

impl From<Close> for End {
    fn from(close: Close) -> Self {
        End::Close(close)
    }
}

/// Serves one upgraded socket until it closes.
pub async fn run(mut socket: WebSocket, state: AppState) {
    let mut rate = RateWindow::new(state.config.ws_max_messages_per_10s);
    // The rare and database-bound steps are boxed: the task of an idle socket then holds only the state of
    // its wait loop (an unboxed replay or close made every socket's task several KiB larger).
    let end = match Box::pin(authenticate(&mut socket, &state, &mut rate)).await {
        Ok((claims, start)) => serve(&mut socket, &state, &claims, &start, rate).await,
        Err(end) => end,
    };
    match end {
        End::Close(close) => {
            tracing::debug!(code = close.code, reason = close.reason, "closing a WebSocket");
            Box::pin(close_with(socket, &state, close)).await;
        }
        End::TooBig(close) => {
            // The rest of the oversized message is still coming and is not frames: send the close frame, then
            // read and drop raw bytes until the client is done, so the close is not lost to a TCP reset.
            if send(&mut socket, &state, close_frame(close)).await.is_ok() {
                Box::pin(drain(socket)).await;
            }
        }
        End::Gone => Box::pin(finish(socket)).await,
    }
}

/// Waits for the first frame, which must be a valid `auth` of a live session.
async fn authenticate(socket: &mut WebSocket, state: &AppState, rate: &mut RateWindow) -> Result<(Claims, Start), End> {
    let deadline = Instant::now() + state.config.ws_auth_timeout;
    loop {
        let frame = match timeout_at(deadline, socket.next()).await {
            Err(_) => return Err(unauthorized("no auth frame in time").into()),
            Ok(frame) => received(frame)?,
        };
        if let Some(close) = rate.count(Instant::now()) {
            return Err(close.into());
        }
        let text = match frame {
            // Protocol-level pings are answered by the WebSocket layer; they are not the first frame.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            Message::Close(_) => return Err(End::Gone),
            Message::Text(text) => text,
            Message::Binary(_) => return Err(unauthorized("the first frame must be auth").into()),
        };
        let Ok(ClientMsg::Auth { token, topics, last_seq }) = serde_json::from_str::<ClientMsg>(text.as_str()) else {
            return Err(unauthorized("the first frame must be auth").into());
        };
        return match state.keys.verify(&token, state.clock.now_secs()) {
            Ok(claims) if state.sessions.is_revoked(claims.sid) => Err(session_ended().into()),
            Ok(claims) => Ok((claims, Start { topics, last_seq })),
            Err(TokenError::Expired) => Err(unauthorized("the token has expired").into()),
            Err(TokenError::Invalid) => Err(unauthorized("the token is not valid").into()),
        };
    }
}

/// The authenticated connection: client frames, hub events, token expiry, revocation and idleness.
async fn serve(socket: &mut WebSocket, state: &AppState, claims: &Claims, start: &Start, mut rate: RateWindow) -> End {
    // Join first, then read the seq: an event committed after the read is routed after the join, so it
    // reaches this socket's queue; one at or below the seq is skipped by the session.
    // A bare-token connection (topics to come in `subscribe` frames) is routed every topic while its live
    // events are held, so that those committed before its `subscribe` wait in its queue too.
    let topics = match &start.topics {
        Some(topics) => topics.iter().copied().collect(),
        None => Topic::ALL.into_iter().collect(),
    };
    let (mut membership, mut feed) = state.hub.join(&claims.user(), topics);
    let revocations = state.sessions.watch();
    let seq = match Box::pin(events::current_seq(&state.db)).await {
        Ok(seq) => seq,
        Err(error) => return internal(error),
    };
    let mut session = Session::new(claims, seq, start, Instant::now());
    if let Err(end) = send(socket, state, json_frame(&session.auth_ok(seq))).await {
        return end;
    }
    if let Some(after) = start.last_seq
        && let Err(end) = Box::pin(replay(socket, state, &mut session, after)).await
    {
        return end;
    }
    let mut last_frame = Instant::now();
    // One timer for every deadline (the hold, the token's expiry, idleness) and one revocation wait, both
    // kept across iterations: recreating them for every batch cost every socket a timer registration and a
    // notification each time it was woken.
    let deadline = sleep_until(last_frame + IDLE_TIMEOUT);
    tokio::pin!(deadline);
    let mut armed = None;
    let mut expiry = (session.token_expires_at(), expiry_instant(state, session.token_expires_at()));
    let mut revocation = Box::pin(next_change(revocations));
    loop {
        if expiry.0 != session.token_expires_at() {
            expiry = (session.token_expires_at(), expiry_instant(state, session.token_expires_at()));
        }
        let held = session.held_until();
        let due = held.unwrap_or(expiry.1).min(expiry.1).min(last_frame + IDLE_TIMEOUT);
        if armed != Some(due) {
            deadline.as_mut().reset(due);
            armed = Some(due);
        }
        let step = tokio::select! {
            // Client frames first: a resume must not wait behind a burst of events.
            biased;
            frame = socket.next() => match received(frame) {
                Err(end) => Err(end),
                Ok(frame) => {
                    last_frame = Instant::now();
                    match rate.count(last_frame) {
                        Some(close) => Err(close.into()),
                        None => Box::pin(on_frame(socket, state, &mut session, frame)).await,
                    }
                }
            },
            batch = feed.recv(), if held.is_none() => match batch {
                Ok(batch) => forward(socket, state, &mut session, batch, &mut feed).await,
                Err(Ended::Lagged) => {
                    tracing::debug!("a WebSocket fell behind the event stream");
                    state.metrics.count_lagged();
                    Err(Close { code: CLOSE_LAGGED, reason: "too slow: reconnect and resume" }.into())
                }
                Err(Ended::Stopped) => Err(Close { code: 1001, reason: "the server is stopping" }.into()),
            },
            (receiver, open) = &mut revocation => {
                revocation = Box::pin(next_change(receiver));
                if !open {
                    Err(Close { code: 1001, reason: "the server is stopping" }.into())
                } else if state.sessions.is_revoked(session.sid()) {
                    Err(session_ended().into())
                } else {
                    Ok(())
                }
            }
            () = &mut deadline => {
                armed = None;
                let now = Instant::now();
                if held.is_some_and(|until| now >= until) {
                    session.release();
                    Ok(())
                } else if now >= expiry.1 {
                    Err(unauthorized("the token has expired").into())
                } else if now >= last_frame + IDLE_TIMEOUT {
                    Err(Close { code: CLOSE_IDLE, reason: "idle" }.into())
                } else {
                    Ok(())
                }
            }
        };
        if let Err(end) = step {
            return end;
        }
        follow(&mut membership, &mut session);
    }
}

/// Waits for the next change of the revocation list; gives the receiver back, and whether the list is still
/// there (the server is not stopping).
async fn next_change(mut revocations: watch::Receiver<u64>) -> (watch::Receiver<u64>, bool) {
    let open = revocations.changed().await.is_ok();
    (revocations, open)
}

/// Most batches sent in one write when several wait in the socket's queue (a burst of writes).
const BATCHES_PER_WRITE: usize = 32;

/// Sends the frames of `batch` (and of the batches queued behind it, up to [`BATCHES_PER_WRITE`]) that the
/// session wants, then flushes once: one write, not one per frame.
async fn forward(
    socket: &mut WebSocket,
    state: &AppState,
    session: &mut Session,
    batch: std::sync::Arc<Batch>,
    feed: &mut Feed,
) -> Result<(), End> {
    let (mut frames, mut bytes) = (0, 0);
    let mut next = Some(batch);
    let mut taken = 0;
    while let Some(batch) = next.take() {
        for event in &batch.events {
            if let Some(json) = session.on_event(event) {
                bytes += json.len();
                frames += 1;
                match timeout(SEND_TIMEOUT, socket.feed(Message::Text(json))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) | Err(_) => return Err(End::Gone),
                }
            }
        }
        taken += 1;
        if taken < BATCHES_PER_WRITE {
            next = feed.try_recv();
        }
    }
    if frames == 0 {
        return Ok(());
    }
    state.metrics.count_ws_sent_many(frames, bytes);
    match timeout(SEND_TIMEOUT, socket.flush()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(End::Gone),
    }
}

/// The hub routes to this socket the session's user and, once no live events are held, its topics.
fn follow(membership: &mut Membership, session: &mut Session) {
    membership.set_user(session.user());
    if session.held_until().is_some() {
        return;
    }
    let topics = session.topic_set();
    if topics != membership.topics() {
        let added = topics.without(membership.topics());
        let routed = membership.set_topics(topics);
        session.routed_from(added, routed);
    }
}

/// One client frame of an authenticated connection.
async fn on_frame(socket: &mut WebSocket, state: &AppState, session: &mut Session, frame: Message) -> Result<(), End> {
    let action = match frame {
        Message::Text(text) => session.on_text(text.as_str(), &state.keys, state.clock.now_secs(), Instant::now()),
        Message::Binary(_) => bad_message("binary frames are not accepted: send JSON text"),
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Ok(()),
        Message::Close(_) => return Err(End::Gone),
    };
    match action {
        Action::AuthOk if state.sessions.is_revoked(session.sid()) => Err(session_ended().into()),
        Action::AuthOk => {
            let seq = events::current_seq(&state.db).await.map_err(internal)?;
            let renewed = ServerMsg::AuthOk { user: session.user().clone(), seq, topics: None };
            send(socket, state, json_frame(&renewed)).await
        }
        Action::Replay(after) => replay(socket, state, session, after).await,
        other => perform(socket, state, other).await,
    }
}

/// Replays the stored events after `after` through the session.
async fn replay(
    socket: &mut WebSocket,
    state: &AppState,
    session: &mut Session,
    after: protocol::Seq,
) -> Result<(), End> {
    let replay = events::replay_after(&state.db, session.user(), after).await.map_err(internal)?;
    state.metrics.count_resume(matches!(replay, events::Replay::Resync { .. }));
    for action in session.on_replay(after, replay) {
        perform(socket, state, action).await?;
    }
    Ok(())
}

/// Sends or closes as told; the actions needing the database are handled by the caller.
async fn perform(socket: &mut WebSocket, state: &AppState, action: Action) -> Result<(), End> {
    match action {
        Action::Send(msg) => send(socket, state, json_frame(&msg)).await,
        Action::Forward(json) => send(socket, state, Message::Text(json)).await,
        Action::Close(close) => Err(close.into()),
        Action::AuthOk | Action::Replay(_) => unreachable!("handled by on_frame"),
    }
}

/// What a read gives: a frame, or why the connection ends.
fn received(frame: Option<Result<Message, WsError>>) -> Result<Message, End> {
    match frame {
        Some(Ok(frame)) => Ok(frame),
        None => Err(End::Gone),
        // tungstenite reports a frame or message over the configured maximum as a capacity error.
        Some(Err(WsError::Capacity(_))) => Err(End::TooBig(Close { code: CLOSE_TOO_BIG, reason: "frame too large" })),
        Some(Err(error)) => {
            tracing::debug!(%error, "WebSocket read failed");
            Err(End::Gone)
        }
    }
}

/// Sends a frame, counting text frames in the server's metrics.
async fn send(socket: &mut WebSocket, state: &AppState, frame: Message) -> Result<(), End> {
    let bytes = match &frame {
        Message::Text(text) => Some(text.len()),
        _ => None,
    };
    match timeout(SEND_TIMEOUT, socket.send(frame)).await {
        Ok(Ok(())) => {
            if let Some(bytes) = bytes {
                state.metrics.count_ws_sent(bytes);
            }
            Ok(())
        }
        Ok(Err(_)) | Err(_) => Err(End::Gone),
    }
}

fn close_frame(close: Close) -> Message {
    Message::Close(Some(CloseFrame { code: close.code.into(), reason: close.reason.into() }))
}

fn json_frame(msg: &ServerMsg) -> Message {
    Message::Text(serde_json::to_string(msg).expect("protocol messages always serialize").into())
}

fn unauthorized(reason: &'static str) -> Close {
    Close { code: CLOSE_UNAUTHORIZED, reason }
}

fn session_ended() -> Close {
    unauthorized("the session has ended")
}

fn internal(error: sqlx::Error) -> End {
    tracing::error!(%error, "WebSocket: database failure");
    Close { code: CLOSE_INTERNAL, reason: "internal error" }.into()
}

/// The tokio instant at which a Unix time in seconds arrives.
fn expiry_instant(state: &AppState, unix_secs: i64) -> Instant {
    let in_ms = unix_secs.saturating_mul(1000).saturating_sub(state.clock.now_ms()).max(0);
    Instant::now() + Duration::from_millis(in_ms as u64)
}

/// Sends the close frame, then reads until the client's close reply (or the grace ends), so that the frame is
/// not lost to a TCP reset caused by unread data.
async fn close_with(mut socket: WebSocket, state: &AppState, close: Close) {
    if send(&mut socket, state, close_frame(close)).await.is_ok() {
        finish(socket).await;
    }
}

/// Reads frames until the connection is over (completing a close handshake), for at most [`CLOSE_GRACE`]; once
/// the stream stops being frames, drains it raw.
async fn finish(mut socket: WebSocket) {
    let unreadable = timeout(CLOSE_GRACE, async {
        loop {
            match socket.next().await {
                Some(Ok(_)) => {}
                None => return false,
                Some(Err(_)) => return true,
            }
        }
    })
    .await;
    if unreadable == Ok(true) {
        drain(socket).await;
    }
}

/// Reads and drops raw bytes until the client has sent everything (end of stream, or [`DRAIN_QUIET`] without a
/// byte), for at most [`DRAIN_LIMIT`], then ends the stream with a FIN: closing a TCP connection with unread
/// data sends a reset instead, and the client would lose the close frame already sent (a browser reports 1006).
async fn drain(mut socket: WebSocket) {
    let io = socket.get_mut();
    let mut buffer = [0_u8; 4096];
    let _ = timeout(DRAIN_LIMIT, async {
        while let Ok(Ok(read)) = timeout(DRAIN_QUIET, io.read(&mut buffer)).await
            && read > 0
        {}
    })
    .await;
    let _ = timeout(CLOSE_GRACE, io.shutdown()).await;
}
