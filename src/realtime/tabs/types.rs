//! The tab rules' interface: the messages between tabs (`Wire`), what the driver reports (`Input`), what the
//! rules ask (`Action`) and what a tab is (`Role`).

use std::collections::BTreeSet;

use protocol::{Seq, ServerMsg, Topic};
use serde::{Deserialize, Serialize};

use super::TabId;
use crate::realtime::machine::Millis;

/// A message between tabs, externally tagged (`{"hello": {"from": 1}}`): serde decodes that shape without
/// buffering, where an internally tagged one costs a second decoder of every type inside (17.6 KB of wasm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wire {
    /// A tab opened: every tab answers with `Here`.
    Hello { from: TabId },
    /// A tab is there: the newest seq it applied, whether it is visible, the topics its page needs.
    Here { from: TabId, applied: Option<Seq>, visible: bool, topics: Vec<Topic> },
    /// The leader holds the connection; `tabs` share it; whether events flow over it now.
    Leading {
        from: TabId,
        tabs: usize,
        #[serde(default)]
        connected: bool,
    },
    /// The leader asks every tab for its newest applied seq (answered with `Here`).
    Handover { from: TabId },
    /// An event, relayed by the leader.
    Event { from: TabId, msg: ServerMsg },
    /// Events may have been missed: every tab refetches.
    Resync { from: TabId },
    /// A tab closes or freezes.
    Bye { from: TabId },
}

/// Something that happened, reported by the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The Web Lock was granted to this tab.
    LockGranted,
    /// A message from another tab.
    Received(Wire),
    /// This tab's connection (it leads) delivered an event.
    Delivered(ServerMsg),
    /// This tab's connection asks for a resync.
    Resynced,
    /// This tab's connection is authenticated and events flow (`true`), or not.
    Connected(bool),
    /// The topics this tab's page needs now.
    Topics(BTreeSet<Topic>),
    /// This tab became visible or hidden.
    Visible(bool),
    /// This tab is being closed or frozen: it steps down, lets the lock go and says so.
    Leaving,
    /// This tab runs again after a freeze: it says hello and waits for the lock again.
    Back,
}

/// Something the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Post this message on the channel.
    Post(Wire),
    /// Start the connection with these topics, resuming after the seq (`None`: a fresh start).
    Connect { resume_after: Option<Seq>, topics: BTreeSet<Topic> },
    /// The connection's topics are now these (the union of every tab's).
    Subscribe(BTreeSet<Topic>),
    /// Whether any tab sharing the connection is visible (the connection pauses only when none is).
    AnyVisible(bool),
    /// Stop the connection: this tab no longer leads.
    Disconnect,
    /// Let the Web Lock go (a frozen tab must not hold it, nor wait for it).
    ReleaseLock,
    /// Ask for the Web Lock (again).
    RequestLock,
    /// Hand the event to this tab's live layer.
    Deliver(ServerMsg),
    /// Refetch everything this tab shows.
    Resync,
    /// A follower learnt whether the leader's connection carries events now.
    LeaderConnected(bool),
    /// Whether this tab leads (or is taking over), and how many tabs share the connection, when that changed.
    Sharing { leads: bool, tabs: usize },
}

/// What this tab is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Waiting for the lock, events come from the leader.
    Follower,
    /// Granted the lock; connecting once the other tabs said what they applied (at `connect_at`).
    Electing { connect_at: Millis },
    /// Holding the connection.
    Leader,
}
