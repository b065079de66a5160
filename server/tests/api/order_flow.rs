//! Orders after checkout: scoping per role, the status machine, stock put back on cancel, notifications,
//! and the events a checkout appends with their audiences.

use protocol::{
    Cart, CartItemInput, CheckoutResult, Dashboard, NewProduct, Notification, NotificationKind, Order, OrderAction,
    OrderStatus, Page, Product, ServerMsg, StatusInput, User,
};
use serde_json::json;
use server::events::{self, Replay};

use crate::support::{Api, TestServer, dist_with_index, error, ok, spawn};

/// `customer` buys `quantity` of a new product of `owner`'s shop; returns the order and the product.
async fn buy(owner: &Api, customer: &Api, name: &str, stock: i64, quantity: i64) -> (Order, Product) {
    let input = NewProduct { shop_id: None, name: name.into(), description: String::new(), price_cents: 1000, stock };
    let product: Product = ok(owner.post("/api/products", &input).await).await;
    let line = CartItemInput { product_id: product.id, quantity };
    let _: Cart = ok(customer.post("/api/cart/items", &line).await).await;
    let mut result: CheckoutResult = ok(customer.post("/api/orders", &json!({})).await).await;
    let order = result.orders.pop().unwrap();
    (order, product)
}

async fn set_status(api: &Api, order: &Order, status: OrderStatus) -> reqwest::Response {
    api.patch(&format!("/api/orders/{}", order.id), &StatusInput { status }).await
}

/// The events after `after` that `user` may see, decoded.
async fn seen_by(server: &TestServer, user: &User, after: u64) -> Vec<ServerMsg> {
    match events::replay_after(&server.state.db, user, after).await.unwrap() {
        Replay::Events { events, .. } => {
            events.into_iter().map(|(_, json)| serde_json::from_str(&json).unwrap()).collect()
        }
        Replay::Resync { .. } => panic!("unexpected resync"),
    }
}

#[tokio::test]
async fn orders_are_scoped_to_the_caller() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner1 = server.login("owner1@izishopin.test").await;
    let owner2 = server.login("owner2@izishopin.test").await;
    let alice = server.login("customer1@izishopin.test").await;
    let bob = server.login("customer2@izishopin.test").await;
    let admin = server.login("admin@izishopin.test").await;

    let mine: Page<Order> = owner1.get_ok("/api/orders?per_page=100").await;
    assert!(mine.total > 0 && mine.items.iter().all(|o| Some(o.shop_id) == owner1.user.shop_id));
    let theirs: Page<Order> = owner2.get_ok("/api/orders?per_page=1").await;
    let their_order = &theirs.items[0];
    let path = format!("/api/orders/{}", their_order.id);
    assert_eq!(error(owner1.get(&path).await, 404).await.code, "not_found");
    assert_eq!(error(set_status(&owner1, their_order, OrderStatus::Cancelled).await, 404).await.code, "not_found");
    let _: Order = owner2.get_ok(&path).await;
    let _: Order = admin.get_ok(&path).await;
    let ignored: Page<Order> = owner1.get_ok("/api/orders?shop_id=2").await;
    assert!(ignored.items.iter().all(|o| Some(o.shop_id) == owner1.user.shop_id), "an owner's shop_id is fixed");

    let bobs: Page<Order> = bob.get_ok("/api/orders?per_page=100").await;
    assert!(bobs.total > 0 && bobs.items.iter().all(|o| o.customer_id == bob.user.id));
    let bobs_order = format!("/api/orders/{}", bobs.items[0].id);
    assert_eq!(error(alice.get(&bobs_order).await, 404).await.code, "not_found");
    let _: Order = bob.get_ok(&bobs_order).await;

    let all: Page<Order> = admin.get_ok("/api/orders?per_page=100").await;
    let shop2: Page<Order> = admin.get_ok("/api/orders?shop_id=2&per_page=100").await;
    assert!(shop2.total < all.total && shop2.items.iter().all(|o| o.shop_id.0 == 2));
    let delivered: Page<Order> = admin.get_ok("/api/orders?status=delivered").await;
    assert!(delivered.total > 0 && delivered.items.iter().all(|o| o.status == OrderStatus::Delivered));
    assert_eq!(error(admin.get("/api/orders?status=lost").await, 422).await.field.as_deref(), Some("status"));
    assert!(all.items.windows(2).all(|w| w[0].created_at >= w[1].created_at), "newest first");
    for order in &all.items {
        assert_eq!(order.total_cents, order.items.iter().map(|i| i.unit_price_cents.times(i.quantity)).sum());
    }
}

#[tokio::test]
async fn statuses_move_only_along_the_life_cycle() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner2@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;
    let (order, _) = buy(&owner, &customer, "Silk Tie", 10, 1).await;

    assert_eq!(error(set_status(&customer, &order, OrderStatus::Paid).await, 404).await.code, "not_found");
    assert_eq!(error(set_status(&owner, &order, OrderStatus::Shipped).await, 409).await.code, "conflict");
    let paid: Order = ok(set_status(&owner, &order, OrderStatus::Paid).await).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(error(set_status(&owner, &order, OrderStatus::Delivered).await, 409).await.code, "conflict");
    let _: Order = ok(set_status(&owner, &order, OrderStatus::Shipped).await).await;
    assert_eq!(error(set_status(&owner, &order, OrderStatus::Cancelled).await, 409).await.code, "conflict");
    let done: Order = ok(set_status(&owner, &order, OrderStatus::Delivered).await).await;
    assert_eq!(done.status, OrderStatus::Delivered);
    assert_eq!(error(set_status(&owner, &order, OrderStatus::Paid).await, 409).await.code, "conflict");
    let seen: Order = customer.get_ok(&format!("/api/orders/{}", order.id)).await;
    assert_eq!(seen.status, OrderStatus::Delivered);

    let notes: Page<Notification> = customer.get_ok("/api/notifications").await;
    let statuses: Vec<_> = notes.items.iter().take(3).map(|n| (n.kind, n.title.clone())).collect();
    assert_eq!(statuses[0], (NotificationKind::OrderStatus, format!("Order #{} is delivered", order.id)));
    assert_eq!(statuses[2], (NotificationKind::OrderStatus, format!("Order #{} is paid", order.id)));
}

#[tokio::test]
async fn cancelling_puts_the_stock_back() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner3@izishopin.test").await;
    let admin = server.login("admin@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;
    let (order, product) = buy(&owner, &customer, "Drone", 5, 3).await;
    let path = format!("/api/products/{}", product.id);
    assert_eq!(owner.get_ok::<Product>(&path).await.stock, 2);
    let _: Order = ok(set_status(&admin, &order, OrderStatus::Paid).await).await;
    let cancelled: Order = ok(set_status(&admin, &order, OrderStatus::Cancelled).await).await;
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(owner.get_ok::<Product>(&path).await.stock, 5);
}

#[tokio::test]
async fn notifications_are_private_and_can_be_marked_read() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner1 = server.login("owner1@izishopin.test").await;
    let owner2 = server.login("owner2@izishopin.test").await;
    let page: Page<Notification> = owner1.get_ok("/api/notifications?per_page=5").await;
    assert_eq!(page.items.len(), 5);
    assert!(page.items.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let unread = page.items.iter().find(|n| !n.read).expect("an unread notification");
    let Dashboard::Owner(before) = owner1.get_ok("/api/dashboard").await else { panic!() };

    let path = format!("/api/notifications/{}/read", unread.id);
    assert_eq!(error(owner2.post(&path, &json!({})).await, 404).await.code, "not_found");
    let marked: Notification = ok(owner1.post(&path, &json!({})).await).await;
    assert!(marked.read && marked.id == unread.id);
    let again: Notification = ok(owner1.post(&path, &json!({})).await).await;
    assert!(again.read, "idempotent");
    let Dashboard::Owner(after) = owner1.get_ok("/api/dashboard").await else { panic!() };
    assert_eq!(after.unread_notifications, before.unread_notifications - 1);
}

#[tokio::test]
async fn a_checkout_appends_events_for_the_right_audiences() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner1 = server.login("owner1@izishopin.test").await;
    let owner2 = server.login("owner2@izishopin.test").await;
    let admin = server.login("admin@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;
    let input =
        NewProduct { shop_id: None, name: "Cheese".into(), description: String::new(), price_cents: 700, stock: 8 };
    let cheese: Product = ok(owner1.post("/api/products", &input).await).await;
    let _: Cart =
        ok(customer.post("/api/cart/items", &CartItemInput { product_id: cheese.id, quantity: 4 }).await).await;
    let after = events::current_seq(&server.state.db).await.unwrap();

    let result: CheckoutResult = ok(customer.post("/api/orders", &json!({})).await).await;
    let order = &result.orders[0];

    let owner_events = seen_by(&server, &owner1.user, after).await;
    let Dashboard::Owner(board) = owner1.get_ok("/api/dashboard").await else { panic!() };
    let staff_update = owner_events
        .iter()
        .find_map(|e| match e {
            ServerMsg::OrderUpdate(u) => Some(u),
            _ => None,
        })
        .expect("the owner gets an order_update");
    assert_eq!((staff_update.action, staff_update.order.id), (OrderAction::Created, order.id));
    assert_eq!(staff_update.total_orders, board.shop_stats.total_orders);
    assert_eq!(staff_update.monthly_revenue, board.shop_stats.monthly_revenue_cents);
    let note = owner_events.iter().find_map(|e| match e {
        ServerMsg::Notification(n) => Some(&n.notification),
        _ => None,
    });
    assert_eq!(note.map(|n| n.kind), Some(NotificationKind::NewOrder));
    let dashboard = owner_events.iter().find_map(|e| match e {
        ServerMsg::DashboardUpdate(d) => Some(d),
        _ => None,
    });
    let dashboard = dashboard.expect("the owner gets a dashboard_update");
    assert_eq!(dashboard.shop_stats, board.shop_stats);
    assert!(dashboard.notifications.iter().any(|n| n.kind == NotificationKind::NewOrder));
    let product = owner_events.iter().find_map(|e| match e {
        ServerMsg::ProductUpdate(p) => Some(p),
        _ => None,
    });
    let product = product.expect("a product_update for the stock change");
    assert_eq!((product.product.id, product.product.stock), (cheese.id, 4));

    // Another shop's owner sees only the public catalog change, without the shop's figures.
    let other = seen_by(&server, &owner2.user, after).await;
    assert!(!other.is_empty() && other.iter().all(|e| matches!(e, ServerMsg::CatalogUpdate(_))), "{other:?}");

    // The admin sees the staff events but not the owner's private notification.
    let admin_events = seen_by(&server, &admin.user, after).await;
    assert!(
        admin_events
            .iter()
            .any(|e| matches!(e, ServerMsg::OrderUpdate(u) if u.total_orders == staff_update.total_orders))
    );
    let admin_dashboards: Vec<_> = admin_events
        .iter()
        .filter_map(|e| match e {
            ServerMsg::DashboardUpdate(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(admin_dashboards.len(), 1, "one dashboard_update for the admin");
    assert_eq!(admin_dashboards[0].shop_stats, board.shop_stats);
    assert!(admin_dashboards[0].notifications.is_empty(), "the owner's notifications stay the owner's");
    assert!(!admin_events.iter().any(|e| matches!(e, ServerMsg::Notification(_))));
    let owner_dashboards = owner_events.iter().filter(|e| matches!(e, ServerMsg::DashboardUpdate(_))).count();
    assert_eq!(owner_dashboards, 1, "one dashboard_update for the owner");

    // The customer gets their own figures, never the shop's.
    let mine = seen_by(&server, &customer.user, after).await;
    let updates: Vec<_> = mine
        .iter()
        .filter_map(|e| match e {
            ServerMsg::OrderUpdate(u) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(updates.len(), 1);
    let own_orders: Page<Order> = customer.get_ok("/api/orders?per_page=1").await;
    assert_eq!(updates[0].total_orders, own_orders.total);
    let month_start = server::clock::month_start_rfc3339(server.state.clock.now());
    let spent: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(total_cents) AS BIGINT) FROM orders WHERE customer_id = $1 AND status <> 'cancelled' AND created_at >= $2",
    )
    .bind(customer.user.id.0)
    .bind(month_start)
    .fetch_one(&server.state.db)
    .await
    .unwrap();
    assert_eq!(updates[0].monthly_revenue.0, spent);
    assert!(!mine.iter().any(|e| matches!(e, ServerMsg::DashboardUpdate(_) | ServerMsg::Notification(_))));
}
