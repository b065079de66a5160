//! Single objects and small collections: a product page, an order page, product figures, the cart, the
//! wishlist and the list of shops.
//!
//! Invariant: a cart's `count` and `total_cents` are always recomputed from its lines, never adjusted.

use protocol::{Cart, Order, Product, ProductAction, ProductStats, ServerMsg, Shop, Wishlist};
use protocol::{OrderAction, ProductUpdate};

use super::{Applied, Reduce, is_as_new};

/// A product page: an update of this product (`product_update` or `catalog_update`) replaces it (unless the cached one is newer); its deletion
/// answers [`Applied::Gone`] and leaves the value as it was, for the page to say so.
impl Reduce for Product {
    type Scope = ();

    fn reduce(&mut self, _: &(), event: &ServerMsg) -> Applied {
        let Some((action, product)) = event.product_change() else { return Applied::Unchanged };
        if product.id != self.id {
            return Applied::Unchanged;
        }
        match action {
            ProductAction::Deleted => Applied::Gone,
            ProductAction::Created | ProductAction::Updated => {
                if *self == *product || self.updated_at > product.updated_at {
                    Applied::Unchanged
                } else {
                    *self = product.clone();
                    Applied::Changed
                }
            }
        }
    }
}

/// An order page: an `order_update` of this order replaces it, unless the cached one is as new.
impl Reduce for Order {
    type Scope = ();

    fn reduce(&mut self, _: &(), event: &ServerMsg) -> Applied {
        match event {
            ServerMsg::OrderUpdate(update) if update.order.id == self.id && !is_as_new(self, &update.order) => {
                *self = update.order.clone();
                Applied::Changed
            }
            _ => Applied::Unchanged,
        }
    }
}

/// Product figures: a `product_update` of the same shop carries that shop's figures after the change, which
/// replace these. Platform-wide figures (`shop_id` absent) cannot be derived from one shop's: `Stale`.
impl Reduce for ProductStats {
    type Scope = ();

    fn reduce(&mut self, _: &(), event: &ServerMsg) -> Applied {
        let ServerMsg::ProductUpdate(ProductUpdate { stats, .. }) = event else { return Applied::Unchanged };
        match self.shop_id {
            None => Applied::Stale,
            Some(shop) if stats.shop_id == Some(shop) && *self != *stats => {
                *self = stats.clone();
                Applied::Changed
            }
            Some(_) => Applied::Unchanged,
        }
    }
}

/// Recomputes a cart's line totals, `count` (units) and `total_cents` from its lines, at today's prices.
pub(crate) fn recompute(cart: &mut Cart) {
    for line in &mut cart.items {
        line.line_total_cents = line.product.price_cents.times(line.quantity);
    }
    cart.count = cart.items.iter().map(|line| u64::from(line.quantity)).sum();
    cart.total_cents = cart.items.iter().map(|line| line.line_total_cents).sum();
}

/// The cart: an updated product refreshes its line (name, price, stock; line total and cart totals
/// recomputed; the quantity stays even above the stock, as on the server, which checkout catches); a deleted
/// one drops its line (the server drops it from every cart). A created order is a checkout, which emptied the
/// cart on the server: `Stale` (refetched rather than cleared, in case the cart was read after that checkout).
impl Reduce for Cart {
    type Scope = ();

    fn reduce(&mut self, _: &(), event: &ServerMsg) -> Applied {
        let before = self.clone();
        match event {
            ServerMsg::ProductUpdate(_) | ServerMsg::CatalogUpdate(_) => {
                let (action, product) = event.product_change().expect("a product event");
                match action {
                    ProductAction::Deleted => self.items.retain(|line| line.product.id != product.id),
                    ProductAction::Created | ProductAction::Updated => {
                        for line in self.items.iter_mut().filter(|line| line.product.id == product.id) {
                            line.product = product.clone();
                        }
                    }
                }
                recompute(self);
            }
            ServerMsg::OrderUpdate(update) if update.action == OrderAction::Created && !self.items.is_empty() => {
                return Applied::Stale;
            }
            _ => return Applied::Unchanged,
        }
        Applied::from_changed(*self != before)
    }
}

/// The wishlist: an updated product is replaced, a deleted one removed (the server drops it from every
/// wishlist).
impl Reduce for Wishlist {
    type Scope = ();

    fn reduce(&mut self, _: &(), event: &ServerMsg) -> Applied {
        let Some((action, product)) = event.product_change() else { return Applied::Unchanged };
        let before = self.items.len();
        match action {
            ProductAction::Deleted => {
                self.items.retain(|listed| listed.id != product.id);
                Applied::from_changed(self.items.len() != before)
            }
            ProductAction::Created | ProductAction::Updated => {
                let mut changed = false;
                for listed in self.items.iter_mut().filter(|listed| listed.id == product.id && **listed != *product) {
                    *listed = product.clone();
                    changed = true;
                }
                Applied::from_changed(changed)
            }
        }
    }
}

/// The list of shops: no event changes it (shops are not created or renamed live).
impl Reduce for Vec<Shop> {
    type Scope = ();

    fn reduce(&mut self, _: &(), _: &ServerMsg) -> Applied {
        Applied::Unchanged
    }
}
