//! The in-process fan-out: a committed write's events go, as one [`Batch`], into the hub queue
//! (`ws_hub_queue` batches); one dispatcher task routes each batch through the [`Index`] to the queues of the
//! sockets that should get it (`ws_socket_queue` batches each); a socket sends a batch's frames in one write.
//!
//! In cluster mode the dispatcher is fed by every instance (through [`crate::cluster`]) and puts batches back
//! in seq order with a [`Sequencer`], reading from the log what does not come.
//!
//! Invariant: batches are routed in seq order (writes commit and enqueue under one lock, and one task routes;
//! in cluster mode the database serializes writes and the sequencer restores their order), so every socket
//! receives its events in seq order; a socket whose queue is full is dropped from the index
//! and closes with 1013 after sending what its queue holds: memory per socket stays bounded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use protocol::{Seq, User};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::events::{StoredEvent, Viewer};

pub mod index;
pub mod sequencer;

pub use index::{Batch, TopicSet};
use index::{Index, MemberId, Offer, Sink};
use sequencer::Sequencer;

/// Sizes of the hub's queues.
#[derive(Debug, Clone, Copy)]
pub struct Queues {
    /// Batches waiting for the dispatcher; when it is full, writes wait (nothing is dropped).
    pub hub: usize,
    /// Batches waiting in one socket's queue; when it is full, the socket is dropped (1013).
    pub socket: usize,
}

/// What the dispatcher is fed.
#[derive(Debug)]
pub enum Input {
    /// A write committed here, in seq order with every other (the embedded server: one process writes).
    Write(Vec<StoredEvent>),
    /// A committed write's events, written after `after` was committed (cluster mode: from this instance or,
    /// over Redis, another).
    Sequenced { after: Seq, events: Vec<StoredEvent> },
    /// The database holds every seq up to this one (cluster mode: the log probe).
    Committed(Seq),
}

/// The dispatcher's input queue, made before the hub when something else feeds it too (the cluster link).
pub fn inputs(queues: Queues) -> (mpsc::Sender<Input>, mpsc::Receiver<Input>) {
    mpsc::channel(queues.hub.max(1))
}

/// How cluster mode orders batches.
#[derive(Debug, Clone)]
pub struct Clustered {
    pub db: sqlx::AnyPool,
    /// The newest seq committed when the instance started: batches after it are routed.
    pub start: Seq,
    /// How long a missing batch is waited for before it is read from the log.
    pub gap_wait: std::time::Duration,
    pub link: Arc<Cluster>,
}

/// The fan-out; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    index: Arc<Mutex<Index<Queue>>>,
    inputs: mpsc::Sender<Input>,
    commit_order: Arc<tokio::sync::Mutex<()>>,
    socket_queue: usize,
    /// Set in cluster mode: writes are announced to the other instances and sequenced.
    link: Option<Arc<Cluster>>,
}

impl Hub {
    /// A hub with its dispatcher task (which ends when the last clone of the hub is dropped). Needs a tokio
    /// runtime.
    pub fn new(queues: Queues) -> Self {
        let (inputs, pending) = inputs(queues);
        let index = Arc::new(Mutex::new(Index::default()));
        tokio::spawn(dispatch(Arc::clone(&index), pending));
        Self { index, inputs, commit_order: Arc::default(), socket_queue: queues.socket.max(1), link: None }
    }

    /// A hub of cluster mode, fed by `pending` (this instance's writes and the link's messages): batches go
    /// through a [`Sequencer`] and what is missing is read from the log.
    pub fn clustered(
        queues: Queues,
        (inputs, pending): (mpsc::Sender<Input>, mpsc::Receiver<Input>),
        clustered: Clustered,
    ) -> Self {
        let index = Arc::new(Mutex::new(Index::starting_at(clustered.start)));
        let link = Some(Arc::clone(&clustered.link));
        tokio::spawn(sequence(Arc::clone(&index), pending, clustered));
        Self { index, inputs, commit_order: Arc::default(), socket_queue: queues.socket.max(1), link }
    }

    /// Commits a write transaction that appended `events`, then publishes them, in seq order with respect to
    /// every other write committed through here (and, in cluster mode, through any instance).
    pub async fn commit_and_publish(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Any>,
        events: Vec<StoredEvent>,
    ) -> Result<(), sqlx::Error> {
        let _in_order = self.commit_order.lock().await;
        let (Some(link), Some(first)) = (&self.link, events.first()) else {
            tx.commit().await?;
            self.publish(events).await;
            return Ok(());
        };
        let after = crate::events::committed_before(&mut tx, first.seq).await?;
        tx.commit().await?;
        link.announce_events(after, &events);
        let _ = self.inputs.send(Input::Sequenced { after, events }).await;
        Ok(())
    }

    /// Publishes one write's events, committed to the database, in seq order; waits while the hub queue is full.
    pub async fn publish(&self, events: Vec<StoredEvent>) {
        if events.is_empty() {
            return;
        }
        // A send fails only once the dispatcher is gone (the server is stopping): the events are in the
        // database for replay.
        let _ = self.inputs.send(Input::Write(events)).await;
    }

    /// A socket of `user` joins with `topics`: it gets every batch routed from now on that holds an event for
    /// it.
    pub fn join(&self, user: &User, topics: TopicSet) -> (Membership, Feed) {
        let (sender, receiver) = mpsc::channel(self.socket_queue);
        let lagged = Arc::new(AtomicBool::new(false));
        let queue = Queue { sender, lagged: Arc::clone(&lagged) };
        let viewer = Viewer::from(user);
        let id = lock(&self.index).join(viewer, topics, queue);
        (Membership { id, topics, viewer, index: Arc::clone(&self.index) }, Feed { receiver, lagged })
    }

    /// Live sockets in the index.
    pub fn members(&self) -> usize {
        lock(&self.index).len()
    }
}

/// The embedded dispatcher: batches arrive in seq order and are routed as they come.
async fn dispatch(index: Arc<Mutex<Index<Queue>>>, mut pending: mpsc::Receiver<Input>) {
    while let Some(input) = pending.recv().await {
        if let Input::Write(events) | Input::Sequenced { events, .. } = input {
            route(&index, events);
        }
    }
}

/// The cluster dispatcher: batches from every instance are put in seq order, and what does not come is read
/// from the log.
async fn sequence(index: Arc<Mutex<Index<Queue>>>, mut pending: mpsc::Receiver<Input>, clustered: Clustered) {
    let mut sequencer = Sequencer::new(clustered.start, clustered.gap_wait);
    loop {
        let deadline = sequencer.deadline();
        let ready = tokio::select! {
            input = pending.recv() => match input {
                None => return,
                Some(Input::Write(events)) => {
                    // Not sent in cluster mode; should it be, it follows what was routed.
                    let after = sequencer.routed();
                    sequencer.offer(after, events, Instant::now())
                }
                Some(Input::Sequenced { after, events }) => sequencer.offer(after, events, Instant::now()),
                Some(Input::Committed(seq)) => {
                    sequencer.committed(seq, Instant::now());
                    Vec::new()
                }
            },
            () = sleep_until_some(deadline) => backfill(&index, &mut sequencer, &clustered.db).await,
        };
        for events in ready {
            route(&index, events);
        }
    }
}

/// Reads from the log what the sequencer misses. Events pruned before they could be read cannot reach the
/// sockets in order: every socket is dropped (1013), and its client resumes and is told to resync.
async fn backfill(index: &Mutex<Index<Queue>>, sequencer: &mut Sequencer, db: &sqlx::AnyPool) -> Vec<Vec<StoredEvent>> {
    let now = Instant::now();
    let Some(through) = sequencer.due(now) else { return Vec::new() };
    match crate::events::read_range(db, sequencer.routed(), through).await {
        Ok(read) => {
            tracing::debug!(
                after = sequencer.routed(),
                through,
                events = read.events.len(),
                "read missed events from the log"
            );
            if read.pruned {
                let dropped = lock(index).drop_all();
                tracing::warn!(dropped, "events were pruned before this instance could route them: sockets resume");
            }
            sequencer.backfilled(through, read.events)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read missed events from the log; trying again");
            sequencer.retry_later(now);
            Vec::new()
        }
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn route(index: &Mutex<Index<Queue>>, events: Vec<StoredEvent>) {
    if events.is_empty() {
        return;
    }
    let routed = lock(index).route(&Arc::new(Batch { events }));
    if routed.lagged > 0 {
        tracing::debug!(lagged = routed.lagged, "sockets fell behind the event stream");
    }
}

/// The index's methods do not panic on anything a client sends; should one panic anyway, the fan-out goes on
/// with the index as it is rather than stopping every socket.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A socket's queue, as the index holds it.
#[derive(Debug)]
pub struct Queue {
    sender: mpsc::Sender<Arc<Batch>>,
    lagged: Arc<AtomicBool>,
}

impl Sink for Queue {
    fn offer(&mut self, batch: &Arc<Batch>) -> Offer {
        match self.sender.try_send(Arc::clone(batch)) {
            Ok(()) => Offer::Queued,
            Err(TrySendError::Full(_)) => Offer::Full,
            Err(TrySendError::Closed(_)) => Offer::Gone,
        }
    }

    fn lagged(&mut self) {
        self.lagged.store(true, Ordering::Release);
    }
}

/// A socket's place in the index; leaving happens on drop.
pub struct Membership {
    id: MemberId,
    topics: TopicSet,
    viewer: Viewer,
    index: Arc<Mutex<Index<Queue>>>,
}

impl Membership {
    /// The topics the index routes to this socket.
    pub fn topics(&self) -> TopicSet {
        self.topics
    }

    /// Routes `topics` to this socket from now on; returns the last seq routed: every event of a newly added
    /// topic after it reaches this socket.
    pub fn set_topics(&mut self, topics: TopicSet) -> Seq {
        self.topics = topics;
        lock(&self.index).set_topics(self.id, topics)
    }

    /// The socket's user may have changed (a renewed token may carry another role or shop).
    pub fn set_user(&mut self, user: &User) {
        let viewer = Viewer::from(user);
        if viewer != self.viewer {
            self.viewer = viewer;
            lock(&self.index).set_viewer(self.id, viewer);
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        lock(&self.index).leave(self.id);
    }
}

/// What a socket receives from the hub.
pub struct Feed {
    receiver: mpsc::Receiver<Arc<Batch>>,
    lagged: Arc<AtomicBool>,
}

/// Why a feed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The socket's queue filled up: it was dropped from the index.
    Lagged,
    /// The hub is gone: the server is stopping.
    Stopped,
}

impl Feed {
    /// The next batch, or why there will be none.
    pub async fn recv(&mut self) -> Result<Arc<Batch>, Ended> {
        self.receiver.recv().await.ok_or_else(|| self.ended())
    }

    /// A batch already queued, if any.
    pub fn try_recv(&mut self) -> Option<Arc<Batch>> {
        self.receiver.try_recv().ok()
    }

    fn ended(&self) -> Ended {
        if self.lagged.load(Ordering::Acquire) { Ended::Lagged } else { Ended::Stopped }
    }
}
