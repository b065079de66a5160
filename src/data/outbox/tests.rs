use super::*;

const ME: UserId = UserId(5);
const TEA: ProductId = ProductId(11);
const JAM: ProductId = ProductId(12);

fn at(ms: u64) -> Millis {
    Millis(ms)
}

fn ids(due: &[(WriteId, String, Request)]) -> Vec<WriteId> {
    due.iter().map(|(id, _, _)| *id).collect()
}

fn unanswered() -> Outcome {
    Outcome::Unanswered { reason: "offline".into(), retry_after: None }
}

fn applied() -> Outcome {
    Outcome::Applied(serde_json::json!({"ok": true}))
}

#[test]
fn writes_of_one_scope_go_one_at_a_time_in_order_and_scopes_go_side_by_side() {
    let mut outbox = Outbox::new(ME);
    let mut rng = Rng::new(1);
    let add = outbox.push("k1".into(), Write::CartAdd { product: TEA, quantity: 1 }, at(0));
    let more = outbox.push("k2".into(), Write::CartAdd { product: JAM, quantity: 2 }, at(1));
    let ship = outbox.push(
        "k3".into(),
        Write::OrderStatus { id: OrderId(7), status: OrderStatus::Shipped, version: 2 },
        at(2),
    );
    let wish = outbox.push("k4".into(), Write::WishlistAdd { product: TEA }, at(3));

    let first = outbox.due(at(10));
    assert_eq!(ids(&first), vec![add, ship, wish], "the oldest of each scope");
    assert!(outbox.due(at(10)).is_empty(), "nothing more while they are in flight");
    assert_eq!(outbox.next_due(), None);
    assert_eq!(first[0].1, "k1", "sent with its key");

    assert!(matches!(outbox.settle(add, applied(), at(20), &mut rng), Settled::Applied { .. }));
    assert_eq!(ids(&outbox.due(at(20))), vec![more], "the cart's next write once the first is answered");
    assert_eq!(outbox.settle(add, applied(), at(21), &mut rng), Settled::Stale, "settled twice: nothing");
    assert_eq!(outbox.pending(), 3);
}

#[test]
fn a_write_carries_its_request_and_its_version() {
    let ship = Write::OrderStatus { id: OrderId(7), status: OrderStatus::Shipped, version: 2 };
    let request = ship.request();
    assert_eq!((request.method, request.path.as_str(), request.if_match), (Method::Patch, "/orders/7", Some(2)));
    assert_eq!(request.body, Some(serde_json::json!({"status": "shipped"})));
    let unversioned = Write::ProductDelete { id: TEA, version: 0 }.request();
    assert_eq!((unversioned.method, unversioned.if_match), (Method::Delete, None), "no versions, no If-Match");
    let add = Write::CartAdd { product: TEA, quantity: 3 }.request();
    assert_eq!(add.body, Some(serde_json::json!({"product_id": 11, "quantity": 3})));
    assert_eq!(Write::CartRemove { product: TEA }.request().path, "/cart/items/11");
    assert_eq!(Write::WishlistRemove { product: TEA }.scope(), Scope::Wishlist);
    assert_eq!(Write::ProductEdit { id: TEA, patch: ProductPatch::default(), version: 1 }.scope(), Scope::Product(TEA));
    assert_eq!(ship.describe(), "mark order #7 shipped");
}

#[test]
fn an_unanswered_write_is_retried_with_growing_jittered_waits_and_sooner_when_woken() {
    let mut outbox = Outbox::new(ME);
    let mut rng = Rng::new(42);
    let id = outbox.push("k1".into(), Write::CartAdd { product: TEA, quantity: 1 }, at(0));
    let mut now = at(0);
    let mut bounds = Vec::new();
    for attempt in 0..8u32 {
        assert_eq!(ids(&outbox.due(now)), vec![id]);
        let Settled::Retrying { at: next } = outbox.settle(id, unanswered(), now, &mut rng) else { panic!() };
        let wait = next.0 - now.0;
        let cap = bound(attempt, RETRY_BASE, RETRY_CAP).as_millis() as u64;
        assert!(wait >= RETRY_FLOOR.0 && wait <= cap.max(RETRY_FLOOR.0), "attempt {attempt}: {wait} ms, cap {cap}");
        assert!(outbox.due(at(next.0 - 1)).is_empty(), "not before its time");
        assert_eq!(outbox.next_due(), Some(next), "the driver's timer");
        bounds.push(cap);
        now = next;
    }
    assert_eq!(bounds, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    let entry = &outbox.entries()[0];
    assert!(entry.retrying() && entry.attempts == 8 && entry.last_error.as_deref() == Some("offline"));

    // Back online: due at once, and the next failure still waits long (the count stays).
    let later = now;
    outbox.wake(at(later.0 - 50_000));
    assert_eq!(outbox.next_due(), Some(at(later.0 - 50_000)));
    assert_eq!(ids(&outbox.due(at(later.0 - 50_000))), vec![id]);
    let Settled::Retrying { at: next } = outbox.settle(id, unanswered(), at(later.0 - 50_000), &mut rng) else {
        panic!("retried")
    };
    assert!(next.0 - (later.0 - 50_000) <= 60_000 && outbox.entries()[0].attempts == 9);

    // The server said when to come back (a request with this key still running): no sooner.
    let mut busy_box = Outbox::new(ME);
    let busy_id = busy_box.push("k".into(), Write::WishlistAdd { product: TEA }, at(0));
    busy_box.due(at(0));
    let busy = Outcome::of_error(409, "idempotency_in_progress", "still running", None);
    let Settled::Retrying { at: next } = busy_box.settle(busy_id, busy, at(0), &mut rng) else { panic!("retried") };
    assert!(next >= at(1_000), "{next:?}");
}

#[test]
fn a_key_kept_twice_is_one_write() {
    let mut outbox = Outbox::new(ME);
    let first = outbox.push("same".into(), Write::CartAdd { product: TEA, quantity: 1 }, at(0));
    let again = outbox.push("same".into(), Write::CartAdd { product: TEA, quantity: 1 }, at(5));
    assert_eq!(first, again);
    assert_eq!(outbox.pending(), 1);
}

#[test]
fn a_refused_write_is_rolled_back_not_retried_and_listed() {
    let mut outbox = Outbox::new(ME);
    let mut rng = Rng::new(3);
    let edit = Write::ProductEdit {
        id: TEA,
        patch: ProductPatch { price_cents: Some(450), ..Default::default() },
        version: 3,
    };
    let id = outbox.push("k1".into(), edit.clone(), at(0));
    outbox.due(at(0));
    let current = serde_json::json!({"id": 11, "version": 4});
    let stale = Outcome::of_error(409, "stale", "changed meanwhile", Some(current.clone()));
    match outbox.settle(id, stale, at(9), &mut rng) {
        Settled::RolledBack { write, status, code, current: got, .. } => {
            assert_eq!((write, status, code.as_str(), got), (edit.clone(), 409, "stale", Some(current)));
        }
        other => panic!("expected a rollback, got {other:?}"),
    }
    assert_eq!(outbox.pending(), 0, "not retried");
    assert!(outbox.due(at(100_000)).is_empty());
    let failed: Vec<&Failure> = outbox.failed().collect();
    assert_eq!((failed.len(), failed[0].status, &failed[0].write), (1, 409, &edit));

    // Which answers are refusals, which are worth another try.
    for status in [400, 403, 404, 409, 422] {
        assert!(matches!(Outcome::of_error(status, "x", "m", None), Outcome::Refused { .. }), "{status}");
    }
    for status in [401, 408, 429, 500, 502, 503] {
        assert!(matches!(Outcome::of_error(status, "x", "m", None), Outcome::Unanswered { .. }), "{status}");
    }
    // The list of refusals is bounded.
    for n in 0..(FAILED_KEPT as u64 + 5) {
        let id = outbox.push(format!("f{n}"), Write::CartRemove { product: JAM }, at(n));
        outbox.due(at(n));
        outbox.settle(id, Outcome::of_error(404, "not_found", "gone", None), at(n), &mut rng);
    }
    assert_eq!(outbox.failed().count(), FAILED_KEPT);
}

#[test]
fn the_outbox_survives_a_reload_and_resends_what_was_in_flight_with_the_same_key() {
    let mut outbox = Outbox::new(ME);
    let mut rng = Rng::new(9);
    let add = outbox.push("k1".into(), Write::CartAdd { product: TEA, quantity: 2 }, at(0));
    let ship = outbox.push(
        "k2".into(),
        Write::OrderStatus { id: OrderId(3), status: OrderStatus::Shipped, version: 1 },
        at(1),
    );
    outbox.due(at(5)); // both in flight when the page goes away
    outbox.settle(ship, unanswered(), at(6), &mut rng); // ship waits to retry
    let text = outbox.encode();

    // Reloaded at once: ship's retry is not due yet (at least 250 ms after its failure).
    let back = Outbox::decode(&text, ME, at(100));
    assert_eq!(back.pending(), 2);
    let due = back.clone().due(at(100));
    assert_eq!(ids(&due), vec![add], "the in-flight write is due again at once");
    assert_eq!(due[0].1, "k1", "with the same key: the server replays it if it had applied it");
    assert_eq!(back.entries()[1].attempts, 1, "the retrying write keeps its count");
    let mut back = back;
    let next = back.push("k3".into(), Write::CartRemove { product: TEA }, at(101));
    assert!(next > ship, "ids keep growing after a reload");

    // Another user's outbox, another version, or garbage: empty.
    assert_eq!(Outbox::decode(&text, UserId(6), at(0)).pending(), 0);
    assert_eq!(Outbox::decode(&text.replace("\"v\":1", "\"v\":9"), ME, at(0)).pending(), 0);
    for garbage in ["", "{}", "[1]", "{\"v\":1,\"outbox\":7}"] {
        assert_eq!(Outbox::decode(garbage, ME, at(0)), Outbox::new(ME), "{garbage:?}");
    }
}

fn product(id: i64, price: i64) -> Product {
    Product {
        id: ProductId(id),
        shop_id: protocol::ShopId(1),
        shop_name: "Green Corner".into(),
        name: format!("Product {id}"),
        description: String::new(),
        price_cents: protocol::Cents(price),
        stock: 50,
        updated_at: "2026-12-02T10:00:00Z".into(),
        version: 1,
    }
}

fn server_cart(lines: &[(Product, u32)]) -> protocol::Cart {
    let mut cart = protocol::Cart { items: Vec::new(), count: 0, total_cents: protocol::Cents(0) };
    for (product, quantity) in lines {
        cart.items.push(protocol::CartLine {
            product: product.clone(),
            quantity: *quantity,
            line_total_cents: product.price_cents.times(*quantity),
        });
    }
    cart.count = lines.iter().map(|(_, q)| u64::from(*q)).sum();
    cart.total_cents = cart.items.iter().map(|l| l.line_total_cents).sum();
    cart
}

#[test]
fn the_cart_shown_is_the_servers_with_the_waiting_writes_applied_in_order() {
    let (tea, jam) = (product(11, 450), product(12, 600));
    let server = server_cart(&[(tea.clone(), 1)]);
    let mut outbox = Outbox::new(ME);
    outbox.push("k1".into(), Write::CartAdd { product: TEA, quantity: 2 }, at(0));
    outbox.push_showing("k2".into(), Write::CartAdd { product: JAM, quantity: 1 }, Some(jam.clone()), at(1));
    outbox.push("k3".into(), Write::CartAdd { product: ProductId(99), quantity: 1 }, at(2)); // nothing to show
    let shown = cart_with(&server, outbox.entries());
    assert_eq!(shown, server_cart(&[(tea.clone(), 3), (jam.clone(), 1)]), "added at once, totals recomputed");
    assert_eq!(shown.count, 4);
    assert_eq!(shown.total_cents.0, 3 * 450 + 600);

    // A set and a remove after them, in order; a set to 0 removes.
    outbox.push("k4".into(), Write::CartSet { product: TEA, quantity: 5 }, at(3));
    outbox.push("k5".into(), Write::CartSet { product: JAM, quantity: 0 }, at(4));
    assert_eq!(cart_with(&server, outbox.entries()), server_cart(&[(tea.clone(), 5)]));
    outbox.push("k6".into(), Write::CartRemove { product: TEA }, at(5));
    assert_eq!(cart_with(&server, outbox.entries()).count, 0);

    // Nothing waiting: the server's cart as it is (unchanged, not recomputed).
    assert_eq!(cart_with(&server, &[]), server);
    // The server answered the first write: its cart holds it, and the others rebase on it.
    let mut rng = Rng::new(1);
    let first = outbox.due(at(10))[0].0;
    let answered = server_cart(&[(tea.clone(), 3)]);
    outbox.settle(first, Outcome::Applied(serde_json::json!({})), at(11), &mut rng);
    let after = cart_with(&answered, &outbox.entries()[..1]);
    assert_eq!(after, server_cart(&[(tea.clone(), 3), (jam.clone(), 1)]), "the add counted once");
}

#[test]
fn a_refused_cart_write_disappears_from_what_is_shown() {
    let tea = product(11, 450);
    let server = server_cart(&[(tea.clone(), 1)]);
    let mut outbox = Outbox::new(ME);
    let mut rng = Rng::new(1);
    let id = outbox.push("k1".into(), Write::CartAdd { product: TEA, quantity: 2 }, at(0));
    assert_eq!(cart_with(&server, outbox.entries()).count, 3);
    outbox.due(at(0));
    outbox.settle(id, Outcome::of_error(409, "conflict", "only 1 left", None), at(1), &mut rng);
    assert_eq!(cart_with(&server, outbox.entries()), server, "rolled back to the server's");
}

#[test]
fn the_wishlist_shown_follows_the_waiting_writes() {
    let (tea, jam) = (product(11, 450), product(12, 600));
    let server = protocol::Wishlist { items: vec![tea.clone()] };
    let mut outbox = Outbox::new(ME);
    outbox.push_showing("k1".into(), Write::WishlistAdd { product: JAM }, Some(jam.clone()), at(0));
    outbox.push_showing("k2".into(), Write::WishlistAdd { product: TEA }, Some(tea.clone()), at(1));
    outbox.push_showing("k3".into(), Write::WishlistAdd { product: ProductId(5) }, Some(tea.clone()), at(2));
    assert_eq!(wishlist_with(&server, outbox.entries()).items, vec![tea.clone(), jam.clone()], "no doubles");
    outbox.push("k4".into(), Write::WishlistRemove { product: TEA }, at(3));
    assert_eq!(wishlist_with(&server, outbox.entries()).items, vec![jam]);
}

#[test]
fn an_outbox_left_by_another_tab_is_taken_in_once_in_the_order_the_writes_were_made() {
    let mut mine = Outbox::new(ME);
    let mut theirs = Outbox::new(ME);
    theirs.push("a".into(), Write::CartAdd { product: TEA, quantity: 1 }, at(10));
    theirs.push("shared".into(), Write::WishlistAdd { product: TEA }, at(15));
    theirs.push("c".into(), Write::CartRemove { product: TEA }, at(30));
    theirs.due(at(31)); // "a" and "shared" were in flight in that tab
    mine.push("b".into(), Write::CartAdd { product: JAM, quantity: 1 }, at(20));
    mine.push("shared".into(), Write::WishlistAdd { product: TEA }, at(15));
    let stored = theirs.encode();

    mine.adopt(Outbox::decode(&stored, ME, at(40)), at(40));
    let keys: Vec<&str> = mine.entries().iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["a", "b", "shared", "c"], "by the time made; the shared key once");
    let ids: BTreeSet<WriteId> = mine.entries().iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 4, "ids stay unique");
    let due = mine.due(at(40));
    assert_eq!(due.iter().map(|(_, key, _)| key.as_str()).collect::<Vec<_>>(), ["a", "shared"], "the cart in order");

    // Another user's outbox is not taken in.
    let mut other_user = Outbox::new(UserId(6));
    other_user.push("z".into(), Write::CartRemove { product: JAM }, at(1));
    mine.adopt(other_user, at(50));
    assert_eq!(mine.pending(), 4);
}

fn new_product(name: &str) -> NewProduct {
    NewProduct { shop_id: None, name: name.into(), description: String::new(), price_cents: 1250, stock: 4 }
}

#[test]
fn products_made_here_are_shown_until_the_server_answers_and_through_a_reload() {
    let mut outbox = Outbox::new(ME);
    let mut rng = Rng::new(4);
    let lamp = outbox.push("k1".into(), Write::ProductCreate { input: new_product("Lamp") }, at(0));
    outbox.push("k2".into(), Write::CartAdd { product: TEA, quantity: 1 }, at(1));
    let desk = outbox.push("k3".into(), Write::ProductCreate { input: new_product("Desk") }, at(2));
    let shown = new_products(outbox.entries());
    let names: Vec<&str> = shown.iter().map(|n| n.product.name.as_str()).collect();
    assert_eq!(names, ["Lamp", "Desk"], "only creates, in the order made");
    assert_eq!((shown[0].write, shown[1].write), (lamp, desk));
    assert!(shown.iter().all(|n| !n.retrying));

    // The server cannot be reached: still shown, now as retrying, and after a reload too.
    assert_eq!(ids(&outbox.due(at(3))), vec![lamp, 2], "one create at a time: desk waits behind lamp");
    outbox.settle(lamp, unanswered(), at(4), &mut rng);
    let back = Outbox::decode(&outbox.encode(), ME, at(5));
    let shown = new_products(back.entries());
    assert_eq!(shown.iter().map(|n| (n.write, n.retrying)).collect::<Vec<_>>(), vec![(lamp, true), (desk, false)]);

    // Answered: gone (the server's product takes its place); refused: gone too.
    let mut outbox = back;
    outbox.wake(at(6));
    outbox.due(at(6));
    outbox.settle(lamp, applied(), at(7), &mut rng);
    outbox.due(at(8));
    outbox.settle(desk, Outcome::of_error(422, "validation", "name taken", None), at(9), &mut rng);
    assert_eq!(new_products(outbox.entries()), vec![]);
}
