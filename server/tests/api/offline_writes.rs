//! What makes a write safe to send again: `Idempotency-Key` (the first answer replayed, one effect) and
//! `If-Match` (a write on an older version is a 409 with the current value).

use protocol::{
    Cart, CartItemInput, NewProduct, Order, OrderStatus, Page, Product, ProductPatch, ServerMsg, StatusInput,
};
use serde_json::json;
use server::api::idempotency::{LEASE_SECS, fingerprint};
use server::events::{self, Replay};

use crate::support::{Api, dist_with_index, error, ok, spawn};

/// `POST path` with `body` and `Idempotency-Key: key`.
async fn post_keyed(api: &Api, path: &str, key: &str, body: &serde_json::Value) -> reqwest::Response {
    let url = format!("{}{path}", api.base);
    api.http.post(url).bearer_auth(&api.token).header("Idempotency-Key", key).json(body).send().await.unwrap()
}

/// `PATCH path` with `body`, an optional `If-Match` and an optional `Idempotency-Key`.
async fn patch_with(
    api: &Api,
    path: &str,
    body: &impl serde::Serialize,
    if_match: Option<&str>,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = api.http.patch(format!("{}{path}", api.base)).bearer_auth(&api.token).json(body);
    if let Some(version) = if_match {
        request = request.header("If-Match", version);
    }
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.unwrap()
}

async fn status_and_text(response: reqwest::Response) -> (u16, bool, String) {
    let replayed = response.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    (response.status().as_u16(), replayed, response.text().await.unwrap())
}

#[tokio::test]
async fn a_replayed_key_returns_the_first_answer_and_takes_effect_once() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;
    let other = server.login("customer1@izishopin.test").await;
    let seq_before = events::current_seq(&server.state.db).await.unwrap();

    // A product created twice with one key: one product, one answer, one event.
    let new = json!({"name": "Quince Paste", "price_cents": 700, "stock": 5});
    let first = status_and_text(post_keyed(&owner, "/api/products", "create-1", &new).await).await;
    let again = status_and_text(post_keyed(&owner, "/api/products", "create-1", &new).await).await;
    assert_eq!((first.0, first.1), (200, false));
    assert_eq!(again, (200, true, first.2.clone()), "the same answer, marked replayed");
    let found: Page<Product> = customer.get_ok("/api/products?q=Quince").await;
    assert_eq!(found.total, 1, "one product written");
    let product: Product = serde_json::from_str(&first.2).unwrap();
    let events = match events::replay_after(&server.state.db, &owner.user, seq_before).await.unwrap() {
        Replay::Events { events, .. } => events,
        Replay::Resync { .. } => panic!("unexpected resync"),
    };
    let created = events
        .iter()
        .filter(|(_, json)| {
            let msg: ServerMsg = serde_json::from_str(json).unwrap();
            matches!(msg, ServerMsg::ProductUpdate(e) if e.product.id == product.id)
        })
        .count();
    assert_eq!(created, 1, "one product_update");

    // A cart line added twice with one key: the quantity counts once.
    let line = json!({"product_id": product.id, "quantity": 2});
    let added = status_and_text(post_keyed(&customer, "/api/cart/items", "add-1", &line).await).await;
    let replayed = status_and_text(post_keyed(&customer, "/api/cart/items", "add-1", &line).await).await;
    assert_eq!(replayed, (200, true, added.2.clone()));
    let cart: Cart = customer.get_ok("/api/cart").await;
    assert_eq!(cart.items.iter().find(|i| i.product.id == product.id).map(|i| i.quantity), Some(2));

    // The same key with another body is refused; another user's same key is their own.
    let more = json!({"product_id": product.id, "quantity": 3});
    assert_eq!(
        error(post_keyed(&customer, "/api/cart/items", "add-1", &more).await, 422).await.code,
        "idempotency_key_reused"
    );
    let theirs = status_and_text(post_keyed(&other, "/api/cart/items", "add-1", &line).await).await;
    assert_eq!((theirs.0, theirs.1), (200, false), "keys are per user");

    // A rejection is an answer too: replayed, not run again.
    let zero = json!({"product_id": product.id, "quantity": 0});
    let refused = status_and_text(post_keyed(&customer, "/api/cart/items", "zero-1", &zero).await).await;
    assert_eq!(refused.0, 422);
    assert_eq!(
        status_and_text(post_keyed(&customer, "/api/cart/items", "zero-1", &zero).await).await,
        (422, true, refused.2)
    );

    // An order status change retried after its answer was lost: the kept answer, not "cannot become".
    let orders: Page<Order> = owner.get_ok("/api/orders?status=pending&per_page=1").await;
    let order = &orders.items[0];
    let path = format!("/api/orders/{}", order.id);
    let paid = StatusInput { status: OrderStatus::Paid };
    let marked = status_and_text(patch_with(&owner, &path, &paid, None, Some("pay-1")).await).await;
    assert_eq!(marked.0, 200, "{}", marked.2);
    assert_eq!(
        status_and_text(patch_with(&owner, &path, &paid, None, Some("pay-1")).await).await,
        (200, true, marked.2)
    );
    let unkeyed = patch_with(&owner, &path, &paid, None, None).await;
    assert_eq!(error(unkeyed, 409).await.code, "conflict", "without a key the second change runs, and is refused");

    // Keys that are not keys.
    for bad in ["", "with space", &"k".repeat(256)] {
        let response = post_keyed(&customer, "/api/cart/items", bad, &line).await;
        assert_eq!(error(response, 400).await.code, "bad_request", "{bad:?}");
    }
}

#[tokio::test]
async fn a_key_whose_first_request_runs_waits_and_one_left_running_is_taken_over() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let customer = server.login("customer2@izishopin.test").await;
    let products: Page<Product> = customer.get_ok("/api/products?per_page=1").await;
    let line = json!({"product_id": products.items[0].id, "quantity": 1});
    let body = serde_json::to_vec(&line).unwrap();
    // A claim as a request still running leaves it (made now, no answer yet).
    let print = fingerprint(&axum::http::Method::POST, "/api/cart/items", &body);
    let now = server.state.clock.now_secs();
    let user = customer.user.id.0;
    assert!(server::store::idempotency::claim(&server.state.db, user, "slow-1", &print, now).await.unwrap());
    let send = || {
        customer
            .http
            .post(format!("{}/api/cart/items", customer.base))
            .bearer_auth(&customer.token)
            .header("Idempotency-Key", "slow-1")
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
    };

    let response = send().await.unwrap();
    assert_eq!(response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()), Some("1".into()));
    assert_eq!(error(response, 409).await.code, "idempotency_in_progress");
    let cart: Cart = customer.get_ok("/api/cart").await;
    assert_eq!(cart.count, 0, "nothing ran");

    // Its server died: after the lease the claim is taken over and the request runs, once.
    sqlx::query("UPDATE idempotency_keys SET created_at = $1 WHERE idem_key = 'slow-1'")
        .bind(now - LEASE_SECS)
        .execute(&server.state.db)
        .await
        .unwrap();
    let ran: Cart = ok(send().await.unwrap()).await;
    assert_eq!(ran.count, 1);
    let replayed = send().await.unwrap();
    assert_eq!(replayed.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(customer.get_ok::<Cart>("/api/cart").await.count, 1, "run once");

    // Kept at least a day: the pruning forgets only older keys.
    let db = &server.state.db;
    let kept = server::store::idempotency::prune(db, now - 24 * 60 * 60, 100).await.unwrap();
    assert_eq!(kept, 0);
    assert!(server::store::idempotency::load(db, user, "slow-1").await.unwrap().is_some());
    assert_eq!(server::store::idempotency::prune(db, now + 1, 100).await.unwrap(), 1);

    // A client sending a new key with every write grows its own keys to the cap, the newest kept; another
    // user's are not touched.
    for n in 0..8 {
        assert!(server::store::idempotency::claim(db, user, &format!("many-{n}"), "f", now + n).await.unwrap());
    }
    assert!(server::store::idempotency::claim(db, user + 1, "theirs", "f", now).await.unwrap());
    assert_eq!(server::store::idempotency::prune(db, now - 60, 5).await.unwrap(), 3);
    for n in 0..8 {
        let kept = server::store::idempotency::load(db, user, &format!("many-{n}")).await.unwrap().is_some();
        assert_eq!(kept, n >= 3, "many-{n}");
    }
    assert!(server::store::idempotency::load(db, user + 1, "theirs").await.unwrap().is_some());
}

#[tokio::test]
async fn a_write_on_an_older_version_gets_409_with_the_current_value() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let admin = server.login("admin@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;
    let input =
        NewProduct { shop_id: None, name: "Rye Loaf".into(), description: String::new(), price_cents: 500, stock: 9 };
    let product: Product = ok(owner.post("/api/products", &input).await).await;
    let path = format!("/api/products/{}", product.id);
    let seen = format!("\"{}\"", product.version);

    // Two people edit from the same version: the first wins, the second sees the first's value.
    let first = ProductPatch { name: Some("Rye Loaf (large)".into()), ..ProductPatch::default() };
    let edited: Product = ok(patch_with(&owner, &path, &first, Some(&seen), None).await).await;
    assert_eq!(edited.version, product.version + 1);
    let second = ProductPatch { price_cents: Some(450), ..ProductPatch::default() };
    let conflict = error(patch_with(&admin, &path, &second, Some(&seen), None).await, 409).await;
    assert_eq!(conflict.code, "stale");
    let current: Product = serde_json::from_value(conflict.current.expect("the current value")).unwrap();
    assert_eq!(current, edited);
    assert_eq!(customer.get_ok::<Product>(&path).await.price_cents.0, 500, "the stale edit wrote nothing");

    // With the version it now has, the second edit applies; without If-Match the last write wins as before.
    let now_seen = format!("W/\"{}\"", edited.version);
    let repriced: Product = ok(patch_with(&admin, &path, &second, Some(&now_seen), None).await).await;
    assert_eq!((repriced.price_cents.0, repriced.version), (450, edited.version + 1));
    let _: Product = ok(patch_with(&owner, &path, &first, None, None).await).await;
    assert_eq!(error(patch_with(&owner, &path, &first, Some("soon"), None).await, 400).await.code, "bad_request");

    // A sale bumps the version too: a delete from before it is stale.
    let before_sale = customer.get_ok::<Product>(&path).await.version;
    let _: Cart =
        ok(customer.post("/api/cart/items", &CartItemInput { product_id: product.id, quantity: 1 }).await).await;
    let _: serde_json::Value = ok(customer.post("/api/orders", &json!({})).await).await;
    let stale_delete = owner
        .http
        .delete(format!("{}{path}", owner.base))
        .bearer_auth(&owner.token)
        .header("If-Match", format!("\"{before_sale}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(error(stale_delete, 409).await.code, "stale");
    assert_eq!(customer.get_ok::<Product>(&path).await.stock, 8, "still there, one sold");

    // Order status: one admin marks it paid; another, from the version before, cannot cancel it.
    let orders: Page<Order> = owner.get_ok("/api/orders?status=pending&per_page=1").await;
    let order = &orders.items[0];
    let order_path = format!("/api/orders/{}", order.id);
    let seen = format!("\"{}\"", order.version);
    let paid: Order =
        ok(patch_with(&owner, &order_path, &StatusInput { status: OrderStatus::Paid }, Some(&seen), None).await).await;
    assert_eq!((paid.status, paid.version), (OrderStatus::Paid, order.version + 1));
    let cancel = StatusInput { status: OrderStatus::Cancelled };
    let conflict = error(patch_with(&admin, &order_path, &cancel, Some(&seen), None).await, 409).await;
    assert_eq!(conflict.code, "stale");
    let current: Order = serde_json::from_value(conflict.current.unwrap()).unwrap();
    assert_eq!(current.status, OrderStatus::Paid);
}
