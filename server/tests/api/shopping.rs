//! Cart, wishlist and checkout over REST, including the race for the last unit.

use protocol::{
    Cart, CartItemInput, CheckoutResult, MergeCart, NewProduct, OrderStatus, Page, Product, ProductId, ProductPatch,
    QuantityInput, Wishlist, WishlistInput,
};
use serde_json::json;

use crate::support::{Api, dist_with_index, error, ok, spawn};

fn item(product: ProductId, quantity: i64) -> CartItemInput {
    CartItemInput { product_id: product, quantity }
}

/// A product the owner creates for the test, with `stock` units.
async fn fresh_product(owner: &Api, name: &str, price_cents: i64, stock: i64) -> Product {
    let input = NewProduct { shop_id: None, name: name.into(), description: String::new(), price_cents, stock };
    ok(owner.post("/api/products", &input).await).await
}

async fn stock_of(api: &Api, product: ProductId) -> u32 {
    api.get_ok::<Product>(&format!("/api/products/{product}")).await.stock
}

#[tokio::test]
async fn the_cart_adds_sets_removes_and_checks_limits() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;
    let tea = fresh_product(&owner, "Green Tea", 450, 10).await;
    let jam = fresh_product(&owner, "Apricot Jam", 600, 200).await;

    let empty: Cart = customer.get_ok("/api/cart").await;
    assert!(empty.items.is_empty() && empty.count == 0);

    let cart: Cart = ok(customer.post("/api/cart/items", &item(tea.id, 2)).await).await;
    let cart2: Cart = ok(customer.post("/api/cart/items", &item(tea.id, 3)).await).await;
    assert_eq!(cart.items[0].quantity, 2);
    assert_eq!((cart2.items[0].quantity, cart2.count, cart2.total_cents.0), (5, 5, 2250), "quantities add up");
    let cart: Cart = ok(customer.post("/api/cart/items", &item(jam.id, 1)).await).await;
    assert_eq!((cart.items.len(), cart.count, cart.total_cents.0), (2, 6, 2850));
    assert_eq!(cart.items[1].line_total_cents.0, 600);

    for quantity in [0, -1, 100] {
        let body = error(customer.post("/api/cart/items", &item(tea.id, quantity)).await, 422).await;
        assert_eq!(body.field.as_deref(), Some("quantity"), "{quantity}");
    }
    let body = error(customer.post("/api/cart/items", &item(tea.id, 6)).await, 409).await;
    assert!(body.message.contains("Green Tea"), "{}", body.message);
    let _: Cart =
        ok(customer.patch(&format!("/api/cart/items/{}", jam.id), &QuantityInput { quantity: 99 }).await).await;
    let body = error(customer.post("/api/cart/items", &item(jam.id, 1)).await, 422).await;
    assert_eq!(body.field.as_deref(), Some("quantity"), "at most 99 per line");
    assert_eq!(
        error(customer.post("/api/cart/items", &item(ProductId(999_999), 1)).await, 404).await.code,
        "not_found"
    );

    let path = format!("/api/cart/items/{}", tea.id);
    let cart: Cart = ok(customer.patch(&path, &QuantityInput { quantity: 1 }).await).await;
    assert_eq!(cart.items.iter().find(|l| l.product.id == tea.id).unwrap().quantity, 1);
    assert_eq!(error(customer.patch(&path, &QuantityInput { quantity: 11 }).await, 409).await.code, "conflict");
    let cart: Cart = ok(customer.patch(&path, &QuantityInput { quantity: 0 }).await).await;
    assert!(cart.items.iter().all(|l| l.product.id != tea.id), "0 removes the line");
    let cart: Cart = ok(customer.delete(&format!("/api/cart/items/{}", jam.id)).await).await;
    assert!(cart.items.is_empty());
    let cart: Cart = ok(customer.delete(&format!("/api/cart/items/{}", jam.id)).await).await;
    assert!(cart.items.is_empty(), "removing twice is fine");

    // Deleting a product takes it out of carts.
    let _: Cart = ok(customer.post("/api/cart/items", &item(tea.id, 1)).await).await;
    let _: Product = ok(owner.delete(&format!("/api/products/{}", tea.id)).await).await;
    assert!(customer.get_ok::<Cart>("/api/cart").await.items.is_empty());

    // Staff have no cart.
    assert_eq!(error(owner.get("/api/cart").await, 404).await.code, "not_found");
    assert_eq!(error(owner.post("/api/cart/items", &item(jam.id, 1)).await, 404).await.code, "not_found");
}

#[tokio::test]
async fn a_guest_cart_merges_by_adding_capped_at_stock_and_skipping_unknowns() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner3@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;
    let cable = fresh_product(&owner, "USB Cable", 900, 50).await;
    let lamp = fresh_product(&owner, "Desk Lamp", 3500, 4).await;
    let _: Cart = ok(customer.post("/api/cart/items", &item(cable.id, 2)).await).await;

    let merge = MergeCart {
        items: vec![item(cable.id, 3), item(lamp.id, 10), item(ProductId(999_999), 1), item(cable.id, -5)],
    };
    let cart: Cart = ok(customer.post("/api/cart/merge", &merge).await).await;
    let quantity = |id: ProductId| cart.items.iter().find(|l| l.product.id == id).map(|l| l.quantity);
    assert_eq!(quantity(cable.id), Some(5), "2 + 3");
    assert_eq!(quantity(lamp.id), Some(4), "capped at the stock");
    assert_eq!(cart.items.len(), 2);
}

#[tokio::test]
async fn the_wishlist_is_idempotent() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let customer = server.login("customer2@izishopin.test").await;
    let page: Page<Product> = customer.get_ok("/api/products?per_page=2").await;
    let (a, b) = (page.items[0].id, page.items[1].id);
    assert!(customer.get_ok::<Wishlist>("/api/wishlist").await.items.is_empty());
    let _: Wishlist = ok(customer.post("/api/wishlist", &WishlistInput { product_id: a }).await).await;
    let _: Wishlist = ok(customer.post("/api/wishlist", &WishlistInput { product_id: b }).await).await;
    let list: Wishlist = ok(customer.post("/api/wishlist", &WishlistInput { product_id: a }).await).await;
    assert_eq!(list.items.iter().map(|p| p.id).collect::<Vec<_>>(), vec![a, b]);
    let list: Wishlist = ok(customer.delete(&format!("/api/wishlist/{a}")).await).await;
    assert_eq!(list.items.iter().map(|p| p.id).collect::<Vec<_>>(), vec![b]);
    let missing = WishlistInput { product_id: ProductId(999_999) };
    assert_eq!(error(customer.post("/api/wishlist", &missing).await, 404).await.code, "not_found");
    let admin = server.login("admin@izishopin.test").await;
    assert_eq!(error(admin.get("/api/wishlist").await, 404).await.code, "not_found");
}

#[tokio::test]
async fn checkout_makes_one_pending_order_per_shop_takes_stock_and_empties_the_cart() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner1 = server.login("owner1@izishopin.test").await;
    let owner2 = server.login("owner2@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;
    let bread = fresh_product(&owner1, "Rye Bread", 500, 10).await;
    let butter = fresh_product(&owner1, "Butter", 250, 10).await;
    let scarf = fresh_product(&owner2, "Scarf", 2000, 10).await;
    for (product, quantity) in [(bread.id, 2), (butter.id, 1), (scarf.id, 3)] {
        let _: Cart = ok(customer.post("/api/cart/items", &item(product, quantity)).await).await;
    }

    assert_eq!(error(owner1.post("/api/orders", &json!({})).await, 404).await.code, "not_found");
    let result: CheckoutResult = ok(customer.post("/api/orders", &json!({})).await).await;
    assert_eq!(result.orders.len(), 2);
    let groceries = result.orders.iter().find(|o| o.shop_id == bread.shop_id).unwrap();
    assert_eq!((groceries.status, groceries.total_cents.0, groceries.items.len()), (OrderStatus::Pending, 1250, 2));
    assert_eq!(groceries.customer_id, customer.user.id);
    let clothes = result.orders.iter().find(|o| o.shop_id == scarf.shop_id).unwrap();
    assert_eq!(clothes.total_cents.0, 6000);

    assert_eq!((stock_of(&customer, bread.id).await, stock_of(&customer, scarf.id).await), (8, 7));
    assert!(customer.get_ok::<Cart>("/api/cart").await.items.is_empty());
    let body = error(customer.post("/api/orders", &json!({})).await, 409).await;
    assert!(body.message.contains("empty"), "{}", body.message);
}

#[tokio::test]
async fn a_checkout_that_cannot_be_served_changes_nothing() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;
    let plenty = fresh_product(&owner, "Flour", 200, 50).await;
    let scarce = fresh_product(&owner, "Saffron", 1500, 2).await;
    let _: Cart = ok(customer.post("/api/cart/items", &item(plenty.id, 4)).await).await;
    let _: Cart = ok(customer.post("/api/cart/items", &item(scarce.id, 2)).await).await;
    let patch = ProductPatch { stock: Some(1), ..ProductPatch::default() };
    let _: Product = ok(owner.patch(&format!("/api/products/{}", scarce.id), &patch).await).await;

    let cart_before: Cart = customer.get_ok("/api/cart").await;
    let events_before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&server.state.db).await.unwrap();
    let orders_before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM orders").fetch_one(&server.state.db).await.unwrap();
    let body = error(customer.post("/api/orders", &json!({})).await, 409).await;
    assert_eq!(body.code, "conflict");
    assert!(body.message.contains("Saffron"), "{}", body.message);

    assert_eq!(stock_of(&customer, plenty.id).await, 50, "the first line's units went back");
    assert_eq!(stock_of(&customer, scarce.id).await, 1);
    assert_eq!(customer.get_ok::<Cart>("/api/cart").await, cart_before);
    let events_after: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&server.state.db).await.unwrap();
    let orders_after: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM orders").fetch_one(&server.state.db).await.unwrap();
    assert_eq!((events_after, orders_after), (events_before, orders_before));
}

#[tokio::test]
async fn two_customers_racing_for_the_last_unit_one_wins() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner3@izishopin.test").await;
    let alice = server.login("customer1@izishopin.test").await;
    let bob = server.login("customer2@izishopin.test").await;
    let last = fresh_product(&owner, "Last Console", 49_900, 1).await;
    for api in [&alice, &bob] {
        let _: Cart = ok(api.post("/api/cart/items", &item(last.id, 1)).await).await;
    }
    let carts = (alice.get_ok::<Cart>("/api/cart").await, bob.get_ok::<Cart>("/api/cart").await);

    let empty = json!({});
    let (a, b) = tokio::join!(alice.post("/api/orders", &empty), bob.post("/api/orders", &empty));
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert!(statuses == [200, 409] || statuses == [409, 200], "{statuses:?}");
    let (loser, loser_cart) = if statuses[0] == 409 { (&alice, &carts.0) } else { (&bob, &carts.1) };
    let body = error(if statuses[0] == 409 { a } else { b }, 409).await;
    assert!(body.message.contains("Last Console"), "{}", body.message);
    assert_eq!(stock_of(&owner, last.id).await, 0);
    let stock: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
        .bind(last.id.0)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(stock, 0, "never negative");
    let lines = |cart: &Cart| cart.items.iter().map(|l| (l.product.id, l.quantity)).collect::<Vec<_>>();
    let now: Cart = loser.get_ok("/api/cart").await;
    assert_eq!(lines(&now), lines(loser_cart), "the loser's cart is untouched");
}
