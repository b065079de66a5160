//! Request counting at the server: how many HTTP requests (and response bytes) each user and each route
//! caused. The dashboards' promise ("the server is asked only when it must be") is checked against these.
//!
//! Invariant: counting never fails a request and never reads the body; `/api/metrics` itself is not counted.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::clock;
use crate::error::AppError;
use crate::state::AppState;

/// Counters since the server started.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: AtomicU64,
    response_bytes: AtomicU64,
    by_user: Mutex<BTreeMap<i64, u64>>,
    by_route: Mutex<BTreeMap<String, u64>>,
}

/// A copy of the counters, as `GET /api/metrics` answers them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// Every HTTP request (API, app files, WebSocket upgrades), `/api/metrics` excepted.
    pub requests: u64,
    /// Response bytes announced by `Content-Length` (streamed bodies without one are not counted).
    pub response_bytes: u64,
    /// API requests per authenticated user id.
    pub by_user: BTreeMap<i64, u64>,
    /// Requests per `METHOD /path` (ids included as they were requested).
    pub by_route: BTreeMap<String, u64>,
}

impl Metrics {
    /// The counters now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            response_bytes: self.response_bytes.load(Ordering::Relaxed),
            by_user: self.by_user.lock().map(|m| m.clone()).unwrap_or_default(),
            by_route: self.by_route.lock().map(|m| m.clone()).unwrap_or_default(),
        }
    }

    /// API requests made so far with a token of `user_id`.
    pub fn requests_by_user(&self, user_id: i64) -> u64 {
        self.by_user.lock().map(|m| m.get(&user_id).copied().unwrap_or(0)).unwrap_or(0)
    }
}

/// The middleware: counts the request, its user (from a valid bearer token) and its response size.
pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/api/metrics" {
        return next.run(request).await;
    }
    let route = format!("{} {path}", request.method());
    let user = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| state.keys.verify_for_refresh(token.trim(), clock::now_secs()).ok())
        .map(|claims| claims.sub);
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(length) = response.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok()) {
        metrics.response_bytes.fetch_add(length, Ordering::Relaxed);
    }
    if let Some(user) = user {
        if let Ok(mut by_user) = metrics.by_user.lock() {
            *by_user.entry(user).or_default() += 1;
        }
    }
    if let Ok(mut by_route) = metrics.by_route.lock() {
        // Bounded: a client inventing paths must not grow memory without end.
        if by_route.len() < 10_000 || by_route.contains_key(&route) {
            *by_route.entry(route).or_default() += 1;
        }
    }
    response
}

/// `GET /api/metrics` (admins): the counters.
pub async fn show(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<MetricsSnapshot>, AppError> {
    if user.role != protocol::Role::Admin {
        return Err(AppError::NotFound("no API route at /api/metrics".into()));
    }
    Ok(Json(state.metrics.snapshot()))
}
