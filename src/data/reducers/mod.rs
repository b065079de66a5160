//! Event reducers: pure functions that patch a cached value with one server event, so a view follows the
//! server without refetching.
//!
//! Invariant: no clock, no I/O, no framework. A reducer only writes figures the event carries or that follow
//! exactly from the cached value and the event; when it cannot know, it answers [`Applied::Stale`] and the
//! binding refetches in the background.
//!
//! # Convention
//!
//! Every cached type implements [`Reduce`]: `value.reduce(&scope, &event) -> Applied`, changing `value` in
//! place (it fits the cache's `update(key, |value: &mut T| ...)`). `scope` is what the value was requested
//! with and the reducer needs: a list's filter ([`OrderFilter`], [`ProductFilter`]), `()` for everything else.
//! Control frames (`auth_ok`, `pong`, `resync`, ...) and events about other data answer
//! [`Applied::Unchanged`].
//!
//! # What each event does
//!
//! | value | `order_update` | `dashboard_update` | `notification` | `product_update` |
//! |---|---|---|---|---|
//! | [`OwnerDashboard`] | own shop: list, figures, open orders, revenue day | own shop: stats, notes | note, unread | own shop: product and low-stock counts |
//! | [`AdminDashboard`] | live feed, the shop's figures, totals | the shop's stats, totals | — | the shop's counts, totals |
//! | [`CustomerDashboard`] | list; a new order empties the cart count | — | unread | deleted: stale (cart, wishlist) |
//! | `Page<Order>` | insert, replace, move in or out of the status filter | — | — | — |
//! | `Page<Product>` | — | — | — | insert, replace, move, remove (filter) |
//! | `Page<Notification>` | — | — | insert | — |
//! | `Product`, `Order` | same order: replace | — | — | same product: replace, or [`Applied::Gone`] |
//! | `ProductStats` | — | — | — | same shop: take the event's `stats` |
//! | `Cart`, `Wishlist` | `Cart`: created: stale | — | — | refresh or drop the product's line |
//!
//! A product change reaches the shop's staff as `product_update` (with the figures) and everybody else as
//! `catalog_update` (without): the lists, pages, cart and wishlist take either (the `product_update` column
//! stands for both there); the figures come from `product_update` alone.
//!
//! `dashboard_update.notifications` are read only by the owner's dashboard: the server sends that event to
//! every member of the shop's staff (admins too) although the notifications are the owner's, and each one
//! also arrives as its own `notification` event, which is what notification lists take.
//!
//! # Idempotence
//!
//! The socket layer drops repeated seqs; what remains is a value fetched after an event was committed and
//! that event applied on top of it (a replay after a refetch). The reducers recognise it where the data allows:
//!
//! - ids grow with time (the server serializes writes), so a *created* order, product or notification whose id
//!   is below one already listed was committed before that list was read: it is already counted and is
//!   ignored; one already listed is never inserted twice;
//! - an order listed with a later `updated_at` (or, within the same second, a later life-cycle status) than
//!   the event's is newer than the event: the event is ignored, figures included;
//! - shop figures (`total_orders`, `monthly_revenue`, `ShopStats`, `ProductStats`) are absolute values taken
//!   from the event, so applying them twice changes nothing.
//!
//! Left approximate (each then corrected by the next refetch):
//! - a cancellation of an order outside the cached `recent_orders` removes its revenue from its day bucket
//!   every time it is applied; a status change of such an order leaves `open_orders` to the
//!   `dashboard_update` that the server sends right after it;
//! - a customer's `unread_notifications` is a bare count: the same `notification` twice counts twice;
//! - a list's `total` is adjusted for items entering or leaving outside the visible page, which a repeat
//!   outside the page counts twice;
//! - an event older than a value fetched after it (not recognised by the rules above) overwrites absolute
//!   figures with older ones.

use std::cmp::Ordering;

use protocol::{
    AdminDashboard, CustomerDashboard, Dashboard, Notification, Order, OrderAction, OrderStatus, OrderUpdate,
    OwnerDashboard, ServerMsg,
};

mod dashboards;
mod days;
pub(crate) mod objects;
mod pages;

pub use dashboards::{customer_mark_read, owner_mark_read};
pub use pages::{OrderFilter, ProductFilter, mark_read};

/// Orders on an owner's dashboard (the server's `RECENT_ORDERS`).
pub const OWNER_RECENT_ORDERS: usize = 10;
/// Orders on a customer's dashboard (the server's `RECENT_ORDERS`).
pub const CUSTOMER_RECENT_ORDERS: usize = 10;
/// Orders in the admin's live feed (the server's `ADMIN_RECENT_ORDERS`).
pub const ADMIN_RECENT_ORDERS: usize = 20;
/// Notifications on an owner's dashboard (the server's `RECENT_NOTIFICATIONS`).
pub const OWNER_RECENT_NOTIFICATIONS: usize = 10;

/// What applying an event did to a value. Ordered by how much the binding has to do, so several outcomes
/// combine with [`Applied::and`].
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Applied {
    /// The event does not concern the value, or the value already reflects it. Nothing to store.
    Unchanged,
    /// The value was patched and is exact: store it, re-render its readers.
    Changed,
    /// The event changes the value in a way the reducer cannot compute (an item shifts in from a page it has
    /// not seen, another shop's figures): the value holds what could be patched; store it and refetch in the
    /// background.
    Stale,
    /// The object the value describes no longer exists (a deleted product): show it as gone, drop the entry.
    Gone,
}

impl Applied {
    /// Whether the value must be stored and its readers notified (everything but [`Applied::Unchanged`]).
    pub fn is_changed(self) -> bool {
        self != Applied::Unchanged
    }

    /// Whether the binding should refetch the value.
    pub fn needs_refetch(self) -> bool {
        self == Applied::Stale
    }

    /// The outcome of two steps applied one after the other: the more demanding one.
    pub fn and(self, other: Applied) -> Applied {
        self.max(other)
    }

    /// `Changed` when `changed`, `Unchanged` otherwise.
    pub fn from_changed(changed: bool) -> Applied {
        if changed { Applied::Changed } else { Applied::Unchanged }
    }
}

/// A cached value that server events can patch in place.
pub trait Reduce {
    /// What the value was requested with that the reducer needs to know (a list's filter); `()` when nothing.
    type Scope;

    /// Applies `event` to the value and says what it did (see the module docs for each type's rules).
    fn reduce(&mut self, scope: &Self::Scope, event: &ServerMsg) -> Applied;
}

/// The role dashboard, whatever the role: dispatches to the role's reducer.
impl Reduce for Dashboard {
    type Scope = ();

    fn reduce(&mut self, scope: &(), event: &ServerMsg) -> Applied {
        match self {
            Dashboard::Owner(dashboard) => dashboard.reduce(scope, event),
            Dashboard::Admin(dashboard) => dashboard.reduce(scope, event),
            Dashboard::Customer(dashboard) => dashboard.reduce(scope, event),
        }
    }
}

/// Newest first, as the server lists orders: by `created_at` descending, then id descending.
fn newest_first(a: &Order, b: &Order) -> Ordering {
    b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))
}

/// Whether an order in `status` counts as open (waiting to be paid or shipped).
fn is_open(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::Pending | OrderStatus::Paid)
}

/// Whether an order can reach `to` from `from` by legal moves (one or more).
fn comes_after(to: OrderStatus, from: OrderStatus) -> bool {
    use OrderStatus::*;
    let rank = |s: OrderStatus| match s {
        Pending => 0,
        Paid => 1,
        Shipped => 2,
        Delivered => 3,
        Cancelled => 4,
    };
    match to {
        Cancelled => matches!(from, Pending | Paid),
        _ => from != Cancelled && rank(to) > rank(from),
    }
}

/// Whether `cached` is at least as new as `incoming` (the same order): equal, updated later, or updated in the
/// same second but further along its life cycle.
fn is_as_new(cached: &Order, incoming: &Order) -> bool {
    cached == incoming
        || match cached.updated_at.cmp(&incoming.updated_at) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => cached.status == incoming.status || comes_after(cached.status, incoming.status),
        }
}

/// How an `order_update` relates to a cached newest-first list of orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// A created order the list has not seen: insert it, count it.
    New,
    /// A listed order, and the event is newer: replace it; it had this status.
    Listed(OrderStatus),
    /// The list was read after the event (or already took it): ignore the event, figures included.
    Outdated,
    /// A change to an order not listed (older than the list): its previous status is unknown.
    Unlisted,
}

/// Relates `update` to `list` (see [`Relation`]).
fn relate(list: &[Order], update: &OrderUpdate) -> Relation {
    let order = &update.order;
    match list.iter().find(|cached| cached.id == order.id) {
        Some(_) if update.action == OrderAction::Created => Relation::Outdated,
        Some(cached) if is_as_new(cached, order) => Relation::Outdated,
        Some(cached) => Relation::Listed(cached.status),
        None if update.action != OrderAction::Created => Relation::Unlisted,
        None if list.iter().any(|cached| cached.id > order.id) => Relation::Outdated,
        None => Relation::New,
    }
}

/// Puts `order` into `list` as `relation` says: a new one at its place (the list capped at `max`), a listed
/// one replaced in place.
fn place_order(list: &mut Vec<Order>, order: &Order, relation: Relation, max: usize) {
    match relation {
        Relation::New => {
            let at = list.partition_point(|cached| newest_first(cached, order) == Ordering::Less);
            list.insert(at, order.clone());
            list.truncate(max);
        }
        Relation::Listed(_) => {
            if let Some(cached) = list.iter_mut().find(|cached| cached.id == order.id) {
                *cached = order.clone();
            }
        }
        Relation::Outdated | Relation::Unlisted => {}
    }
}

/// How many open orders the change adds (negative: removes), when it is known.
fn open_orders_delta(relation: Relation, now: OrderStatus) -> i64 {
    match relation {
        Relation::New => i64::from(is_open(now)),
        Relation::Listed(before) => i64::from(is_open(now)) - i64::from(is_open(before)),
        Relation::Outdated | Relation::Unlisted => 0,
    }
}

/// Adds a signed `delta` to a count, never below zero.
fn add_count(count: &mut u64, delta: i64) {
    *count = count.saturating_add_signed(delta);
}

/// Inserts `note` into a list sorted by id descending (newest first), capped at `max`. Returns whether it was
/// new: neither listed nor older than the newest listed (which would mean the list was read after it).
fn insert_notification(list: &mut Vec<Notification>, note: &Notification, max: usize) -> bool {
    if list.iter().any(|listed| listed.id >= note.id) {
        return false;
    }
    list.insert(0, note.clone());
    list.truncate(max);
    true
}

impl Reduce for OwnerDashboard {
    type Scope = ();

    fn reduce(&mut self, _: &(), event: &ServerMsg) -> Applied {
        dashboards::owner(self, event)
    }
}

impl Reduce for AdminDashboard {
    type Scope = ();

    fn reduce(&mut self, _: &(), event: &ServerMsg) -> Applied {
        dashboards::admin(self, event)
    }
}

impl Reduce for CustomerDashboard {
    type Scope = ();

    fn reduce(&mut self, _: &(), event: &ServerMsg) -> Applied {
        dashboards::customer(self, event)
    }
}

#[cfg(test)]
mod tests;
