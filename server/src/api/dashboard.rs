//! `GET /api/dashboard`: the caller's landing figures, shaped by role (`Dashboard` is tagged by `role`).
//!
//! Invariant: an owner's dashboard holds only their shop's data, a customer's only their own; only an admin
//! sees figures of every shop. Everything is read in one transaction, so the parts agree with each other.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use protocol::{AdminDashboard, CustomerDashboard, Dashboard, OwnerDashboard, Role};

use super::orders::scope_of;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{self, Paging};

/// Orders shown on an owner's or a customer's dashboard.
pub const RECENT_ORDERS: u32 = 10;
/// Orders shown on the admin's dashboard.
pub const ADMIN_RECENT_ORDERS: u32 = 20;
/// Notifications shown on an owner's dashboard.
pub const RECENT_NOTIFICATIONS: u32 = 10;
/// Days of the owner's revenue chart, today included.
pub const REVENUE_DAYS: u16 = 30;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard", get(dashboard))
}

async fn dashboard(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<Dashboard>, AppError> {
    let now = state.clock.now();
    // One snapshot: every figure of the dashboard is as of the same moment.
    let mut tx = store::begin_read(&state.db).await?;
    let scope = scope_of(&user, None);
    let dashboard = match user.role {
        Role::Owner => {
            let shop = user.shop_id.ok_or_else(|| AppError::not_found("shop"))?;
            let shop_stats =
                store::stats::shop_stats(&mut tx, shop, now).await?.ok_or_else(|| AppError::not_found("shop"))?;
            Dashboard::Owner(OwnerDashboard {
                shop_stats,
                recent_orders: store::orders::recent(&mut tx, scope, RECENT_ORDERS).await?,
                notifications: store::notifications::list(&mut tx, user.id, Paging::first(RECENT_NOTIFICATIONS))
                    .await?
                    .items,
                unread_notifications: store::notifications::unread(&mut tx, user.id).await?,
                revenue_by_day: store::stats::revenue_by_day(&mut tx, shop, now, REVENUE_DAYS).await?,
            })
        }
        Role::Admin => Dashboard::Admin(AdminDashboard {
            totals: store::stats::platform_totals(&mut tx, now).await?,
            shops: store::stats::all_shop_stats(&mut tx, now).await?,
            recent_orders: store::orders::recent(&mut tx, scope, ADMIN_RECENT_ORDERS).await?,
        }),
        Role::Customer => Dashboard::Customer(CustomerDashboard {
            recent_orders: store::orders::recent(&mut tx, scope, RECENT_ORDERS).await?,
            cart_count: store::carts::units_in_cart(&mut tx, user.id).await?,
            wishlist_count: store::carts::wishlist_count(&mut tx, user.id).await?,
            unread_notifications: store::notifications::unread(&mut tx, user.id).await?,
        }),
    };
    tx.commit().await?;
    Ok(Json(dashboard))
}
