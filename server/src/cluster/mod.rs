//! Cluster mode (`redis_url` set): several instances on one database, each committed write's events carried
//! to every instance over one Redis pub/sub channel, and revocations with them.
//!
//! Three tasks per instance:
//! - the **publisher** sends what this instance announces (its writes' events, revocations, its pings); while
//!   Redis is away the messages are dropped and counted: the others find the events in the log;
//! - the **subscriber** reads the channel into the hub's sequencer; it pings itself every `probe` and, when
//!   three pings in a row do not come back, takes the subscription for dead and subscribes again (a
//!   subscription can die silently, after a failover for instance);
//! - the **log probe** tells the sequencer, every `probe`, the newest seq the database holds, and reloads the
//!   sessions revoked lately: whatever Redis lost reaches the sockets from the log within `probe` + the
//!   sequencer's wait, Redis up or down.
//!
//! Invariant: nothing read from Redis can panic or reorder a socket's stream: messages that do not decode are
//! ignored, and every batch goes through the sequencer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use protocol::Seq;
use sqlx::AnyPool;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};

use crate::clock::Clock;
use crate::events::{self, StoredEvent};
use crate::hub::Input;
use crate::sessions::Sessions;

pub mod wire;

use wire::{RelayMsg, RelayedEvent};

/// The channel every instance publishes to and reads.
pub const CHANNEL: &str = "izishopin:events";

/// Messages waiting for the publisher; more are dropped (the log still has the events).
const OUTBOX: usize = 4_096;

/// Longest wait for Redis to accept a connection or a command.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// Pings unanswered before the subscription is taken for dead.
const PINGS_MISSED: u64 = 3;

/// How an instance joins the cluster.
#[derive(Debug, Clone)]
pub struct Options {
    pub redis_url: String,
    /// How often the subscription and the log are probed.
    pub probe: Duration,
}

/// Counters and health of the relay (`/metrics`).
#[derive(Debug, Default)]
pub struct Health {
    /// The subscription is open and its last probe came back.
    pub redis_up: AtomicBool,
    pub relayed_in: AtomicU64,
    pub relayed_out: AtomicU64,
    /// Messages not published (Redis away, or the publisher behind).
    pub relay_dropped: AtomicU64,
    /// Subscriptions opened again after one was lost or found dead.
    pub resubscribes: AtomicU64,
}

/// This instance's link to the others.
#[derive(Debug)]
pub struct Cluster {
    /// Random per start: tells this instance's messages from the others'.
    instance: u64,
    out: mpsc::Sender<String>,
    pub health: Health,
}

impl Cluster {
    /// Connects to nothing yet: checks the URL and starts the three tasks, which connect (and reconnect) on
    /// their own. `inputs` is the hub's sequencer; `clock` dates the log probe's reads of revocations.
    pub fn start(
        options: &Options,
        db: AnyPool,
        inputs: mpsc::Sender<Input>,
        sessions: Arc<Sessions>,
        clock: Clock,
    ) -> anyhow::Result<Arc<Self>> {
        let client = redis::Client::open(options.redis_url.as_str())
            .with_context(|| format!("redis_url `{}` is not a Redis URL", options.redis_url))?;
        let (out, outgoing) = mpsc::channel(OUTBOX);
        let cluster = Arc::new(Self { instance: rand::random(), out, health: Health::default() });
        tokio::spawn(publish(client.clone(), outgoing, Arc::clone(&cluster)));
        tokio::spawn(subscribe(client, Arc::clone(&cluster), inputs.clone(), Arc::clone(&sessions), options.probe));
        tokio::spawn(probe_log(db, inputs, sessions, options.probe, clock));
        Ok(cluster)
    }

    /// Tells the other instances about a committed write's events (see [`RelayMsg::Events`]).
    pub fn announce_events(&self, after: Seq, events: &[StoredEvent]) {
        let events = events.iter().map(RelayedEvent::from).collect();
        self.send(&RelayMsg::Events { from: self.instance, after, events });
    }

    /// Tells the other instances that session `sid` was revoked.
    pub fn announce_revocation(&self, sid: i64, expires_at: i64) {
        self.send(&RelayMsg::Revoked { sid, expires_at });
    }

    fn send(&self, message: &RelayMsg) {
        if self.out.try_send(message.encode()).is_err() {
            self.health.relay_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The publisher: one connection, opened again after any failure (at most every half second).
async fn publish(client: redis::Client, mut outgoing: mpsc::Receiver<String>, cluster: Arc<Cluster>) {
    let mut connection: Option<redis::aio::MultiplexedConnection> = None;
    let mut retry_at = tokio::time::Instant::now();
    while let Some(text) = outgoing.recv().await {
        if connection.is_none() && tokio::time::Instant::now() >= retry_at {
            connection =
                timeout(REDIS_TIMEOUT, client.get_multiplexed_async_connection()).await.ok().and_then(Result::ok);
            retry_at = tokio::time::Instant::now() + Duration::from_millis(500);
        }
        let Some(open) = connection.as_mut() else {
            cluster.health.relay_dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let published: Result<Result<(), _>, _> =
            timeout(REDIS_TIMEOUT, redis::AsyncCommands::publish(open, CHANNEL, text)).await;
        if let Ok(Ok(())) = published {
            cluster.health.relayed_out.fetch_add(1, Ordering::Relaxed);
        } else {
            tracing::warn!("cannot publish to Redis: the other instances will read this write from the log");
            cluster.health.relay_dropped.fetch_add(1, Ordering::Relaxed);
            connection = None;
        }
    }
}

/// The subscriber: subscribes, reads, probes itself, and starts over whenever the subscription is lost.
async fn subscribe(
    client: redis::Client,
    cluster: Arc<Cluster>,
    inputs: mpsc::Sender<Input>,
    sessions: Arc<Sessions>,
    probe: Duration,
) {
    let mut backoff = Duration::from_millis(100);
    let mut nonce = 0_u64;
    let mut first = true;
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = match timeout(REDIS_TIMEOUT, subscribed).await {
            Ok(Ok(pubsub)) => pubsub,
            failed => {
                let reason = match failed {
                    Ok(Err(error)) => error.to_string(),
                    _ => "timed out".to_owned(),
                };
                tracing::warn!(%reason, "cannot subscribe to Redis; trying again in {backoff:?}");
                sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        if !first {
            cluster.health.resubscribes.fetch_add(1, Ordering::Relaxed);
            tracing::info!("subscribed to Redis again");
        }
        first = false;
        backoff = Duration::from_millis(100);
        let mut messages = pubsub.into_on_message();
        let mut tick = tokio::time::interval(probe);
        let (mut sent, mut seen) = (nonce, nonce);
        // Up only once a ping sent after `opened_at` came back: then the publisher's connection works too, so
        // a write announced from then on reaches the other instances over Redis.
        let opened_at = nonce;
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else {
                        tracing::warn!("the Redis subscription closed");
                        break;
                    };
                    match RelayMsg::decode(message.get_payload_bytes()) {
                        Some(RelayMsg::Events { from, after, events }) if from != cluster.instance => {
                            cluster.health.relayed_in.fetch_add(1, Ordering::Relaxed);
                            let events = events.into_iter().map(StoredEvent::from).collect();
                            if inputs.send(Input::Sequenced { after, events }).await.is_err() {
                                return;
                            }
                        }
                        Some(RelayMsg::Ping { from, nonce }) if from == cluster.instance => {
                            seen = seen.max(nonce);
                            cluster.health.redis_up.store(seen > opened_at, Ordering::Relaxed);
                        }
                        Some(RelayMsg::Revoked { sid, expires_at }) => sessions.revoked_elsewhere(sid, expires_at),
                        Some(_) => {}
                        None => tracing::debug!("ignored a message on the Redis channel that is not a relay message"),
                    }
                }
                _ = tick.tick() => {
                    if sent >= seen + PINGS_MISSED {
                        tracing::warn!("the Redis subscription went silent: subscribing again");
                        break;
                    }
                    cluster.health.redis_up.store(seen > opened_at && sent <= seen + 1, Ordering::Relaxed);
                    sent += 1;
                    cluster.send(&RelayMsg::Ping { from: cluster.instance, nonce: sent });
                }
            }
        }
        nonce = sent;
        cluster.health.redis_up.store(false, Ordering::Relaxed);
    }
}

/// The log probe: the newest committed seq to the sequencer, and the sessions revoked lately.
async fn probe_log(db: AnyPool, inputs: mpsc::Sender<Input>, sessions: Arc<Sessions>, probe: Duration, clock: Clock) {
    // Revocations of the last minute are read again each time: instances' clocks may differ a little.
    const CLOCK_MARGIN_MS: i64 = 60_000;
    let mut revoked_since = clock.now_ms() - CLOCK_MARGIN_MS;
    let mut tick = tokio::time::interval(probe);
    loop {
        tick.tick().await;
        match events::current_seq(&db).await {
            Ok(seq) => {
                if inputs.send(Input::Committed(seq)).await.is_err() {
                    return;
                }
            }
            Err(error) => tracing::debug!(%error, "cannot probe the event log"),
        }
        match sessions.reload_since(&db, revoked_since).await {
            Ok(Some(newest)) => revoked_since = revoked_since.max(newest - CLOCK_MARGIN_MS),
            Ok(None) => {}
            Err(error) => tracing::debug!(%error, "cannot read the revoked sessions"),
        }
    }
}
