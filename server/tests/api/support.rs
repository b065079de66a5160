//! Shared by the server's integration tests: the real server on `127.0.0.1:0` with a fresh database (a SQLite
//! file, or a PostgreSQL database with `IZI_TEST_DATABASE=postgres`), stopped when the handle is dropped.

use std::path::Path;

use server::clock::Clock;
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

/// A configuration for tests: port 0, a fresh database (a SQLite file in a temp folder, or with
/// `IZI_TEST_DATABASE=postgres` a new database on the throwaway PostgreSQL), a fixed JWT secret.
pub fn test_config(dist_dir: &Path) -> (Config, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let database_url = match crate::pg::enabled() {
        true => crate::pg::fresh_database_url(),
        false => format!("sqlite://{}", data.path().join("test.db").display()),
    };
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

/// Starts the server with the default test configuration on `clock`: a [`Clock::fixed`] sets the server's
/// "now" (seeding included) and the test moves it through `server.state.clock`.
pub async fn spawn_at(dist_dir: &Path, clock: Clock) -> TestServer {
    let (config, data) = test_config(dist_dir);
    let mut server = spawn_with_clock(config, clock).await;
    server._data = Some(data);
    server
}

/// Starts the server with `config` (which owns its database location).
pub async fn spawn_with(config: Config) -> TestServer {
    spawn_with_clock(config, Clock::real()).await
}

/// Starts the server with `config` on `clock`.
pub async fn spawn_with_clock(config: Config, clock: Clock) -> TestServer {
    let app = Application::build_with_clock(&config, clock).await.expect("server builds");
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

/// A signed-in HTTP client of a test server (one login per user per test keeps argon2's cost down).
pub struct Api {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub token: String,
    pub user: protocol::User,
    pub http: reqwest::Client,
}

impl TestServer {
    /// Logs in a demo user (password `demo1234`), panicking unless it works.
    pub async fn login(&self, email: &str) -> Api {
        let request = protocol::LoginRequest { email: email.into(), password: server::seed::DEMO_PASSWORD.into() };
        let http = reqwest::Client::new();
        let response = http.post(format!("{}/api/auth/login", self.base)).json(&request).send().await.unwrap();
        assert_eq!(response.status(), 200, "login of {email}");
        let login: protocol::LoginResponse = response.json().await.unwrap();
        Api { base: self.base.clone(), token: login.token, user: login.user, http }
    }
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with the token.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).bearer_auth(&self.token).send().await.unwrap()
    }

    /// `POST path` with a JSON body and the token.
    pub async fn post<B: serde::Serialize + ?Sized>(&self, path: &str, body: &B) -> reqwest::Response {
        self.http.post(self.url(path)).bearer_auth(&self.token).json(body).send().await.unwrap()
    }

    /// `PATCH path` with a JSON body and the token.
    pub async fn patch<B: serde::Serialize + ?Sized>(&self, path: &str, body: &B) -> reqwest::Response {
        self.http.patch(self.url(path)).bearer_auth(&self.token).json(body).send().await.unwrap()
    }

    /// `DELETE path` with the token.
    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.http.delete(self.url(path)).bearer_auth(&self.token).send().await.unwrap()
    }

    /// `GET path`, asserting a 200 and decoding the body.
    pub async fn get_ok<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        ok(self.get(path).await).await
    }
}

/// Asserts a 200 and decodes the body.
pub async fn ok<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> T {
    let status = response.status();
    let url = response.url().clone();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{url}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

/// Asserts `status` and decodes the JSON error body.
pub async fn error(response: reqwest::Response, status: u16) -> protocol::ErrorBody {
    let actual = response.status();
    let url = response.url().clone();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "{url}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not an error body ({e}): {text}"))
}
