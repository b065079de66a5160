//! The durable event stream: events are appended to SQLite in the same transaction as the write that caused
//! them, then published to the live sockets by the [`crate::hub::Hub`]; `resume` and `/api/events` replay
//! them from SQLite.
//!
//! Invariant: an event is serialized once, at append, with its `seq`; what a user receives live and what
//! they get replayed are the same bytes, filtered by the same [`Audience`] rule.

use std::time::Duration;

use protocol::{Role, Seq, ServerMsg, ShopId, Topic, User, UserId};
use sqlx::{AnyConnection, AnyPool};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Who may see an event: admins (when `for_admin`), the owner of `shop_id`, the user `user_id`, everybody
/// (when `public`), or everybody but the staff of `shop_id` (when `public` and `except_staff`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Audience {
    pub for_admin: bool,
    pub shop_id: Option<ShopId>,
    pub user_id: Option<UserId>,
    pub public: bool,
    /// With `public`: not the admins nor the owner of `shop_id` (they get the staff's version of the change).
    pub except_staff: bool,
}

impl Audience {
    /// Admins and the owner of `shop`.
    pub fn shop_staff(shop: ShopId) -> Self {
        Self { for_admin: true, shop_id: Some(shop), ..Self::default() }
    }

    /// One user only.
    pub fn user(user: UserId) -> Self {
        Self { user_id: Some(user), ..Self::default() }
    }

    /// Every signed-in user (public catalog changes).
    pub fn everyone() -> Self {
        Self { public: true, ..Self::default() }
    }

    /// Everybody but the admins and the owner of `shop`: a public change whose staff get their own version.
    pub fn everyone_but_staff(shop: ShopId) -> Self {
        Self { public: true, except_staff: true, shop_id: Some(shop), ..Self::default() }
    }

    /// Whether `user` may see an event with this audience.
    pub fn can_see(&self, user: &User) -> bool {
        self.visible_to(Viewer::from(user))
    }

    /// Whether the viewer may see an event with this audience.
    pub fn visible_to(&self, viewer: Viewer) -> bool {
        let owner_of_shop = viewer.role == Role::Owner && self.shop_id.is_some() && self.shop_id == viewer.shop;
        if self.public {
            return !(self.except_staff && (owner_of_shop || viewer.role == Role::Admin));
        }
        self.user_id == Some(viewer.id) || (self.for_admin && viewer.role == Role::Admin) || owner_of_shop
    }
}

/// Who sees an event, as far as audiences go: a user's id, role and shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub id: UserId,
    pub role: Role,
    pub shop: Option<ShopId>,
}

impl From<&User> for Viewer {
    fn from(user: &User) -> Self {
        Self { id: user.id, role: user.role, shop: user.shop_id }
    }
}

/// An appended event, ready to fan out.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: Seq,
    pub topic: Topic,
    pub audience: Audience,
    /// The complete `ServerMsg` JSON, `seq` included.
    pub json: Utf8Bytes,
}

fn topic_name(topic: Topic) -> &'static str {
    match topic {
        Topic::Dashboard => "dashboard",
        Topic::Orders => "orders",
        Topic::Products => "products",
        Topic::Notifications => "notifications",
        Topic::Catalog => "catalog",
    }
}

fn topic_named(name: &str) -> Option<Topic> {
    Topic::ALL.into_iter().find(|topic| topic_name(*topic) == name)
}

/// Appends an event inside the caller's transaction, created at `now_ms` (what retention measures its age
/// from). `build` receives the event's seq and returns the message (which must be an event type: one with a
/// topic).
pub async fn append_at(
    conn: &mut AnyConnection,
    now_ms: i64,
    audience: Audience,
    build: impl FnOnce(Seq) -> ServerMsg,
) -> Result<StoredEvent, sqlx::Error> {
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (created_at_ms, topic, for_admin, shop_id, user_id, public, except_staff, payload)
         VALUES ($1, 'dashboard', $2, $3, $4, $5, $6, '') RETURNING seq",
    )
    .bind(now_ms)
    .bind(i64::from(audience.for_admin))
    .bind(audience.shop_id.map(|s| s.0))
    .bind(audience.user_id.map(|u| u.0))
    .bind(i64::from(audience.public))
    .bind(i64::from(audience.except_staff))
    .fetch_one(&mut *conn)
    .await?;
    let seq = seq as Seq;
    let message = build(seq);
    let topic = message.topic().expect("only event messages are appended");
    let json = serde_json::to_string(&message).expect("protocol messages always serialize");
    sqlx::query("UPDATE events SET topic = $1, payload = $2 WHERE seq = $3")
        .bind(topic_name(topic))
        .bind(&json)
        .bind(seq as i64)
        .execute(&mut *conn)
        .await?;
    Ok(StoredEvent { seq, topic, audience, json: json.into() })
}

/// The newest seq ever appended: the highest kept, or the highest pruned when retention emptied the stream
/// (the same on SQLite and PostgreSQL, whose sequences are read differently).
const CURRENT_SEQ: &str = "SELECT CASE WHEN COALESCE((SELECT MAX(seq) FROM events), 0) > pruned_through
                                THEN (SELECT MAX(seq) FROM events) ELSE pruned_through END
                           FROM event_retention WHERE id = 1";

/// The newest seq in the stream (0 when empty).
pub async fn current_seq(db: &AnyPool) -> Result<Seq, sqlx::Error> {
    let seq: i64 = sqlx::query_scalar(CURRENT_SEQ).fetch_one(db).await?;
    Ok(seq as Seq)
}

/// The newest seq committed before `seq`, read inside a write transaction that appended `seq`: writes are
/// serialized ([`crate::store::begin_write`]), so every seq up to the answer is committed and nothing between
/// it and `seq` ever will be.
pub async fn committed_before(conn: &mut AnyConnection, seq: Seq) -> Result<Seq, sqlx::Error> {
    let before: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN COALESCE((SELECT MAX(seq) FROM events WHERE seq < $1), 0) > pruned_through
                     THEN (SELECT MAX(seq) FROM events WHERE seq < $1) ELSE pruned_through END
         FROM event_retention WHERE id = 1",
    )
    .bind(seq as i64)
    .fetch_one(&mut *conn)
    .await?;
    Ok(before as Seq)
}

/// What the log holds after a seq, for an instance that missed it live.
#[derive(Debug)]
pub struct Backfill {
    /// Every event kept in `(after, through]`, in order, whoever may see it.
    pub events: Vec<StoredEvent>,
    /// Some of the range was pruned before it could be read: the sockets cannot be given all of it.
    pub pruned: bool,
}

/// Rows read per query by [`read_range`].
const RANGE_CHUNK: i64 = 2_000;

/// The events of `(after, through]` as stored, for any audience (cluster mode: an instance that missed them).
pub async fn read_range(db: &AnyPool, after: Seq, through: Seq) -> Result<Backfill, sqlx::Error> {
    type Row = (i64, String, i64, Option<i64>, Option<i64>, i64, i64, String);
    let pruned_through: i64 =
        sqlx::query_scalar("SELECT pruned_through FROM event_retention WHERE id = 1").fetch_one(db).await?;
    let mut events = Vec::new();
    let mut from = after as i64;
    loop {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, topic, for_admin, shop_id, user_id, public, except_staff, payload FROM events
             WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        )
        .bind(from)
        .bind(through as i64)
        .bind(RANGE_CHUNK)
        .fetch_all(db)
        .await?;
        let full = rows.len() as i64 == RANGE_CHUNK;
        for (seq, topic, for_admin, shop_id, user_id, public, except_staff, payload) in rows {
            from = seq;
            // A row this server did not write (another version's topic) is skipped, not fanned out wrongly.
            let Some(topic) = topic_named(&topic) else { continue };
            let audience = Audience {
                for_admin: for_admin != 0,
                shop_id: shop_id.map(ShopId),
                user_id: user_id.map(UserId),
                public: public != 0,
                except_staff: except_staff != 0,
            };
            events.push(StoredEvent { seq: seq as Seq, topic, audience, json: payload.into() });
        }
        if !full {
            break;
        }
    }
    Ok(Backfill { events, pruned: (after as i64) < pruned_through })
}

/// The role a visitor is matched as in SQL: none of the audience rules names it.
const VISITOR_ROLE: &str = "visitor";

/// What a replay from a seq gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// The events after the seq that the user may see, in order, as their JSON text.
    Events { events: Vec<(Seq, String)>, last_seq: Seq },
    /// The seq is past the retention window (or unknown here): refetch everything.
    Resync { last_seq: Seq },
}

/// The events after `after` that `viewer` may see, or `Resync` when `after` is older than what is retained.
/// A signed-in user, or `None`: a visitor, who sees the public events only (the catalog's changes).
pub async fn replay_after<'a>(
    db: &AnyPool,
    viewer: impl Into<Option<&'a User>>,
    after: Seq,
) -> Result<Replay, sqlx::Error> {
    let viewer: Option<&User> = viewer.into();
    // One snapshot: the last seq and the events are read as of the same moment.
    let mut tx = crate::store::begin_read(db).await?;
    let last_seq: i64 = sqlx::query_scalar(CURRENT_SEQ).fetch_one(&mut *tx).await?;
    let pruned_through: i64 =
        sqlx::query_scalar("SELECT pruned_through FROM event_retention WHERE id = 1").fetch_one(&mut *tx).await?;
    let after = after as i64;
    if after < pruned_through || after > last_seq {
        return Ok(Replay::Resync { last_seq: last_seq as Seq });
    }
    // The SQL form of `Audience::can_see`: $2 the user, $3 the role, $4 the owner's shop. A visitor has no id,
    // no shop and a role no rule names, so only the public branch can match.
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT seq, payload FROM events
         WHERE seq > $1 AND CASE
             WHEN public = 1 THEN NOT (except_staff = 1 AND ($3 = 'admin' OR ($3 = 'owner' AND shop_id = $4)))
             ELSE user_id = $2 OR (for_admin = 1 AND $3 = 'admin') OR ($3 = 'owner' AND shop_id = $4)
         END
         ORDER BY seq",
    )
    .bind(after)
    .bind(viewer.map(|user| user.id.0))
    .bind(viewer.map_or(VISITOR_ROLE, |user| user.role.as_str()))
    .bind(viewer.and_then(|user| user.shop_id).map(|s| s.0))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Replay::Events {
        events: rows.into_iter().map(|(seq, json)| (seq as Seq, json)).collect(),
        last_seq: last_seq as Seq,
    })
}

/// Deletes events older than `max_age` at `now_ms` or beyond the newest `max_count`, remembering the highest
/// seq deleted so that a resume from before it answers `resync`. Returns how many were deleted.
pub async fn prune_at(db: &AnyPool, now_ms: i64, max_age: Duration, max_count: u64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let oldest_kept_ms = now_ms - max_age.as_millis() as i64;
    let deleted: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM events WHERE created_at_ms < $1 OR seq <= (SELECT MAX(seq) FROM events) - $2 RETURNING seq",
    )
    .bind(oldest_kept_ms)
    .bind(max_count as i64)
    .fetch_all(&mut *tx)
    .await?;
    if let Some(highest) = deleted.iter().max() {
        sqlx::query(
            "UPDATE event_retention SET pruned_through = CASE WHEN pruned_through > $1 THEN pruned_through ELSE $1 END
             WHERE id = 1",
        )
        .bind(highest)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(deleted.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, role: Role, shop: Option<i64>) -> User {
        User { id: UserId(id), name: "x".into(), email: "x@y".into(), role, shop_id: shop.map(ShopId) }
    }

    #[test]
    fn audiences_see_exactly_their_events() {
        let admin = user(1, Role::Admin, None);
        let owner_a = user(2, Role::Owner, Some(1));
        let owner_b = user(3, Role::Owner, Some(2));
        let customer = user(4, Role::Customer, None);

        let staff_a = Audience::shop_staff(ShopId(1));
        assert!(staff_a.can_see(&admin) && staff_a.can_see(&owner_a));
        assert!(!staff_a.can_see(&owner_b) && !staff_a.can_see(&customer));

        let mine = Audience::user(UserId(4));
        assert!(mine.can_see(&customer));
        assert!(!mine.can_see(&admin) && !mine.can_see(&owner_a));

        let public = Audience::everyone();
        assert!([&admin, &owner_a, &owner_b, &customer].iter().all(|u| public.can_see(u)));

        let catalog_a = Audience::everyone_but_staff(ShopId(1));
        assert!(catalog_a.can_see(&owner_b) && catalog_a.can_see(&customer));
        assert!(!catalog_a.can_see(&owner_a) && !catalog_a.can_see(&admin), "staff get the staff's version");

        // A customer whose id happens to equal a shop id sees nothing of that shop.
        let customer_one = user(1, Role::Customer, None);
        assert!(!Audience { shop_id: Some(ShopId(1)), ..Audience::default() }.can_see(&customer_one));
    }
}
