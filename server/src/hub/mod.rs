//! The in-process fan-out: a committed write's events go, as one [`Batch`], into the hub queue
//! (`ws_hub_queue` batches); one dispatcher task routes each batch through the [`Index`] to the queues of the
//! sockets that should get it (`ws_socket_queue` batches each); a socket sends a batch's frames in one write.
//!
//! Invariant: batches are routed in seq order (writes commit and enqueue under one lock, and one task routes),
//! so every socket receives its events in seq order; a socket whose queue is full is dropped from the index
//! and closes with 1013 after sending what its queue holds: memory per socket stays bounded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use protocol::{Seq, User};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::events::{StoredEvent, Viewer};

pub mod index;

pub use index::{Batch, TopicSet};
use index::{Index, MemberId, Offer, Sink};

/// Sizes of the hub's queues.
#[derive(Debug, Clone, Copy)]
pub struct Queues {
    /// Batches waiting for the dispatcher; when it is full, writes wait (nothing is dropped).
    pub hub: usize,
    /// Batches waiting in one socket's queue; when it is full, the socket is dropped (1013).
    pub socket: usize,
}

/// The fan-out; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    index: Arc<Mutex<Index<Queue>>>,
    batches: mpsc::Sender<Arc<Batch>>,
    commit_order: Arc<tokio::sync::Mutex<()>>,
    socket_queue: usize,
}

impl Hub {
    /// A hub with its dispatcher task (which ends when the last clone of the hub is dropped). Needs a tokio
    /// runtime.
    pub fn new(queues: Queues) -> Self {
        let index = Arc::new(Mutex::new(Index::default()));
        let (batches, mut pending) = mpsc::channel::<Arc<Batch>>(queues.hub.max(1));
        let dispatcher_index = Arc::clone(&index);
        tokio::spawn(async move {
            while let Some(batch) = pending.recv().await {
                let routed = lock(&dispatcher_index).route(&batch);
                if routed.lagged > 0 {
                    tracing::debug!(lagged = routed.lagged, "sockets fell behind the event stream");
                }
            }
        });
        Self { index, batches, commit_order: Arc::default(), socket_queue: queues.socket.max(1) }
    }

    /// Commits a write transaction that appended `events`, then publishes them, in seq order with respect to
    /// every other write committed through here.
    pub async fn commit_and_publish(
        &self,
        tx: sqlx::Transaction<'_, sqlx::Any>,
        events: Vec<StoredEvent>,
    ) -> Result<(), sqlx::Error> {
        let _in_order = self.commit_order.lock().await;
        tx.commit().await?;
        self.publish(events).await;
        Ok(())
    }

    /// Publishes one write's events, committed to the database, in seq order; waits while the hub queue is full.
    pub async fn publish(&self, events: Vec<StoredEvent>) {
        if events.is_empty() {
            return;
        }
        // A send fails only once the dispatcher is gone (the server is stopping): the events are in the
        // database for replay.
        let _ = self.batches.send(Arc::new(Batch { events })).await;
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
