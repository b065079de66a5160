//! Request counting at the server: how many HTTP requests (and response bytes) each user and each route
//! caused. The dashboards' promise ("the server is asked only when it must be") is checked against these.
//!
//! Invariant: counting never fails a request and never reads the body; `/api/metrics` itself is not counted;
//! nothing a client sends can grow the counters without bound: routes are keyed by their template
//! (`GET /api/products/{id}`), app paths by their first segment cut to [`MAX_SEGMENT_BYTES`], users by the id
//! of a valid token, and at most [`MAX_ROUTES`] routes are kept.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::body::HttpBody;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use protocol::MetricsSnapshot;

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

/// Routes counted at most; later new ones are not counted per route (the totals still are).
pub const MAX_ROUTES: usize = 1_000;

/// Bytes of an app path's first segment kept in its route key.
pub const MAX_SEGMENT_BYTES: usize = 64;

/// Counters since the server started.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: AtomicU64,
    response_bytes: AtomicU64,
    by_user: Mutex<BTreeMap<i64, u64>>,
    by_route: Mutex<BTreeMap<String, u64>>,
    bytes_by_user: Mutex<BTreeMap<i64, u64>>,
    bytes_by_route: Mutex<BTreeMap<String, u64>>,
    ws_messages_sent: AtomicU64,
    ws_bytes_sent: AtomicU64,
    /// Sockets dropped with 1013 for falling behind the event stream.
    ws_lagged: AtomicU64,
    /// Resumes served from the event log, and those answered `resync` (the point was no longer kept).
    ws_resumes: AtomicU64,
    ws_resyncs: AtomicU64,
}

impl Metrics {
    /// The counters now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            response_bytes: self.response_bytes.load(Ordering::Relaxed),
            by_user: self.by_user.lock().map(|m| m.clone()).unwrap_or_default(),
            by_route: self.by_route.lock().map(|m| m.clone()).unwrap_or_default(),
            bytes_by_user: self.bytes_by_user.lock().map(|m| m.clone()).unwrap_or_default(),
            bytes_by_route: self.bytes_by_route.lock().map(|m| m.clone()).unwrap_or_default(),
            ws_messages_sent: self.ws_messages_sent.load(Ordering::Relaxed),
            ws_bytes_sent: self.ws_bytes_sent.load(Ordering::Relaxed),
            ws_open: 0,
        }
    }

    /// Counts one text frame of `bytes` sent over a WebSocket.
    pub fn count_ws_sent(&self, bytes: usize) {
        self.count_ws_sent_many(1, bytes);
    }

    /// Counts `frames` text frames of `bytes` in all, sent in one write (one pair of atomic additions per
    /// write, not per frame: these counters are shared by every socket).
    pub fn count_ws_sent_many(&self, frames: u64, bytes: usize) {
        self.ws_messages_sent.fetch_add(frames, Ordering::Relaxed);
        self.ws_bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Counts a socket dropped for falling behind (1013).
    pub fn count_lagged(&self) {
        self.ws_lagged.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a resume served from the log; `resync` when it could not be (the point was pruned).
    pub fn count_resume(&self, resync: bool) {
        self.ws_resumes.fetch_add(1, Ordering::Relaxed);
        if resync {
            self.ws_resyncs.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// API requests made so far with a token of `user_id`.
    pub fn requests_by_user(&self, user_id: i64) -> u64 {
        self.by_user.lock().map(|m| m.get(&user_id).copied().unwrap_or(0)).unwrap_or(0)
    }
}

/// The middleware: counts the request, its user (from a valid bearer token) and its response size.
pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(request.uri().path(), "/api/metrics" | "/metrics") {
        return next.run(request).await;
    }
    let route = route_key(&request);
    let user = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| state.keys.verify_for_refresh(token.trim(), state.clock.now_secs()).ok())
        .map(|claims| claims.sub);
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics.requests.fetch_add(1, Ordering::Relaxed);
    // Bodies built in memory (JSON answers) know their exact size before hyper writes `Content-Length`.
    let length: u64 = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .or_else(|| response.body().size_hint().exact())
        .unwrap_or(0);
    metrics.response_bytes.fetch_add(length, Ordering::Relaxed);
    if let Some(user) = user {
        add(&metrics.by_user, user, 1);
        add(&metrics.bytes_by_user, user, length);
    }
    // Bounded: a client inventing paths must not grow memory without end.
    add_bounded(&metrics.by_route, &route, 1);
    add_bounded(&metrics.bytes_by_route, &route, length);
    response
}

fn add(map: &Mutex<BTreeMap<i64, u64>>, key: i64, amount: u64) {
    if let Ok(mut map) = map.lock() {
        *map.entry(key).or_default() += amount;
    }
}

/// The route a request is counted under: its method (unknown ones as `OTHER`) and its route template; an
/// unmatched `/api` path as `/api/(no route)`; an app path (files, client routes) as its first segment.
pub fn route_key(request: &Request) -> String {
    let method = request.method();
    let method = if method.as_str().len() <= 7 && method.as_str().bytes().all(|b| b.is_ascii_uppercase()) {
        method.as_str()
    } else {
        "OTHER"
    };
    if let Some(matched) = request.extensions().get::<MatchedPath>() {
        return format!("{method} {}", matched.as_str());
    }
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return format!("{method} /api/(no route)");
    }
    let first = path.split('/').nth(1).unwrap_or_default();
    let mut end = first.len().min(MAX_SEGMENT_BYTES);
    while !first.is_char_boundary(end) {
        end -= 1;
    }
    format!("{method} /{}", &first[..end])
}

/// Adds to a per-route counter, keeping at most [`MAX_ROUTES`] routes.
fn add_bounded(map: &Mutex<BTreeMap<String, u64>>, route: &str, amount: u64) {
    if let Ok(mut map) = map.lock()
        && (map.len() < MAX_ROUTES || map.contains_key(route))
    {
        *map.entry(route.to_owned()).or_default() += amount;
    }
}

/// `GET /api/metrics` (admins): the counters.
pub async fn show(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<MetricsSnapshot>, AppError> {
    if user.role != protocol::Role::Admin {
        return Err(AppError::NotFound("no API route at /api/metrics".into()));
    }
    let mut snapshot = state.metrics.snapshot();
    snapshot.ws_open = state.hub.members() as u64;
    Ok(Json(snapshot))
}

/// `GET /metrics`: this instance's counters in the Prometheus (OpenMetrics) text format, for a scraper. Only
/// aggregate figures, nothing of any user: requests, bytes, sockets open, frames sent, sockets dropped for
/// lagging, resumes and resyncs, and whether the database answers (within 1 s). Not counted itself.
pub async fn prometheus(State(state): State<AppState>) -> Response {
    use axum::response::IntoResponse;
    use prometheus_client::metrics::counter::ConstCounter;
    use prometheus_client::metrics::gauge::ConstGauge;

    let database_up = crate::db::probe(&state.db, std::time::Duration::from_secs(1)).await.is_ok();
    let m = &state.metrics;
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let mut registry = prometheus_client::registry::Registry::with_prefix("izi");
    let counters = [
        ("http_requests", "HTTP requests answered (app files and WebSocket upgrades included)", load(&m.requests)),
        ("http_response_bytes", "Response body bytes", load(&m.response_bytes)),
        ("ws_frames_sent", "WebSocket text frames sent (events and control frames)", load(&m.ws_messages_sent)),
        ("ws_bytes_sent", "Payload bytes of the WebSocket frames sent", load(&m.ws_bytes_sent)),
        ("ws_lagged", "Sockets dropped with 1013 for falling behind the event stream", load(&m.ws_lagged)),
        ("ws_resumes", "Resumes served from the event log", load(&m.ws_resumes)),
        ("ws_resyncs", "Resumes answered resync (their point was no longer kept)", load(&m.ws_resyncs)),
    ];
    for (name, help, value) in counters {
        registry.register(name, help, ConstCounter::new(value));
    }
    let sockets = i64::try_from(state.hub.members()).unwrap_or(i64::MAX);
    registry.register("ws_sockets", "Authenticated WebSocket connections open", ConstGauge::new(sockets));
    registry.register(
        "database_up",
        "1 when the database answered within 1 s",
        ConstGauge::new(i64::from(database_up)),
    );
    if let Some(cluster) = &state.cluster {
        let health = &cluster.health;
        let relay = [
            ("relay_received", "Batches of events received from other instances over Redis", load(&health.relayed_in)),
            ("relay_published", "Messages published to Redis", load(&health.relayed_out)),
            (
                "relay_dropped",
                "Messages not published (Redis away or behind): the others read the log",
                load(&health.relay_dropped),
            ),
            (
                "redis_resubscribes",
                "Redis subscriptions opened again after one was lost or went silent",
                load(&health.resubscribes),
            ),
        ];
        for (name, help, value) in relay {
            registry.register(name, help, ConstCounter::new(value));
        }
        let redis_up = health.redis_up.load(Ordering::Relaxed);
        registry.register(
            "redis_up",
            "1 while the Redis subscription is open and its probes come back",
            ConstGauge::new(i64::from(redis_up)),
        );
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &registry).is_err() {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "cannot encode the metrics").into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
