//! Server-side sessions: a login opens one (its random id travels in every token of it as `sid`), a logout
//! revokes it. The revoked ones are kept in memory (loaded at start, forgotten once no token of them can be
//! used any more), so checking a request costs a hash lookup, not a query.
//!
//! Invariant: a revoked session's tokens are refused by every extractor and every socket; a revocation
//! wakes every socket (through [`Sessions::watch`]) so that the ones of that session close at once.

use std::collections::HashMap;
use std::sync::Mutex;

use protocol::UserId;
use rand::Rng;
use sqlx::AnyPool;
use tokio::sync::watch;

/// The sessions' revocation list.
#[derive(Debug)]
pub struct Sessions {
    /// Revoked session id → seconds since the epoch after which it can be forgotten.
    revoked: Mutex<HashMap<i64, i64>>,
    /// Bumped on every revocation.
    changed: watch::Sender<u64>,
}

impl Sessions {
    /// The revocation list as the database has it (revoked sessions whose tokens could still be used).
    pub async fn load(db: &AnyPool, now_secs: i64) -> Result<Self, sqlx::Error> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, expires_at FROM sessions WHERE revoked_at_ms IS NOT NULL AND expires_at > $1")
                .bind(now_secs)
                .fetch_all(db)
                .await?;
        Ok(Self { revoked: Mutex::new(rows.into_iter().collect()), changed: watch::Sender::new(0) })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<i64, i64>> {
        // The map stays consistent whatever panicked while holding it: keep using it.
        self.revoked.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Opens a session for `user` whose tokens may be used until `expires_at`; returns its id.
    pub async fn open(&self, db: &AnyPool, now_ms: i64, user: UserId, expires_at: i64) -> Result<i64, sqlx::Error> {
        // Random rather than sequential: ids never repeat across a reset database with the same secret.
        let id = rand::thread_rng().gen_range(1..i64::MAX);
        sqlx::query("INSERT INTO sessions (id, user_id, created_at_ms, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(user.0)
            .bind(now_ms)
            .bind(expires_at)
            .execute(db)
            .await?;
        Ok(id)
    }

    /// A token of the session was refreshed: its tokens may now be used until `expires_at`.
    pub async fn extend(&self, db: &AnyPool, id: i64, expires_at: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE sessions SET expires_at = CASE WHEN expires_at > $1 THEN expires_at ELSE $1 END WHERE id = $2",
        )
        .bind(expires_at)
        .bind(id)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Revokes session `id`; `latest_expiry` bounds its tokens' life when the database has no row for it.
    /// Returns until when its tokens could have been used (what the other instances are told).
    pub async fn revoke(&self, db: &AnyPool, now_ms: i64, id: i64, latest_expiry: i64) -> Result<i64, sqlx::Error> {
        let expires_at: Option<i64> =
            sqlx::query_scalar("UPDATE sessions SET revoked_at_ms = $1 WHERE id = $2 RETURNING expires_at")
                .bind(now_ms)
                .bind(id)
                .fetch_optional(db)
                .await?;
        let expires_at = expires_at.unwrap_or(latest_expiry).max(latest_expiry);
        self.table().insert(id, expires_at);
        self.changed.send_modify(|generation| *generation += 1);
        Ok(expires_at)
    }

    /// Another instance revoked session `id` (cluster mode): refused here too from now on.
    pub fn revoked_elsewhere(&self, id: i64, expires_at: i64) {
        let new = self.table().insert(id, expires_at).is_none();
        if new {
            self.changed.send_modify(|generation| *generation += 1);
        }
    }

    /// Takes in the sessions revoked at or after `since_ms` (by any instance); returns the newest revocation
    /// time read.
    pub async fn reload_since(&self, db: &AnyPool, since_ms: i64) -> Result<Option<i64>, sqlx::Error> {
        let rows: Vec<(i64, i64, i64)> =
            sqlx::query_as("SELECT id, expires_at, revoked_at_ms FROM sessions WHERE revoked_at_ms >= $1")
                .bind(since_ms)
                .fetch_all(db)
                .await?;
        let newest = rows.iter().map(|(_, _, revoked_at)| *revoked_at).max();
        for (id, expires_at, _) in rows {
            self.revoked_elsewhere(id, expires_at);
        }
        Ok(newest)
    }

    /// Whether session `id` was revoked.
    pub fn is_revoked(&self, id: i64) -> bool {
        self.table().contains_key(&id)
    }

    /// Wakes on every revocation (then ask [`Sessions::is_revoked`]).
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Forgets revocations no token can outlive any more, and deletes sessions past their expiry.
    pub async fn prune(&self, db: &AnyPool, now_secs: i64) -> Result<(), sqlx::Error> {
        self.table().retain(|_, expires_at| *expires_at > now_secs);
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_secs).execute(db).await?;
        Ok(())
    }
}
