//! Fixtures shared by the reducer tests: small constructors for orders, products, notifications, figures and
//! the events carrying them.

use protocol::{
    Cents, DashboardUpdate, DayRevenue, Notification, NotificationEvent, NotificationId, NotificationKind, Order,
    OrderAction, OrderItem, OrderStatus, OrderUpdate, OwnerDashboard, Page, Product, ProductAction, ProductId,
    ProductStats, ProductUpdate, ServerMsg, ShopId, ShopStats, UserId,
};

use super::days::{date_text, day_number};

mod dashboards;
mod objects;
mod pages;

/// The shop the owner fixtures belong to.
const SHOP: ShopId = ShopId(1);
/// The last day of the fixture charts ("today").
const TODAY: &str = "2026-11-27";

/// A `pending` order of `shop` worth `total` cents, created (and last updated) at `created_at`.
fn order(id: i64, shop: ShopId, total: i64, created_at: &str) -> Order {
    Order {
        id: protocol::OrderId(id),
        shop_id: shop,
        shop_name: format!("Shop {shop}"),
        customer_id: UserId(5),
        customer_name: "Carla".into(),
        status: OrderStatus::Pending,
        items: vec![OrderItem {
            product_id: ProductId(1),
            product_name: "Rice".into(),
            quantity: 1,
            unit_price_cents: Cents(total),
        }],
        total_cents: Cents(total),
        created_at: created_at.into(),
        updated_at: created_at.into(),
        version: 1,
    }
}

/// `order` moved to `status` at `updated_at`.
fn moved(order: &Order, status: OrderStatus, updated_at: &str) -> Order {
    Order { status, updated_at: updated_at.into(), ..order.clone() }
}

/// An `order_update` with the shop's figures after it.
fn order_event(action: OrderAction, order: &Order, total_orders: u64, monthly: i64) -> ServerMsg {
    ServerMsg::OrderUpdate(OrderUpdate {
        action,
        order: order.clone(),
        total_orders,
        monthly_revenue: Cents(monthly),
        seq: 0,
    })
}

fn product(id: i64, shop: ShopId, name: &str, price: i64, stock: u32) -> Product {
    Product {
        id: ProductId(id),
        shop_id: shop,
        shop_name: format!("Shop {shop}"),
        name: name.into(),
        description: String::new(),
        price_cents: Cents(price),
        stock,
        updated_at: "2026-11-27T10:00:00Z".into(),
        version: 1,
    }
}

fn product_stats(shop: Option<ShopId>, total: u64, low: u64) -> ProductStats {
    ProductStats {
        shop_id: shop,
        total_products: total,
        low_stock: low,
        out_of_stock: 0,
        inventory_value_cents: Cents(0),
    }
}

/// A `product_update` carrying its shop's figures (`total` products, `low` on low stock).
fn product_event(action: ProductAction, product: &Product, total: u64, low: u64) -> ServerMsg {
    ServerMsg::ProductUpdate(ProductUpdate {
        action,
        product: product.clone(),
        stats: product_stats(Some(product.shop_id), total, low),
        seq: 0,
    })
}

fn note(id: i64, read: bool) -> Notification {
    Notification {
        id: NotificationId(id),
        kind: NotificationKind::NewOrder,
        title: format!("New order #{id}"),
        message: String::new(),
        read,
        created_at: "2026-11-27T10:00:00Z".into(),
    }
}

fn note_event(note: &Notification) -> ServerMsg {
    ServerMsg::Notification(NotificationEvent { notification: note.clone(), seq: 0 })
}

fn shop_stats(shop: ShopId, total_orders: u64, open: u64, revenue: i64, products: u64, low: u64) -> ShopStats {
    ShopStats {
        shop_id: shop,
        shop_name: format!("Shop {shop}"),
        total_orders,
        open_orders: open,
        monthly_revenue_cents: Cents(revenue),
        product_count: products,
        low_stock_count: low,
    }
}

fn dashboard_event(stats: ShopStats, notes: Vec<Notification>) -> ServerMsg {
    ServerMsg::DashboardUpdate(DashboardUpdate {
        shop_stats: stats,
        notifications: notes,
        timestamp: "2026-11-27T10:00:00Z".into(),
        seq: 0,
    })
}

/// The 30-day chart ending on [`TODAY`], all zeros.
fn empty_chart() -> Vec<DayRevenue> {
    let today = day_number(TODAY).unwrap();
    (today - 29..=today).map(|day| DayRevenue { date: date_text(day), revenue_cents: Cents(0), orders: 0 }).collect()
}

/// The owner dashboard of [`SHOP`] listing `orders` (newest first) and `notes`, with `open` open orders.
fn owner_dashboard(orders: Vec<Order>, notes: Vec<Notification>, open: u64) -> OwnerDashboard {
    let unread = notes.iter().filter(|n| !n.read).count() as u64;
    OwnerDashboard {
        shop_stats: shop_stats(SHOP, orders.len() as u64, open, 0, 10, 2),
        recent_orders: orders,
        notifications: notes,
        unread_notifications: unread,
        revenue_by_day: empty_chart(),
    }
}

fn page_of<T>(items: Vec<T>, total: u64, page: u32, per_page: u32) -> Page<T> {
    Page { items, total, page, per_page }
}

/// The bucket of `date` in `chart`.
fn bucket<'a>(chart: &'a [DayRevenue], date: &str) -> &'a DayRevenue {
    chart.iter().find(|b| b.date == date).unwrap()
}
