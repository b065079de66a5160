//! Products: the catalog, its validated inputs, stock moves and figures.
//!
//! Invariant: a deleted product (`deleted = 1`) is never returned, never sold and never counted; stock only
//! goes down through [`take_stock`], whose conditional UPDATE cannot make it negative.

use protocol::{Cents, NewProduct, Page, Product, ProductId, ProductPatch, ProductStats, ShopId};
use sqlx::AnyConnection;

use super::{Invalid, Paging, count, units};

pub use protocol::product_limits::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_PRICE_CENTS, MAX_STOCK};

macro_rules! columns {
    () => {
        "p.id, p.shop_id, s.name, p.name, p.description, p.price_cents, p.stock, p.updated_at, p.version"
    };
}

/// The columns [`into_product`] reads, of `products p JOIN shops s`.
pub(super) const COLUMNS: &str = columns!();

const SELECT: &str = concat!("SELECT ", columns!(), " FROM products p JOIN shops s ON s.id = p.shop_id");

/// A row of [`COLUMNS`].
pub(super) type Row = (i64, i64, String, String, String, i64, i64, String, i64);

pub(super) fn into_product(
    (id, shop_id, shop_name, name, description, price, stock, updated_at, version): Row,
) -> Product {
    Product {
        id: ProductId(id),
        shop_id: ShopId(shop_id),
        shop_name,
        name,
        description,
        price_cents: Cents(price),
        stock: units(stock),
        updated_at,
        version: version.max(0) as u64,
    }
}

fn parse_name(name: &str) -> Result<String, Invalid> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err(Invalid::new("name", "must not be empty")),
        n if n > MAX_NAME_CHARS => Err(Invalid::new("name", format!("at most {MAX_NAME_CHARS} characters"))),
        _ => Ok(name.to_owned()),
    }
}

fn parse_description(text: &str) -> Result<String, Invalid> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Invalid::new("description", format!("at most {MAX_DESCRIPTION_CHARS} characters")));
    }
    Ok(text.trim().to_owned())
}

fn parse_price(cents: i64) -> Result<Cents, Invalid> {
    if !(0..=MAX_PRICE_CENTS).contains(&cents) {
        return Err(Invalid::new("price_cents", format!("must be between 0 and {MAX_PRICE_CENTS} cents")));
    }
    Ok(Cents(cents))
}

fn parse_stock(stock: i64) -> Result<u32, Invalid> {
    if !(0..=MAX_STOCK).contains(&stock) {
        return Err(Invalid::new("stock", format!("must be between 0 and {MAX_STOCK}")));
    }
    Ok(units(stock))
}

/// A new product's fields, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFields {
    name: String,
    description: String,
    price: Cents,
    stock: u32,
}

impl ProductFields {
    /// Checks a `NewProduct`: [`Invalid`] names the first bad field.
    pub fn parse(input: &NewProduct) -> Result<Self, Invalid> {
        Ok(Self {
            name: parse_name(&input.name)?,
            description: parse_description(&input.description)?,
            price: parse_price(input.price_cents)?,
            stock: parse_stock(input.stock)?,
        })
    }
}

/// The fields a `ProductPatch` changes, valid by construction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductChanges {
    name: Option<String>,
    description: Option<String>,
    price: Option<Cents>,
    stock: Option<u32>,
}

impl ProductChanges {
    /// Checks a `ProductPatch`: [`Invalid`] names the first bad field.
    pub fn parse(patch: &ProductPatch) -> Result<Self, Invalid> {
        Ok(Self {
            name: patch.name.as_deref().map(parse_name).transpose()?,
            description: patch.description.as_deref().map(parse_description).transpose()?,
            price: patch.price_cents.map(parse_price).transpose()?,
            stock: patch.stock.map(parse_stock).transpose()?,
        })
    }
}

/// A live (not deleted) product.
pub async fn get(conn: &mut AnyConnection, id: ProductId) -> Result<Option<Product>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE p.id = $1 AND p.deleted = 0"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(into_product))
}

/// A product even when deleted (for the events about it).
pub async fn get_any(conn: &mut AnyConnection, id: ProductId) -> Result<Option<Product>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE p.id = $1")).bind(id.0).fetch_optional(&mut *conn).await?;
    Ok(row.map(into_product))
}

/// One page of the live catalog, optionally of one shop and matching `query` (case-insensitive substring of
/// the name), ordered by name then id.
pub async fn list(
    conn: &mut AnyConnection,
    shop: Option<ShopId>,
    query: Option<&str>,
    paging: Paging,
) -> Result<Page<Product>, sqlx::Error> {
    const FILTER: &str = "WHERE p.deleted = 0 AND ($1 IS NULL OR p.shop_id = $1) AND ($2 IS NULL OR instr(lower(p.name), lower($2)) > 0)";
    let shop = shop.map(|s| s.0);
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM products p {FILTER}"))
        .bind(shop)
        .bind(query)
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} {FILTER} ORDER BY lower(p.name), p.id LIMIT $3 OFFSET $4"))
        .bind(shop)
        .bind(query)
        .bind(paging.limit())
        .bind(paging.offset())
        .fetch_all(&mut *conn)
        .await?;
    Ok(paging.page(rows.into_iter().map(into_product).collect(), total))
}

/// Adds a product to `shop`.
pub async fn insert(
    conn: &mut AnyConnection,
    shop: ShopId,
    fields: &ProductFields,
    now: &str,
) -> Result<Product, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO products (shop_id, name, description, price_cents, stock, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(shop.0)
    .bind(&fields.name)
    .bind(&fields.description)
    .bind(fields.price.0)
    .bind(i64::from(fields.stock))
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    get_any(conn, ProductId(id)).await?.ok_or(sqlx::Error::RowNotFound)
}

/// Applies `changes` to a live product; `None` when there is no such live product.
pub async fn update(
    conn: &mut AnyConnection,
    id: ProductId,
    changes: &ProductChanges,
    now: &str,
) -> Result<Option<Product>, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE products SET name = COALESCE($1, name), description = COALESCE($2, description),
             price_cents = COALESCE($3, price_cents), stock = COALESCE($4, stock), updated_at = $5,
             version = version + 1
         WHERE id = $6 AND deleted = 0",
    )
    .bind(changes.name.as_deref())
    .bind(changes.description.as_deref())
    .bind(changes.price.map(|p| p.0))
    .bind(changes.stock.map(i64::from))
    .bind(now)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    get(conn, id).await
}

/// Marks a product deleted and takes it out of every cart and wishlist; `false` when it was not live.
pub async fn soft_delete(conn: &mut AnyConnection, id: ProductId, now: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE products SET deleted = 1, updated_at = $1, version = version + 1 WHERE id = $2 AND deleted = 0",
    )
    .bind(now)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM cart_items WHERE product_id = $1").bind(id.0).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM wishlist_items WHERE product_id = $1").bind(id.0).execute(&mut *conn).await?;
    Ok(true)
}

/// Takes `quantity` units of a live product if that many are in stock; `false` (and no change) otherwise.
pub async fn take_stock(
    conn: &mut AnyConnection,
    id: ProductId,
    quantity: u32,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let quantity = i64::from(quantity);
    let done = sqlx::query(
        "UPDATE products SET stock = stock - $1, updated_at = $2, version = version + 1 WHERE id = $3 AND deleted = 0 AND stock >= $4",
    )
    .bind(quantity)
    .bind(now)
    .bind(id.0)
    .bind(quantity)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts `quantity` units back (a cancelled order), capped at [`MAX_STOCK`].
pub async fn restore_stock(
    conn: &mut AnyConnection,
    id: ProductId,
    quantity: u32,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE products SET stock = CASE WHEN stock + $1 < $2 THEN stock + $1 ELSE $2 END, updated_at = $3,
             version = version + 1
         WHERE id = $4",
    )
    .bind(i64::from(quantity))
    .bind(MAX_STOCK)
    .bind(now)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Figures of the live products of `shop`, or of the whole platform.
pub async fn stats(conn: &mut AnyConnection, shop: Option<ShopId>) -> Result<ProductStats, sqlx::Error> {
    let (total, low, out, value): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN stock <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN stock = 0 THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(price_cents * stock), 0) AS BIGINT)
         FROM products WHERE deleted = 0 AND ($2 IS NULL OR shop_id = $3)",
    )
    .bind(i64::from(protocol::LOW_STOCK_THRESHOLD))
    .bind(shop.map(|s| s.0))
    .bind(shop.map(|s| s.0))
    .fetch_one(&mut *conn)
    .await?;
    Ok(ProductStats {
        shop_id: shop,
        total_products: count(total),
        low_stock: count(low),
        out_of_stock: count(out),
        inventory_value_cents: Cents(value),
    })
}
