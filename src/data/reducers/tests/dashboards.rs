use protocol::{
    AdminDashboard, Cents, CustomerDashboard, Dashboard, NotificationId, OrderAction::*, OrderStatus::*,
    PlatformTotals, ProductAction, ServerMsg, ShopId,
};

use super::*;
use crate::data::reducers::{
    ADMIN_RECENT_ORDERS, Applied, OWNER_RECENT_NOTIFICATIONS, OWNER_RECENT_ORDERS, Reduce, customer_mark_read,
    owner_mark_read,
};

const OTHER: ShopId = ShopId(2);

/// Orders `first_id`, `first_id - 1`, ... of [`SHOP`], newest first, one per hour of the 26th.
fn older_orders(first_id: i64, count: i64) -> Vec<protocol::Order> {
    (0..count).map(|i| order(first_id - i, SHOP, 100, &format!("2026-11-26T{:02}:00:00Z", 20 - i))).collect()
}

#[test]
fn an_owner_takes_a_new_order_of_today_once() {
    let mut dashboard = owner_dashboard(older_orders(10, 3), vec![], 1);
    let new = order(11, SHOP, 2397, "2026-11-27T09:00:00Z");
    let event = order_event(Created, &new, 21, 46_757);

    assert_eq!(dashboard.reduce(&(), &event), Applied::Changed);
    assert_eq!(dashboard.recent_orders[0], new);
    assert_eq!(dashboard.recent_orders.len(), 4);
    assert_eq!(dashboard.shop_stats.total_orders, 21);
    assert_eq!(dashboard.shop_stats.monthly_revenue_cents, Cents(46_757));
    assert_eq!(dashboard.shop_stats.open_orders, 2);
    let today = bucket(&dashboard.revenue_by_day, TODAY);
    assert_eq!((today.revenue_cents, today.orders), (Cents(2397), 1));

    let after_once = dashboard.clone();
    assert_eq!(dashboard.reduce(&(), &event), Applied::Unchanged);
    assert_eq!(dashboard, after_once);
}

#[test]
fn an_owner_ignores_a_created_order_its_list_already_reflects() {
    // Fetched after order 11 was created: order 12 is listed, 11 fell off or was never shown.
    let mut dashboard = owner_dashboard(vec![order(12, SHOP, 100, "2026-11-27T09:30:00Z")], vec![], 1);
    let before = dashboard.clone();
    let late = order(11, SHOP, 500, "2026-11-27T09:00:00Z");
    assert_eq!(dashboard.reduce(&(), &order_event(Created, &late, 5, 9_999)), Applied::Unchanged);
    assert_eq!(dashboard, before);
}

#[test]
fn an_owner_ignores_other_shops() {
    let mut dashboard = owner_dashboard(older_orders(10, 2), vec![note(1, false)], 1);
    let before = dashboard.clone();
    let theirs = order(11, OTHER, 999, "2026-11-27T09:00:00Z");
    assert_eq!(dashboard.reduce(&(), &order_event(Created, &theirs, 50, 50_000)), Applied::Unchanged);
    assert_eq!(dashboard.reduce(&(), &dashboard_event(shop_stats(OTHER, 1, 1, 1, 1, 1), vec![])), Applied::Unchanged);
    let their_product = product(3, OTHER, "Lamp", 100, 1);
    assert_eq!(dashboard.reduce(&(), &product_event(ProductAction::Created, &their_product, 9, 9)), Applied::Unchanged);
    assert_eq!(dashboard, before);
}

#[test]
fn the_owner_list_keeps_the_server_length() {
    let mut dashboard = owner_dashboard(older_orders(20, OWNER_RECENT_ORDERS as i64), vec![], 0);
    let new = order(21, SHOP, 100, "2026-11-27T09:00:00Z");
    assert_eq!(dashboard.reduce(&(), &order_event(Created, &new, 21, 0)), Applied::Changed);
    assert_eq!(dashboard.recent_orders.len(), OWNER_RECENT_ORDERS);
    assert_eq!(dashboard.recent_orders[0].id, new.id);
    assert_eq!(dashboard.recent_orders.last().unwrap().id.0, 12, "the oldest one dropped");
}

#[test]
fn a_status_change_replaces_the_order_and_moves_open_orders_once() {
    let placed = order(10, SHOP, 700, "2026-11-27T08:00:00Z");
    let mut dashboard = owner_dashboard(vec![placed.clone()], vec![], 1);

    let paid = moved(&placed, Paid, "2026-11-27T08:05:00Z");
    assert_eq!(dashboard.reduce(&(), &order_event(StatusChanged, &paid, 1, 700)), Applied::Changed);
    assert_eq!(dashboard.recent_orders[0].status, Paid);
    assert_eq!(dashboard.shop_stats.open_orders, 1, "paid is still open");

    let shipped = moved(&placed, Shipped, "2026-11-27T08:10:00Z");
    let event = order_event(StatusChanged, &shipped, 1, 700);
    assert_eq!(dashboard.reduce(&(), &event), Applied::Changed);
    assert_eq!(dashboard.shop_stats.open_orders, 0);
    assert_eq!(dashboard.reduce(&(), &event), Applied::Unchanged);
    assert_eq!(dashboard.shop_stats.open_orders, 0);
    assert_eq!(bucket(&dashboard.revenue_by_day, TODAY).revenue_cents, Cents(0), "shipping changes no revenue");
}

#[test]
fn an_event_older_than_the_listed_order_is_ignored() {
    // Paid then shipped within the same second; the list already shows shipped.
    let placed = order(10, SHOP, 700, "2026-11-27T08:00:00Z");
    let shipped = moved(&placed, Shipped, "2026-11-27T08:05:00Z");
    let mut dashboard = owner_dashboard(vec![shipped], vec![], 0);
    let before = dashboard.clone();
    let paid = moved(&placed, Paid, "2026-11-27T08:05:00Z");
    assert_eq!(dashboard.reduce(&(), &order_event(StatusChanged, &paid, 1, 700)), Applied::Unchanged);
    assert_eq!(dashboard, before);
}

#[test]
fn a_cancellation_takes_its_revenue_out_of_its_day() {
    let placed = order(10, SHOP, 700, "2026-11-25T08:00:00Z");
    let mut dashboard = owner_dashboard(vec![placed.clone()], vec![], 1);
    let day = dashboard.revenue_by_day.iter_mut().find(|b| b.date == "2026-11-25").unwrap();
    (day.revenue_cents, day.orders) = (Cents(1000), 2);

    let cancelled = moved(&placed, Cancelled, "2026-11-27T08:05:00Z");
    let event = order_event(StatusChanged, &cancelled, 1, 300);
    assert_eq!(dashboard.reduce(&(), &event), Applied::Changed);
    let day = bucket(&dashboard.revenue_by_day, "2026-11-25");
    assert_eq!((day.revenue_cents, day.orders), (Cents(300), 1));
    assert_eq!(dashboard.shop_stats.open_orders, 0);
    assert_eq!(dashboard.shop_stats.monthly_revenue_cents, Cents(300));

    assert_eq!(dashboard.reduce(&(), &event), Applied::Unchanged, "listed: recognised as applied");
    assert_eq!(bucket(&dashboard.revenue_by_day, "2026-11-25").revenue_cents, Cents(300));
}

#[test]
fn a_cancellation_of_an_unlisted_order_still_leaves_its_day_but_not_open_orders() {
    let mut dashboard = owner_dashboard(older_orders(20, 2), vec![], 3);
    let day = dashboard.revenue_by_day.iter_mut().find(|b| b.date == "2026-11-20").unwrap();
    (day.revenue_cents, day.orders) = (Cents(900), 1);
    let old = order(4, SHOP, 900, "2026-11-20T08:00:00Z");
    let cancelled = moved(&old, Cancelled, "2026-11-27T08:00:00Z");

    assert_eq!(dashboard.reduce(&(), &order_event(StatusChanged, &cancelled, 20, 0)), Applied::Changed);
    let day = bucket(&dashboard.revenue_by_day, "2026-11-20");
    assert_eq!((day.revenue_cents, day.orders), (Cents(0), 0));
    assert_eq!(dashboard.shop_stats.open_orders, 3, "left to the dashboard_update that follows");
    assert_eq!(dashboard.recent_orders.len(), 2, "an old order is not listed");
}

#[test]
fn the_first_order_of_a_new_day_rolls_the_chart() {
    let mut dashboard = owner_dashboard(vec![], vec![], 0);
    let tomorrow = order(1, SHOP, 450, "2026-11-28T00:00:05Z");
    assert_eq!(dashboard.reduce(&(), &order_event(Created, &tomorrow, 1, 450)), Applied::Changed);
    let chart = &dashboard.revenue_by_day;
    assert_eq!(chart.len(), 30);
    assert_eq!(chart.last().unwrap().date, "2026-11-28");
    assert_eq!(chart.last().unwrap().revenue_cents, Cents(450));
    assert_eq!(chart[0].date, "2026-10-30");
}

#[test]
fn a_dashboard_update_replaces_the_stats_and_adds_its_notifications_once() {
    let mut dashboard = owner_dashboard(vec![], vec![note(3, true)], 0);
    let stats = shop_stats(SHOP, 21, 5, 46_757, 10, 3);
    let event = dashboard_event(stats.clone(), vec![note(4, false), note(5, false)]);

    assert_eq!(dashboard.reduce(&(), &event), Applied::Changed);
    assert_eq!(dashboard.shop_stats, stats);
    let ids: Vec<i64> = dashboard.notifications.iter().map(|n| n.id.0).collect();
    assert_eq!(ids, [5, 4, 3]);
    assert_eq!(dashboard.unread_notifications, 2);

    // The same notes also arrive as `notification` events, and the event may repeat.
    assert_eq!(dashboard.reduce(&(), &note_event(&note(5, false))), Applied::Unchanged);
    assert_eq!(dashboard.reduce(&(), &event), Applied::Unchanged);
    assert_eq!(dashboard.unread_notifications, 2);
}

#[test]
fn an_owner_notification_is_listed_capped_and_counted_when_unread() {
    let notes: Vec<_> = (1..=OWNER_RECENT_NOTIFICATIONS as i64).rev().map(|id| note(id, true)).collect();
    let mut dashboard = owner_dashboard(vec![], notes, 0);

    assert_eq!(dashboard.reduce(&(), &note_event(&note(11, false))), Applied::Changed);
    assert_eq!(dashboard.notifications.len(), OWNER_RECENT_NOTIFICATIONS);
    assert_eq!(dashboard.notifications[0].id, NotificationId(11));
    assert_eq!(dashboard.notifications.last().unwrap().id, NotificationId(2));
    assert_eq!(dashboard.unread_notifications, 1);

    assert_eq!(dashboard.reduce(&(), &note_event(&note(12, true))), Applied::Changed);
    assert_eq!(dashboard.unread_notifications, 1, "a read one is listed, not counted");
    assert_eq!(dashboard.reduce(&(), &note_event(&note(1, false))), Applied::Unchanged, "older than the list");
}

#[test]
fn an_owner_product_update_takes_its_shop_counts() {
    let mut dashboard = owner_dashboard(vec![], vec![], 0);
    let created = product(30, SHOP, "Oat Milk", 319, 4);
    let event = product_event(ProductAction::Created, &created, 11, 3);
    assert_eq!(dashboard.reduce(&(), &event), Applied::Changed);
    assert_eq!((dashboard.shop_stats.product_count, dashboard.shop_stats.low_stock_count), (11, 3));
    assert_eq!(dashboard.reduce(&(), &event), Applied::Unchanged);
    // The dashboard_update that follows carries the same figures: nothing is counted twice.
    let follow = dashboard_event(dashboard.shop_stats.clone(), vec![]);
    assert_eq!(dashboard.reduce(&(), &follow), Applied::Unchanged);
    assert_eq!(dashboard.shop_stats.product_count, 11);
}

#[test]
fn an_owner_marks_a_notification_read() {
    let mut dashboard = owner_dashboard(vec![], vec![note(2, false), note(1, true)], 0);
    assert_eq!(owner_mark_read(&mut dashboard, NotificationId(2)), Applied::Changed);
    assert_eq!(dashboard.unread_notifications, 0);
    assert!(dashboard.notifications[0].read);
    assert_eq!(owner_mark_read(&mut dashboard, NotificationId(2)), Applied::Unchanged);
    assert_eq!(owner_mark_read(&mut dashboard, NotificationId(99)), Applied::Stale);
}

fn admin_dashboard() -> AdminDashboard {
    let shops = vec![shop_stats(SHOP, 20, 4, 46_757, 10, 3), shop_stats(OTHER, 15, 2, 30_000, 8, 1)];
    AdminDashboard {
        totals: PlatformTotals {
            shops: 2,
            products: 18,
            customers: 7,
            total_orders: 35,
            monthly_revenue_cents: Cents(76_757),
        },
        shops,
        recent_orders: older_orders(30, 3),
    }
}

#[test]
fn the_admin_replaces_a_shops_stats_and_sums_the_totals() {
    let mut dashboard = admin_dashboard();
    let event = dashboard_event(shop_stats(OTHER, 16, 3, 31_000, 9, 2), vec![note(9, false)]);
    assert_eq!(dashboard.reduce(&(), &event), Applied::Changed);
    assert_eq!(dashboard.shops[1].total_orders, 16);
    let totals = &dashboard.totals;
    assert_eq!((totals.total_orders, totals.monthly_revenue_cents, totals.products), (36, Cents(77_757), 19));
    assert_eq!((totals.shops, totals.customers), (2, 7));
    assert_eq!(dashboard.reduce(&(), &event), Applied::Unchanged);
}

#[test]
fn the_admin_feed_takes_orders_of_every_shop() {
    let mut dashboard = admin_dashboard();
    let new = order(31, OTHER, 1_000, "2026-11-27T09:00:00Z");
    let event = order_event(Created, &new, 16, 31_000);
    assert_eq!(dashboard.reduce(&(), &event), Applied::Changed);
    assert_eq!(dashboard.recent_orders[0], new);
    assert_eq!((dashboard.shops[1].total_orders, dashboard.shops[1].open_orders), (16, 3));
    assert_eq!((dashboard.totals.total_orders, dashboard.totals.monthly_revenue_cents), (36, Cents(77_757)));
    assert_eq!(dashboard.reduce(&(), &event), Applied::Unchanged);
    assert_eq!(dashboard.shops[1].open_orders, 3);

    let cancelled = moved(&new, Cancelled, "2026-11-27T09:10:00Z");
    assert_eq!(dashboard.reduce(&(), &order_event(StatusChanged, &cancelled, 16, 30_000)), Applied::Changed);
    assert_eq!(dashboard.recent_orders[0].status, Cancelled);
    assert_eq!(dashboard.recent_orders.len(), 4, "replaced, not added");
    assert_eq!(dashboard.shops[1].open_orders, 2);
    assert_eq!(dashboard.totals.monthly_revenue_cents, Cents(76_757));
}

#[test]
fn the_admin_feed_keeps_the_server_length() {
    let mut dashboard = admin_dashboard();
    dashboard.recent_orders = older_orders(40, ADMIN_RECENT_ORDERS as i64);
    let new = order(41, SHOP, 1, "2026-11-27T09:00:00Z");
    assert_eq!(dashboard.reduce(&(), &order_event(Created, &new, 21, 0)), Applied::Changed);
    assert_eq!(dashboard.recent_orders.len(), ADMIN_RECENT_ORDERS);
    assert_eq!(dashboard.recent_orders[0].id, new.id);
}

#[test]
fn the_admin_counts_a_new_product_once() {
    let mut dashboard = admin_dashboard();
    let created = product(50, SHOP, "Oat Milk", 319, 40);
    assert_eq!(dashboard.reduce(&(), &product_event(ProductAction::Created, &created, 11, 3)), Applied::Changed);
    assert_eq!(dashboard.totals.products, 19);
    let follow = dashboard_event(shop_stats(SHOP, 20, 4, 46_757, 11, 3), vec![]);
    assert_eq!(dashboard.reduce(&(), &follow), Applied::Unchanged);
    assert_eq!(dashboard.totals.products, 19);
    assert_eq!(dashboard.reduce(&(), &product_event(ProductAction::Deleted, &created, 10, 3)), Applied::Changed);
    assert_eq!(dashboard.totals.products, 18);
}

#[test]
fn the_admin_says_stale_for_a_shop_it_does_not_know() {
    let mut dashboard = admin_dashboard();
    let stranger = product(60, ShopId(9), "Kite", 100, 9);
    assert_eq!(dashboard.reduce(&(), &product_event(ProductAction::Created, &stranger, 1, 0)), Applied::Stale);
    let new_shop = dashboard_event(shop_stats(ShopId(9), 0, 0, 0, 1, 0), vec![]);
    assert_eq!(dashboard.reduce(&(), &new_shop), Applied::Changed);
    assert_eq!(dashboard.shops.iter().map(|s| s.shop_id.0).collect::<Vec<_>>(), [1, 2, 9]);
    assert_eq!((dashboard.totals.shops, dashboard.totals.products), (3, 19));
}

fn customer_dashboard() -> CustomerDashboard {
    CustomerDashboard { recent_orders: older_orders(10, 2), cart_count: 3, wishlist_count: 2, unread_notifications: 1 }
}

#[test]
fn a_customer_checkout_lists_the_order_and_empties_the_cart_count() {
    let mut dashboard = customer_dashboard();
    let new = order(11, SHOP, 1300, "2026-11-27T10:00:00Z");
    // The customer's copy carries their own figures, which the customer dashboard does not show.
    let event = order_event(Created, &new, 4, 5_000);
    assert_eq!(dashboard.reduce(&(), &event), Applied::Changed);
    assert_eq!((dashboard.recent_orders[0].id, dashboard.cart_count), (new.id, 0));
    assert_eq!(dashboard.reduce(&(), &event), Applied::Unchanged);

    let paid = moved(&new, Paid, "2026-11-27T10:05:00Z");
    assert_eq!(dashboard.reduce(&(), &order_event(StatusChanged, &paid, 4, 5_000)), Applied::Changed);
    assert_eq!(dashboard.recent_orders[0].status, Paid);
    assert_eq!(dashboard.recent_orders.len(), 3);
}

#[test]
fn a_customer_counts_unread_notifications_and_refetches_after_a_deletion() {
    let mut dashboard = customer_dashboard();
    assert_eq!(dashboard.reduce(&(), &note_event(&note(7, false))), Applied::Changed);
    assert_eq!(dashboard.unread_notifications, 2);
    assert_eq!(dashboard.reduce(&(), &note_event(&note(8, true))), Applied::Unchanged);
    let gone = product(3, SHOP, "Rice", 100, 1);
    assert_eq!(dashboard.reduce(&(), &product_event(ProductAction::Deleted, &gone, 9, 1)), Applied::Stale);
    assert_eq!(dashboard.reduce(&(), &product_event(ProductAction::Updated, &gone, 9, 1)), Applied::Unchanged);

    assert_eq!(customer_mark_read(&mut dashboard, Some(true)), Applied::Changed);
    assert_eq!(dashboard.unread_notifications, 1);
    assert_eq!(customer_mark_read(&mut dashboard, Some(false)), Applied::Unchanged);
    assert_eq!(customer_mark_read(&mut dashboard, None), Applied::Stale);
}

#[test]
fn the_dashboard_enum_dispatches_by_role_and_ignores_control_frames() {
    let mut dashboard = Dashboard::Customer(customer_dashboard());
    assert_eq!(dashboard.reduce(&(), &ServerMsg::Pong), Applied::Unchanged);
    assert_eq!(dashboard.reduce(&(), &ServerMsg::Resync), Applied::Unchanged);
    assert_eq!(dashboard.reduce(&(), &note_event(&note(7, false))), Applied::Changed);
    let Dashboard::Customer(customer) = &dashboard else { unreachable!() };
    assert_eq!(customer.unread_notifications, 2);
}
