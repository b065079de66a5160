//! One connection for all the tabs of a browser: the sans-IO rules of the leader tab and its followers.
//!
//! The tab holding the Web Lock leads: it runs the connection machine and relays every event, with its seq,
//! to the other tabs over a `BroadcastChannel`; the followers feed the same live layer and drop what they
//! already applied by seq. When the leader goes (closed, crashed, frozen), the next tab granted the lock asks
//! every tab for the newest seq it applied and resumes after the lowest of them, so no tab misses an event and
//! none applies one twice (each drops what it has). The leader subscribes the union of every tab's topics and
//! keeps the socket open while any tab is visible.
//!
//! Invariant: no browser API, no clock: the driver feeds [`Input`]s with `now` and carries out the
//! [`Action`]s; at most one tab of those that hear each other leads (a second leader steps down).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use protocol::{Seq, ServerMsg, Topic};

use super::machine::Millis;

/// A tab's random identity for its life.
pub type TabId = u64;

/// Every tab says it is there this often (the leader with [`Wire::Leading`]).
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A tab not heard from for this long is gone (closed without a word, or throttled in the background): it no
/// longer counts, and its topics are dropped. A hidden tab's timers may fire once a minute, so its topics are
/// dropped after [`HIDDEN_PEER_TIMEOUT`] instead.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(7);
/// A hidden tab's timers are throttled (once a minute after five minutes hidden): it is gone after this.
pub const HIDDEN_PEER_TIMEOUT: Duration = Duration::from_secs(150);
/// A new leader waits this long for the other tabs' newest seqs before it connects.
pub const HANDOVER_WAIT: Duration = Duration::from_millis(150);

mod types;

pub use types::{Action, Input, Role, Wire};

#[derive(Debug, Clone)]
struct Peer {
    heard: Millis,
    applied: Option<Seq>,
    visible: bool,
    topics: BTreeSet<Topic>,
}

/// The tab's side of the sharing.
#[derive(Debug)]
pub struct Tabs {
    me: TabId,
    role: Role,
    /// The newest seq this tab applied.
    applied: Option<Seq>,
    visible: bool,
    topics: BTreeSet<Topic>,
    peers: BTreeMap<TabId, Peer>,
    /// The leader last heard, and how many tabs it said share the connection.
    leader: Option<(TabId, usize)>,
    /// Whether the connection carries events: this tab's own when it leads, the leader's as last said.
    connected: bool,
    /// What the app was last told by [`Action::Sharing`].
    reported: Option<(bool, usize)>,
    /// The tab said bye (closing or frozen): it answers nothing until it is back.
    left: bool,
    /// What the connection was last told: its topics and whether any tab is visible.
    subscribed: Option<BTreeSet<Topic>>,
    any_visible: Option<bool>,
    next_heartbeat: Millis,
    actions: VecDeque<Action>,
}

impl Tabs {
    /// A tab that just opened: it says hello and follows until it is granted the lock.
    pub fn new(me: TabId, visible: bool, now: Millis) -> Self {
        let mut tabs = Self {
            me,
            role: Role::Follower,
            applied: None,
            visible,
            topics: BTreeSet::new(),
            peers: BTreeMap::new(),
            leader: None,
            connected: false,
            reported: None,
            left: false,
            subscribed: None,
            any_visible: None,
            next_heartbeat: now + HEARTBEAT,
            actions: VecDeque::new(),
        };
        tabs.post(Wire::Hello { from: me });
        tabs.actions.push_back(Action::RequestLock);
        tabs
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether events flow: over this tab's connection when it leads, the leader's as it last said.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// This tab's identity.
    pub fn id(&self) -> TabId {
        self.me
    }

    /// Tabs sharing the connection, this one included (as the leader counts them).
    pub fn tab_count(&self) -> usize {
        match self.role {
            Role::Follower => self.leader.map_or(1 + self.peers.len(), |(_, tabs)| tabs),
            Role::Electing { .. } | Role::Leader => 1 + self.peers.len(),
        }
    }

    /// The newest seq this tab applied.
    pub fn applied(&self) -> Option<Seq> {
        self.applied
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call [`Tabs::handle_timeout`].
    pub fn poll_timeout(&self) -> Millis {
        match self.role {
            Role::Electing { connect_at } => connect_at.min(self.next_heartbeat),
            Role::Follower | Role::Leader => self.next_heartbeat,
        }
    }

    /// Feeds one input at `now`.
    pub fn handle(&mut self, input: Input, now: Millis) {
        self.on_input(input, now);
        self.report();
    }

    /// The time of [`Tabs::poll_timeout`] came.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.on_timeout(now);
        self.report();
    }

    /// Tells the app when whether this tab leads, or how many tabs share, changed.
    fn report(&mut self) {
        let now = (self.role != Role::Follower, self.tab_count());
        if self.reported != Some(now) {
            self.reported = Some(now);
            self.actions.push_back(Action::Sharing { leads: now.0, tabs: now.1 });
        }
    }

    fn on_input(&mut self, input: Input, now: Millis) {
        match input {
            // Granted just as the tab left (the request was being withdrawn): let it go again.
            Input::LockGranted if self.left => self.actions.push_back(Action::ReleaseLock),
            Input::LockGranted => {
                if self.role == Role::Follower {
                    self.role = Role::Electing { connect_at: now + HANDOVER_WAIT };
                    self.leader = None;
                    self.connected = false;
                    // Only the answers to this handover count: a tab that does not answer (closed, or the old
                    // leader) must not hold the resume point with what it said earlier.
                    for peer in self.peers.values_mut() {
                        peer.applied = None;
                    }
                    self.post(Wire::Handover { from: self.me });
                }
            }
            Input::Received(_) if self.left => {}
            Input::Received(wire) => self.received(wire, now),
            Input::Delivered(msg) => {
                if self.role == Role::Leader {
                    // Relayed even when this tab has it: after a handover the replay starts at the lowest seq
                    // any tab applied, and the tabs that lack it need it.
                    if self.apply(&msg) {
                        self.actions.push_back(Action::Deliver(msg.clone()));
                    }
                    self.post(Wire::Event { from: self.me, msg });
                }
            }
            Input::Resynced => {
                if self.role == Role::Leader {
                    self.actions.push_back(Action::Resync);
                    self.post(Wire::Resync { from: self.me });
                }
            }
            Input::Connected(connected) => {
                if self.role == Role::Leader && connected != self.connected {
                    self.connected = connected;
                    self.post_leading();
                }
            }
            Input::Topics(topics) => {
                if topics != self.topics {
                    self.topics = topics;
                    self.say_here();
                    self.update_connection();
                }
            }
            Input::Visible(visible) => {
                if visible != self.visible {
                    self.visible = visible;
                    self.say_here();
                    self.update_connection();
                }
            }
            Input::Leaving => {
                if self.role != Role::Follower {
                    self.actions.push_back(Action::Disconnect);
                    self.actions.push_back(Action::LeaderConnected(false));
                }
                self.connected = false;
                self.role = Role::Follower;
                self.leader = None;
                self.left = true;
                self.actions.push_back(Action::ReleaseLock);
                self.post(Wire::Bye { from: self.me });
            }
            Input::Back => {
                self.left = false;
                self.peers.clear();
                self.post(Wire::Hello { from: self.me });
                self.actions.push_back(Action::RequestLock);
            }
        }
    }

    fn on_timeout(&mut self, now: Millis) {
        if self.left {
            self.next_heartbeat = now + HEARTBEAT;
            return;
        }
        if let Role::Electing { connect_at } = self.role
            && now >= connect_at
        {
            self.role = Role::Leader;
            let resume_after = self.resume_point();
            let topics = self.union_topics();
            self.subscribed = Some(topics.clone());
            self.actions.push_back(Action::Connect { resume_after, topics });
            self.any_visible = None;
            self.update_connection();
            self.post_leading();
        }
        if now >= self.next_heartbeat {
            self.next_heartbeat = now + HEARTBEAT;
            self.forget_silent_peers(now);
            match self.role {
                Role::Leader => self.post_leading(),
                Role::Follower | Role::Electing { .. } => self.say_here(),
            }
        }
    }

    fn received(&mut self, wire: Wire, now: Millis) {
        match wire {
            Wire::Hello { from } => {
                self.heard(from, now);
                self.say_here();
                if self.role == Role::Leader {
                    self.post_leading();
                }
            }
            Wire::Here { from, applied, visible, topics } => {
                let peer = self.heard(from, now);
                peer.applied = applied;
                peer.visible = visible;
                peer.topics = topics.into_iter().collect();
                self.update_connection();
            }
            Wire::Handover { from } => {
                self.heard(from, now);
                if self.role == Role::Leader {
                    // The lock was granted to another tab while this one leads (it lost the lock unnoticed).
                    self.step_down(from);
                }
                self.leader = Some((from, self.leader.map_or(0, |(_, tabs)| tabs)));
                self.say_here();
            }
            Wire::Leading { from, tabs, connected } => {
                self.heard(from, now);
                if self.role == Role::Leader && from != self.me {
                    // Two leaders: the one with the smaller id keeps the connection.
                    if from < self.me {
                        self.step_down(from);
                    } else {
                        self.post_leading();
                        return;
                    }
                }
                self.leader = Some((from, tabs));
                self.leader_connected(connected);
            }
            Wire::Event { from, msg } => {
                self.heard(from, now);
                if self.role == Role::Follower && self.apply(&msg) {
                    self.actions.push_back(Action::Deliver(msg));
                }
            }
            Wire::Resync { from } => {
                self.heard(from, now);
                if self.role == Role::Follower {
                    self.actions.push_back(Action::Resync);
                }
            }
            Wire::Bye { from } => {
                self.peers.remove(&from);
                if self.leader.is_some_and(|(leader, _)| leader == from) {
                    self.leader = None;
                    self.leader_connected(false);
                }
                self.update_connection();
            }
        }
    }

    /// Records a delivery; `true` when it is new here (events without a seq always are).
    fn apply(&mut self, msg: &ServerMsg) -> bool {
        match msg.seq() {
            Some(seq) if self.applied.is_some_and(|applied| seq <= applied) => false,
            Some(seq) => {
                self.applied = Some(seq);
                true
            }
            None => true,
        }
    }

    /// Where a new leader resumes: after the lowest newest-seq among the tabs that applied any (every tab
    /// then gets what it lacks; each drops what it already has). `None` when no tab applied anything.
    fn resume_point(&self) -> Option<Seq> {
        self.peers.values().filter_map(|peer| peer.applied).chain(self.applied).min()
    }

    fn union_topics(&self) -> BTreeSet<Topic> {
        let mut topics = self.topics.clone();
        for peer in self.peers.values() {
            topics.extend(peer.topics.iter().copied());
        }
        topics
    }

    /// Tells the connection (when leading) the topics and visibility of every tab, when they changed.
    fn update_connection(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let topics = self.union_topics();
        if self.subscribed.as_ref() != Some(&topics) {
            self.subscribed = Some(topics.clone());
            self.actions.push_back(Action::Subscribe(topics));
        }
        let any_visible = self.visible || self.peers.values().any(|peer| peer.visible);
        if self.any_visible != Some(any_visible) {
            self.any_visible = Some(any_visible);
            self.actions.push_back(Action::AnyVisible(any_visible));
        }
    }

    /// A follower's view of the leader's connection changed (or not).
    fn leader_connected(&mut self, connected: bool) {
        if self.role == Role::Follower && connected != self.connected {
            self.connected = connected;
            self.actions.push_back(Action::LeaderConnected(connected));
        }
    }

    fn post_leading(&mut self) {
        self.post(Wire::Leading { from: self.me, tabs: self.tab_count(), connected: self.connected });
    }

    fn step_down(&mut self, leader: TabId) {
        self.role = Role::Follower;
        self.connected = false;
        self.actions.push_back(Action::LeaderConnected(false));
        self.subscribed = None;
        self.any_visible = None;
        self.leader = Some((leader, 0));
        self.actions.push_back(Action::Disconnect);
        self.actions.push_back(Action::ReleaseLock);
        self.actions.push_back(Action::RequestLock);
    }

    fn heard(&mut self, from: TabId, now: Millis) -> &mut Peer {
        let peer = self.peers.entry(from).or_insert_with(|| Peer {
            heard: now,
            applied: None,
            visible: true,
            topics: BTreeSet::new(),
        });
        peer.heard = now;
        peer
    }

    fn forget_silent_peers(&mut self, now: Millis) {
        let before = self.peers.len();
        self.peers.retain(|_, peer| {
            let timeout = if peer.visible { PEER_TIMEOUT } else { HIDDEN_PEER_TIMEOUT };
            now < peer.heard + timeout
        });
        if self.peers.len() != before {
            self.update_connection();
        }
    }

    fn say_here(&mut self) {
        let here = Wire::Here {
            from: self.me,
            applied: self.applied,
            visible: self.visible,
            topics: self.topics.iter().copied().collect(),
        };
        self.post(here);
    }

    fn post(&mut self, wire: Wire) {
        self.actions.push_back(Action::Post(wire));
    }
}

#[cfg(test)]
mod tests;
