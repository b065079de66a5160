//! The catalog: `GET /api/products`, `GET /api/products/{id}`, `GET /api/products/stats`, and the staff's
//! writes `POST /api/products`, `PATCH /api/products/{id}`, `DELETE /api/products/{id}`.
//!
//! Invariant: every write runs in one transaction that also appends its `product_update` and
//! `dashboard_update` (the shop's staff) and its `catalog_update` (everyone); an owner can only ever touch
//! products of their own shop. An edit or a deletion sent with `If-Match` applies only to that version (409
//! `stale` with the product as it is now otherwise).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use protocol::{NewProduct, Page, Product, ProductAction, ProductId, ProductPatch, ProductStats, ShopId};
use serde::Deserialize;

use super::access::{self, Staff};
use super::emit::Outbox;
use super::params::{ApiPath, ApiQuery, IfMatch, parse_paging, parse_param};
use crate::auth::AuthUser;
use crate::clock;
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store::products::{ProductChanges, ProductFields};
use crate::store::{self, begin_write};

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products", get(list).post(create))
        .route("/products/stats", get(stats))
        .route("/products/{id}", get(one).patch(update).delete(remove))
}

/// `GET /api/products` parameters, kept as text and parsed in the handler.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    shop_id: Option<String>,
    q: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

/// The catalog is public: visitors browse and fill a guest cart before they sign in.
async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Page<Product>>, AppError> {
    let paging = parse_paging(query.page.as_deref(), query.per_page.as_deref())?;
    let shop = parse_param::<i64>("shop_id", query.shop_id.as_deref())?.map(ShopId);
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::products::list(&mut conn, shop, search, paging).await?))
}

/// Public, like the catalog.
async fn one(State(state): State<AppState>, ApiPath(id): ApiPath<ProductId>) -> Result<Json<Product>, AppError> {
    let mut conn = state.db.acquire().await?;
    store::products::get(&mut conn, id).await?.map(Json).ok_or_else(|| AppError::not_found("product"))
}

#[derive(Debug, Default, Deserialize)]
struct StatsQuery {
    shop_id: Option<String>,
}

/// An owner gets their shop's figures; an admin those of `?shop_id=` or, without it, of the whole platform;
/// a customer gets a 404.
async fn stats(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Json<ProductStats>, AppError> {
    let shop = match access::staff(&user)? {
        Staff::Owner(shop) => Some(shop),
        Staff::Admin => parse_param::<i64>("shop_id", query.shop_id.as_deref())?.map(ShopId),
    };
    let mut conn = state.db.acquire().await?;
    if let Some(shop) = shop
        && store::shops::get(&mut conn, shop).await?.is_none()
    {
        return Err(AppError::not_found("shop"));
    }
    Ok(Json(store::products::stats(&mut conn, shop).await?))
}

/// The live product `id` if the caller manages its shop; 404 otherwise.
async fn managed_product(conn: &mut sqlx::AnyConnection, staff: Staff, id: ProductId) -> Result<Product, AppError> {
    match store::products::get(conn, id).await? {
        Some(product) if staff.manages(product.shop_id) => Ok(product),
        _ => Err(AppError::not_found("product")),
    }
}

async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(input): ApiJson<NewProduct>,
) -> Result<Json<Product>, AppError> {
    let staff = access::staff(&user)?;
    let fields = ProductFields::parse(&input)?;
    let mut tx = begin_write(&state.db).await?;
    let shop = match staff {
        Staff::Owner(shop) => shop,
        Staff::Admin => {
            let shop = input.shop_id.ok_or_else(|| AppError::validation("shop_id", "say which shop"))?;
            if store::shops::get(&mut tx, shop).await?.is_none() {
                return Err(AppError::validation("shop_id", "no such shop"));
            }
            shop
        }
    };
    let now = state.clock.now();
    let product = store::products::insert(&mut tx, shop, &fields, &clock::rfc3339(now)).await?;
    let mut outbox = Outbox::new(now);
    outbox.product(&mut tx, ProductAction::Created, product.clone()).await?;
    outbox.dashboard(&mut tx, shop, Vec::new()).await?;
    outbox.commit(tx, &state.hub).await?;
    Ok(Json(product))
}

async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<ProductId>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<ProductPatch>,
) -> Result<Json<Product>, AppError> {
    let staff = access::staff(&user)?;
    let changes = ProductChanges::parse(&patch)?;
    let mut tx = begin_write(&state.db).await?;
    let current = managed_product(&mut tx, staff, id).await?;
    if_match.check(current.version, &current)?;
    let now = state.clock.now();
    let product = store::products::update(&mut tx, id, &changes, &clock::rfc3339(now))
        .await?
        .ok_or_else(|| AppError::not_found("product"))?;
    let mut outbox = Outbox::new(now);
    outbox.product(&mut tx, ProductAction::Updated, product.clone()).await?;
    outbox.dashboard(&mut tx, product.shop_id, Vec::new()).await?;
    outbox.commit(tx, &state.hub).await?;
    Ok(Json(product))
}

/// Soft-deletes a product (it leaves the catalog, carts and wishlists; past orders keep their lines) and
/// answers the product as it was.
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<ProductId>,
    if_match: IfMatch,
) -> Result<Json<Product>, AppError> {
    let staff = access::staff(&user)?;
    let mut tx = begin_write(&state.db).await?;
    let product = managed_product(&mut tx, staff, id).await?;
    if_match.check(product.version, &product)?;
    let now = state.clock.now();
    if !store::products::soft_delete(&mut tx, id, &clock::rfc3339(now)).await? {
        return Err(AppError::not_found("product"));
    }
    let mut outbox = Outbox::new(now);
    outbox.product(&mut tx, ProductAction::Deleted, product.clone()).await?;
    outbox.dashboard(&mut tx, product.shop_id, Vec::new()).await?;
    outbox.commit(tx, &state.hub).await?;
    Ok(Json(product))
}
