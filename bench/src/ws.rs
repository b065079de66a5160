//! Load sockets: many authenticated, subscribed `/ws` connections held by this process, each on its own task,
//! reporting when every event frame arrived (the instant is taken as the frame is read, before parsing).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMsg, Seq, ServerMsg, Topic};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The app pings every 25 s; load sockets do the same so the server's idle timeout (90 s) never closes them.
const PING_EVERY: Duration = Duration::from_secs(25);

/// One event frame received by one socket.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// Index of the socket in its fleet.
    pub socket: usize,
    pub seq: u64,
    /// When the frame was read.
    pub at: Instant,
}

/// Sockets held open until the fleet is dropped.
pub struct Fleet {
    pub size: usize,
    deliveries: mpsc::UnboundedReceiver<Delivery>,
    closed: Arc<AtomicUsize>,
    _tasks: JoinSet<()>,
}

impl Fleet {
    /// Opens `count` sockets to `ws_url`, socket `i` authenticating with `tokens[i % tokens.len()]` and
    /// subscribing to `topics`; at most `parallel` handshakes at once. Returns once every socket is subscribed,
    /// or the first error.
    pub async fn open(
        ws_url: &str,
        tokens: &[String],
        count: usize,
        topics: &[Topic],
        parallel: usize,
    ) -> anyhow::Result<Fleet> {
        Self::open_resuming(ws_url, tokens, count, topics, parallel, None).await
    }

    /// As [`Fleet::open`], every socket resuming after `last_seq` when given (as the app does on reconnect).
    pub async fn open_resuming(
        ws_url: &str,
        tokens: &[String],
        count: usize,
        topics: &[Topic],
        parallel: usize,
        last_seq: Option<Seq>,
    ) -> anyhow::Result<Fleet> {
        if tokens.is_empty() {
            bail!("a fleet needs at least one token");
        }
        let (deliveries_tx, deliveries) = mpsc::unbounded_channel();
        let (ready_tx, mut ready) = mpsc::channel::<anyhow::Result<()>>(count.max(1));
        let closed = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(parallel.max(1)));
        let mut tasks = JoinSet::new();
        for socket in 0..count {
            let (url, token, topics) = (ws_url.to_owned(), tokens[socket % tokens.len()].clone(), topics.to_vec());
            let (deliveries_tx, ready_tx, closed, gate) =
                (deliveries_tx.clone(), ready_tx.clone(), closed.clone(), gate.clone());
            tasks.spawn(async move {
                let permit = gate.acquire_owned().await;
                let stream = match handshake_from(&url, &token, &topics, last_seq).await {
                    Ok(stream) => stream,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error.context(format!("socket {socket}")))).await;
                        return;
                    }
                };
                drop(permit);
                let _ = ready_tx.send(Ok(())).await;
                drop(ready_tx);
                listen(socket, stream, deliveries_tx).await;
                closed.fetch_add(1, Ordering::Relaxed);
            });
        }
        drop(ready_tx);
        for _ in 0..count {
            match ready.recv().await {
                Some(Ok(())) => {}
                Some(Err(error)) => return Err(error),
                None => bail!("a socket task ended before it was ready"),
            }
        }
        Ok(Fleet { size: count, deliveries, closed, _tasks: tasks })
    }

    /// How many sockets have closed since they were opened (the server dropped them, or an error).
    pub fn closed(&self) -> usize {
        self.closed.load(Ordering::Relaxed)
    }

    /// Collects deliveries until `expected` have arrived or `timeout` passes; returns what arrived.
    pub async fn collect(&mut self, expected: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::with_capacity(expected);
        while got.len() < expected {
            match tokio::time::timeout_at(deadline, self.deliveries.recv()).await {
                Ok(Some(delivery)) => got.push(delivery),
                Ok(None) | Err(_) => break,
            }
        }
        got
    }

    /// Drops every delivery received so far.
    pub fn drain(&mut self) {
        while self.deliveries.try_recv().is_ok() {}
    }
}

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects and authenticates with its topics, resuming after `last_seq` when given (the missed events follow
/// `auth_ok`); the stream is ready for events.
pub async fn handshake_from(url: &str, token: &str, topics: &[Topic], last_seq: Option<Seq>) -> anyhow::Result<Stream> {
    // Small buffers, as a browser's socket has: tungstenite's default 128 KiB read buffer is zeroed up to its
    // capacity on every read, which made the generator spend more CPU in `memset` than the server in total.
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024).write_buffer_size(0);
    let connect = tokio_tungstenite::connect_async_with_config(url, Some(config), false);
    let (mut stream, _) = tokio::time::timeout(Duration::from_secs(30), connect)
        .await
        .context("connect timed out")?
        .context("connect")?;
    // The topics ride in the auth frame, as the app sends them: subscribed at once, no hold.
    let auth = ClientMsg::Auth { token: token.to_owned(), topics: Some(topics.to_vec()), last_seq };
    send(&mut stream, &auth).await?;
    expect(&mut stream, |m| matches!(m, ServerMsg::AuthOk { topics: Some(_), .. }), "auth_ok with topics").await?;
    Ok(stream)
}

async fn send(stream: &mut Stream, msg: &ClientMsg) -> anyhow::Result<()> {
    stream.send(Message::Text(serde_json::to_string(msg)?.into())).await.context("send")
}

async fn expect(stream: &mut Stream, wanted: impl Fn(&ServerMsg) -> bool, name: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let frame = tokio::time::timeout_at(deadline, stream.next())
            .await
            .with_context(|| format!("no {name} within 30 s"))?
            .with_context(|| format!("closed before {name}"))??;
        if let Message::Text(text) = frame {
            let msg: ServerMsg = serde_json::from_str(text.as_str()).with_context(|| format!("not a frame: {text}"))?;
            if wanted(&msg) {
                return Ok(());
            }
            if let ServerMsg::Error { code, message } = msg {
                bail!("server error {code} before {name}: {message}");
            }
        } else if let Message::Close(close) = frame {
            bail!("closed before {name}: {close:?}");
        }
    }
}

/// Reads until the socket closes, reporting every event frame and pinging like the app.
async fn listen(socket: usize, mut stream: Stream, deliveries: mpsc::UnboundedSender<Delivery>) {
    let ping = serde_json::to_string(&ClientMsg::Ping).expect("ping serializes");
    // One timer for the socket's life, reset after each ping: a load generator holding 10,000 sockets must
    // cost as little per frame as it can, since it shares the cores with the server it measures.
    let next_ping = tokio::time::sleep(PING_EVERY);
    tokio::pin!(next_ping);
    loop {
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let at = Instant::now();
                    if let Some(seq) = event_seq(text.as_str()) {
                        let _ = deliveries.send(Delivery { socket, seq, at });
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            () = &mut next_ping => {
                next_ping.as_mut().reset(Instant::now() + PING_EVERY);
                if stream.send(Message::Text(ping.clone().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The seq of an event frame, read from its `type` and `seq` alone (the payload is skipped, not decoded).
fn event_seq(text: &str) -> Option<Seq> {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(rename = "type", borrow)]
        kind: &'a str,
        seq: Option<Seq>,
    }
    let head: Head = serde_json::from_str(text).ok()?;
    let event = head.kind.ends_with("_update") || head.kind == "notification";
    if event { head.seq } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seq_is_read_from_event_frames_only() {
        assert_eq!(event_seq(r#"{"type":"product_update","action":"updated","product":{"id":1},"seq":42}"#), Some(42));
        assert_eq!(event_seq(r#"{"seq":7,"type":"notification","notification":{}}"#), Some(7));
        assert_eq!(event_seq(r#"{"type":"auth_ok","user":{},"seq":9}"#), None, "auth_ok carries a seq but is no event");
        assert_eq!(event_seq(r#"{"type":"pong"}"#), None);
        assert_eq!(event_seq("not json"), None);
    }
}
