//! Orders: `GET /api/orders`, `GET /api/orders/{id}` (scoped to the caller), `PATCH /api/orders/{id}` (the
//! status, by the shop's staff); checkout (`POST /api/orders`) is in `checkout.rs`.
//!
//! Invariant: an owner sees only their shop's orders, a customer only their own, an admin all; any other
//! order is a 404. A status only moves as `OrderStatus::can_become` allows; a cancelled order's units go back
//! to stock in the same transaction. A status change sent with `If-Match` applies only to that version (409
//! `stale` with the order as it is now otherwise).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use protocol::{
    NotificationKind, Order, OrderAction, OrderId, OrderStatus, Page, ProductAction, Role, ShopId, StatusInput, User,
};
use serde::Deserialize;

use super::access;
use super::emit::Outbox;
use super::params::{ApiPath, ApiQuery, IfMatch, parse_paging, parse_param};
use crate::auth::AuthUser;
use crate::clock;
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store::orders::OrderScope;
use crate::store::{self, begin_write};

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list).post(super::checkout::checkout))
        .route("/orders/{id}", get(one).patch(set_status))
}

/// The orders `user` may see; `shop` narrows an admin's or a customer's view (an owner's is always their shop).
pub fn scope_of(user: &User, shop: Option<ShopId>) -> OrderScope {
    match user.role {
        Role::Admin => OrderScope { shop, customer: None },
        // An owner without a shop sees nothing: `ShopId(0)` matches no row.
        Role::Owner => OrderScope { shop: Some(user.shop_id.unwrap_or(ShopId(0))), customer: None },
        Role::Customer => OrderScope { shop, customer: Some(user.id) },
    }
}

fn in_scope(scope: OrderScope, order: &Order) -> bool {
    scope.shop.is_none_or(|shop| shop == order.shop_id)
        && scope.customer.is_none_or(|customer| customer == order.customer_id)
}

/// `GET /api/orders` parameters, kept as text and parsed in the handler.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    shop_id: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Page<Order>>, AppError> {
    let paging = parse_paging(query.page.as_deref(), query.per_page.as_deref())?;
    let shop = parse_param::<i64>("shop_id", query.shop_id.as_deref())?.map(ShopId);
    let status = match query.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            OrderStatus::parse(text)
                .ok_or_else(|| AppError::validation("status", format!("`{text}` is not an order status")))?,
        ),
    };
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::orders::list(&mut conn, scope_of(&user, shop), status, paging).await?))
}

async fn one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<OrderId>,
) -> Result<Json<Order>, AppError> {
    let mut conn = state.db.acquire().await?;
    match store::orders::get(&mut conn, id).await? {
        Some(order) if in_scope(scope_of(&user, None), &order) => Ok(Json(order)),
        _ => Err(AppError::not_found("order")),
    }
}

async fn set_status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<OrderId>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<StatusInput>,
) -> Result<Json<Order>, AppError> {
    let staff = access::staff(&user)?;
    let mut tx = begin_write(&state.db).await?;
    let order = match store::orders::get(&mut tx, id).await? {
        Some(order) if staff.manages(order.shop_id) => order,
        _ => return Err(AppError::not_found("order")),
    };
    if_match.check(order.version, &order)?;
    let (from, to) = (order.status, input.status);
    if !from.can_become(to) {
        return Err(AppError::Conflict(format!("an order that is {} cannot become {}", from.as_str(), to.as_str())));
    }
    let now = state.clock.now();
    let stamp = clock::rfc3339(now);
    if !store::orders::set_status(&mut tx, id, from, to, &stamp).await? {
        return Err(AppError::Conflict("the order changed meanwhile; reload it".into()));
    }
    let mut outbox = Outbox::new(now);
    if to == OrderStatus::Cancelled {
        for item in &order.items {
            store::products::restore_stock(&mut tx, item.product_id, item.quantity, &stamp).await?;
            if let Some(product) = store::products::get(&mut tx, item.product_id).await? {
                outbox.product(&mut tx, ProductAction::Updated, product).await?;
            }
        }
    }
    let order = store::orders::get(&mut tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    outbox.order(&mut tx, OrderAction::StatusChanged, &order).await?;
    let note = store::notifications::create(
        &mut tx,
        order.customer_id,
        NotificationKind::OrderStatus,
        &format!("Order #{} is {}", order.id, to.as_str()),
        &format!("Your order from {} is now {}.", order.shop_name, to.as_str()),
        &stamp,
    )
    .await?;
    outbox.notification(&mut tx, order.customer_id, note).await?;
    outbox.dashboard(&mut tx, order.shop_id, Vec::new()).await?;
    outbox.commit(tx, &state.hub).await?;
    Ok(Json(order))
}
