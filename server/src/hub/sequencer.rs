//! Cluster mode: puts the batches of every instance back in seq order before they are routed, sans IO.
//!
//! Each batch says `after`: the newest seq committed before its write began (writes are serialized by the
//! database, so every seq up to `after` is committed and readable when the batch exists). A batch whose `after`
//! has been routed is routed at once; one that arrives early (its predecessor is still on its way over Redis,
//! or was lost while Redis was away) is held. When the database is known to hold seqs not routed yet for
//! longer than `wait`, the driver reads them from the event log ([`Sequencer::due`], then
//! [`Sequencer::backfilled`]).
//!
//! Invariant: the batches handed out carry strictly increasing seqs, never one at or below [`Sequencer::routed`]:
//! every socket's live stream equals the replay of the log, whichever instance wrote.

use std::collections::BTreeMap;
use std::time::Duration;

use protocol::Seq;
use tokio::time::Instant;

use crate::events::StoredEvent;

/// Orders batches by seq; time is passed in.
#[derive(Debug)]
pub struct Sequencer {
    routed: Seq,
    /// Early batches by their `after`.
    held: BTreeMap<Seq, Vec<StoredEvent>>,
    /// The newest seq known to be committed.
    known: Seq,
    /// Since when a committed seq above `routed` has been known.
    gap_since: Option<Instant>,
    wait: Duration,
}

impl Sequencer {
    /// Starts after `routed` (the newest seq committed when the instance started); waits `wait` for a missing
    /// batch before reading it from the log.
    pub fn new(routed: Seq, wait: Duration) -> Self {
        Self { routed, held: BTreeMap::new(), known: routed, gap_since: None, wait }
    }

    /// The newest seq handed out (or skipped as already covered).
    pub fn routed(&self) -> Seq {
        self.routed
    }

    /// Batches held, waiting for an earlier one.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// A committed write's events (in seq order), written after `after` was committed: the batches that can be
    /// routed now, in order.
    pub fn offer(&mut self, after: Seq, events: Vec<StoredEvent>, now: Instant) -> Vec<Vec<StoredEvent>> {
        let last = events.last().map_or(after, |event| event.seq);
        if last <= self.routed {
            return Vec::new();
        }
        self.committed(after, now);
        if after > self.routed {
            self.held.insert(after, events);
            return Vec::new();
        }
        let mut ready = Vec::new();
        ready.extend(self.take(events));
        self.release(&mut ready);
        ready
    }

    /// The database holds every seq up to `seq` (a probe of the log, or a batch's `after`).
    pub fn committed(&mut self, seq: Seq, now: Instant) {
        self.known = self.known.max(seq);
        if self.known > self.routed && self.gap_since.is_none() {
            self.gap_since = Some(now);
        }
    }

    /// `Some(through)` when the log must be read now: the events after [`Sequencer::routed`] up to `through`.
    pub fn due(&self, now: Instant) -> Option<Seq> {
        self.deadline().filter(|deadline| now >= *deadline).map(|_| self.known)
    }

    /// When [`Sequencer::due`] will say to read the log, if nothing arrives first.
    pub fn deadline(&self) -> Option<Instant> {
        self.gap_since.map(|since| since + self.wait)
    }

    /// A read of the log failed: try again after the wait.
    pub fn retry_later(&mut self, now: Instant) {
        if self.gap_since.is_some() {
            self.gap_since = Some(now);
        }
    }

    /// The events of the log after [`Sequencer::routed`] up to `through` (all of them, in order; seqs rolled
    /// back or pruned are simply absent): the batches that can be routed now, in order.
    pub fn backfilled(&mut self, through: Seq, events: Vec<StoredEvent>) -> Vec<Vec<StoredEvent>> {
        let mut ready = Vec::new();
        ready.extend(self.take(events.into_iter().filter(|event| event.seq <= through).collect()));
        self.routed = self.routed.max(through);
        self.release(&mut ready);
        ready
    }

    /// The events above `routed`, which then moves to the last of them (`None` when none is left).
    fn take(&mut self, mut events: Vec<StoredEvent>) -> Option<Vec<StoredEvent>> {
        events.retain(|event| event.seq > self.routed);
        let last = events.last()?.seq;
        self.routed = last;
        Some(events)
    }

    /// Hands out the held batches that now follow `routed`, and forgets the gap once nothing known is missing.
    fn release(&mut self, ready: &mut Vec<Vec<StoredEvent>>) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() > self.routed {
                break;
            }
            let events = entry.remove();
            ready.extend(self.take(events));
        }
        if self.routed >= self.known {
            self.gap_since = None;
        }
    }
}

#[cfg(test)]
mod tests;
