use protocol::{Cart, CartLine, Cents, OrderAction, OrderStatus, ProductAction, ServerMsg, ShopId, Wishlist};

use super::*;
use crate::data::reducers::{Applied, Reduce};

#[test]
fn a_product_page_follows_its_product_and_learns_it_is_gone() {
    let mut shown = product(7, SHOP, "Honey", 899, 3);
    let restocked = Product { stock: 40, updated_at: "2026-11-27T11:00:00Z".into(), ..shown.clone() };
    assert_eq!(shown.reduce(&(), &product_event(ProductAction::Updated, &restocked, 0, 0)), Applied::Changed);
    assert_eq!(shown, restocked);

    let older = Product { stock: 1, updated_at: "2026-11-27T10:30:00Z".into(), ..shown.clone() };
    assert_eq!(shown.reduce(&(), &product_event(ProductAction::Updated, &older, 0, 0)), Applied::Unchanged);
    let other = product(8, SHOP, "Jam", 1, 1);
    assert_eq!(shown.reduce(&(), &product_event(ProductAction::Updated, &other, 0, 0)), Applied::Unchanged);
    assert_eq!(shown.reduce(&(), &product_event(ProductAction::Deleted, &other, 0, 0)), Applied::Unchanged);

    assert_eq!(shown.reduce(&(), &product_event(ProductAction::Deleted, &restocked, 0, 0)), Applied::Gone);
    assert_eq!(shown, restocked, "left as it was for the page to show");
}

#[test]
fn an_order_page_takes_newer_versions_only() {
    let placed = order(3, SHOP, 100, "2026-11-27T08:00:00Z");
    let mut shown = placed.clone();
    let paid = moved(&placed, OrderStatus::Paid, "2026-11-27T08:01:00Z");
    assert_eq!(shown.reduce(&(), &order_event(OrderAction::StatusChanged, &paid, 0, 0)), Applied::Changed);
    assert_eq!(shown.status, OrderStatus::Paid);
    assert_eq!(shown.reduce(&(), &order_event(OrderAction::Created, &placed, 0, 0)), Applied::Unchanged);
    let another = order(4, SHOP, 100, "2026-11-27T09:00:00Z");
    assert_eq!(shown.reduce(&(), &order_event(OrderAction::Created, &another, 0, 0)), Applied::Unchanged);
}

#[test]
fn product_stats_take_their_shops_figures() {
    let mut stats = product_stats(Some(SHOP), 10, 3);
    let event = product_event(ProductAction::Created, &product(30, SHOP, "Oat Milk", 319, 2), 11, 4);
    assert_eq!(stats.reduce(&(), &event), Applied::Changed);
    assert_eq!(stats, product_stats(Some(SHOP), 11, 4));
    assert_eq!(stats.reduce(&(), &event), Applied::Unchanged);

    let theirs = product_event(ProductAction::Created, &product(31, ShopId(2), "Lamp", 1, 1), 5, 0);
    assert_eq!(stats.reduce(&(), &theirs), Applied::Unchanged);

    let mut platform = product_stats(None, 28, 5);
    assert_eq!(platform.reduce(&(), &event), Applied::Stale);
    assert_eq!(platform, product_stats(None, 28, 5), "not overwritten with one shop's figures");
    assert_eq!(platform.reduce(&(), &ServerMsg::Pong), Applied::Unchanged);
}

fn line(product: Product, quantity: u32) -> CartLine {
    let line_total_cents = product.price_cents.times(quantity);
    CartLine { product, quantity, line_total_cents }
}

fn cart() -> Cart {
    Cart {
        items: vec![line(product(2, SHOP, "Bread", 650, 24), 2), line(product(5, ShopId(2), "Socks", 1000, 3), 1)],
        count: 3,
        total_cents: Cents(2300),
    }
}

#[test]
fn a_cart_follows_prices_and_deletions() {
    let mut cart = cart();
    let dearer = Product { price_cents: Cents(700), stock: 1, ..cart.items[0].product.clone() };
    let event = product_event(ProductAction::Updated, &dearer, 0, 0);
    assert_eq!(cart.reduce(&(), &event), Applied::Changed);
    assert_eq!(cart.items[0].product, dearer);
    assert_eq!(cart.items[0].quantity, 2, "kept above the stock; checkout decides");
    assert_eq!((cart.items[0].line_total_cents, cart.count, cart.total_cents), (Cents(1400), 3, Cents(2400)));
    assert_eq!(cart.reduce(&(), &event), Applied::Unchanged);

    let unrelated = product(9, SHOP, "Tea", 1, 1);
    assert_eq!(cart.reduce(&(), &product_event(ProductAction::Updated, &unrelated, 0, 0)), Applied::Unchanged);

    let socks = cart.items[1].product.clone();
    assert_eq!(cart.reduce(&(), &product_event(ProductAction::Deleted, &socks, 0, 0)), Applied::Changed);
    assert_eq!((cart.items.len(), cart.count, cart.total_cents), (1, 2, Cents(1400)));
}

#[test]
fn a_checkout_makes_the_cart_stale() {
    let mut cart = cart();
    let created = order(1, SHOP, 1300, "2026-11-27T10:00:00Z");
    assert_eq!(cart.reduce(&(), &order_event(OrderAction::Created, &created, 1, 1300)), Applied::Stale);
    let mut empty = Cart { items: vec![], count: 0, total_cents: Cents(0) };
    assert_eq!(empty.reduce(&(), &order_event(OrderAction::Created, &created, 1, 1300)), Applied::Unchanged);
}

#[test]
fn a_wishlist_follows_its_products() {
    let mut wishlist = Wishlist { items: vec![product(2, SHOP, "Bread", 650, 24), product(5, SHOP, "Jam", 300, 3)] };
    let renamed = Product { name: "Rye bread".into(), ..wishlist.items[0].clone() };
    assert_eq!(wishlist.reduce(&(), &product_event(ProductAction::Updated, &renamed, 0, 0)), Applied::Changed);
    assert_eq!(wishlist.items[0], renamed);
    let deleted = product_event(ProductAction::Deleted, &wishlist.items[1].clone(), 0, 0);
    assert_eq!(wishlist.reduce(&(), &deleted), Applied::Changed);
    assert_eq!(wishlist.reduce(&(), &deleted), Applied::Unchanged);
    assert_eq!(wishlist.items, vec![renamed]);
}
