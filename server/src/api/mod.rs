//! The REST API under `/api`: one `router()` per area, merged here.
//!
//! Invariant: every answer under `/api` is JSON, errors included; the app's `index.html` is never served here.

use axum::extract::{OriginalUri, State};
use axum::routing::get;
use axum::{Json, Router};
use protocol::Health;

use crate::error::AppError;
use crate::state::AppState;

mod events;

mod access;
pub mod auth;
mod cart;
mod checkout;
mod dashboard;
mod emit;
pub mod idempotency;
mod notifications;
mod orders;
mod params;
mod products;
mod shops;
mod wishlist;

/// Routes mounted under `/api`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(crate::metrics::show))
        .merge(auth::router())
        .merge(dashboard::router())
        .merge(products::router())
        .merge(shops::router())
        .merge(orders::router())
        .merge(cart::router())
        .merge(wishlist::router())
        .merge(notifications::router())
        .merge(events::router())
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() })
}

/// How long the readiness check waits for the database.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// `GET /api/ready`, what a load balancer asks before sending traffic: 200 once the database answers within
/// [`READY_TIMEOUT`], else 503 `unavailable` (the process is alive, `/api/health` says so, but cannot serve).
async fn ready(State(state): State<AppState>) -> Result<Json<protocol::Ready>, AppError> {
    use crate::db::{Backend, Unanswered, probe};
    match probe(&state.db, READY_TIMEOUT).await {
        Ok(()) => Ok(Json(protocol::Ready { status: "ready".into(), database: Backend::of(&state.db).name().into() })),
        Err(Unanswered::Failed(error)) => {
            tracing::warn!(error = %error, "not ready: the database does not answer");
            Err(AppError::Unavailable("the database does not answer".into()))
        }
        Err(Unanswered::TimedOut(within)) => {
            Err(AppError::Unavailable(format!("the database did not answer within {within:?}")))
        }
    }
}

async fn unknown_route(OriginalUri(uri): OriginalUri) -> AppError {
    AppError::NotFound(format!("no API route at {}", uri.path()))
}

async fn wrong_method(OriginalUri(uri): OriginalUri, method: axum::http::Method) -> AppError {
    AppError::MethodNotAllowed(format!("{} does not take {method}", uri.path()))
}
