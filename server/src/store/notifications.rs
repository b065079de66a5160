//! Notifications: messages for one user, newest first.
//!
//! Invariant: a user only ever reads or marks their own notifications (every query is keyed by `user_id`).

use protocol::{Notification, NotificationId, NotificationKind, Page, UserId};
use sqlx::AnyConnection;

use super::{Paging, corrupt, count};

const SELECT: &str = "SELECT id, kind, title, message, read, created_at FROM notifications";

/// `read` is stored as 0 or 1 (the same schema on SQLite and PostgreSQL).
type Row = (i64, String, String, String, i64, String);

/// The text of a new order's notification: "Carla Mendes ordered 3 items for $12.50" ("1 item"), always
/// naming the customer.
pub fn new_order_message(customer: &str, units: u64, total: impl std::fmt::Display) -> String {
    let noun = if units == 1 { "item" } else { "items" };
    format!("{customer} ordered {units} {noun} for {total}")
}

/// The snake_case name of a kind, as stored.
pub fn kind_name(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::NewOrder => "new_order",
        NotificationKind::OrderStatus => "order_status",
        NotificationKind::LowStock => "low_stock",
        NotificationKind::Info => "info",
    }
}

fn parse_kind(text: &str) -> Option<NotificationKind> {
    use NotificationKind::*;
    [NewOrder, OrderStatus, LowStock, Info].into_iter().find(|k| kind_name(*k) == text)
}

fn into_notification((id, kind, title, message, read, created_at): Row) -> Result<Notification, sqlx::Error> {
    let kind = parse_kind(&kind).ok_or_else(|| corrupt("notification kind", &kind))?;
    Ok(Notification { id: NotificationId(id), kind, title, message, read: read != 0, created_at })
}

/// Stores a new, unread notification for `user`.
pub async fn create(
    conn: &mut AnyConnection,
    user: UserId,
    kind: NotificationKind,
    title: &str,
    message: &str,
    now: &str,
) -> Result<Notification, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notifications (user_id, kind, title, message, read, created_at) VALUES ($1, $2, $3, $4, 0, $5)
         RETURNING id",
    )
    .bind(user.0)
    .bind(kind_name(kind))
    .bind(title)
    .bind(message)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Notification {
        id: NotificationId(id),
        kind,
        title: title.to_owned(),
        message: message.to_owned(),
        read: false,
        created_at: now.to_owned(),
    })
}

/// One page of `user`'s notifications, newest first.
pub async fn list(conn: &mut AnyConnection, user: UserId, paging: Paging) -> Result<Page<Notification>, sqlx::Error> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1")
        .bind(user.0)
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"))
        .bind(user.0)
        .bind(paging.limit())
        .bind(paging.offset())
        .fetch_all(&mut *conn)
        .await?;
    let items = rows.into_iter().map(into_notification).collect::<Result<_, _>>()?;
    Ok(paging.page(items, total))
}

/// `user`'s unread notifications.
pub async fn unread(conn: &mut AnyConnection, user: UserId) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read = 0")
        .bind(user.0)
        .fetch_one(&mut *conn)
        .await?;
    Ok(count(n))
}

/// Marks one of `user`'s notifications read; `None` when it is not theirs or does not exist.
pub async fn mark_read(
    conn: &mut AnyConnection,
    user: UserId,
    id: NotificationId,
) -> Result<Option<Notification>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "UPDATE notifications SET read = 1 WHERE id = $1 AND user_id = $2
         RETURNING id, kind, title, message, read, created_at",
    )
    .bind(id.0)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(into_notification).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_order_names_the_customer_and_counts_properly() {
        assert_eq!(new_order_message("Carla Mendes", 1, "$2.99"), "Carla Mendes ordered 1 item for $2.99");
        assert_eq!(new_order_message("Tom Becker", 3, "$12.50"), "Tom Becker ordered 3 items for $12.50");
    }
}
