//! Carts and wishlists: what a customer keeps before checkout.
//!
//! Invariant: a cart line holds 1..=[`MAX_LINE_QUANTITY`] units of a live product; lines of a deleted product
//! are removed with it (see `products::soft_delete`) and never shown.

use protocol::{Cart, CartLine, ProductId, UserId, Wishlist};
use sqlx::AnyConnection;

use super::{count, products, units};

/// Most units of one product in a cart.
pub const MAX_LINE_QUANTITY: u32 = 99;

type Row = (i64, i64, String, String, String, i64, i64, String, i64, i64);

fn into_line(
    (id, shop_id, shop_name, name, description, price, stock, updated_at, version, quantity): Row,
) -> CartLine {
    let quantity = units(quantity);
    let product =
        products::into_product((id, shop_id, shop_name, name, description, price, stock, updated_at, version));
    CartLine { line_total_cents: product.price_cents.times(quantity), product, quantity }
}

/// The lines of a customer's cart (oldest first) with their products as they are now.
pub async fn lines(conn: &mut AnyConnection, user: UserId) -> Result<Vec<CartLine>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {}, c.quantity FROM cart_items c
         JOIN products p ON p.id = c.product_id JOIN shops s ON s.id = p.shop_id
         WHERE c.user_id = $1 AND p.deleted = 0 ORDER BY c.added_at, c.rowid",
        products::COLUMNS
    ))
    .bind(user.0)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(into_line).collect())
}

/// A customer's cart with its totals.
pub async fn get(conn: &mut AnyConnection, user: UserId) -> Result<Cart, sqlx::Error> {
    let items = lines(conn, user).await?;
    let count = items.iter().map(|l| u64::from(l.quantity)).sum();
    let total_cents = items.iter().map(|l| l.line_total_cents).sum();
    Ok(Cart { items, count, total_cents })
}

/// Units of `product` in the cart (0 when absent).
pub async fn quantity(conn: &mut AnyConnection, user: UserId, product: ProductId) -> Result<u32, sqlx::Error> {
    let quantity: Option<i64> =
        sqlx::query_scalar("SELECT quantity FROM cart_items WHERE user_id = $1 AND product_id = $2")
            .bind(user.0)
            .bind(product.0)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(quantity.map(units).unwrap_or(0))
}

/// Sets the units of `product` in the cart; 0 removes the line. A new line is added last.
pub async fn set_quantity(
    conn: &mut AnyConnection,
    user: UserId,
    product: ProductId,
    quantity: u32,
    now: &str,
) -> Result<(), sqlx::Error> {
    if quantity == 0 {
        return remove(conn, user, product).await;
    }
    sqlx::query(
        "INSERT INTO cart_items (user_id, product_id, quantity, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = excluded.quantity",
    )
    .bind(user.0)
    .bind(product.0)
    .bind(i64::from(quantity))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes `product` from the cart (nothing when absent).
pub async fn remove(conn: &mut AnyConnection, user: UserId, product: ProductId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2")
        .bind(user.0)
        .bind(product.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Empties the cart.
pub async fn clear(conn: &mut AnyConnection, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM cart_items WHERE user_id = $1").bind(user.0).execute(&mut *conn).await?;
    Ok(())
}

/// Units in the cart (live products only).
pub async fn units_in_cart(conn: &mut AnyConnection, user: UserId) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(c.quantity), 0) AS BIGINT) FROM cart_items c JOIN products p ON p.id = c.product_id
         WHERE c.user_id = $1 AND p.deleted = 0",
    )
    .bind(user.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(count(n))
}

/// A customer's wishlist, oldest first.
pub async fn wishlist(conn: &mut AnyConnection, user: UserId) -> Result<Wishlist, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {}, 1 FROM wishlist_items w
         JOIN products p ON p.id = w.product_id JOIN shops s ON s.id = p.shop_id
         WHERE w.user_id = $1 AND p.deleted = 0 ORDER BY w.added_at, w.rowid",
        products::COLUMNS
    ))
    .bind(user.0)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Wishlist { items: rows.into_iter().map(|row| into_line(row).product).collect() })
}

/// Adds `product` to the wishlist (nothing when already there).
pub async fn wish(conn: &mut AnyConnection, user: UserId, product: ProductId, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO wishlist_items (user_id, product_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(user.0)
    .bind(product.0)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes `product` from the wishlist (nothing when absent).
pub async fn unwish(conn: &mut AnyConnection, user: UserId, product: ProductId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM wishlist_items WHERE user_id = $1 AND product_id = $2")
        .bind(user.0)
        .bind(product.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Products on the wishlist (live ones only).
pub async fn wishlist_count(conn: &mut AnyConnection, user: UserId) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM wishlist_items w JOIN products p ON p.id = w.product_id
         WHERE w.user_id = $1 AND p.deleted = 0",
    )
    .bind(user.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(count(n))
}
