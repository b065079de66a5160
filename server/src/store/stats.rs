//! Live figures of shops and of the platform, computed from the rows (never cached), so they are right
//! inside the transaction that changed them.
//!
//! Invariant: "monthly" means created at or after the first instant of the current UTC month; cancelled
//! orders never count as revenue; deleted products never count.

use protocol::{Cents, DayRevenue, LOW_STOCK_THRESHOLD, PlatformTotals, ShopId, ShopStats};
use sqlx::AnyConnection;
use time::{Duration, OffsetDateTime};

use super::count;
use crate::clock;

const SELECT: &str = "SELECT s.id, s.name,
        (SELECT COUNT(*) FROM orders o WHERE o.shop_id = s.id),
        (SELECT COUNT(*) FROM orders o WHERE o.shop_id = s.id AND o.status IN ('pending', 'paid')),
        (SELECT CAST(COALESCE(SUM(o.total_cents), 0) AS BIGINT) FROM orders o
            WHERE o.shop_id = s.id AND o.status <> 'cancelled' AND o.created_at >= $1),
        (SELECT COUNT(*) FROM products p WHERE p.shop_id = s.id AND p.deleted = 0),
        (SELECT COUNT(*) FROM products p WHERE p.shop_id = s.id AND p.deleted = 0 AND p.stock <= $2)
    FROM shops s";

type Row = (i64, String, i64, i64, i64, i64, i64);

fn into_stats((id, name, total, open, revenue, products, low): Row) -> ShopStats {
    ShopStats {
        shop_id: ShopId(id),
        shop_name: name,
        total_orders: count(total),
        open_orders: count(open),
        monthly_revenue_cents: Cents(revenue),
        product_count: count(products),
        low_stock_count: count(low),
    }
}

/// The figures of one shop at `now`.
pub async fn shop_stats(
    conn: &mut AnyConnection,
    shop: ShopId,
    now: OffsetDateTime,
) -> Result<Option<ShopStats>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE s.id = $3"))
        .bind(clock::month_start_rfc3339(now))
        .bind(i64::from(LOW_STOCK_THRESHOLD))
        .bind(shop.0)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(into_stats))
}

/// The figures of every shop at `now`, by shop id.
pub async fn all_shop_stats(conn: &mut AnyConnection, now: OffsetDateTime) -> Result<Vec<ShopStats>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY s.id"))
        .bind(clock::month_start_rfc3339(now))
        .bind(i64::from(LOW_STOCK_THRESHOLD))
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(into_stats).collect())
}

/// The platform's totals at `now`.
pub async fn platform_totals(conn: &mut AnyConnection, now: OffsetDateTime) -> Result<PlatformTotals, sqlx::Error> {
    let (shops, products, customers, orders, revenue): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM shops),
                (SELECT COUNT(*) FROM products WHERE deleted = 0),
                (SELECT COUNT(*) FROM users WHERE role = 'customer'),
                (SELECT COUNT(*) FROM orders),
                (SELECT CAST(COALESCE(SUM(total_cents), 0) AS BIGINT) FROM orders WHERE status <> 'cancelled' AND created_at >= $1)",
    )
    .bind(clock::month_start_rfc3339(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok(PlatformTotals {
        shops: count(shops),
        products: count(products),
        customers: count(customers),
        total_orders: count(orders),
        monthly_revenue_cents: Cents(revenue),
    })
}

/// Revenue and order count (cancelled excluded) of `shop` for each of the `days` UTC days ending today,
/// oldest first, days without orders included as zeros.
pub async fn revenue_by_day(
    conn: &mut AnyConnection,
    shop: ShopId,
    now: OffsetDateTime,
    days: u16,
) -> Result<Vec<DayRevenue>, sqlx::Error> {
    let today = now.to_offset(time::UtcOffset::UTC).date();
    let first = today - Duration::days(i64::from(days.max(1)) - 1);
    let from = clock::rfc3339(first.midnight().assume_utc());
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT substr(created_at, 1, 10) AS day, CAST(SUM(total_cents) AS BIGINT), COUNT(*) FROM orders
         WHERE shop_id = $1 AND status <> 'cancelled' AND created_at >= $2 GROUP BY day",
    )
    .bind(shop.0)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(usize::from(days));
    let mut day = first;
    while day <= today {
        let date = day.to_string();
        let (revenue, orders) = rows.iter().find(|(d, _, _)| *d == date).map(|(_, r, o)| (*r, *o)).unwrap_or_default();
        out.push(DayRevenue { date, revenue_cents: Cents(revenue), orders: count(orders) });
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    Ok(out)
}
