//! `GET /api/shops`: every shop with its owner, for any signed-in user (the catalog's shop filter).
//!
//! Invariant: read-only; shops are created by the seed only.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use protocol::Shop;

use crate::error::AppError;
use crate::state::AppState;
use crate::store;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/shops", get(list))
}

/// Public, like the catalog.
async fn list(State(state): State<AppState>) -> Result<Json<Vec<Shop>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::shops::list(&mut conn).await?))
}
