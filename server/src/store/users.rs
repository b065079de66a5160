//! Users as `protocol::User`, with the shop an owner runs.
//!
//! Invariant: emails are compared trimmed and lower-cased; a password hash never leaves this module except
//! to the login check.

use protocol::{Role, ShopId, User, UserId};
use sqlx::AnyConnection;

use super::corrupt;

const SELECT: &str = "SELECT u.id, u.name, u.email, u.role, s.id, u.password_hash
                      FROM users u LEFT JOIN shops s ON s.owner_id = u.id";

type Row = (i64, String, String, String, Option<i64>, String);

fn into_user((id, name, email, role, shop_id, _): Row) -> Result<User, sqlx::Error> {
    let role = Role::parse(&role).ok_or_else(|| corrupt("role", &role))?;
    Ok(User { id: UserId(id), name, email, role, shop_id: shop_id.map(ShopId) })
}

/// Normalises an email for storage and lookup.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The user with this email and their password hash, for the login check.
pub async fn find_login(conn: &mut AnyConnection, email: &str) -> Result<Option<(User, String)>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE u.email = $1"))
        .bind(normalise_email(email))
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => {
            let hash = row.5.clone();
            Ok(Some((into_user(row)?, hash)))
        }
        None => Ok(None),
    }
}

/// The user with this id, if they still exist.
pub async fn find(conn: &mut AnyConnection, id: UserId) -> Result<Option<User>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE u.id = $1")).bind(id.0).fetch_optional(&mut *conn).await?;
    row.map(into_user).transpose()
}
