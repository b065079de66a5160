//! Not a test: the probe `bench start` runs in Chromium to time the live layer (built only with
//! `--features bench-probe`, so `cargo test` never runs it). 256 cached entries, as a busy session holds
//! (catalog pages, products, order pages, orders, the dashboard); each event of a sequence of product and
//! order updates is applied with `apply_event`, timed by `performance.now()`, and the figures are printed
//! as one `IZI_EVENT_COST {json}` line. Nothing here passes or fails on a timing.
#![cfg(all(target_arch = "wasm32", feature = "bench-probe"))]

#[path = "support/mount_cache.rs"]
mod mount;

use izishopin_live::cache::context::{DataCache, DataCacheOptions};
use izishopin_live::data::live::apply_event;
use izishopin_live::data::queries::Query;
use mount::mount_cache;
use protocol::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: &str = "2026-11-27T10:00:00Z";
const EVENTS: usize = 400;

fn product(id: i64, price: i64) -> Product {
    Product {
        id: ProductId(id),
        shop_id: ShopId(1 + id % 3),
        shop_name: format!("Shop {}", 1 + id % 3),
        name: format!("Product {id}"),
        description: "A product of the probe, described in a sentence or two as the seed does.".into(),
        price_cents: Cents(price),
        stock: 10,
        updated_at: NOW.into(),
        version: 1,
    }
}

fn order(id: i64) -> Order {
    Order {
        id: OrderId(id),
        shop_id: ShopId(1 + id % 3),
        shop_name: format!("Shop {}", 1 + id % 3),
        customer_id: UserId(9),
        customer_name: "Cara".into(),
        status: OrderStatus::Pending,
        items: vec![OrderItem {
            product_id: ProductId(id % 40),
            product_name: format!("Product {}", id % 40),
            quantity: 2,
            unit_price_cents: Cents(1_000),
        }],
        total_cents: Cents(2_000),
        created_at: NOW.into(),
        updated_at: NOW.into(),
        version: 1,
    }
}

fn page<T>(items: Vec<T>) -> Page<T> {
    let total = items.len() as u64;
    Page { items, total, page: 1, per_page: 20 }
}

/// 256 entries: 120 catalog pages of 20 products, 80 products, 40 order pages of 20 orders, 15 orders and
/// the dashboard.
fn fill(cache: DataCache) -> usize {
    for n in 0..120 {
        let query = Query::Products { shop: None, search: Some(format!("q{n}")), page: 1 };
        cache.set(&query.key(), &page((0..20).map(|i| product((n + i) % 60, 1_000)).collect()));
    }
    for id in 0..80 {
        cache.set(&Query::Product(ProductId(id)).key(), &product(id, 1_000));
    }
    for n in 0..40 {
        let query = Query::Orders { page: n + 1, status: None, shop: None };
        cache.set(&query.key(), &page((0..20).map(|i| order(i64::from(n) * 20 + i)).collect()));
    }
    for id in 0..15 {
        cache.set(&Query::Order(OrderId(id)).key(), &order(id));
    }
    cache.set(
        &Query::Dashboard.key(),
        &Dashboard::Owner(OwnerDashboard {
            shop_stats: ShopStats {
                shop_id: ShopId(1),
                shop_name: "Shop 1".into(),
                total_orders: 5,
                open_orders: 1,
                monthly_revenue_cents: Cents(10_000),
                product_count: 2,
                low_stock_count: 0,
            },
            recent_orders: (0..10).map(order).collect(),
            notifications: vec![],
            unread_notifications: 0,
            revenue_by_day: vec![],
        }),
    );
    cache.keys().len()
}

/// Event `n`: a price change of a product on many pages, or an order changing status.
fn event(n: usize) -> ServerMsg {
    let seq = 1_000 + n as u64;
    if n.is_multiple_of(2) {
        ServerMsg::ProductUpdate(ProductUpdate {
            action: ProductAction::Updated,
            product: product((n % 60) as i64, 1_000 + n as i64),
            stats: ProductStats {
                shop_id: Some(ShopId(1)),
                total_products: 60,
                low_stock: 0,
                out_of_stock: 0,
                inventory_value_cents: Cents(60_000),
            },
            seq,
        })
    } else {
        let mut changed = order((n % 800) as i64);
        changed.status = if n % 4 == 1 { OrderStatus::Shipped } else { OrderStatus::Pending };
        ServerMsg::OrderUpdate(OrderUpdate {
            action: OrderAction::Updated,
            order: changed,
            total_orders: 800,
            monthly_revenue: Cents(1_600_000),
            seq,
        })
    }
}

#[wasm_bindgen_test]
fn event_cost() {
    let options = DataCacheOptions { persist: false, ..DataCacheOptions::default() };
    let (cache, _mounted) = mount_cache(options);
    let entries = fill(cache);
    let performance = web_sys::window().unwrap().performance().unwrap();
    let mut times = Vec::with_capacity(EVENTS);
    let mut changed = 0;
    for n in 0..EVENTS {
        let event = event(n);
        let start = performance.now();
        changed += apply_event(cache, &event);
        times.push(performance.now() - start);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let line = serde_json::json!({
        "entries": entries, "events": EVENTS, "values_changed": changed,
        "mean_ms": mean, "p50_ms": at(0.5), "p90_ms": at(0.9), "max_ms": at(1.0),
    });
    console_log!("IZI_EVENT_COST {line}");
}
