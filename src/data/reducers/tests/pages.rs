use protocol::{NotificationId, Order, OrderAction::*, OrderStatus, OrderStatus::*, ProductAction, ShopId};

use super::*;
use crate::data::reducers::{Applied, OrderFilter, ProductFilter, Reduce, mark_read};

const OTHER: ShopId = ShopId(2);

/// Orders `ids` (newest first), one per minute before 10:00 of the 27th, in `status`.
fn orders(ids: &[i64], status: OrderStatus) -> Vec<Order> {
    ids.iter()
        .map(|&id| moved(&order(id, SHOP, 100, &format!("2026-11-27T09:{id:02}:00Z")), status, "2026-11-27T09:59:00Z"))
        .collect()
}

fn ids<T>(page: &Page<T>, id: impl Fn(&T) -> i64) -> Vec<i64> {
    page.items.iter().map(id).collect()
}

fn order_ids(page: &Page<Order>) -> Vec<i64> {
    ids(page, |o| o.id.0)
}

fn product_ids(page: &Page<Product>) -> Vec<i64> {
    ids(page, |p| p.id.0)
}

#[test]
fn a_new_order_goes_on_top_of_page_one_and_the_page_keeps_its_size() {
    let mut page = page_of(orders(&[30, 29, 28], Pending), 7, 1, 3);
    let new = order(31, SHOP, 100, "2026-11-27T10:00:00Z");
    let event = order_event(Created, &new, 0, 0);
    assert_eq!(page.reduce(&OrderFilter::default(), &event), Applied::Changed);
    assert_eq!((order_ids(&page), page.total), (vec![31, 30, 29], 8));
    assert_eq!(page.reduce(&OrderFilter::default(), &event), Applied::Unchanged);
    assert_eq!(page.total, 8);
}

#[test]
fn a_new_order_shifts_later_pages() {
    let mut page = page_of(orders(&[27, 26], Pending), 5, 2, 3);
    let before = page.items.clone();
    let new = order(31, SHOP, 100, "2026-11-27T10:00:00Z");
    assert_eq!(page.reduce(&OrderFilter::default(), &order_event(Created, &new, 0, 0)), Applied::Stale);
    assert_eq!((&page.items, page.total), (&before, 6));
}

#[test]
fn an_orders_page_follows_its_filter() {
    let pending = OrderFilter { shop_id: Some(SHOP), status: Some(Pending) };
    let mut page = page_of(orders(&[30, 29], Pending), 2, 1, 20);

    let theirs = order(40, OTHER, 100, "2026-11-27T10:00:00Z");
    assert_eq!(page.reduce(&pending, &order_event(Created, &theirs, 0, 0)), Applied::Unchanged);

    let listed = page.items[0].clone();
    let paid = moved(&listed, Paid, "2026-11-27T10:01:00Z");
    assert_eq!(page.reduce(&pending, &order_event(StatusChanged, &paid, 0, 0)), Applied::Changed);
    assert_eq!((order_ids(&page), page.total), (vec![29], 1));

    let paid_filter = OrderFilter { shop_id: None, status: Some(Paid) };
    let mut paid_page = page_of(orders(&[31, 28], Paid), 2, 1, 20);
    assert_eq!(paid_page.reduce(&paid_filter, &order_event(StatusChanged, &paid, 0, 0)), Applied::Changed);
    assert_eq!((order_ids(&paid_page), paid_page.total), (vec![31, 30, 28], 3));
}

#[test]
fn an_order_leaving_a_full_page_pulls_the_next_one_up() {
    let pending = OrderFilter { shop_id: None, status: Some(Pending) };
    let mut page = page_of(orders(&[30, 29], Pending), 5, 1, 2);
    let paid = moved(&page.items[1], Paid, "2026-11-27T10:01:00Z");
    assert_eq!(page.reduce(&pending, &order_event(StatusChanged, &paid, 0, 0)), Applied::Stale);
    assert_eq!((order_ids(&page), page.total), (vec![30], 4));
}

#[test]
fn an_unlisted_order_leaving_or_maybe_leaving_the_filter() {
    // Shipped has one possible previous status (paid): an unlisted order on an earlier page left the list.
    let paid_filter = OrderFilter { shop_id: None, status: Some(Paid) };
    let mut page2 = page_of(orders(&[20, 19], Paid), 5, 2, 2);
    let newer = moved(&order(25, SHOP, 100, "2026-11-27T09:25:00Z"), Shipped, "2026-11-27T10:00:00Z");
    assert_eq!(page2.reduce(&paid_filter, &order_event(StatusChanged, &newer, 0, 0)), Applied::Stale);
    assert_eq!(page2.total, 4);

    // Cancelled may come from pending or paid: whether it was in a pending list is unknown.
    let pending = OrderFilter { shop_id: None, status: Some(Pending) };
    let mut page1 = page_of(orders(&[30, 29], Pending), 2, 1, 20);
    let cancelled = moved(&order(12, SHOP, 100, "2026-11-27T09:12:00Z"), Cancelled, "2026-11-27T10:00:00Z");
    assert_eq!(page1.reduce(&pending, &order_event(StatusChanged, &cancelled, 0, 0)), Applied::Stale);
    assert_eq!(page1.total, 2);

    // Delivered never comes from pending.
    let delivered = moved(&cancelled, Delivered, "2026-11-27T10:00:00Z");
    assert_eq!(page1.reduce(&pending, &order_event(StatusChanged, &delivered, 0, 0)), Applied::Unchanged);
}

#[test]
fn a_status_change_replaces_an_unfiltered_order_in_place() {
    let mut page = page_of(orders(&[30, 29, 28], Pending), 10, 1, 3);
    let paid = moved(&page.items[1], Paid, "2026-11-27T10:01:00Z");
    let event = order_event(StatusChanged, &paid, 0, 0);
    assert_eq!(page.reduce(&OrderFilter::default(), &event), Applied::Changed);
    assert_eq!((order_ids(&page), page.items[1].status, page.total), (vec![30, 29, 28], Paid, 10));
    assert_eq!(page.reduce(&OrderFilter::default(), &event), Applied::Unchanged);
    let unlisted = moved(&order(5, SHOP, 1, "2026-11-27T09:05:00Z"), Paid, "2026-11-27T10:00:00Z");
    assert_eq!(page.reduce(&OrderFilter::default(), &order_event(StatusChanged, &unlisted, 0, 0)), Applied::Unchanged);
}

fn catalog() -> Vec<Product> {
    vec![
        product(4, SHOP, "apple juice", 300, 10),
        product(2, SHOP, "Bread", 250, 10),
        product(9, OTHER, "Carrot cake", 900, 2),
    ]
}

#[test]
fn a_created_product_is_inserted_by_name_when_it_matches() {
    let all = ProductFilter::default();
    let mut page = page_of(catalog(), 3, 1, 20);
    let banana = product(10, OTHER, "BANANA", 90, 50);
    let event = product_event(ProductAction::Created, &banana, 0, 0);
    assert_eq!(page.reduce(&all, &event), Applied::Changed);
    assert_eq!((product_ids(&page), page.total), (vec![4, 10, 2, 9], 4));
    assert_eq!(page.reduce(&all, &event), Applied::Unchanged);
    assert_eq!(page.total, 4);

    let mut shop_page = page_of(catalog()[..2].to_vec(), 2, 1, 20);
    assert_eq!(shop_page.reduce(&ProductFilter::new(Some(SHOP), None), &event), Applied::Unchanged);
    let search = ProductFilter::new(None, Some("  JUICE "));
    let mut search_page = page_of(vec![catalog()[0].clone()], 1, 1, 20);
    assert_eq!(search_page.reduce(&search, &event), Applied::Unchanged);
    let orange = product(11, SHOP, "Orange Juice", 400, 5);
    assert_eq!(search_page.reduce(&search, &product_event(ProductAction::Created, &orange, 0, 0)), Applied::Changed);
    assert_eq!(product_ids(&search_page), [4, 11]);
}

#[test]
fn a_created_product_outside_a_full_page_only_changes_the_total_or_shifts_it() {
    let all = ProductFilter::default();
    let mut first = page_of(catalog(), 10, 1, 3);
    let zucchini = product(12, SHOP, "Zucchini", 80, 9);
    assert_eq!(first.reduce(&all, &product_event(ProductAction::Created, &zucchini, 0, 0)), Applied::Changed);
    assert_eq!((product_ids(&first), first.total), (vec![4, 2, 9], 11));

    let mut second = page_of(catalog(), 10, 2, 3);
    let aardvark = product(13, SHOP, "Aardvark plush", 80, 9);
    assert_eq!(second.reduce(&all, &product_event(ProductAction::Created, &aardvark, 0, 0)), Applied::Stale);
    assert_eq!((product_ids(&second), second.total), (vec![4, 2, 9], 11));

    let mut full_first = page_of(catalog(), 10, 1, 3);
    let basil = product(14, SHOP, "Basil", 80, 9);
    assert_eq!(full_first.reduce(&all, &product_event(ProductAction::Created, &basil, 0, 0)), Applied::Changed);
    assert_eq!((product_ids(&full_first), full_first.total), (vec![4, 14, 2], 11), "truncated to per_page");
}

#[test]
fn an_updated_product_is_replaced_moved_or_dropped_from_a_search() {
    let all = ProductFilter::default();
    let mut page = page_of(catalog(), 3, 1, 20);
    let cheaper = Product { price_cents: protocol::Cents(199), stock: 3, ..catalog()[1].clone() };
    let event = product_event(ProductAction::Updated, &cheaper, 0, 0);
    assert_eq!(page.reduce(&all, &event), Applied::Changed);
    assert_eq!(page.items[1], cheaper);
    assert_eq!(page.reduce(&all, &event), Applied::Unchanged);

    let renamed = Product { name: "Zesty bread".into(), ..cheaper.clone() };
    assert_eq!(page.reduce(&all, &product_event(ProductAction::Updated, &renamed, 0, 0)), Applied::Changed);
    assert_eq!((product_ids(&page), page.total), (vec![4, 9, 2], 3));

    let search = ProductFilter::new(None, Some("bread"));
    let mut search_page = page_of(vec![renamed.clone()], 1, 1, 20);
    let out = Product { name: "Baguette".into(), ..renamed };
    assert_eq!(search_page.reduce(&search, &product_event(ProductAction::Updated, &out, 0, 0)), Applied::Changed);
    assert_eq!((search_page.items.len(), search_page.total), (0, 0));
}

#[test]
fn an_unlisted_product_updated_into_the_page_asks_for_a_refetch() {
    let all = ProductFilter::default();
    let mut page = page_of(catalog(), 3, 1, 20);
    let stranger = product(20, SHOP, "Beans", 100, 1);
    assert_eq!(page.reduce(&all, &product_event(ProductAction::Updated, &stranger, 0, 0)), Applied::Stale);
    let elsewhere = product(21, SHOP, "Zebra cookies", 100, 1);
    let mut full = page_of(catalog(), 9, 1, 3);
    assert_eq!(full.reduce(&all, &product_event(ProductAction::Updated, &elsewhere, 0, 0)), Applied::Unchanged);
}

#[test]
fn a_deleted_product_leaves_the_page_once() {
    let all = ProductFilter::default();
    let mut page = page_of(catalog(), 3, 1, 20);
    let event = product_event(ProductAction::Deleted, &catalog()[1], 0, 0);
    assert_eq!(page.reduce(&all, &event), Applied::Changed);
    assert_eq!((product_ids(&page), page.total), (vec![4, 9], 2));
    assert_eq!(page.reduce(&all, &event), Applied::Unchanged);
    assert_eq!(page.total, 2);

    let mut full = page_of(catalog(), 9, 1, 3);
    let later = product(22, SHOP, "Zebra cookies", 100, 1);
    assert_eq!(full.reduce(&all, &product_event(ProductAction::Deleted, &later, 0, 0)), Applied::Changed);
    assert_eq!(full.total, 8);
    assert_eq!(full.reduce(&all, &product_event(ProductAction::Deleted, &catalog()[0], 0, 0)), Applied::Stale);
    assert_eq!((product_ids(&full), full.total), (vec![2, 9], 7));

    let mut other_shop = page_of(catalog()[..2].to_vec(), 2, 1, 20);
    let theirs = product_event(ProductAction::Deleted, &catalog()[2], 0, 0);
    assert_eq!(other_shop.reduce(&ProductFilter::new(Some(SHOP), None), &theirs), Applied::Unchanged);
}

#[test]
fn a_notification_goes_on_top_of_page_one_once() {
    let mut first = page_of(vec![note(5, true), note(4, false)], 5, 1, 2);
    let event = note_event(&note(6, false));
    assert_eq!(first.reduce(&(), &event), Applied::Changed);
    assert_eq!((ids(&first, |n| n.id.0), first.total), (vec![6, 5], 6));
    assert_eq!(first.reduce(&(), &event), Applied::Unchanged);
    assert_eq!(first.reduce(&(), &note_event(&note(3, false))), Applied::Unchanged, "older than listed");

    let mut second = page_of(vec![note(3, true)], 5, 2, 2);
    assert_eq!(second.reduce(&(), &note_event(&note(7, false))), Applied::Stale);
    assert_eq!(second.total, 6);
    let not_a_note = dashboard_event(shop_stats(SHOP, 0, 0, 0, 0, 0), vec![note(8, false)]);
    assert_eq!(second.reduce(&(), &not_a_note), Applied::Unchanged, "only `notification` events");
}

#[test]
fn marking_a_notification_read_on_a_page() {
    let mut first = page_of(vec![note(5, false), note(4, true)], 2, 1, 20);
    assert_eq!(mark_read(&mut first, NotificationId(5)), Applied::Changed);
    assert!(first.items[0].read);
    assert_eq!(mark_read(&mut first, NotificationId(5)), Applied::Unchanged);
    assert_eq!(mark_read(&mut first, NotificationId(1)), Applied::Stale);
}
