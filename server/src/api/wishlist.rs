//! The customer's wishlist: `GET /api/wishlist`, `POST /api/wishlist`, `DELETE /api/wishlist/{product_id}`.
//! Every call answers the whole `Wishlist`.
//!
//! Invariant: only customers have a wishlist (staff get 404); adding twice keeps one entry.

use axum::extract::State;
use axum::routing::{delete, get};
use axum::{Json, Router};
use protocol::{ProductId, Wishlist, WishlistInput};

use super::access;
use super::params::ApiPath;
use crate::auth::AuthUser;
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store::{self, begin_write};

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/wishlist", get(show).post(add)).route("/wishlist/{product_id}", delete(remove))
}

async fn show(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<Wishlist>, AppError> {
    let customer = access::customer(&user)?;
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::carts::wishlist(&mut conn, customer).await?))
}

/// Adds a live product (404 otherwise); adding it again changes nothing.
async fn add(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(input): ApiJson<WishlistInput>,
) -> Result<Json<Wishlist>, AppError> {
    let customer = access::customer(&user)?;
    let mut tx = begin_write(&state.db).await?;
    if store::products::get(&mut tx, input.product_id).await?.is_none() {
        return Err(AppError::not_found("product"));
    }
    store::carts::wish(&mut tx, customer, input.product_id, &state.clock.now_rfc3339()).await?;
    let wishlist = store::carts::wishlist(&mut tx, customer).await?;
    tx.commit().await?;
    Ok(Json(wishlist))
}

/// Removes a product (nothing when absent).
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(product_id): ApiPath<ProductId>,
) -> Result<Json<Wishlist>, AppError> {
    let customer = access::customer(&user)?;
    let mut tx = begin_write(&state.db).await?;
    store::carts::unwish(&mut tx, customer, product_id).await?;
    let wishlist = store::carts::wishlist(&mut tx, customer).await?;
    tx.commit().await?;
    Ok(Json(wishlist))
}
