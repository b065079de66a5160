//! The role dashboards: an owner's (one shop), the admin's (every shop, platform totals) and a customer's.
//!
//! Invariant: an owner's dashboard only ever takes events of its own shop; the admin's totals are always the
//! sums of its per-shop figures, so an event is never counted twice.

use protocol::{
    AdminDashboard, Cents, CustomerDashboard, NotificationId, OrderUpdate, OwnerDashboard, ProductAction,
    ProductUpdate, ServerMsg, ShopStats,
};

use super::days::add_to_day;
use super::{
    ADMIN_RECENT_ORDERS, Applied, CUSTOMER_RECENT_ORDERS, OWNER_RECENT_NOTIFICATIONS, OWNER_RECENT_ORDERS, Relation,
    add_count, insert_notification, open_orders_delta, place_order, relate,
};

/// The shop's order figures after an `order_update`: the event's absolute counts, and the open orders moved
/// by the change when the previous status is known (otherwise the `dashboard_update` that follows brings them).
fn apply_order_figures(stats: &mut ShopStats, update: &OrderUpdate, relation: Relation) {
    stats.total_orders = update.total_orders;
    stats.monthly_revenue_cents = update.monthly_revenue;
    add_count(&mut stats.open_orders, open_orders_delta(relation, update.order.status));
}

/// The shop's product figures after a `product_update` carrying that shop's `ProductStats`.
fn apply_product_figures(stats: &mut ShopStats, update: &ProductUpdate) {
    if update.stats.shop_id == Some(stats.shop_id) {
        stats.product_count = update.stats.total_products;
        stats.low_stock_count = update.stats.low_stock;
    }
}

/// An owner's dashboard, see [`super::Reduce`].
///
/// - `order_update` of the shop: the order inserted (capped at [`OWNER_RECENT_ORDERS`]) or replaced; the
///   event's `total_orders` and `monthly_revenue`; `open_orders` moved when the previous status is known; a
///   new order's total added to its day of `revenue_by_day` (rolling the chart to a new day), a cancelled one's
///   removed from it.
/// - `dashboard_update` of the shop: its `shop_stats`, and its notifications inserted (capped at
///   [`OWNER_RECENT_NOTIFICATIONS`], by id) with `unread_notifications` counting the new unread ones.
/// - `notification`: likewise.
/// - `product_update` of the shop: `product_count` and `low_stock_count` from the event's `stats` (the same
///   figures as the `dashboard_update` that follows; both are absolute).
pub(super) fn owner(dashboard: &mut OwnerDashboard, event: &ServerMsg) -> Applied {
    let shop = dashboard.shop_stats.shop_id;
    let before = dashboard.clone();
    match event {
        ServerMsg::OrderUpdate(update) if update.order.shop_id == shop => {
            let relation = relate(&dashboard.recent_orders, update);
            if relation == Relation::Outdated {
                return Applied::Unchanged;
            }
            let order = &update.order;
            place_order(&mut dashboard.recent_orders, order, relation, OWNER_RECENT_ORDERS);
            apply_order_figures(&mut dashboard.shop_stats, update, relation);
            let counted_before = match relation {
                Relation::New => false,
                Relation::Listed(status) => status.counts_as_revenue(),
                // Every status but cancelled counts, and a cancellation comes from pending or paid: only a
                // cancellation changes the revenue of an order not listed.
                Relation::Unlisted | Relation::Outdated => true,
            };
            let counted_now = order.status.counts_as_revenue();
            if counted_before != counted_now {
                let sign = if counted_now { 1 } else { -1 };
                let revenue = Cents(order.total_cents.0 * sign);
                add_to_day(&mut dashboard.revenue_by_day, &order.created_at, revenue, sign, counted_now);
            }
        }
        ServerMsg::DashboardUpdate(update) if update.shop_stats.shop_id == shop => {
            dashboard.shop_stats = update.shop_stats.clone();
            for note in &update.notifications {
                owner_take_notification(dashboard, note);
            }
        }
        ServerMsg::Notification(event) => owner_take_notification(dashboard, &event.notification),
        ServerMsg::ProductUpdate(update) if update.product.shop_id == shop => {
            apply_product_figures(&mut dashboard.shop_stats, update);
        }
        _ => return Applied::Unchanged,
    }
    Applied::from_changed(*dashboard != before)
}

fn owner_take_notification(dashboard: &mut OwnerDashboard, note: &protocol::Notification) {
    if insert_notification(&mut dashboard.notifications, note, OWNER_RECENT_NOTIFICATIONS) && !note.read {
        dashboard.unread_notifications += 1;
    }
}

/// Marks notification `id` read on an owner's dashboard (after `POST /api/notifications/{id}/read`): `Changed`
/// when it was listed unread (the unread count drops), `Unchanged` when listed and already read, `Stale` when
/// not listed (whether it was unread is unknown).
pub fn owner_mark_read(dashboard: &mut OwnerDashboard, id: NotificationId) -> Applied {
    match dashboard.notifications.iter_mut().find(|note| note.id == id) {
        Some(note) if !note.read => {
            note.read = true;
            dashboard.unread_notifications = dashboard.unread_notifications.saturating_sub(1);
            Applied::Changed
        }
        Some(_) => Applied::Unchanged,
        None => Applied::Stale,
    }
}

/// Recomputes the platform totals from the per-shop figures (the server's totals use the same rules over
/// every shop, so they are the sums; `customers` is not per shop and stays).
fn recompute_totals(dashboard: &mut AdminDashboard) {
    let totals = &mut dashboard.totals;
    totals.shops = dashboard.shops.len() as u64;
    totals.total_orders = dashboard.shops.iter().map(|shop| shop.total_orders).sum();
    totals.monthly_revenue_cents = dashboard.shops.iter().map(|shop| shop.monthly_revenue_cents).sum();
    totals.products = dashboard.shops.iter().map(|shop| shop.product_count).sum();
}

/// The admin's dashboard, see [`super::Reduce`].
///
/// - `dashboard_update`: that shop's `ShopStats` replaced (inserted by shop id if new), totals recomputed.
/// - `order_update`: the live feed (capped at [`ADMIN_RECENT_ORDERS`]) gets or replaces the order; that shop's
///   `total_orders`, `monthly_revenue_cents` and (when known) `open_orders` follow; totals recomputed.
/// - `product_update`: that shop's `product_count` and `low_stock_count` from the event's `stats`, totals
///   recomputed. Totals are sums of absolute per-shop figures, so the `dashboard_update` that follows does not
///   count the product again.
///
/// An order or product of a shop the dashboard does not list answers `Stale`.
pub(super) fn admin(dashboard: &mut AdminDashboard, event: &ServerMsg) -> Applied {
    let before = dashboard.clone();
    let mut outcome = Applied::Unchanged;
    match event {
        ServerMsg::DashboardUpdate(update) => {
            let stats = &update.shop_stats;
            match dashboard.shops.binary_search_by_key(&stats.shop_id, |shop| shop.shop_id) {
                Ok(at) => dashboard.shops[at] = stats.clone(),
                Err(at) => dashboard.shops.insert(at, stats.clone()),
            }
        }
        ServerMsg::OrderUpdate(update) => {
            let relation = relate(&dashboard.recent_orders, update);
            if relation == Relation::Outdated {
                return Applied::Unchanged;
            }
            place_order(&mut dashboard.recent_orders, &update.order, relation, ADMIN_RECENT_ORDERS);
            match dashboard.shops.iter_mut().find(|shop| shop.shop_id == update.order.shop_id) {
                Some(shop) => apply_order_figures(shop, update, relation),
                None => outcome = Applied::Stale,
            }
        }
        ServerMsg::ProductUpdate(update) => {
            match dashboard.shops.iter_mut().find(|shop| shop.shop_id == update.product.shop_id) {
                Some(shop) => apply_product_figures(shop, update),
                None => outcome = Applied::Stale,
            }
        }
        _ => return Applied::Unchanged,
    }
    recompute_totals(dashboard);
    outcome.and(Applied::from_changed(*dashboard != before))
}

/// A customer's dashboard, see [`super::Reduce`]. The server sends a customer only their own orders and
/// notifications.
///
/// - `order_update`: the order inserted (capped at [`CUSTOMER_RECENT_ORDERS`]) or replaced; a new order is a
///   checkout, which empties the cart: `cart_count` becomes 0.
/// - `notification`: `unread_notifications` + 1 when unread (a bare count: not idempotent).
/// - `catalog_update` (or `product_update`) deleted: `Stale`, since the product may have been in the cart or
///   the wishlist.
pub(super) fn customer(dashboard: &mut CustomerDashboard, event: &ServerMsg) -> Applied {
    let before = dashboard.clone();
    match event {
        ServerMsg::OrderUpdate(update) => {
            let relation = relate(&dashboard.recent_orders, update);
            place_order(&mut dashboard.recent_orders, &update.order, relation, CUSTOMER_RECENT_ORDERS);
            if relation == Relation::New {
                dashboard.cart_count = 0;
            }
        }
        ServerMsg::Notification(event) if !event.notification.read => dashboard.unread_notifications += 1,
        _ if matches!(event.product_change(), Some((ProductAction::Deleted, _))) => return Applied::Stale,
        _ => return Applied::Unchanged,
    }
    Applied::from_changed(*dashboard != before)
}

/// Marks a notification read on a customer's dashboard, which lists none: `was_unread` is what the caller
/// knows from a notification list (for example [`super::mark_read`] answering `Changed`). `Some(true)`: the
/// count drops; `Some(false)`: unchanged; `None`: `Stale`.
pub fn customer_mark_read(dashboard: &mut CustomerDashboard, was_unread: Option<bool>) -> Applied {
    match was_unread {
        Some(true) if dashboard.unread_notifications > 0 => {
            dashboard.unread_notifications -= 1;
            Applied::Changed
        }
        Some(_) => Applied::Unchanged,
        None => Applied::Stale,
    }
}
