//! The customer's cart: `GET /api/cart`, `POST /api/cart/items`, `PATCH|DELETE /api/cart/items/{product_id}`,
//! `POST /api/cart/merge`. Every write answers the whole `Cart`.
//!
//! Invariant: only customers have a cart (staff get 404); a line never holds more than 99 units nor, when
//! written, more than the product's stock (a later stock drop is caught at checkout).

use axum::extract::State;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use protocol::{Cart, CartItemInput, MergeCart, ProductId, QuantityInput};

use super::access;
use super::params::ApiPath;
use crate::auth::AuthUser;
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store::carts::MAX_LINE_QUANTITY;
use crate::store::units;
use crate::store::{self, begin_write};

/// Most lines a merge may carry.
pub const MAX_MERGE_ITEMS: usize = 200;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cart", get(show))
        .route("/cart/items", post(add))
        .route("/cart/items/{product_id}", patch(set).delete(remove))
        .route("/cart/merge", post(merge))
}

/// A quantity in `min..=99`, or 422 naming `quantity`.
fn parse_quantity(quantity: i64, min: u32) -> Result<u32, AppError> {
    u32::try_from(quantity)
        .ok()
        .filter(|q| (min..=MAX_LINE_QUANTITY).contains(q))
        .ok_or_else(|| AppError::validation("quantity", format!("must be between {min} and {MAX_LINE_QUANTITY}")))
}

fn not_enough(name: &str, stock: u32) -> AppError {
    AppError::Conflict(format!("not enough stock of {name}: {stock} left"))
}

async fn show(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<Cart>, AppError> {
    let customer = access::customer(&user)?;
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::carts::get(&mut conn, customer).await?))
}

/// Adds units to a line (creating it): 422 beyond 99 units in total, 409 beyond the stock.
async fn add(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(input): ApiJson<CartItemInput>,
) -> Result<Json<Cart>, AppError> {
    let customer = access::customer(&user)?;
    let quantity = parse_quantity(input.quantity, 1)?;
    let mut tx = begin_write(&state.db).await?;
    let product =
        store::products::get(&mut tx, input.product_id).await?.ok_or_else(|| AppError::not_found("product"))?;
    let total = store::carts::quantity(&mut tx, customer, product.id).await? + quantity;
    if total > MAX_LINE_QUANTITY {
        return Err(AppError::validation("quantity", format!("at most {MAX_LINE_QUANTITY} units of one product")));
    }
    if total > product.stock {
        return Err(not_enough(&product.name, product.stock));
    }
    store::carts::set_quantity(&mut tx, customer, product.id, total, &state.clock.now_rfc3339()).await?;
    let cart = store::carts::get(&mut tx, customer).await?;
    tx.commit().await?;
    Ok(Json(cart))
}

/// Sets a line's units; 0 removes it.
async fn set(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(product_id): ApiPath<ProductId>,
    ApiJson(input): ApiJson<QuantityInput>,
) -> Result<Json<Cart>, AppError> {
    let customer = access::customer(&user)?;
    let quantity = parse_quantity(input.quantity, 0)?;
    let mut tx = begin_write(&state.db).await?;
    if quantity > 0 {
        let product = store::products::get(&mut tx, product_id).await?.ok_or_else(|| AppError::not_found("product"))?;
        if quantity > product.stock {
            return Err(not_enough(&product.name, product.stock));
        }
    }
    store::carts::set_quantity(&mut tx, customer, product_id, quantity, &state.clock.now_rfc3339()).await?;
    let cart = store::carts::get(&mut tx, customer).await?;
    tx.commit().await?;
    Ok(Json(cart))
}

async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(product_id): ApiPath<ProductId>,
) -> Result<Json<Cart>, AppError> {
    let customer = access::customer(&user)?;
    let mut tx = begin_write(&state.db).await?;
    store::carts::remove(&mut tx, customer, product_id).await?;
    let cart = store::carts::get(&mut tx, customer).await?;
    tx.commit().await?;
    Ok(Json(cart))
}

/// Adds a guest cart to the account's: quantities add up, capped at 99 and at the stock; unknown or deleted
/// products and non-positive quantities are skipped, never an error.
async fn merge(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(input): ApiJson<MergeCart>,
) -> Result<Json<Cart>, AppError> {
    let customer = access::customer(&user)?;
    if input.items.len() > MAX_MERGE_ITEMS {
        return Err(AppError::validation("items", format!("at most {MAX_MERGE_ITEMS} lines")));
    }
    let now = state.clock.now_rfc3339();
    let mut tx = begin_write(&state.db).await?;
    for item in &input.items {
        let added = units(item.quantity.min(i64::from(MAX_LINE_QUANTITY)));
        if added == 0 {
            continue;
        }
        let Some(product) = store::products::get(&mut tx, item.product_id).await? else { continue };
        let existing = store::carts::quantity(&mut tx, customer, product.id).await?;
        let wanted = (existing + added).min(MAX_LINE_QUANTITY).min(product.stock);
        if wanted > existing {
            store::carts::set_quantity(&mut tx, customer, product.id, wanted, &now).await?;
        }
    }
    let cart = store::carts::get(&mut tx, customer).await?;
    tx.commit().await?;
    Ok(Json(cart))
}
