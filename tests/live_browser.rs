//! The live layer in a real headless Chromium: events delivered by the WebSocket patch the cached queries
//! they concern, in place, and leave the others alone.
#![cfg(target_arch = "wasm32")]

#[path = "support/mount_cache.rs"]
mod mount;

use izishopin_live::cache::context::DataCacheOptions;
use izishopin_live::data::live::apply_event;
use izishopin_live::data::queries::Query;
use mount::mount_cache;
use protocol::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: &str = "2026-11-27T10:00:00Z";

fn product(id: i64, shop: i64, name: &str, price: i64) -> Product {
    Product {
        id: ProductId(id),
        shop_id: ShopId(shop),
        shop_name: format!("Shop {shop}"),
        name: name.into(),
        description: String::new(),
        price_cents: Cents(price),
        stock: 10,
        updated_at: NOW.into(),
        version: 1,
    }
}

fn order(id: i64, shop: i64, total: i64) -> Order {
    Order {
        id: OrderId(id),
        shop_id: ShopId(shop),
        shop_name: format!("Shop {shop}"),
        customer_id: UserId(9),
        customer_name: "Cara".into(),
        status: OrderStatus::Pending,
        items: vec![],
        total_cents: Cents(total),
        created_at: NOW.into(),
        updated_at: NOW.into(),
        version: 1,
    }
}

fn stats(shop: i64, total_orders: u64, revenue: i64) -> ShopStats {
    ShopStats {
        shop_id: ShopId(shop),
        shop_name: format!("Shop {shop}"),
        total_orders,
        open_orders: 1,
        monthly_revenue_cents: Cents(revenue),
        product_count: 2,
        low_stock_count: 0,
    }
}

fn owner_dashboard() -> Dashboard {
    Dashboard::Owner(OwnerDashboard {
        shop_stats: stats(1, 5, 10_000),
        recent_orders: vec![order(4, 1, 2_000)],
        notifications: vec![],
        unread_notifications: 0,
        revenue_by_day: vec![DayRevenue { date: "2026-11-27".into(), revenue_cents: Cents(2_000), orders: 1 }],
    })
}

#[wasm_bindgen_test]
fn a_new_order_patches_the_owner_dashboard_and_the_orders_page_in_place() {
    let (cache, _mounted) = mount_cache(DataCacheOptions::default());
    let orders_page = Query::Orders { page: 1, status: None, shop: None };
    cache.set(&Query::Dashboard.key(), &owner_dashboard());
    cache.set(&orders_page.key(), &Page { items: vec![order(4, 1, 2_000)], total: 1, page: 1, per_page: 20 });
    cache.set(&Query::Shops.key(), &Vec::<Shop>::new());

    let event = ServerMsg::OrderUpdate(OrderUpdate {
        action: OrderAction::Created,
        order: order(5, 1, 3_000),
        total_orders: 6,
        monthly_revenue: Cents(13_000),
        seq: 100,
    });
    assert_eq!(apply_event(cache, &event), 2, "the dashboard and the orders page change; the shops do not");

    let Some(Dashboard::Owner(board)) = cache.get::<Dashboard>(&Query::Dashboard.key()) else { panic!("dashboard") };
    assert_eq!(board.shop_stats.total_orders, 6);
    assert_eq!(board.shop_stats.monthly_revenue_cents, Cents(13_000));
    assert_eq!(board.recent_orders.first().map(|o| o.id), Some(OrderId(5)));
    let page: Page<Order> = cache.get(&orders_page.key()).unwrap();
    assert_eq!((page.total, page.items[0].id), (2, OrderId(5)));

    assert_eq!(apply_event(cache, &event), 0, "the same event twice changes nothing");
}

#[wasm_bindgen_test]
fn a_price_change_reaches_every_catalog_page_showing_the_product() {
    let (cache, _mounted) = mount_cache(DataCacheOptions::default());
    let all = Query::Products { shop: None, search: None, page: 1 };
    let shop_two = Query::Products { shop: Some(ShopId(2)), search: None, page: 1 };
    let one = Query::Product(ProductId(7));
    cache.set(&all.key(), &Page { items: vec![product(7, 1, "Fern", 1_250)], total: 1, page: 1, per_page: 20 });
    cache.set(&shop_two.key(), &Page { items: vec![product(8, 2, "Mug", 900)], total: 1, page: 1, per_page: 20 });
    cache.set(&one.key(), &product(7, 1, "Fern", 1_250));

    let event = ServerMsg::ProductUpdate(ProductUpdate {
        action: ProductAction::Updated,
        product: product(7, 1, "Fern", 1_500),
        stats: ProductStats {
            shop_id: Some(ShopId(1)),
            total_products: 1,
            low_stock: 0,
            out_of_stock: 0,
            inventory_value_cents: Cents(15_000),
        },
        seq: 101,
    });
    assert_eq!(apply_event(cache, &event), 2);
    let page: Page<Product> = cache.get(&all.key()).unwrap();
    assert_eq!(page.items[0].price_cents, Cents(1_500));
    assert_eq!(cache.get::<Product>(&one.key()).unwrap().price_cents, Cents(1_500));
    let other: Page<Product> = cache.get(&shop_two.key()).unwrap();
    assert_eq!(other.items[0].price_cents, Cents(900), "another shop's page is untouched");
}
