//! Shops and their owners.
//!
//! Invariant: every shop has exactly one owner (`shops.owner_id` is unique and required).

use protocol::{Shop, ShopId, UserId};
use sqlx::AnyConnection;

const SELECT: &str = "SELECT s.id, s.name, s.owner_id, u.name FROM shops s JOIN users u ON u.id = s.owner_id";

type Row = (i64, String, i64, String);

fn into_shop((id, name, owner_id, owner_name): Row) -> Shop {
    Shop { id: ShopId(id), name, owner_id: UserId(owner_id), owner_name }
}

/// Every shop, by id.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Shop>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY s.id")).fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().map(into_shop).collect())
}

/// One shop.
pub async fn get(conn: &mut AnyConnection, id: ShopId) -> Result<Option<Shop>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE s.id = $1")).bind(id.0).fetch_optional(&mut *conn).await?;
    Ok(row.map(into_shop))
}
