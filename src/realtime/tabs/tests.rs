//! The tab rules, stepped by hand in a simulated browser: a Web Lock granted in request order, a channel that
//! carries each post to every other open tab, and the server's event log behind whichever tab connects.

use super::*;
use crate::realtime::machine::tests::note as event;

/// One simulated tab: its rules and what reached its live layer.
struct Tab {
    tabs: Tabs,
    open: bool,
    delivered: Vec<Seq>,
    resyncs: usize,
    /// Set while connected: the topics and whether any tab is visible, as last told.
    connected: Option<(BTreeSet<Topic>, bool)>,
    connects: Vec<Option<Seq>>,
    /// The last `Sharing` report.
    sharing: Option<(bool, usize)>,
}

/// Tabs of one browser: the lock, the channel, the time and the server's log.
struct Browser {
    tabs: Vec<Tab>,
    lock: Option<usize>,
    waiting: VecDeque<usize>,
    now: Millis,
    log: Vec<Seq>,
    /// Posts of the given tab that the channel drops (a tab that crashes while posting).
    deaf: Option<usize>,
    /// A tab that posts do not reach (one that misses frames).
    missing: Option<usize>,
}

impl Browser {
    fn new(count: usize) -> Self {
        let mut browser = Browser {
            tabs: Vec::new(),
            lock: None,
            waiting: VecDeque::new(),
            now: Millis(1_000),
            log: Vec::new(),
            deaf: None,
            missing: None,
        };
        for _ in 0..count {
            browser.open_tab();
        }
        browser.settle();
        browser
    }

    fn open_tab(&mut self) -> usize {
        let index = self.tabs.len();
        let tabs = Tabs::new(100 + index as TabId, true, self.now);
        self.tabs.push(Tab {
            tabs,
            open: true,
            delivered: Vec::new(),
            resyncs: 0,
            connected: None,
            connects: Vec::new(),
            sharing: None,
        });
        self.run();
        index
    }

    fn input(&mut self, tab: usize, input: Input) {
        self.tabs[tab].tabs.handle(input, self.now);
        self.run();
    }

    /// Carries out every action of every tab until none is left.
    fn run(&mut self) {
        loop {
            let mut progressed = false;
            for index in 0..self.tabs.len() {
                while let Some(action) = self.tabs[index].tabs.poll_action() {
                    progressed = true;
                    self.perform(index, action);
                }
            }
            self.grant();
            if !progressed {
                return;
            }
        }
    }

    fn perform(&mut self, index: usize, action: Action) {
        match action {
            Action::Post(wire) => {
                if !self.tabs[index].open || self.deaf == Some(index) {
                    return;
                }
                for other in 0..self.tabs.len() {
                    if other != index && self.tabs[other].open && self.missing != Some(other) {
                        self.tabs[other].tabs.handle(Input::Received(wire.clone()), self.now);
                    }
                }
            }
            Action::Connect { resume_after, topics } => {
                let tab = &mut self.tabs[index];
                tab.connects.push(resume_after);
                tab.connected = Some((topics, true));
                // The server replays what was committed after the resume point.
                let replay: Vec<Seq> =
                    self.log.iter().copied().filter(|seq| resume_after.is_none_or(|after| *seq > after)).collect();
                if resume_after.is_some() {
                    for seq in replay {
                        self.tabs[index].tabs.handle(Input::Delivered(event(seq)), self.now);
                    }
                }
            }
            Action::Subscribe(topics) => {
                if let Some((now, _)) = &mut self.tabs[index].connected {
                    *now = topics;
                }
            }
            Action::AnyVisible(visible) => {
                if let Some((_, now)) = &mut self.tabs[index].connected {
                    *now = visible;
                }
            }
            Action::Disconnect => self.tabs[index].connected = None,
            Action::ReleaseLock => {
                self.waiting.retain(|waiting| *waiting != index);
                if self.lock == Some(index) {
                    self.lock = None;
                }
            }
            Action::RequestLock => {
                if self.lock != Some(index) && !self.waiting.contains(&index) {
                    self.waiting.push_back(index);
                }
            }
            Action::Deliver(msg) => self.tabs[index].delivered.push(msg.seq().unwrap()),
            Action::Resync => self.tabs[index].resyncs += 1,
            Action::LeaderConnected(_) => {}
            Action::Sharing { leads, tabs } => self.tabs[index].sharing = Some((leads, tabs)),
        }
    }

    fn grant(&mut self) {
        if self.lock.is_none()
            && let Some(next) = self.waiting.pop_front()
        {
            self.lock = Some(next);
            self.tabs[next].tabs.handle(Input::LockGranted, self.now);
        }
    }

    /// Lets time pass in 50 ms steps, firing every due timeout.
    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while self.now < end {
            self.now = (self.now + Duration::from_millis(50)).min(end);
            for index in 0..self.tabs.len() {
                if self.tabs[index].open && self.tabs[index].tabs.poll_timeout() <= self.now {
                    self.tabs[index].tabs.handle_timeout(self.now);
                }
            }
            self.run();
        }
    }

    fn settle(&mut self) {
        self.advance(HANDOVER_WAIT + Duration::from_millis(100));
    }

    /// The server commits an event; the connected tab's socket delivers it.
    fn commit(&mut self, seq: Seq) {
        self.log.push(seq);
        if let Some(leader) = self.connected() {
            self.input(leader, Input::Delivered(event(seq)));
        }
    }

    /// The tabs holding a connection.
    fn connected_tabs(&self) -> Vec<usize> {
        (0..self.tabs.len()).filter(|i| self.tabs[*i].open && self.tabs[*i].connected.is_some()).collect()
    }

    fn connected(&self) -> Option<usize> {
        let connected = self.connected_tabs();
        assert!(connected.len() <= 1, "two connections: {connected:?}");
        connected.first().copied()
    }

    /// The tab closes: it says bye (when it can) and the browser frees its lock.
    fn close(&mut self, tab: usize, cleanly: bool) {
        if cleanly {
            self.input(tab, Input::Leaving);
        }
        self.tabs[tab].open = false;
        self.tabs[tab].connected = None;
        self.waiting.retain(|waiting| *waiting != tab);
        if self.lock == Some(tab) {
            self.lock = None;
        }
        self.run();
    }
}

#[test]
fn one_tab_of_three_connects_and_every_tab_applies_every_event_once() {
    let mut browser = Browser::new(3);
    assert_eq!(browser.connected(), Some(0));
    assert_eq!(browser.tabs[0].connects, [None], "nothing applied anywhere: a fresh start");
    assert_eq!(browser.tabs[0].tabs.role(), Role::Leader);
    for seq in [3, 5, 8] {
        browser.commit(seq);
    }
    for tab in &browser.tabs {
        assert_eq!(tab.delivered, [3, 5, 8]);
        assert_eq!(tab.tabs.tab_count(), 3);
    }
}

#[test]
fn a_follower_drops_an_event_it_already_applied() {
    let mut browser = Browser::new(2);
    browser.commit(4);
    // The same relay twice (the leader's socket resumed and replayed it).
    browser.input(1, Input::Received(Wire::Event { from: 100, msg: event(4) }));
    browser.input(1, Input::Received(Wire::Event { from: 100, msg: event(3) }));
    assert_eq!(browser.tabs[1].delivered, [4]);
}

#[test]
fn when_the_leader_is_lost_the_next_tab_connects_resuming_where_the_tabs_stopped() {
    for cleanly in [true, false] {
        let mut browser = Browser::new(3);
        browser.commit(1);
        browser.commit(2);
        browser.close(0, cleanly);
        // Written during the handover, before anyone holds the socket.
        browser.log.push(3);
        browser.settle();
        assert_eq!(browser.connected(), Some(1), "cleanly: {cleanly}");
        assert_eq!(browser.tabs[1].connects, [Some(2)]);
        browser.commit(4);
        for tab in &browser.tabs[1..] {
            assert_eq!(tab.delivered, [1, 2, 3, 4], "cleanly: {cleanly}");
        }
    }
}

#[test]
fn a_follower_that_missed_frames_during_a_handover_gets_them_from_the_next_leader() {
    let mut browser = Browser::new(3);
    browser.commit(1);
    // The relay of 2 does not reach tab 2; the leader then crashes while relaying 3.
    browser.missing = Some(2);
    browser.commit(2);
    browser.missing = None;
    browser.deaf = Some(0);
    browser.commit(3);
    browser.close(0, false);
    browser.deaf = None;
    browser.settle();
    assert_eq!(browser.connected(), Some(1));
    assert_eq!(browser.tabs[1].connects, [Some(1)], "after the lowest seq any tab applied (tab 2's)");
    for tab in &browser.tabs[1..] {
        assert_eq!(tab.delivered, [1, 2, 3], "each tab gets what it lacks, once");
    }

    // A tab opened later has applied nothing: it does not hold the resume point back.
    let late = browser.open_tab();
    browser.settle();
    browser.commit(4);
    browser.close(1, false);
    browser.settle();
    assert_eq!(browser.connected(), Some(2));
    assert_eq!(browser.tabs[2].connects, [Some(4)]);
    browser.commit(5);
    assert_eq!(browser.tabs[2].delivered, [1, 2, 3, 4, 5]);
    assert_eq!(browser.tabs[late].delivered, [4, 5], "a tab opened later applies what came after it");
}

#[test]
fn of_two_leaders_one_steps_down() {
    let mut browser = Browser::new(2);
    assert_eq!(browser.connected(), Some(0));
    // Tab 1 believes it got the lock (a browser bug, or starved timers): it asks for a handover.
    browser.input(1, Input::LockGranted);
    browser.settle();
    assert_eq!(browser.connected_tabs(), [1], "the old leader stepped down");
    assert!(browser.waiting.contains(&0), "and queued for the lock again");

    // Two leaders hear each other's heartbeat: the one with the larger id steps down.
    let mut a = Tabs::new(7, true, Millis(0));
    let mut b = Tabs::new(9, true, Millis(0));
    for tabs in [&mut a, &mut b] {
        tabs.handle(Input::LockGranted, Millis(0));
        tabs.handle_timeout(Millis(0) + HANDOVER_WAIT);
        while tabs.poll_action().is_some() {}
    }
    b.handle(Input::Received(Wire::Leading { from: 7, tabs: 1, connected: true }), Millis(500));
    a.handle(Input::Received(Wire::Leading { from: 9, tabs: 1, connected: true }), Millis(500));
    assert_eq!((a.role(), b.role()), (Role::Leader, Role::Follower));
    let actions: Vec<Action> = std::iter::from_fn(|| b.poll_action()).collect();
    assert!(actions.contains(&Action::Disconnect) && actions.contains(&Action::RequestLock), "{actions:?}");
}

#[test]
fn the_leader_subscribes_every_tabs_topics_and_stays_visible_while_any_tab_is() {
    let mut browser = Browser::new(2);
    browser.input(0, Input::Topics([Topic::Orders].into()));
    browser.input(1, Input::Topics([Topic::Products, Topic::Dashboard].into()));
    let expected: BTreeSet<Topic> = [Topic::Orders, Topic::Products, Topic::Dashboard].into();
    assert_eq!(browser.tabs[0].connected.as_ref().unwrap().0, expected);
    browser.input(0, Input::Visible(false));
    assert!(browser.tabs[0].connected.as_ref().unwrap().1, "the follower is visible");
    browser.input(1, Input::Visible(false));
    assert!(!browser.tabs[0].connected.as_ref().unwrap().1, "no tab is visible");
    // The follower closes without a word: after the timeout its topics are dropped.
    browser.input(1, Input::Visible(true));
    browser.close(1, false);
    browser.advance(PEER_TIMEOUT + HEARTBEAT);
    assert_eq!(browser.tabs[0].connected.as_ref().unwrap().0, [Topic::Orders].into());
    assert_eq!(browser.tabs[0].tabs.tab_count(), 1);
}

#[test]
fn a_frozen_leader_lets_the_lock_go_and_queues_again_when_it_runs() {
    let mut browser = Browser::new(2);
    browser.commit(1);
    browser.input(0, Input::Leaving);
    browser.tabs[0].open = false;
    browser.settle();
    assert_eq!(browser.connected(), Some(1));
    browser.tabs[0].open = true;
    browser.input(0, Input::Back);
    browser.settle();
    assert_eq!(browser.connected(), Some(1), "the tab that came back follows");
    browser.commit(2);
    assert_eq!(browser.tabs[0].delivered, [1, 2]);
    assert_eq!(browser.tabs[0].tabs.tab_count(), 2);
}

#[test]
fn a_resync_reaches_every_tab() {
    let mut browser = Browser::new(3);
    browser.input(0, Input::Resynced);
    assert!(browser.tabs.iter().all(|tab| tab.resyncs == 1));
}

#[test]
fn the_wire_messages_round_trip_as_json() {
    let wire = Wire::Here { from: 5, applied: Some(9), visible: false, topics: vec![Topic::Orders] };
    let text = serde_json::to_string(&wire).unwrap();
    assert_eq!(serde_json::from_str::<Wire>(&text).unwrap(), wire);
    assert_eq!(serde_json::to_value(Wire::Bye { from: 5 }).unwrap(), serde_json::json!({"bye": {"from": 5}}));
    let relayed = Wire::Event { from: 5, msg: event(4) };
    let text = serde_json::to_string(&relayed).unwrap();
    assert_eq!(serde_json::from_str::<Wire>(&text).unwrap(), relayed, "an event inside keeps its frame's shape");
    assert!(serde_json::from_str::<Wire>(r#"{"nonsense":{"from":5}}"#).is_err());
    assert!(serde_json::from_str::<Wire>(r#"{"event":{"from":5,"msg":{"type":"nonsense"}}}"#).is_err());
}

#[test]
fn followers_know_whether_the_leaders_connection_carries_events() {
    let mut browser = Browser::new(3);
    assert!(!browser.tabs[1].tabs.connected());
    browser.input(0, Input::Connected(true));
    assert!(browser.tabs.iter().all(|tab| tab.tabs.connected()));
    browser.input(0, Input::Connected(false));
    assert!(!browser.tabs[2].tabs.connected());
    browser.input(0, Input::Connected(true));
    // The leader goes: nobody's connection carries events until the next leader's does.
    browser.close(0, true);
    assert!(!browser.tabs[2].tabs.connected());
    browser.settle();
    browser.input(1, Input::Connected(true));
    assert!(browser.tabs[2].tabs.connected() && browser.tabs[1].tabs.connected());
}

#[test]
fn each_tab_reports_whether_it_leads_and_how_many_tabs_share() {
    let mut browser = Browser::new(3);
    let reports: Vec<_> = browser.tabs.iter().map(|tab| tab.sharing).collect();
    assert_eq!(reports, [Some((true, 3)), Some((false, 3)), Some((false, 3))]);
    browser.close(0, true);
    browser.settle();
    let reports: Vec<_> = browser.tabs[1..].iter().map(|tab| tab.sharing).collect();
    assert_eq!(reports, [Some((true, 2)), Some((false, 2))]);
}
