//! Builds the application from a [`Config`] and binds it, so that `main` and the tests start the same thing.
//!
//! Invariant: the listener is bound in `build`, so `port()` is known before `run` and port 0 works.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::config::Config;

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Binds the configured address and assembles the routes.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let address = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        if !config.dist_dir.join("index.html").is_file() {
            tracing::warn!(dist = %config.dist_dir.display(), "no index.html in the dist folder: build the app with trunk first");
        }
        Ok(Self {
            listener,
            router: app(&config.dist_dir),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The routes: `/api/*` and, for every other path, the built app with `index.html` as the fallback so a
/// direct link to a client-side route (`/owner`) loads the app.
pub fn app(dist_dir: &Path) -> Router {
    let index = dist_dir.join("index.html");
    let static_files = ServeDir::new(dist_dir).fallback(ServeFile::new(index));
    Router::new()
        .nest("/api", crate::api::router())
        .fallback_service(static_files)
        .layer(TraceLayer::new_for_http())
}
