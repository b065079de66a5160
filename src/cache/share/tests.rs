use protocol::ShopId;
use serde_json::{Value, json};

use super::*;
use crate::cache::fetch::{Begin, Settled};
use crate::cache::key::Params;

const T0: Millis = Millis(1_700_000_000_000);

fn at(offset: u64) -> Millis {
    T0.saturating_add(Millis(offset))
}

fn orders(shop: i64) -> CacheKey {
    CacheKey::with_params(DataKind::Orders, Params::new().shop(ShopId(shop)))
}

fn dashboard() -> CacheKey {
    CacheKey::new(DataKind::DashboardData)
}

/// The keys of the reads a wait hands back.
fn keys(held: Vec<(CacheKey, ())>) -> Vec<CacheKey> {
    held.into_iter().map(|(key, ())| key).collect()
}

fn item(key: CacheKey, value: Value, fetched_at: Millis) -> SnapshotEntry<Value> {
    SnapshotEntry { key, value, fetched_at, size_bytes: 10, stale: false }
}

#[test]
fn a_new_tab_holds_its_reads_until_the_others_answer() {
    let mut joining: Joining<()> = Joining::asking(at(0));
    assert!(joining.is_asking());
    assert!(joining.hold(&dashboard(), || ()));
    assert!(joining.hold(&orders(1), || ()));
    assert!(joining.hold(&dashboard(), || ()), "held again, once");
    assert_eq!(joining.poll_timeout(), Some(at(ASK_WAIT.0)));
    assert_eq!(keys(joining.handle_timeout(at(10))), Vec::<CacheKey>::new(), "still waiting");

    // The first answer leaves the other tabs a little more time, never more than the wait itself.
    joining.answered(at(20));
    assert_eq!(joining.poll_timeout(), Some(at(20 + MORE_ANSWERS.0)));
    joining.answered(at(40));
    assert_eq!(joining.poll_timeout(), Some(at(20 + MORE_ANSWERS.0)), "a second answer changes nothing");
    assert_eq!(keys(joining.handle_timeout(at(20 + MORE_ANSWERS.0))), vec![dashboard(), orders(1)]);
    assert!(!joining.is_asking());
    assert!(!joining.hold(&orders(2), || ()), "joined: reads start at once");
    assert_eq!(joining.poll_timeout(), None);
    assert_eq!(keys(joining.handle_timeout(at(1_000))), Vec::<CacheKey>::new(), "nothing is started twice");
}

#[test]
fn with_nobody_to_answer_the_wait_ends_at_once_or_after_the_ask_wait() {
    let mut alone: Joining<()> = Joining::asking(at(0));
    alone.hold(&dashboard(), || ());
    alone.alone(at(3));
    assert_eq!(keys(alone.handle_timeout(at(3))), vec![dashboard()], "no other tab: started 3 ms later");

    let mut unanswered: Joining<()> = Joining::asking(at(0));
    unanswered.hold(&dashboard(), || ());
    assert_eq!(keys(unanswered.handle_timeout(at(ASK_WAIT.0 - 1))), Vec::<CacheKey>::new());
    assert_eq!(keys(unanswered.handle_timeout(at(ASK_WAIT.0))), vec![dashboard()], "nobody answered in time");

    let mut joined: Joining<()> = Joining::joined();
    assert!(!joined.hold(&dashboard(), || ()), "a tab that cannot ask never waits");
    joined.alone(at(0));
    joined.answered(at(0));
    assert_eq!(joined.poll_timeout(), None);
}

#[test]
fn what_one_tab_holds_another_paints_fresh_with_no_fetch() {
    let mut leader: Store<Value> = Store::default();
    leader.set(&dashboard(), json!({"orders": 3}), 13, at(0));
    leader.set(&orders(1), json!([1, 2]), 5, at(10));
    let _ = leader.invalidate(&orders(1));
    let answer = leader.shareable();
    assert_eq!(answer.len(), 2);

    let mut new_tab: Store<Value> = Store::default();
    for entry in answer {
        assert!(new_tab.adopt(entry, false));
    }
    assert_eq!(new_tab.begin(&dashboard(), at(1_000)), Begin::Fresh(json!({"orders": 3})));
    assert!(
        matches!(new_tab.begin(&orders(1), at(1_000)), Begin::Stale(v, _) if v == json!([1, 2])),
        "a stale entry stays stale in the tab that takes it"
    );
    assert_eq!(new_tab.entry(&dashboard()).and_then(|e| e.fetched_at()), Some(at(0)), "its age comes along");
    assert_eq!(new_tab.stats().total.fetches, 1, "only the stale entry is fetched");
    assert_eq!(new_tab.bytes(), 13 + 5, "sizes come along");
}

#[test]
fn an_entry_is_replaced_only_by_one_fetched_as_late_or_later() {
    let mut store: Store<Value> = Store::default();
    store.set(&dashboard(), json!(2), 1, at(100));
    assert!(!store.adopt(item(dashboard(), json!(1), at(50)), false), "older: kept ours");
    assert_eq!(store.get(&dashboard()), Some(&json!(2)));
    assert!(!store.adopt(item(dashboard(), json!(2), at(100)), false), "the very same: nothing to do");
    assert!(store.adopt(item(dashboard(), json!(3), at(100)), false), "same fetch, patched by a write");
    assert_eq!(store.get(&dashboard()), Some(&json!(3)));
    assert!(store.adopt(item(dashboard(), json!(4), at(200)), false), "newer");
    assert_eq!((store.get(&dashboard()), store.is_fresh(&dashboard(), at(201))), (Some(&json!(4)), true));

    // The same value, once invalidated here and fresh there (a restored snapshot meeting a live tab's entry).
    let _ = store.invalidate(&dashboard());
    assert!(store.adopt(item(dashboard(), json!(4), at(200)), false));
    assert!(store.is_fresh(&dashboard(), at(201)));
}

#[test]
fn an_answer_from_a_tab_behind_this_one_is_kept_but_revalidated() {
    let mut store: Store<Value> = Store::default();
    assert!(store.adopt(item(dashboard(), json!(1), at(0)), true));
    assert!(!store.is_fresh(&dashboard(), at(1)), "it may lack an event this tab applied");
    assert!(matches!(store.begin(&dashboard(), at(1)), Begin::Stale(v, _) if v == json!(1)), "shown, refetched");
}

#[test]
fn a_fetch_in_flight_here_keeps_running_when_another_tab_puts_the_key() {
    let mut store: Store<Value> = Store::default();
    let Begin::Miss(ticket) = store.begin(&orders(1), at(0)) else { panic!("a miss") };
    assert!(store.adopt(item(orders(1), json!(["theirs"]), at(5)), false));
    assert_eq!(store.get(&orders(1)), Some(&json!(["theirs"])), "shown at once");
    assert!(store.entry(&orders(1)).is_some_and(|e| e.is_fetching()));
    assert_eq!(store.complete_ok(&ticket, json!(["ours"]), 6, at(9)), Settled::Stored { refetch: false });
    assert_eq!(store.get(&orders(1)), Some(&json!(["ours"])), "the later answer wins");
    let entry = store.shareable_entry(&orders(1)).expect("a value");
    assert_eq!((entry.fetched_at, entry.stale, entry.size_bytes), (at(9), false, 6), "what is put in the others");
    assert_eq!(store.shareable_entry(&orders(2)), None);
}

#[test]
fn taken_entries_respect_the_bounds() {
    let mut store: Store<Value> = Store::new(crate::cache::policy::CachePolicy::default().with_max_entries(2));
    for shop in 1..=3 {
        store.adopt(item(orders(shop), json!(shop), at(shop as u64)), false);
    }
    assert_eq!(store.len(), 2);
    assert_eq!(store.get(&orders(1)), None, "the least recently taken went");
}

#[test]
fn invalidations_by_hand_cover_their_scope_in_the_other_tab() {
    let mut store: Store<Value> = Store::default();
    store.set(&orders(1), json!(1), 1, at(0));
    store.set(&orders(2), json!(2), 1, at(0));
    store.set(&dashboard(), json!(3), 1, at(0));
    assert_eq!(Scope::Shop { shop: ShopId(1) }.apply(&mut store).matched, 1);
    assert!(!store.is_fresh(&orders(1), at(1)) && store.is_fresh(&orders(2), at(1)));
    assert_eq!(Scope::Kind { kind: DataKind::Orders }.apply(&mut store).matched, 2);
    assert_eq!(Scope::Keys { keys: vec![dashboard()] }.apply(&mut store).matched, 1);
    assert!(!store.is_fresh(&dashboard(), at(1)));
}

#[test]
fn messages_read_back_as_written_and_name_their_sender() {
    let wires = [
        CacheWire::Ask { from: 1 },
        CacheWire::Answer {
            from: 2,
            to: 1,
            position: Some(42),
            entries: vec![item(orders(3), json!({"items": []}), at(0))],
        },
        CacheWire::Put { from: 3, entry: item(dashboard(), json!(7), at(1)) },
        CacheWire::Invalidate { from: 4, scope: Scope::Shop { shop: ShopId(9) }, refetching: vec![orders(9)] },
    ];
    for (wire, from) in wires.into_iter().zip(1..) {
        let text = serde_json::to_string(&wire).expect("serializes");
        assert_eq!(serde_json::from_str::<CacheWire>(&text).expect("reads back"), wire);
        assert_eq!(wire.from(), from);
    }
    assert!(serde_json::from_str::<CacheWire>(r#"{"hello":{"from":1}}"#).is_err(), "a tab message is not ours");
}
