//! The caller's notifications: `GET /api/notifications` (newest first, paged) and
//! `POST /api/notifications/{id}/read`.
//!
//! Invariant: a user only reads and marks their own notifications; anyone else's is a 404.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use protocol::{Notification, NotificationId, Page};
use serde::Deserialize;

use super::params::{ApiPath, ApiQuery, parse_paging};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::store;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/notifications", get(list)).route("/notifications/{id}/read", post(mark_read))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    page: Option<String>,
    per_page: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Page<Notification>>, AppError> {
    let paging = parse_paging(query.page.as_deref(), query.per_page.as_deref())?;
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::notifications::list(&mut conn, user.id, paging).await?))
}

/// Marks a notification read (idempotent) and answers it.
async fn mark_read(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<NotificationId>,
) -> Result<Json<Notification>, AppError> {
    let mut conn = state.db.acquire().await?;
    store::notifications::mark_read(&mut conn, user.id, id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::not_found("notification"))
}
