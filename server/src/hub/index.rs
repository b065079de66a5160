//! Which live sockets a committed write's events go to, computed once per event: sockets are indexed by who
//! they are (an admin, the owner of a shop, a user) and by the topics they subscribed, so an event looks up
//! its audience instead of every socket filtering every event.
//!
//! Invariant: a batch reaches a member at most once, and only when one of its events is of a topic the member
//! subscribed and visible to the member's user ([`Audience::visible_to`]); [`Index::routed`] is the last seq
//! routed, so a member that subscribes a topic gets every event of it after that seq.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use protocol::{Role, Seq, ShopId, Topic, UserId};

use crate::events::{StoredEvent, Viewer};

/// The events of one committed write, in seq order: they reach a socket together, in one WebSocket write.
#[derive(Debug)]
pub struct Batch {
    pub events: Vec<StoredEvent>,
}

impl Batch {
    /// The batch's highest seq (`None` when empty).
    pub fn last_seq(&self) -> Option<Seq> {
        self.events.last().map(|event| event.seq)
    }
}

/// A set of topics, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TopicSet(u8);

impl TopicSet {
    fn bit(topic: Topic) -> u8 {
        1 << topic_index(topic)
    }

    pub fn contains(self, topic: Topic) -> bool {
        self.0 & Self::bit(topic) != 0
    }

    /// The topics of `self` that `other` lacks.
    pub fn without(self, other: TopicSet) -> TopicSet {
        TopicSet(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<Topic> for TopicSet {
    fn from_iter<I: IntoIterator<Item = Topic>>(topics: I) -> Self {
        TopicSet(topics.into_iter().fold(0, |bits, topic| bits | Self::bit(topic)))
    }
}

fn topic_index(topic: Topic) -> usize {
    match topic {
        Topic::Dashboard => 0,
        Topic::Orders => 1,
        Topic::Products => 2,
        Topic::Notifications => 3,
        Topic::Catalog => 4,
    }
}

/// What offering a batch to a member's queue gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Queued,
    /// The queue is full: the member lags and is dropped (its socket closes with 1013 once it has sent what
    /// its queue holds).
    Full,
    /// The socket is gone.
    Gone,
}

/// Where a member's batches go.
pub trait Sink {
    fn offer(&mut self, batch: &Arc<Batch>) -> Offer;
    /// Called once when the member is dropped for lagging, before the sink itself is dropped.
    fn lagged(&mut self);
}

/// A member's handle in the index.
pub type MemberId = u64;

#[derive(Debug)]
struct Member<S> {
    viewer: Viewer,
    topics: TopicSet,
    /// The routing round that last offered this member a batch (one offer per batch).
    round: u64,
    sink: S,
}

/// What routing one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    /// Members offered the batch.
    pub offered: usize,
    /// Members dropped because their queue was full.
    pub lagged: usize,
}

/// The live sockets, indexed by audience and topic.
#[derive(Debug)]
pub struct Index<S> {
    routed: Seq,
    next_id: MemberId,
    round: u64,
    members: HashMap<MemberId, Member<S>>,
    admins: HashSet<MemberId>,
    owners: HashMap<ShopId, HashSet<MemberId>>,
    users: HashMap<UserId, HashSet<MemberId>>,
    by_topic: [HashSet<MemberId>; Topic::ALL.len()],
}

impl<S> Default for Index<S> {
    fn default() -> Self {
        Self {
            routed: 0,
            next_id: 0,
            round: 0,
            members: HashMap::new(),
            admins: HashSet::new(),
            owners: HashMap::new(),
            users: HashMap::new(),
            by_topic: Default::default(),
        }
    }
}

impl<S: Sink> Index<S> {
    /// An empty index whose stream starts after `routed` (cluster mode: the seq committed at start).
    pub fn starting_at(routed: Seq) -> Self {
        Self { routed, ..Self::default() }
    }

    /// Drops every member as lagging (their sockets close with 1013 and their clients resume): the stream
    /// cannot be given to them in order any more. Returns how many.
    pub fn drop_all(&mut self) -> usize {
        let ids: Vec<MemberId> = self.members.keys().copied().collect();
        for id in &ids {
            if let Some(mut sink) = self.leave(*id) {
                sink.lagged();
            }
        }
        ids.len()
    }

    /// The highest seq routed so far.
    pub fn routed(&self) -> Seq {
        self.routed
    }

    /// Live members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Adds a member; it gets the batches routed from now on.
    pub fn join(&mut self, viewer: Viewer, topics: TopicSet, sink: S) -> MemberId {
        let id = self.next_id;
        self.next_id += 1;
        self.members.insert(id, Member { viewer, topics: TopicSet::default(), round: 0, sink });
        self.index_viewer(id, viewer);
        self.set_topics(id, topics);
        id
    }

    /// Replaces a member's topics; returns [`Index::routed`]: every event of a new topic after it will reach
    /// the member.
    pub fn set_topics(&mut self, id: MemberId, topics: TopicSet) -> Seq {
        if let Some(member) = self.members.get_mut(&id) {
            member.topics = topics;
            for topic in Topic::ALL {
                let members = &mut self.by_topic[topic_index(topic)];
                if topics.contains(topic) {
                    members.insert(id);
                } else {
                    members.remove(&id);
                }
            }
        }
        self.routed
    }

    /// A member's user changed (a renewed token may carry another role or shop).
    pub fn set_viewer(&mut self, id: MemberId, viewer: Viewer) {
        let Some(member) = self.members.get_mut(&id) else { return };
        let old = std::mem::replace(&mut member.viewer, viewer);
        if old != viewer {
            self.unindex_viewer(id, old);
            self.index_viewer(id, viewer);
        }
    }

    /// Removes a member (its socket closed); nothing of it remains.
    pub fn leave(&mut self, id: MemberId) -> Option<S> {
        let member = self.members.remove(&id)?;
        self.unindex_viewer(id, member.viewer);
        for members in &mut self.by_topic {
            members.remove(&id);
        }
        Some(member.sink)
    }

    /// Offers the batch to every member that should get one of its events, once each; drops members whose
    /// queue is full or gone.
    pub fn route(&mut self, batch: &Arc<Batch>) -> Routed {
        self.round += 1;
        let round = self.round;
        let mut routed = Routed::default();
        let mut dropped = Vec::new();
        for event in &batch.events {
            let audience = &event.audience;
            let index = topic_index(event.topic);
            let candidates: Box<dyn Iterator<Item = &MemberId>> = if audience.public {
                // Public events are few (the catalog): every subscriber of the topic is a candidate.
                Box::new(self.by_topic[index].iter())
            } else {
                let user = audience.user_id.and_then(|user| self.users.get(&user));
                let admins = audience.for_admin.then_some(&self.admins);
                let owners = audience.shop_id.and_then(|shop| self.owners.get(&shop));
                Box::new(user.into_iter().chain(admins).chain(owners).flatten())
            };
            for id in candidates {
                let Some(member) = self.members.get_mut(id) else { continue };
                if member.round == round || !member.topics.contains(event.topic) || !audience.visible_to(member.viewer)
                {
                    continue;
                }
                member.round = round;
                match member.sink.offer(batch) {
                    Offer::Queued => routed.offered += 1,
                    Offer::Full => {
                        member.sink.lagged();
                        routed.lagged += 1;
                        dropped.push(*id);
                    }
                    Offer::Gone => dropped.push(*id),
                }
            }
        }
        for id in dropped {
            self.leave(id);
        }
        if let Some(last) = batch.last_seq() {
            self.routed = self.routed.max(last);
        }
        routed
    }

    fn index_viewer(&mut self, id: MemberId, viewer: Viewer) {
        self.users.entry(viewer.id).or_default().insert(id);
        match (viewer.role, viewer.shop) {
            (Role::Admin, _) => {
                self.admins.insert(id);
            }
            (Role::Owner, Some(shop)) => {
                self.owners.entry(shop).or_default().insert(id);
            }
            _ => {}
        }
    }

    fn unindex_viewer(&mut self, id: MemberId, viewer: Viewer) {
        remove_from(&mut self.users, viewer.id, id);
        self.admins.remove(&id);
        if let Some(shop) = viewer.shop {
            remove_from(&mut self.owners, shop, id);
        }
    }
}

/// Removes `id` from the set under `key`, and the set when it empties (no key lingers after its sockets).
fn remove_from<K: std::hash::Hash + Eq>(map: &mut HashMap<K, HashSet<MemberId>>, key: K, id: MemberId) {
    if let Some(set) = map.get_mut(&key) {
        set.remove(&id);
        if set.is_empty() {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests;
