use super::*;
use crate::events::Audience;

/// Records what it is offered; full after `capacity` batches.
#[derive(Debug, Default)]
struct Recorder {
    batches: Vec<Vec<Seq>>,
    capacity: usize,
    gone: bool,
    lagged: bool,
}

impl Sink for Recorder {
    fn offer(&mut self, batch: &Arc<Batch>) -> Offer {
        if self.gone {
            return Offer::Gone;
        }
        if self.batches.len() == self.capacity {
            return Offer::Full;
        }
        self.batches.push(batch.events.iter().map(|event| event.seq).collect());
        Offer::Queued
    }

    fn lagged(&mut self) {
        self.lagged = true;
    }
}

fn recorder() -> Recorder {
    Recorder { capacity: 100, ..Recorder::default() }
}

fn event(seq: Seq, topic: Topic, audience: Audience) -> StoredEvent {
    StoredEvent { seq, topic, audience, json: format!("{{\"seq\":{seq}}}").into() }
}

fn batch(events: Vec<StoredEvent>) -> Arc<Batch> {
    Arc::new(Batch { events })
}

fn viewer(id: i64, role: Role, shop: Option<i64>) -> Viewer {
    Viewer { id: UserId(id), role, shop: shop.map(ShopId) }
}

fn topics(topics: &[Topic]) -> TopicSet {
    topics.iter().copied().collect()
}

/// A product change as the server emits it: `product_update` to the staff, `catalog_update` to the others.
fn product_change(seq: Seq, shop: i64) -> Arc<Batch> {
    batch(vec![
        event(seq, Topic::Products, Audience::shop_staff(ShopId(shop))),
        event(seq + 1, Topic::Catalog, Audience::everyone_but_staff(ShopId(shop))),
    ])
}

fn got(index: &Index<Recorder>, id: MemberId) -> &[Vec<Seq>] {
    &index.members[&id].sink.batches
}

const DASHBOARD: [Topic; 4] = [Topic::Dashboard, Topic::Orders, Topic::Products, Topic::Notifications];

#[test]
fn an_owner_gets_another_shops_product_change_only_while_watching_the_catalog() {
    let mut index = Index::default();
    let owner_a = index.join(viewer(1, Role::Owner, Some(1)), topics(&DASHBOARD), recorder());
    let owner_b = index.join(viewer(2, Role::Owner, Some(2)), topics(&DASHBOARD), recorder());
    let admin = index.join(viewer(3, Role::Admin, None), topics(&DASHBOARD), recorder());
    let customer = index.join(viewer(4, Role::Customer, None), topics(&[Topic::Catalog]), recorder());

    let routed = index.route(&product_change(1, 1));
    assert_eq!(routed, Routed { offered: 3, lagged: 0 });
    assert_eq!(got(&index, owner_a), [vec![1, 2]], "the own shop's change");
    assert!(got(&index, owner_b).is_empty(), "another shop's change, catalog not watched");
    assert_eq!(got(&index, admin).len(), 1);
    assert_eq!(got(&index, customer).len(), 1);

    // Owner B opens the catalog: the next change of shop A reaches them as a catalog event.
    assert_eq!(index.set_topics(owner_b, topics(&[Topic::Products, Topic::Catalog])), 2);
    index.route(&product_change(3, 1));
    assert_eq!(got(&index, owner_b), [vec![3, 4]]);
    // Owner A watching the catalog too still gets its own shop's change once (the batch, once).
    index.set_topics(owner_a, topics(&[Topic::Products, Topic::Catalog]));
    index.route(&product_change(5, 1));
    assert_eq!(got(&index, owner_a).len(), 3);
    // Closing the catalog stops it again.
    index.set_topics(owner_b, topics(&DASHBOARD));
    index.route(&product_change(7, 1));
    assert_eq!(got(&index, owner_b).len(), 2);
}

#[test]
fn private_events_reach_their_user_their_shops_owner_and_admins_only() {
    let mut index = Index::default();
    let every = topics(&Topic::ALL);
    let customer = index.join(viewer(10, Role::Customer, None), every, recorder());
    let other_customer = index.join(viewer(11, Role::Customer, None), every, recorder());
    // A customer whose id equals a shop's id sees nothing of that shop.
    let customer_one = index.join(viewer(1, Role::Customer, None), every, recorder());
    let owner = index.join(viewer(2, Role::Owner, Some(1)), every, recorder());
    let admin = index.join(viewer(3, Role::Admin, None), every, recorder());

    index.route(&batch(vec![
        event(1, Topic::Orders, Audience::shop_staff(ShopId(1))),
        event(2, Topic::Orders, Audience::user(UserId(10))),
    ]));
    assert_eq!(got(&index, customer), [vec![1, 2]]);
    assert_eq!(got(&index, owner), [vec![1, 2]]);
    assert_eq!(got(&index, admin), [vec![1, 2]]);
    assert!(got(&index, other_customer).is_empty());
    assert!(got(&index, customer_one).is_empty());
    index.route(&batch(vec![event(3, Topic::Dashboard, Audience { for_admin: true, ..Audience::default() })]));
    assert_eq!(got(&index, admin).len(), 2);
    assert_eq!(got(&index, owner).len(), 1);
}

#[test]
fn a_member_gets_only_the_topics_it_subscribed() {
    let mut index = Index::default();
    let owner = index.join(viewer(2, Role::Owner, Some(1)), topics(&[Topic::Orders]), recorder());
    index.route(&batch(vec![event(1, Topic::Products, Audience::shop_staff(ShopId(1)))]));
    assert!(got(&index, owner).is_empty());
    index.route(&batch(vec![event(2, Topic::Orders, Audience::shop_staff(ShopId(1)))]));
    assert_eq!(got(&index, owner), [vec![2]]);
    assert_eq!(index.routed(), 2);
}

#[test]
fn a_full_queue_drops_its_member_as_lagging_and_a_gone_one_is_dropped_too() {
    let mut index = Index::default();
    let every = topics(&Topic::ALL);
    let slow = index.join(viewer(2, Role::Owner, Some(1)), every, Recorder { capacity: 2, ..Recorder::default() });
    let gone = index.join(viewer(3, Role::Owner, Some(1)), every, Recorder { gone: true, ..recorder() });
    let fine = index.join(viewer(4, Role::Owner, Some(1)), every, recorder());
    let mut lagged = 0;
    for seq in 1..=5 {
        lagged += index.route(&batch(vec![event(seq, Topic::Orders, Audience::shop_staff(ShopId(1)))])).lagged;
    }
    assert_eq!(lagged, 1);
    assert_eq!(index.len(), 1);
    assert!(!index.members.contains_key(&slow) && !index.members.contains_key(&gone));
    assert_eq!(got(&index, fine).len(), 5);
}

#[test]
fn leaving_or_changing_user_leaves_nothing_behind() {
    let mut index = Index::default();
    let every = topics(&Topic::ALL);
    let owner = index.join(viewer(2, Role::Owner, Some(1)), every, recorder());
    let admin = index.join(viewer(3, Role::Admin, None), every, recorder());
    // The owner's renewed token says they own shop 2 now.
    index.set_viewer(owner, viewer(2, Role::Owner, Some(2)));
    index.route(&batch(vec![event(1, Topic::Orders, Audience::shop_staff(ShopId(1)))]));
    assert!(got(&index, owner).is_empty());
    index.route(&batch(vec![event(2, Topic::Orders, Audience::shop_staff(ShopId(2)))]));
    assert_eq!(got(&index, owner), [vec![2]]);

    assert_eq!(index.leave(owner).map(|sink| sink.batches.len()), Some(1));
    assert_eq!(index.leave(admin).map(|sink| sink.batches.len()), Some(2));
    assert!(index.is_empty());
    assert!(index.users.is_empty() && index.owners.is_empty() && index.admins.is_empty());
    assert!(index.by_topic.iter().all(HashSet::is_empty));
}

#[test]
fn topic_sets_hold_what_they_are_built_from() {
    let set = topics(&[Topic::Orders, Topic::Catalog]);
    assert!(set.contains(Topic::Orders) && set.contains(Topic::Catalog) && !set.contains(Topic::Products));
    assert_eq!(set.without(topics(&[Topic::Orders])), topics(&[Topic::Catalog]));
    assert!(TopicSet::default().is_empty() && !set.is_empty());
}
