//! The first answers to `Idempotency-Key`s, per user (see `api::idempotency`).

use sqlx::AnyPool;

/// What is kept of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptKey {
    /// The request it was first used for (`api::idempotency::fingerprint`).
    pub fingerprint: String,
    /// The first answer's status and body; `None` while that request runs.
    pub answer: Option<(u16, String)>,
    /// Unix seconds when it was claimed (or taken over).
    pub created_at: i64,
}

/// Claims `key` of `user` for a request; `false` when the key is already kept.
pub async fn claim(db: &AnyPool, user: i64, key: &str, fingerprint: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(user)
    .bind(key)
    .bind(fingerprint)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What is kept of `key` of `user`.
pub async fn load(db: &AnyPool, user: i64, key: &str) -> Result<Option<KeptKey>, sqlx::Error> {
    let row: Option<(String, Option<i64>, Option<String>, i64)> = sqlx::query_as(
        "SELECT fingerprint, status, body, created_at FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(user)
    .bind(key)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(fingerprint, status, body, created_at)| KeptKey {
        fingerprint,
        answer: status.zip(body).map(|(status, body)| (u16::try_from(status).unwrap_or(500), body)),
        created_at,
    }))
}

/// Takes over a claim left running since `claimed_at` (its request's server died); `false` if another
/// request took it first or it was answered meanwhile.
pub async fn take_over(db: &AnyPool, user: i64, key: &str, claimed_at: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET created_at = $1
         WHERE user_id = $2 AND idem_key = $3 AND status IS NULL AND created_at = $4",
    )
    .bind(now)
    .bind(user)
    .bind(key)
    .bind(claimed_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps the answer of the request that claimed `key`.
pub async fn answer(db: &AnyPool, user: i64, key: &str, status: u16, body: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE idempotency_keys SET status = $1, body = $2 WHERE user_id = $3 AND idem_key = $4")
        .bind(i64::from(status))
        .bind(body)
        .bind(user)
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets a claim whose request had no answer worth keeping (a 5xx: the retry must run again).
pub async fn release(db: &AnyPool, user: i64, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 AND status IS NULL")
        .bind(user)
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets the keys claimed before `before` (unix seconds), and of each user all but the newest `per_user`: a
/// client sending a new key with every write cannot grow the table past that.
pub async fn prune(db: &AnyPool, before: i64, per_user: i64) -> Result<u64, sqlx::Error> {
    let old = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(before).execute(db).await?;
    let over = sqlx::query(
        "DELETE FROM idempotency_keys WHERE (user_id, idem_key) IN (
             SELECT user_id, idem_key FROM (
                 SELECT user_id, idem_key,
                        ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY created_at DESC, idem_key) AS newest
                 FROM idempotency_keys
             ) AS ranked WHERE newest > $1
         )",
    )
    .bind(per_user)
    .execute(db)
    .await?;
    Ok(old.rows_affected() + over.rows_affected())
}
