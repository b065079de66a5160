//! What the UI shows while writes wait: the server's last answer with the kept writes applied in order.
//! Nothing is ever written over the server's value, so a refused write is rolled back by dropping it, and a
//! later answer from the server (or an event) rebases the writes still waiting on it.

use protocol::{Cart, CartLine, NewProduct, Wishlist};

use super::{Entry, Write, WriteId};
use crate::data::reducers::objects::recompute;

/// Most units of one product in a cart (as the server allows).
const MAX_LINE_QUANTITY: u32 = 99;

/// `server`'s cart with the cart writes of `entries` applied, oldest first. An add of a product not in the
/// cart shows a line only when the write kept the product it was made from.
pub fn cart_with(server: &Cart, entries: &[Entry]) -> Cart {
    let mut cart = server.clone();
    let mut changed = false;
    for entry in entries {
        let index = |product| cart.items.iter().position(|line| line.product.id == product);
        match &entry.write {
            Write::CartAdd { product, quantity } => match (index(*product), &entry.shown) {
                (Some(at), _) => {
                    let line = &mut cart.items[at];
                    line.quantity = line.quantity.saturating_add(*quantity).min(MAX_LINE_QUANTITY);
                }
                (None, Some(shown)) if shown.id == *product => cart.items.push(CartLine {
                    product: shown.clone(),
                    quantity: (*quantity).min(MAX_LINE_QUANTITY),
                    line_total_cents: Default::default(),
                }),
                (None, _) => continue,
            },
            Write::CartSet { product, quantity: 0 } | Write::CartRemove { product } => match index(*product) {
                Some(at) => drop(cart.items.remove(at)),
                None => continue,
            },
            Write::CartSet { product, quantity } => match index(*product) {
                Some(at) => cart.items[at].quantity = (*quantity).min(MAX_LINE_QUANTITY),
                None => continue,
            },
            _ => continue,
        }
        changed = true;
    }
    if changed {
        recompute(&mut cart);
    }
    cart
}

/// `server`'s wishlist with the wishlist writes of `entries` applied, oldest first.
pub fn wishlist_with(server: &Wishlist, entries: &[Entry]) -> Wishlist {
    let mut list = server.clone();
    for entry in entries {
        match &entry.write {
            Write::WishlistAdd { product } => {
                let there = list.items.iter().any(|p| p.id == *product);
                if let (false, Some(shown)) = (there, entry.shown.as_ref().filter(|p| p.id == *product)) {
                    list.items.push(shown.clone());
                }
            }
            Write::WishlistRemove { product } => list.items.retain(|p| p.id != *product),
            _ => {}
        }
    }
    list
}

/// A product made here that the server has not answered yet: it has no id, so it is shown beside the
/// server's list (first, in the order made), not in it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewShown {
    /// The write that creates it.
    pub write: WriteId,
    pub product: NewProduct,
    /// Sent before without an answer (the server cannot be reached).
    pub retrying: bool,
}

/// The products `entries` create, oldest first. Once answered the write is gone and the server's product (in
/// the list, from the answer or its event) takes its place; once refused it is gone and nothing is left.
pub fn new_products(entries: &[Entry]) -> Vec<NewShown> {
    entries
        .iter()
        .filter_map(|entry| match &entry.write {
            Write::ProductCreate { input } => {
                Some(NewShown { write: entry.id, product: input.clone(), retrying: entry.retrying() })
            }
            _ => None,
        })
        .collect()
}
