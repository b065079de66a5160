//! Orders and their items, read by scope and written by checkout and status changes.
//!
//! Invariant: an order's `total_cents` is the sum of its items' `unit_price_cents × quantity`, fixed at
//! checkout; later price changes never touch it.

use std::collections::HashMap;

use protocol::{Cents, Order, OrderId, OrderItem, OrderStatus, Page, Product, ProductId, ShopId, UserId};
use sqlx::AnyConnection;

use super::{Paging, corrupt, count, units};

const SELECT: &str = "SELECT o.id, o.shop_id, s.name, o.customer_id, u.name, o.status, o.total_cents,
                             o.created_at, o.updated_at, o.version
                      FROM orders o JOIN shops s ON s.id = o.shop_id JOIN users u ON u.id = o.customer_id";

const SCOPE_FILTER: &str =
    "WHERE ($1 IS NULL OR o.shop_id = $1) AND ($2 IS NULL OR o.customer_id = $2) AND ($3 IS NULL OR o.status = $3)";

type Row = (i64, i64, String, i64, String, String, i64, String, String, i64);

/// Which orders a query may return: those of a shop, of a customer, both or all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderScope {
    pub shop: Option<ShopId>,
    pub customer: Option<UserId>,
}

/// Reads the orders of `rows` with their items, keeping the rows' order.
async fn with_items(conn: &mut AnyConnection, rows: Vec<Row>) -> Result<Vec<Order>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=rows.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT order_id, product_id, product_name, quantity, unit_price_cents FROM order_items
         WHERE order_id IN ({}) ORDER BY order_id, product_name, product_id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, (i64, i64, String, i64, i64)>(&sql);
    for row in &rows {
        query = query.bind(row.0);
    }
    let items = query.fetch_all(&mut *conn).await?;
    let mut by_order: HashMap<i64, Vec<OrderItem>> = HashMap::new();
    for (order_id, product_id, product_name, quantity, unit_price) in items {
        by_order.entry(order_id).or_default().push(OrderItem {
            product_id: ProductId(product_id),
            product_name,
            quantity: units(quantity),
            unit_price_cents: Cents(unit_price),
        });
    }
    rows.into_iter()
        .map(|(id, shop_id, shop_name, customer_id, customer_name, status, total, created_at, updated_at, version)| {
            Ok(Order {
                id: OrderId(id),
                shop_id: ShopId(shop_id),
                shop_name,
                customer_id: UserId(customer_id),
                customer_name,
                status: OrderStatus::parse(&status).ok_or_else(|| corrupt("order status", &status))?,
                items: by_order.remove(&id).unwrap_or_default(),
                total_cents: Cents(total),
                created_at,
                updated_at,
                version: version.max(0) as u64,
            })
        })
        .collect()
}

/// One order, whoever it belongs to (the caller checks the scope).
pub async fn get(conn: &mut AnyConnection, id: OrderId) -> Result<Option<Order>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} WHERE o.id = $1")).bind(id.0).fetch_all(&mut *conn).await?;
    Ok(with_items(conn, rows).await?.pop())
}

/// One page of the orders in `scope` (optionally of one status), newest first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: OrderScope,
    status: Option<OrderStatus>,
    paging: Paging,
) -> Result<Page<Order>, sqlx::Error> {
    let (shop, customer, status) = (scope.shop.map(|s| s.0), scope.customer.map(|c| c.0), status.map(|s| s.as_str()));
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM orders o {SCOPE_FILTER}"))
        .bind(shop)
        .bind(customer)
        .bind(status)
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<Row> =
        sqlx::query_as(&format!("{SELECT} {SCOPE_FILTER} ORDER BY o.created_at DESC, o.id DESC LIMIT $4 OFFSET $5"))
            .bind(shop)
            .bind(customer)
            .bind(status)
            .bind(paging.limit())
            .bind(paging.offset())
            .fetch_all(&mut *conn)
            .await?;
    Ok(paging.page(with_items(conn, rows).await?, total))
}

/// The newest `limit` orders in `scope`.
pub async fn recent(conn: &mut AnyConnection, scope: OrderScope, limit: u32) -> Result<Vec<Order>, sqlx::Error> {
    Ok(list(conn, scope, None, Paging::first(limit)).await?.items)
}

/// Creates a `pending` order of `customer` with `shop` for `lines` (product as priced now, quantity).
pub async fn create(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: UserId,
    lines: &[(Product, u32)],
    now: &str,
) -> Result<OrderId, sqlx::Error> {
    let total: Cents = lines.iter().map(|(product, quantity)| product.price_cents.times(*quantity)).sum();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (shop_id, customer_id, status, total_cents, created_at, updated_at)
         VALUES ($1, $2, 'pending', $3, $4, $5) RETURNING id",
    )
    .bind(shop.0)
    .bind(customer.0)
    .bind(total.0)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    for (product, quantity) in lines {
        sqlx::query(
            "INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price_cents)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(product.id.0)
        .bind(&product.name)
        .bind(i64::from(*quantity))
        .bind(product.price_cents.0)
        .execute(&mut *conn)
        .await?;
    }
    Ok(OrderId(id))
}

/// Moves an order from `from` to `to`; `false` when it was no longer in `from` (a concurrent change).
pub async fn set_status(
    conn: &mut AnyConnection,
    id: OrderId,
    from: OrderStatus,
    to: OrderStatus,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET status = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND status = $4",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(id.0)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A customer's own figures: orders ever placed, and spending since `month_start` (cancelled excluded).
pub async fn customer_figures(
    conn: &mut AnyConnection,
    customer: UserId,
    month_start: &str,
) -> Result<(u64, Cents), sqlx::Error> {
    let (orders, spent): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN status <> 'cancelled' AND created_at >= $1 THEN total_cents END), 0) AS BIGINT)
         FROM orders WHERE customer_id = $2",
    )
    .bind(month_start)
    .bind(customer.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok((count(orders), Cents(spent)))
}
