//! Builds the application from a [`Config`] and binds it, so that `main` and the tests start the same thing.
//!
//! Invariant: the database is open and migrated and the listener bound in `build`, so `port()` is known
//! before `run_until` and port 0 works.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::assets::{self, AppPages};
use crate::auth::Keys;
use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::config::Config;
use crate::events;
use crate::hub::{Clustered, Hub, Queues};
use crate::login_limiter::LoginLimiter;
use crate::state::AppState;

/// Largest request body the API takes (413 above).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// Set when the configuration names a certificate and key: then https/wss.
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
}

impl Application {
    /// Opens the database, binds the configured address and assembles the state, on the system clock.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Clock::real()).await
    }

    /// [`build`](Self::build) on `clock`: the server reads every "now" from it, seeding included (tests fix
    /// it to pin dates and move it to cross a month).
    pub async fn build_with_clock(config: &Config, clock: Clock) -> anyhow::Result<Self> {
        let tls = crate::tls::server_config(config)?;
        let db = crate::db::connect(&config.database_url).await?;
        crate::seed::ensure_seeded(&db, &clock).await.context("seeding")?;
        if config.jwt_secret.is_none() {
            tracing::warn!("IZI_JWT_SECRET is not set: using a random secret, so tokens die when the server stops");
        }
        let keys = Keys::new(config.jwt_secret.as_deref(), config.token_ttl, config.refresh_grace);
        let address = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&address).await.with_context(|| format!("cannot listen on {address}"))?;
        for bundle in AppPages::load(&config.dist_dir).missing() {
            tracing::warn!(dist = %config.dist_dir.display(), ?bundle, "no index.html for this bundle: build the app first (scripts/lib.sh build_app)");
        }
        let dist = config.dist_dir.clone();
        let compressed = tokio::task::spawn_blocking(move || assets::precompress(&dist)).await?;
        if compressed.written > 0 {
            tracing::info!(written = compressed.written, kept = compressed.kept, "precompressed the app's files");
        }
        // The state's config holds the port actually bound (port 0 picks one): the WebSocket origin rule needs it.
        let bound_port = listener.local_addr().context("the bound address")?.port();
        let config = Config { port: bound_port, ..config.clone() };
        let login_limiter = Arc::new(LoginLimiter::new(config.login_max_failures, config.login_window));
        let api_delay_ms = Arc::new(AtomicU64::new(config.api_delay.as_millis() as u64));
        let sessions =
            Arc::new(crate::sessions::Sessions::load(&db, clock.now_secs()).await.context("loading the sessions")?);
        let queues = Queues { hub: config.ws_hub_queue, socket: config.ws_socket_queue };
        let (hub, cluster) = match &config.redis_url {
            None => (Hub::new(queues), None),
            Some(redis_url) => {
                let inputs = crate::hub::inputs(queues);
                let options = crate::cluster::Options { redis_url: redis_url.clone(), probe: config.redis_probe };
                let link =
                    Cluster::start(&options, db.clone(), inputs.0.clone(), Arc::clone(&sessions), clock.clone())?;
                let start = events::current_seq(&db).await.context("reading the event log")?;
                let clustered =
                    Clustered { db: db.clone(), start, gap_wait: config.cluster_gap_wait, link: Arc::clone(&link) };
                tracing::info!(backend = crate::db::Backend::of(&db).name(), "cluster mode: events relayed over Redis");
                (Hub::clustered(queues, inputs, clustered), Some(link))
            }
        };
        let state = AppState {
            db,
            keys: Arc::new(keys),
            sessions,
            hub,
            cluster,
            config: Arc::new(config),
            login_limiter,
            metrics: Arc::default(),
            api_delay_ms,
            clock,
        };
        Ok(Self { listener, state, tls })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The shared state (tests use it to reach the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let pruner = tokio::spawn(prune_events(self.state.clone()));
        let limits = crate::serve::Limits {
            header_timeout: self.state.config.http_header_timeout,
            max_connections: self.state.config.max_connections,
        };
        let router = app(self.state);
        let served = match self.tls {
            None => crate::serve::serve(self.listener, router, limits, shutdown).await,
            Some(tls) => {
                let service = router.into_make_service_with_connect_info::<SocketAddr>();
                crate::tls::serve(self.listener, tls, service, limits.header_timeout, shutdown).await
            }
        };
        pruner.abort();
        served
    }
}

/// The routes: `/api/*` and, for every other path, the built app with `index.html` as the fallback so a
/// direct link to a client-side route (`/owner`) loads the app.
pub fn app(state: AppState) -> Router {
    let dist_dir: &Path = &state.config.dist_dir;
    let pages = Arc::new(AppPages::load(dist_dir));
    // Files as built, or their `.br`/`.gz` beside them; any other path is the app's (its bundle's index.html).
    let static_files = ServeDir::new(dist_dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .fallback(index_page::<()>(Arc::clone(&pages)));
    let csp = crate::headers::content_security_policy(&pages.htmls());
    let set = SetResponseHeaderLayer::if_not_present;
    Router::new()
        .nest("/api", crate::api::router())
        .route("/ws", axum::routing::get(crate::ws::handler))
        .route("/metrics", axum::routing::get(crate::metrics::prometheus))
        .route("/", index_page(Arc::clone(&pages)))
        .route("/index.html", index_page(pages))
        .fallback_service(static_files)
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::api::idempotency::layer))
        .layer(axum::middleware::from_fn(cache_control))
        .layer(axum::middleware::from_fn_with_state(state.clone(), delay_api))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::count))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(state.config.http_body_timeout))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(set(header::REFERRER_POLICY, HeaderValue::from_static(crate::headers::REFERRER_POLICY)))
        .layer(set(header::CONTENT_SECURITY_POLICY, csp))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// GET and HEAD of an app path: its bundle's `index.html` from memory (see [`assets::IndexPage::respond`]).
fn index_page<S: Clone + Send + Sync + 'static>(pages: Arc<AppPages>) -> axum::routing::MethodRouter<S> {
    axum::routing::get(move |method: Method, uri: axum::http::Uri, headers: HeaderMap| async move {
        pages.for_path(uri.path()).respond(&method, &headers)
    })
}

/// `Cache-Control` and `Vary` on the app's files (see [`crate::assets`]): immutable when the name carries a
/// content hash, else `no-cache`; answers that set their own (index.html) and everything under `/api` are left
/// alone.
async fn cache_control(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let app_file = !(path == "/api" || path.starts_with("/api/") || path == "/ws" || path == "/metrics");
    let cacheable = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    if app_file && cacheable {
        let headers = response.headers_mut();
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(assets::cache_control(&path)));
        }
        // The same URL answers br, gzip or the file as built: caches must key on the request's coding.
        if !headers.contains_key(header::VARY) {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    response
}

/// Holds `/api` answers back by the configured delay (0: not at all).
async fn delay_api(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let delay = state.api_delay_ms.load(Ordering::Relaxed);
    if delay > 0 && request.uri().path().starts_with("/api/") {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    next.run(request).await
}

/// Applies the event retention window every few seconds, and forgets sessions past their expiry.
async fn prune_events(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        let (now_ms, now_secs) = (state.clock.now_ms(), state.clock.now_secs());
        let (retention, retention_count) = (state.config.event_retention, state.config.event_retention_count);
        if let Err(error) = events::prune_at(&state.db, now_ms, retention, retention_count).await {
            tracing::warn!(%error, "cannot prune old events");
        }
        if let Err(error) = state.sessions.prune(&state.db, now_secs).await {
            tracing::warn!(%error, "cannot prune old sessions");
        }
        let forget_before = now_secs - crate::api::idempotency::KEEP_SECS;
        if let Err(error) =
            crate::store::idempotency::prune(&state.db, forget_before, crate::api::idempotency::KEPT_PER_USER).await
        {
            tracing::warn!(%error, "cannot prune old idempotency keys");
        }
    }
}
