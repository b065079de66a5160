//! The state every handler shares: one struct, cheap to clone, passed with axum's `State`.

use std::sync::Arc;

use sqlx::AnyPool;

use crate::auth::Keys;
use crate::clock::Clock;
use crate::config::Config;
use crate::hub::Hub;

/// Shared by every request and socket.
#[derive(Clone)]
pub struct AppState {
    pub db: AnyPool,
    pub keys: Arc<Keys>,
    /// Revoked sessions (logouts).
    pub sessions: Arc<crate::sessions::Sessions>,
    pub hub: Hub,
    /// The link to the other instances (cluster mode: `redis_url` set).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    pub config: Arc<Config>,
    /// Failed logins per client address (`POST /api/auth/login`).
    pub login_limiter: Arc<crate::login_limiter::LoginLimiter>,
    /// Requests counted per user and route (`GET /api/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Milliseconds added to every `/api` answer (`api_delay_ms`); adjustable while running (tests).
    pub api_delay_ms: Arc<std::sync::atomic::AtomicU64>,
    /// Where every handler and background task reads "now" (the system clock; tests may fix and move it).
    pub clock: Clock,
}
