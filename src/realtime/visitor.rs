//! The signed-out catalog's live feed: a visitor has no token, so no socket; it polls `GET /api/events` without
//! an `Authorization` header, which answers the public events only (the catalog's changes). This is the pure
//! rule of that poll: when to ask, from which seq, and what an answer means.
//!
//! Invariant: one request at a time; each event is handed on once, in seq order; an answer of an older run
//! (stopped, then started again) is ignored; a gap the server cannot fill, or a server on other data, is a
//! resync (refetch what is shown). No clock is read: `now` is passed in.

use std::time::Duration;

use protocol::{EventsPage, Seq, ServerMsg};

use super::machine::Millis;

/// The `after` of the first poll: beyond any history, so the server answers `resync` with its newest seq
/// (no event replayed from the start of the log).
pub const FIRST_CONTACT: Seq = EventsPage::FIRST_CONTACT;
/// Time between polls while the page is shown.
pub const INTERVAL: Duration = Duration::from_secs(5);
/// The longest wait after failed polls (the interval doubles from [`INTERVAL`] up to this).
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A request to make: `GET /api/events?after={after}`, answered with [`VisitorPoll::answered`] and `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    pub after: Seq,
    pub run: u64,
}

/// What an answer asks of the app.
#[derive(Debug, Default, PartialEq)]
pub struct Answer {
    /// Events for the subscribers, in order, none twice.
    pub deliver: Vec<ServerMsg>,
    /// Events may have been missed (or this is the first contact): refetch what is shown.
    pub resync: bool,
}

/// The visitor's poll: runs while wanted (signed out, the storefront open) and the page is visible.
#[derive(Debug)]
pub struct VisitorPoll {
    wanted: bool,
    visible: bool,
    /// Bumped by every start, so that an answer of an earlier run is told apart.
    run: u64,
    last_seq: Option<Seq>,
    next_at: Option<Millis>,
    in_flight: bool,
    failures: u32,
}

impl Default for VisitorPoll {
    fn default() -> Self {
        VisitorPoll {
            wanted: false,
            visible: true,
            run: 0,
            last_seq: None,
            next_at: None,
            in_flight: false,
            failures: 0,
        }
    }
}

impl VisitorPoll {
    /// Starts (signed out) or stops (signed in) polling. A start polls at once and begins with a first contact:
    /// whatever was missed while stopped is refetched, never replayed onto data fetched since.
    pub fn set_wanted(&mut self, wanted: bool, now: Millis) {
        if wanted == self.wanted {
            return;
        }
        self.wanted = wanted;
        self.run += 1;
        self.in_flight = false;
        self.failures = 0;
        self.last_seq = None;
        self.next_at = wanted.then_some(now);
    }

    /// A hidden page does not poll; shown again, it polls at once.
    pub fn set_visible(&mut self, visible: bool, now: Millis) {
        if visible == self.visible {
            return;
        }
        self.visible = visible;
        if visible && self.wanted && !self.in_flight {
            self.next_at = Some(now);
        }
    }

    /// Whether polling runs (wanted and visible).
    pub fn is_running(&self) -> bool {
        self.wanted && self.visible
    }

    /// The request due at `now`, if any; it is then in flight until answered.
    pub fn due(&mut self, now: Millis) -> Option<Fetch> {
        if !self.is_running() || self.in_flight || self.next_at.is_none_or(|at| at > now) {
            return None;
        }
        self.in_flight = true;
        self.next_at = None;
        Some(Fetch { after: self.last_seq.unwrap_or(FIRST_CONTACT), run: self.run })
    }

    /// When to call [`VisitorPoll::due`] next (`None`: no timer).
    pub fn next_wake(&self) -> Option<Millis> {
        if self.is_running() && !self.in_flight { self.next_at } else { None }
    }

    /// The answer of `fetch` (an error included, so that polling goes on).
    pub fn answered(&mut self, fetch: Fetch, result: Result<EventsPage, String>, now: Millis) -> Answer {
        if fetch.run != self.run || !self.in_flight {
            return Answer::default();
        }
        self.in_flight = false;
        let page = match result {
            Ok(page) => page,
            Err(_) => {
                self.failures = self.failures.saturating_add(1);
                let wait = INTERVAL.saturating_mul(1 << self.failures.min(4)).min(MAX_BACKOFF);
                self.next_at = Some(now + wait);
                return Answer::default();
            }
        };
        self.failures = 0;
        self.next_at = Some(now + INTERVAL);
        match self.last_seq {
            Some(last) if !page.resync && page.last_seq >= last => {
                let deliver: Vec<ServerMsg> =
                    page.events.into_iter().filter(|e| e.seq().is_some_and(|seq| seq > last)).collect();
                self.last_seq = Some(page.last_seq);
                Answer { deliver, resync: false }
            }
            // The first contact, a gap beyond the history, or a server on other data.
            _ => {
                self.last_seq = Some(page.last_seq);
                Answer { deliver: Vec::new(), resync: true }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use protocol::{CatalogUpdate, Cents, Product, ProductAction, ProductId, ShopId};

    use super::*;

    fn event(seq: Seq) -> ServerMsg {
        let product = Product {
            id: ProductId(1),
            shop_id: ShopId(1),
            shop_name: "Green Corner".into(),
            name: "Mug".into(),
            description: String::new(),
            price_cents: Cents(900),
            stock: 5,
            updated_at: "2026-12-03T10:00:00Z".into(),
            version: seq,
        };
        ServerMsg::CatalogUpdate(CatalogUpdate { action: ProductAction::Updated, product, seq })
    }

    fn page(events: Vec<ServerMsg>, last_seq: Seq, resync: bool) -> Result<EventsPage, String> {
        Ok(EventsPage { events, last_seq, resync })
    }

    fn started(now: u64) -> VisitorPoll {
        let mut poll = VisitorPoll::default();
        poll.set_wanted(true, Millis(now));
        poll
    }

    #[test]
    fn a_start_polls_at_once_from_beyond_the_history_and_the_first_answer_is_a_resync() {
        let mut poll = started(1_000);
        let fetch = poll.due(Millis(1_000)).expect("due at once");
        assert_eq!(fetch.after, FIRST_CONTACT);
        assert_eq!(poll.due(Millis(1_000)), None, "one request at a time");
        let answer = poll.answered(fetch, page(vec![], 40, true), Millis(1_100));
        assert_eq!(answer, Answer { deliver: vec![], resync: true });
        assert_eq!(poll.next_wake(), Some(Millis(1_100) + INTERVAL));
        assert_eq!(poll.due(Millis(1_200)), None, "not before the interval");
        assert_eq!(poll.due(Millis(6_100)).map(|f| f.after), Some(40), "then from the newest seq");
    }

    #[test]
    fn events_after_the_last_seq_are_handed_on_once_in_order() {
        let mut poll = started(0);
        let first = poll.due(Millis(0)).unwrap();
        poll.answered(first, page(vec![], 10, true), Millis(0));
        let next = poll.due(Millis(5_000)).unwrap();
        let answer = poll.answered(next, page(vec![event(9), event(11), event(12)], 12, false), Millis(5_000));
        let seqs: Vec<_> = answer.deliver.iter().filter_map(ServerMsg::seq).collect();
        assert_eq!(seqs, vec![11, 12], "an event at or before the last seq is not handed on again");
        assert!(!answer.resync);
        assert_eq!(poll.due(Millis(10_000)).map(|f| f.after), Some(12));
    }

    #[test]
    fn a_gap_beyond_the_history_or_a_server_on_other_data_is_a_resync() {
        let mut poll = started(0);
        let first = poll.due(Millis(0)).unwrap();
        poll.answered(first, page(vec![], 50, true), Millis(0));
        let gap = poll.due(Millis(5_000)).unwrap();
        assert!(poll.answered(gap, page(vec![], 80, true), Millis(5_000)).resync);
        let older = poll.due(Millis(10_000)).unwrap();
        assert_eq!(older.after, 80);
        let answer = poll.answered(older, page(vec![event(3)], 3, false), Millis(10_000));
        assert_eq!(answer, Answer { deliver: vec![], resync: true }, "the server restarted on other data");
        assert_eq!(poll.due(Millis(15_000)).map(|f| f.after), Some(3));
    }

    #[test]
    fn failures_back_off_up_to_a_minute_and_a_success_resets_the_interval() {
        let mut poll = started(0);
        let mut now = Millis(0);
        let mut waits = Vec::new();
        for _ in 0..6 {
            let fetch = poll.due(now).expect("due");
            poll.answered(fetch, Err("offline".into()), now);
            let next = poll.next_wake().unwrap();
            waits.push(next.0 - now.0);
            now = next;
        }
        assert_eq!(waits, vec![10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
        let fetch = poll.due(now).unwrap();
        poll.answered(fetch, page(vec![], 1, true), now);
        assert_eq!(poll.next_wake(), Some(now + INTERVAL));
    }

    #[test]
    fn a_hidden_page_does_not_poll_and_polls_at_once_when_shown() {
        let mut poll = started(0);
        let fetch = poll.due(Millis(0)).unwrap();
        poll.answered(fetch, page(vec![], 5, true), Millis(0));
        poll.set_visible(false, Millis(1_000));
        assert_eq!(poll.next_wake(), None);
        assert_eq!(poll.due(Millis(60_000)), None);
        poll.set_visible(true, Millis(61_000));
        assert_eq!(poll.due(Millis(61_000)).map(|f| f.after), Some(5));
    }

    #[test]
    fn signing_in_stops_and_an_answer_of_an_earlier_run_is_ignored() {
        let mut poll = started(0);
        let stale = poll.due(Millis(0)).unwrap();
        poll.set_wanted(false, Millis(10));
        assert_eq!(poll.next_wake(), None);
        assert_eq!(poll.due(Millis(10_000)), None, "signed in: no visitor poll");
        poll.set_wanted(true, Millis(20));
        let fresh = poll.due(Millis(20)).expect("signed out again: at once");
        assert_eq!(fresh.after, FIRST_CONTACT, "from a first contact, not from what the earlier run knew");
        assert_eq!(poll.answered(stale, page(vec![event(7)], 7, false), Millis(30)), Answer::default());
        assert_eq!(poll.due(Millis(30)), None, "the fresh request is still in flight");
        assert!(poll.answered(fresh, page(vec![], 7, true), Millis(40)).resync);
    }
}
