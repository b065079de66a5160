//! The JSON of every message checked against the shapes of the spec and docs/PROTOCOL.md.

use protocol::*;
use serde_json::{Value, json};

fn product() -> Product {
    Product {
        id: ProductId(11),
        shop_id: ShopId(1),
        shop_name: "Green Corner".into(),
        name: "Fern".into(),
        description: "A fern".into(),
        price_cents: Cents(1250),
        stock: 4,
        updated_at: "2026-11-27T10:00:00Z".into(),
        version: 1,
    }
}

fn order() -> Order {
    Order {
        id: OrderId(501),
        shop_id: ShopId(1),
        shop_name: "Green Corner".into(),
        customer_id: UserId(5),
        customer_name: "Cara Customer".into(),
        status: OrderStatus::Pending,
        items: vec![OrderItem {
            product_id: ProductId(11),
            product_name: "Fern".into(),
            quantity: 2,
            unit_price_cents: Cents(1250),
        }],
        total_cents: Cents(2500),
        created_at: "2026-11-27T10:00:00Z".into(),
        updated_at: "2026-11-27T10:00:00Z".into(),
        version: 1,
    }
}

fn shop_stats() -> ShopStats {
    ShopStats {
        shop_id: ShopId(1),
        shop_name: "Green Corner".into(),
        total_orders: 150,
        open_orders: 3,
        monthly_revenue_cents: Cents(5_000_000),
        product_count: 9,
        low_stock_count: 1,
    }
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    keys
}

#[test]
fn order_update_has_the_spec_fields_plus_seq() {
    let msg = ServerMsg::OrderUpdate(OrderUpdate {
        action: OrderAction::StatusChanged,
        order: order(),
        total_orders: 150,
        monthly_revenue: Cents(5_000_000),
        seq: 7,
    });
    let value = serde_json::to_value(&msg).unwrap();
    assert_eq!(keys(&value), ["action", "monthly_revenue", "order", "seq", "total_orders", "type"]);
    assert_eq!(value["type"], "order_update");
    assert_eq!(value["action"], "status_changed");
    assert_eq!(value["total_orders"], 150);
    assert_eq!(value["monthly_revenue"], 5_000_000);
    assert_eq!(value["order"]["status"], "pending");
    assert_eq!(serde_json::from_value::<ServerMsg>(value).unwrap(), msg);
}

#[test]
fn product_update_has_the_spec_fields_plus_seq() {
    for (action, name) in
        [(ProductAction::Created, "created"), (ProductAction::Updated, "updated"), (ProductAction::Deleted, "deleted")]
    {
        let msg = ServerMsg::ProductUpdate(ProductUpdate {
            action,
            product: product(),
            stats: ProductStats {
                shop_id: Some(ShopId(1)),
                total_products: 9,
                low_stock: 1,
                out_of_stock: 0,
                inventory_value_cents: Cents(99),
            },
            seq: 8,
        });
        let value = serde_json::to_value(&msg).unwrap();
        assert_eq!(keys(&value), ["action", "product", "seq", "stats", "type"]);
        assert_eq!((value["type"].as_str(), value["action"].as_str()), (Some("product_update"), Some(name)));
        assert_eq!(value["product"]["price_cents"], 1250);
        assert_eq!(serde_json::from_value::<ServerMsg>(value).unwrap(), msg);
    }
}

#[test]
fn dashboard_update_has_the_spec_fields_plus_seq() {
    let msg = ServerMsg::DashboardUpdate(DashboardUpdate {
        shop_stats: shop_stats(),
        notifications: vec![],
        timestamp: "2026-11-27T10:00:00Z".into(),
        seq: 9,
    });
    let value = serde_json::to_value(&msg).unwrap();
    assert_eq!(keys(&value), ["notifications", "seq", "shop_stats", "timestamp", "type"]);
    assert_eq!(value["type"], "dashboard_update");
    assert_eq!(value["shop_stats"]["total_orders"], 150);
    assert_eq!(serde_json::from_value::<ServerMsg>(value).unwrap(), msg);
}

#[test]
fn notification_event_shape() {
    let msg = ServerMsg::Notification(NotificationEvent {
        notification: Notification {
            id: NotificationId(3),
            kind: NotificationKind::NewOrder,
            title: "New order".into(),
            message: "Order #501".into(),
            read: false,
            created_at: "2026-11-27T10:00:00Z".into(),
        },
        seq: 10,
    });
    let value = serde_json::to_value(&msg).unwrap();
    assert_eq!(
        value,
        json!({"type": "notification", "seq": 10, "notification": {
        "id": 3, "kind": "new_order", "title": "New order", "message": "Order #501", "read": false,
        "created_at": "2026-11-27T10:00:00Z"}})
    );
    assert_eq!(msg.seq(), Some(10));
    assert_eq!(msg.topic(), Some(Topic::Notifications));
}

#[test]
fn catalog_update_carries_the_product_and_no_figures() {
    let msg = ServerMsg::CatalogUpdate(CatalogUpdate { action: ProductAction::Updated, product: product(), seq: 9 });
    let value = serde_json::to_value(&msg).unwrap();
    assert_eq!(keys(&value), ["action", "product", "seq", "type"]);
    assert_eq!(value["type"], "catalog_update");
    assert_eq!((msg.topic(), msg.seq()), (Some(Topic::Catalog), Some(9)));
    assert_eq!(msg.product_change(), Some((ProductAction::Updated, &product())));
    assert_eq!(serde_json::from_value::<ServerMsg>(value).unwrap(), msg);
}

#[test]
fn auth_ok_echoes_topics_only_when_the_auth_frame_carried_them() {
    let user = User { id: UserId(1), name: "A".into(), email: "a@x".into(), role: Role::Customer, shop_id: None };
    let bare = ServerMsg::AuthOk { user: user.clone(), seq: 3, topics: None };
    assert_eq!(keys(&serde_json::to_value(&bare).unwrap()), ["seq", "type", "user"]);
    let took = ServerMsg::AuthOk { user, seq: 3, topics: Some(vec![Topic::Catalog]) };
    assert_eq!(serde_json::to_value(&took).unwrap()["topics"], json!(["catalog"]));
}

#[test]
fn control_frames_have_their_documented_shapes() {
    assert_eq!(serde_json::to_value(ServerMsg::Pong).unwrap(), json!({"type": "pong"}));
    assert_eq!(serde_json::to_value(ServerMsg::Resync).unwrap(), json!({"type": "resync"}));
    assert_eq!(
        serde_json::to_value(ServerMsg::Subscribed { topics: vec![Topic::Orders] }).unwrap(),
        json!({"type": "subscribed", "topics": ["orders"]})
    );
    assert_eq!(ServerMsg::Pong.seq(), None);
    assert_eq!(ServerMsg::Resync.topic(), None);
}

#[test]
fn client_frames_parse_from_their_documented_shapes() {
    let cases = [
        (json!({"type": "auth", "token": "abc"}), ClientMsg::auth("abc")),
        (
            json!({"type": "auth", "token": "abc", "topics": ["orders", "catalog"], "last_seq": 7}),
            ClientMsg::Auth {
                token: "abc".into(),
                topics: Some(vec![Topic::Orders, Topic::Catalog]),
                last_seq: Some(7),
            },
        ),
        (
            json!({"type": "subscribe", "topics": ["dashboard", "orders"]}),
            ClientMsg::Subscribe { topics: vec![Topic::Dashboard, Topic::Orders] },
        ),
        (
            json!({"type": "unsubscribe", "topics": ["products"]}),
            ClientMsg::Unsubscribe { topics: vec![Topic::Products] },
        ),
        (json!({"type": "ping"}), ClientMsg::Ping),
        (json!({"type": "resume", "last_seq": 41}), ClientMsg::Resume { last_seq: 41 }),
    ];
    for (value, msg) in cases {
        assert_eq!(serde_json::from_value::<ClientMsg>(value.clone()).unwrap(), msg);
        assert_eq!(serde_json::to_value(&msg).unwrap(), value);
    }
}

#[test]
fn unknown_or_malformed_frames_are_errors_not_panics() {
    for text in [
        r#"{"type":"launch"}"#,
        r#"{"type":"subscribe","topics":["weather"]}"#,
        r#"{"type":"resume","last_seq":-1}"#,
        "[]",
        "nope",
    ] {
        assert!(serde_json::from_str::<ClientMsg>(text).is_err(), "{text}");
    }
    assert!(serde_json::from_str::<ServerMsg>(r#"{"type":"order_update","action":"exploded"}"#).is_err());
}

#[test]
fn dashboards_are_tagged_by_role() {
    let dashboard = Dashboard::Customer(CustomerDashboard {
        recent_orders: vec![],
        cart_count: 2,
        wishlist_count: 1,
        unread_notifications: 0,
    });
    let value = serde_json::to_value(&dashboard).unwrap();
    assert_eq!(
        value,
        json!({"role": "customer", "recent_orders": [], "cart_count": 2, "wishlist_count": 1, "unread_notifications": 0})
    );
    assert_eq!(serde_json::from_value::<Dashboard>(value).unwrap(), dashboard);
}

#[test]
fn pages_and_patches() {
    let page = Page { items: vec![product()], total: 31, page: 2, per_page: 20 };
    let value = serde_json::to_value(&page).unwrap();
    assert_eq!(keys(&value), ["items", "page", "per_page", "total"]);
    let patch: ProductPatch = serde_json::from_value(json!({"price_cents": 999})).unwrap();
    assert_eq!(patch, ProductPatch { price_cents: Some(999), ..ProductPatch::default() });
    assert_eq!(serde_json::to_value(&patch).unwrap(), json!({"price_cents": 999}));
}

#[test]
fn tagged_shapes_say_what_is_wrong() {
    let message = |text: &str| serde_json::from_str::<ServerMsg>(text).unwrap_err().to_string();
    assert!(message(r#"{"seq": 3}"#).contains("missing field `type`"), "{}", message(r#"{"seq": 3}"#));
    assert!(message(r#"{"type": 7}"#).contains("`type` is not a string"));
    assert!(message(r#"{"type": "explode"}"#).contains("unknown variant `explode`"));
    assert!(message(r#"[1, 2]"#).contains("expected an object"));
    let dashboard = serde_json::from_str::<Dashboard>(r#"{"role": "guest"}"#).unwrap_err().to_string();
    assert!(dashboard.contains("unknown variant `guest`"), "{dashboard}");
    // A frame's extra fields are fine (the wire may grow), the variant's own are required.
    let pong = serde_json::from_value::<ServerMsg>(json!({"type": "pong", "at": 1})).unwrap();
    assert_eq!(pong, ServerMsg::Pong);
    assert!(serde_json::from_value::<ServerMsg>(json!({"type": "subscribed"})).is_err());
    let from_json = ServerMsg::from_json(&json!({"type": "subscribed", "topics": ["orders"]})).unwrap();
    assert_eq!(from_json, ServerMsg::Subscribed { topics: vec![Topic::Orders] });
}
