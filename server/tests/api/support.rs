//! Shared by the server's integration tests: the real server on `127.0.0.1:0` with a fresh SQLite file,
//! stopped when the handle is dropped.

use std::path::Path;

use server::config::Config;
use server::startup::Application;
use server::state::AppState;
use tokio::sync::oneshot;

/// A running server on a fresh SQLite file; stops when dropped.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// `ws://127.0.0.1:<port>/ws`.
    pub ws_url: String,
    /// The server's shared state (database, keys, hub), for arranging and inspecting.
    pub state: AppState,
    /// The configuration it runs with (database file included), to restart it on the same data.
    pub config: Config,
    _stop: oneshot::Sender<()>,
    _data: Option<tempfile::TempDir>,
}

/// A configuration for tests: port 0, a fresh database in a temp folder, a fixed JWT secret.
pub fn test_config(dist_dir: &Path) -> (Config, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", data.path().join("test.db").display());
    let config = Config {
        port: 0,
        dist_dir: dist_dir.to_owned(),
        database_url,
        jwt_secret: Some("test-secret".into()),
        ..Config::default()
    };
    (config, data)
}

/// Starts the server with the default test configuration.
pub async fn spawn(dist_dir: &Path) -> TestServer {
    let (config, data) = test_config(dist_dir);
    let mut server = spawn_with(config).await;
    server._data = Some(data);
    server
}

/// Starts the server with `config` (which owns its database location).
pub async fn spawn_with(config: Config) -> TestServer {
    let app = Application::build(&config).await.expect("server builds");
    let port = app.port();
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestServer {
        base: format!("http://127.0.0.1:{port}"),
        ws_url: format!("ws://127.0.0.1:{port}/ws"),
        state,
        config,
        _stop: stop,
        _data: None,
    }
}

/// A dist folder with an `index.html` and one asset.
pub fn dist_with_index() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html><title>IziShopin Live</title>").unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log('app')").unwrap();
    dir
}
