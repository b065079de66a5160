//! Pages of lists (`Page<Order>`, `Page<Product>`, `Page<Notification>`): items entering, leaving or moving
//! within one page of a sorted, possibly filtered list the client sees only a window of.
//!
//! Invariant: a page keeps the server's order and size; when an item shifts in from a page the client has not
//! seen, the reducer says [`Applied::Stale`] rather than guess.

use std::cmp::Ordering;

use protocol::{
    Notification, NotificationId, Order, OrderAction, OrderStatus, Page, Product, ProductAction, ServerMsg, ShopId,
};

use super::{Applied, Reduce, is_as_new, newest_first};

/// Where an item falls among a page's items.
enum Slot {
    /// The page is empty.
    Empty,
    /// Before the first item.
    Before,
    /// Between two items: its index.
    Inside(usize),
    /// After the last item.
    After,
}

/// One page of a sorted list, with the list's order and identity.
struct Window<'a, T> {
    page: &'a mut Page<T>,
    order: fn(&T, &T) -> Ordering,
    same: fn(&T, &T) -> bool,
}

impl<T: Clone + PartialEq> Window<'_, T> {
    fn is_first(&self) -> bool {
        self.page.page <= 1
    }

    fn capacity(&self) -> usize {
        self.page.per_page.max(1) as usize
    }

    /// Whether the list goes on after this page.
    fn more_after(&self) -> bool {
        let offset = u64::from(self.page.page.saturating_sub(1)) * u64::from(self.page.per_page);
        offset + (self.page.items.len() as u64) < self.page.total
    }

    fn position(&self, item: &T) -> Option<usize> {
        self.page.items.iter().position(|listed| (self.same)(listed, item))
    }

    fn slot(&self, item: &T) -> Slot {
        let items = &self.page.items;
        let at = items.partition_point(|listed| (self.order)(listed, item) == Ordering::Less);
        match at {
            _ if items.is_empty() => Slot::Empty,
            0 => Slot::Before,
            at if at == items.len() => Slot::After,
            at => Slot::Inside(at),
        }
    }

    /// `item` joined the list (created, or started matching the filter): `total` + 1, and the item placed when
    /// it falls on this page.
    fn enter(&mut self, item: &T) -> Applied {
        if self.position(item).is_some() {
            return self.refresh(item);
        }
        let (more_after, first, capacity) = (self.more_after(), self.is_first(), self.capacity());
        let slot = self.slot(item);
        self.page.total += 1;
        let items = &mut self.page.items;
        match slot {
            Slot::Empty if first => items.push(item.clone()),
            // A later page past the end may now reach this page.
            Slot::Empty => return Applied::Stale,
            Slot::Before if first => items.insert(0, item.clone()),
            // It lands on an earlier page, which pushes that page's last item onto this one.
            Slot::Before => return Applied::Stale,
            Slot::Inside(at) => items.insert(at, item.clone()),
            Slot::After if !more_after && items.len() < capacity => items.push(item.clone()),
            // On a later page: only the total changes here.
            Slot::After => {}
        }
        items.truncate(capacity);
        Applied::Changed
    }

    /// `item` left the list (deleted, or stopped matching the filter): removed, `total` - 1.
    fn leave(&mut self, item: &T) -> Applied {
        let (more_after, first) = (self.more_after(), self.is_first());
        if let Some(at) = self.position(item) {
            self.page.items.remove(at);
            self.page.total = self.page.total.saturating_sub(1);
            // The first item of the next page moves up onto this one.
            return if more_after { Applied::Stale } else { Applied::Changed };
        }
        match self.slot(item) {
            // Where it was listed it would be here: it is already gone.
            Slot::Empty | Slot::Inside(_) => Applied::Unchanged,
            Slot::Before if first => Applied::Unchanged,
            Slot::Before => {
                self.page.total = self.page.total.saturating_sub(1);
                Applied::Stale
            }
            Slot::After if more_after => {
                self.page.total = self.page.total.saturating_sub(1);
                Applied::Changed
            }
            Slot::After => Applied::Unchanged,
        }
    }

    /// `item` changed and stays in the list: replaced in place, or moved when its sort key changed.
    fn refresh(&mut self, item: &T) -> Applied {
        let (more_after, first) = (self.more_after(), self.is_first());
        let Some(at) = self.position(item) else {
            // Not on this page: it concerns the page only if it now sorts into it.
            return match self.slot(item) {
                Slot::Inside(_) => Applied::Stale,
                Slot::Before if first => Applied::Stale,
                Slot::After if !more_after && self.page.items.len() < self.capacity() => Applied::Stale,
                _ => Applied::Unchanged,
            };
        };
        if self.page.items[at] == *item {
            return Applied::Unchanged;
        }
        if (self.order)(&self.page.items[at], item) == Ordering::Equal {
            self.page.items[at] = item.clone();
            return Applied::Changed;
        }
        self.page.items.remove(at);
        let (at, outcome) = match self.slot(item) {
            Slot::Empty => (0, Applied::Changed),
            Slot::Inside(at) => (at, Applied::Changed),
            // It may belong to an earlier page; best guess: the top of this one.
            Slot::Before => (0, if first { Applied::Changed } else { Applied::Stale }),
            Slot::After => (self.page.items.len(), if more_after { Applied::Stale } else { Applied::Changed }),
        };
        self.page.items.insert(at, item.clone());
        outcome
    }
}

/// The filter of an orders list (`GET /api/orders?shop_id=&status=`); the role's own scope (an owner's shop, a
/// customer's own orders) is already applied by the server's choice of audience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OrderFilter {
    /// Only this shop's orders.
    pub shop_id: Option<ShopId>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
}

impl OrderFilter {
    /// Whether `order` belongs to the filtered list.
    pub fn matches(&self, order: &Order) -> bool {
        self.shop_id.is_none_or(|shop| shop == order.shop_id) && self.status.is_none_or(|s| s == order.status)
    }
}

fn same_order(a: &Order, b: &Order) -> bool {
    a.id == b.id
}

/// An orders list page (newest first).
///
/// - created, matching: inserted at its place when on this page (the page capped at `per_page`), `total` + 1;
///   an id below one already listed means the page was read after it: ignored.
/// - status changed or updated: replaced in place when listed and newer. With a status filter, an order
///   moving into it enters (`total` + 1) and one moving out leaves (`total` - 1); an order not listed whose
///   previous status is ambiguous (a cancellation, filter `pending` or `paid`) answers `Stale`.
impl Reduce for Page<Order> {
    type Scope = OrderFilter;

    fn reduce(&mut self, filter: &OrderFilter, event: &ServerMsg) -> Applied {
        let ServerMsg::OrderUpdate(update) = event else { return Applied::Unchanged };
        let order = &update.order;
        if filter.shop_id.is_some_and(|shop| shop != order.shop_id) {
            return Applied::Unchanged;
        }
        let listed = self.items.iter().find(|listed| listed.id == order.id);
        if listed.is_some_and(|listed| update.action == OrderAction::Created || is_as_new(listed, order)) {
            return Applied::Unchanged;
        }
        let is_listed = listed.is_some();
        let matches = filter.matches(order);
        let mut window = Window { page: self, order: newest_first, same: same_order };
        if update.action == OrderAction::Created {
            let known = window.page.items.iter().any(|listed| listed.id > order.id);
            return if matches && !known { window.enter(order) } else { Applied::Unchanged };
        }
        match (is_listed, matches, filter.status) {
            (true, true, _) | (false, true, None) => window.refresh(order),
            (true, false, _) => window.leave(order),
            (false, true, Some(_)) => window.enter(order),
            (false, false, Some(wanted)) => {
                let previous: Vec<_> = OrderStatus::ALL.into_iter().filter(|s| s.can_become(order.status)).collect();
                match previous.as_slice() {
                    [only] if *only == wanted => window.leave(order),
                    several if several.contains(&wanted) => Applied::Stale,
                    _ => Applied::Unchanged,
                }
            }
            (false, false, None) => Applied::Unchanged,
        }
    }
}

/// The filter of a catalog page (`GET /api/products?shop_id=&q=`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProductFilter {
    shop_id: Option<ShopId>,
    /// Lowercased (ASCII, like the server's SQLite `lower`), trimmed, never empty.
    search: Option<String>,
}

impl ProductFilter {
    /// A filter on an optional shop and search text (trimmed; blank means no search, as on the server).
    pub fn new(shop_id: Option<ShopId>, search: Option<&str>) -> ProductFilter {
        let search = search.map(str::trim).filter(|text| !text.is_empty()).map(str::to_ascii_lowercase);
        ProductFilter { shop_id, search }
    }

    /// The shop filtered on, if any.
    pub fn shop_id(&self) -> Option<ShopId> {
        self.shop_id
    }

    /// Whether `product` belongs to the filtered catalog: its shop, and the search text found in its name
    /// (ASCII case-insensitively, like the server).
    pub fn matches(&self, product: &Product) -> bool {
        self.shop_id.is_none_or(|shop| shop == product.shop_id)
            && self.search.as_deref().is_none_or(|search| product.name.to_ascii_lowercase().contains(search))
    }
}

/// The catalog's order: name (ASCII case-insensitive, like SQLite's `NOCASE`), then id.
fn catalog_order(a: &Product, b: &Product) -> Ordering {
    let fold = |p: &Product| p.name.bytes().map(|c| c.to_ascii_lowercase()).collect::<Vec<_>>();
    fold(a).cmp(&fold(b)).then(a.id.cmp(&b.id))
}

fn same_product(a: &Product, b: &Product) -> bool {
    a.id == b.id
}

/// A catalog page, for the filter it was requested with.
///
/// - created, matching: inserted at its place (name, then id) when on this page, `total` + 1; an id below one
///   listed means the page was read after it: ignored.
/// - updated: replaced in place (price, stock...), moved if renamed; removed (`total` - 1) when a rename takes
///   it out of the search. A product not listed is assumed to keep its membership (a rename into the search
///   of a product outside the page leaves `total` one short until the next fetch).
/// - deleted: removed, `total` - 1.
impl Reduce for Page<Product> {
    type Scope = ProductFilter;

    fn reduce(&mut self, filter: &ProductFilter, event: &ServerMsg) -> Applied {
        let Some((action, product)) = event.product_change() else { return Applied::Unchanged };
        let matches = filter.matches(product);
        let mut window = Window { page: self, order: catalog_order, same: same_product };
        let listed = window.position(product).is_some();
        match action {
            ProductAction::Created if listed => window.refresh(product),
            ProductAction::Created => {
                let known = window.page.items.iter().any(|listed| listed.id > product.id);
                if matches && !known { window.enter(product) } else { Applied::Unchanged }
            }
            ProductAction::Updated if matches => window.refresh(product),
            ProductAction::Updated if listed => window.leave(product),
            ProductAction::Updated => Applied::Unchanged,
            ProductAction::Deleted if matches || listed => window.leave(product),
            ProductAction::Deleted => Applied::Unchanged,
        }
    }
}

fn newest_note_first(a: &Notification, b: &Notification) -> Ordering {
    b.id.cmp(&a.id)
}

fn same_note(a: &Notification, b: &Notification) -> bool {
    a.id == b.id
}

/// A notifications page (newest first): a `notification` event is inserted at the top of page 1 (capped at
/// `per_page`), `total` + 1; on a later page only `total` changes and the page is `Stale` (everything shifts).
/// An id at or below one listed is already there.
impl Reduce for Page<Notification> {
    type Scope = ();

    fn reduce(&mut self, _: &(), event: &ServerMsg) -> Applied {
        let ServerMsg::Notification(event) = event else { return Applied::Unchanged };
        let note = &event.notification;
        if self.items.iter().any(|listed| listed.id >= note.id) {
            return Applied::Unchanged;
        }
        Window { page: self, order: newest_note_first, same: same_note }.enter(note)
    }
}

/// Marks notification `id` read on a page (after `POST /api/notifications/{id}/read`): `Changed` when it was
/// listed unread, `Unchanged` when listed and already read, `Stale` when not on this page.
pub fn mark_read(page: &mut Page<Notification>, id: NotificationId) -> Applied {
    match page.items.iter_mut().find(|note| note.id == id) {
        Some(note) if !note.read => {
            note.read = true;
            Applied::Changed
        }
        Some(_) => Applied::Unchanged,
        None => Applied::Stale,
    }
}
