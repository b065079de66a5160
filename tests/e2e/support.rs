//! End-to-end harness: the real server (in-process, on a free loopback port, serving the real `dist/`), a
//! chromedriver child process, and a headless Chromium session with a fresh profile.
//!
//! Invariant: everything started here is stopped here, whatever the test's outcome: the server and
//! chromedriver on drop, the browser session by [`with_browser`] before it returns or re-raises a panic.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use server::config::Config;
use server::startup::Application;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

/// The real server on `127.0.0.1:<free port>` with a fresh SQLite file; stops when dropped.
pub struct TestServer {
    pub base_url: String,
    /// The server's shared state (its request counters, its database).
    pub state: server::state::AppState,
    _stop: oneshot::Sender<()>,
    _data: tempfile::TempDir,
}

/// Starts the server serving the workspace's built `dist/`.
pub async fn start_server() -> TestServer {
    start_server_with(|_| {}).await
}

/// Starts the server serving the workspace's built `dist/`, with `adjust` applied to its configuration.
pub async fn start_server_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
    let dist_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist");
    assert!(
        ["storefront", "backoffice"].iter().all(|bundle| dist_dir.join(bundle).join("index.html").is_file()),
        "{} lacks a bundle: build the app first (scripts/test does: scripts/lib.sh build_app)",
        dist_dir.display()
    );
    let data = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", data.path().join("e2e.db").display());
    let mut config = Config { port: 0, dist_dir, database_url, ..Config::default() };
    adjust(&mut config);
    let app = Application::build(&config).await.expect("the server starts");
    let base_url = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestServer { base_url, state, _stop: stop, _data: data }
}

/// A WebDriver process (chromedriver or geckodriver) on a free port; killed when dropped.
struct Driver {
    url: String,
    _child: Child,
}

/// The browser engines the e2e suite drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    /// Debian's `firefox-esr` through geckodriver (`cargo install geckodriver`, by `scripts/lib.sh`).
    Firefox,
}

impl Engine {
    /// The driver program, from `CHROMEDRIVER` / `GECKODRIVER` or `PATH`.
    fn program(self) -> String {
        match self {
            Engine::Chromium => std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()),
            Engine::Firefox => std::env::var("GECKODRIVER").unwrap_or_else(|_| "geckodriver".into()),
        }
    }

    /// The session's capabilities: headless, 1280 × 900, the profile in `profile`.
    fn capabilities(self, profile: &std::path::Path) -> serde_json::Map<String, serde_json::Value> {
        let capabilities = match self {
            Engine::Chromium => serde_json::json!({
                "goog:chromeOptions": {
                    "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--no-first-run", "--window-size=1280,900",
                        format!("--user-data-dir={}", profile.display()),
                    ]
                }
            }),
            Engine::Firefox => serde_json::json!({
                "moz:firefoxOptions": {
                    "binary": std::env::var("FIREFOX").unwrap_or_else(|_| "/usr/bin/firefox-esr".into()),
                    "args": ["-headless", "-width=1280", "-height=900", "-profile", profile.display().to_string()],
                }
            }),
        };
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
        capabilities
    }
}

async fn start_driver(engine: Engine) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let program = engine.program();
    let mut command = Command::new(&program);
    command.arg(format!("--port={port}"));
    if engine == Engine::Firefox {
        // Several geckodrivers at once: each its own Marionette port.
        command.arg("--marionette-port=0");
    }
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} (scripts/setup installs it): {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{program} did not listen on port {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Driver { url: format!("http://127.0.0.1:{port}"), _child: child }
}

/// Runs `test` with a fresh headless Chromium, then closes the browser whatever happened, then re-raises
/// the test's panic if it had one.
pub async fn with_browser<F, Fut>(test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_browsers(1, move |mut browsers| test(browsers.remove(0))).await;
}

/// Runs `test` with `count` independent headless Chromium sessions at once (each its own profile: separate
/// storage, separate sign-in), then closes every one whatever happened, then re-raises the test's panic.
pub async fn with_browsers<F, Fut>(count: usize, test: F)
where
    F: FnOnce(Vec<Client>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_engine(Engine::Chromium, count, test).await;
}

/// [`with_browsers`] in `engine`. chromedriver runs many sessions; geckodriver one, so Firefox gets a driver
/// per browser.
pub async fn with_engine<F, Fut>(engine: Engine, count: usize, test: F)
where
    F: FnOnce(Vec<Client>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut drivers = Vec::new();
    let mut profiles = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..count {
        if drivers.is_empty() || engine == Engine::Firefox {
            drivers.push(start_driver(engine).await);
        }
        let profile = tempfile::tempdir().unwrap();
        let connected = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(engine.capabilities(profile.path()))
            .connect(&drivers.last().expect("a driver").url)
            .await;
        match connected {
            Ok(client) => clients.push(client),
            Err(error) => {
                for client in clients {
                    let _ = client.close().await;
                }
                panic!("the driver opens a {engine:?} session: {error}");
            }
        }
        profiles.push(profile);
    }
    let outcome = tokio::spawn(test(clients.clone())).await;
    for client in clients {
        let _ = client.close().await;
    }
    drop(drivers);
    drop(profiles);
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// A server the test can kill and start again on the same port and database, as a crashed and restarted
/// process: it runs on its own thread and runtime, so that killing it drops every connection at once
/// (upgraded WebSockets included, which a graceful shutdown would leave running).
pub struct RestartableServer {
    pub base_url: String,
    pub port: u16,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Where a [`RestartableServer`] keeps its data, and how it is configured; lives across restarts.
pub struct ServerData {
    pub config: Config,
    _dir: tempfile::TempDir,
}

/// A configuration on a fresh SQLite file with a fixed JWT secret (so tokens outlive a restart), serving the
/// workspace's built `dist/` on a free port.
pub fn server_data() -> ServerData {
    let dist_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist");
    assert!(
        ["storefront", "backoffice"].iter().all(|bundle| dist_dir.join(bundle).join("index.html").is_file()),
        "{} lacks a bundle: build the app first (scripts/test does: scripts/lib.sh build_app)",
        dist_dir.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("e2e.db").display());
    let config = Config { port: 0, dist_dir, database_url, jwt_secret: Some("e2e-secret".into()), ..Config::default() };
    ServerData { config, _dir: dir }
}

/// Starts the server with `data`'s configuration on `port` (0: a free one).
pub async fn start_server_on(port: u16, data: &ServerData) -> RestartableServer {
    let config = Config { port, ..data.config.clone() };
    let (ready, started) = oneshot::channel::<Result<u16, String>>();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            match Application::build(&config).await {
                Ok(app) => {
                    let _ = ready.send(Ok(app.port()));
                    tokio::spawn(app.run_until(std::future::pending()));
                    let _ = stopped.await;
                }
                Err(error) => {
                    let _ = ready.send(Err(format!("{error:#}")));
                }
            }
        });
        // Drops every task: the listener and all connections close at once.
        runtime.shutdown_timeout(Duration::from_secs(5));
    });
    let port = started.await.expect("the server thread answers").expect("the server starts");
    RestartableServer { base_url: format!("http://127.0.0.1:{port}"), port, stop: Some(stop), thread: Some(thread) }
}

impl RestartableServer {
    /// Stops the server abruptly and waits until its port is free again.
    pub async fn kill(mut self) {
        let _ = self.stop.take().map(|stop| stop.send(()));
        if let Some(thread) = self.thread.take() {
            tokio::task::spawn_blocking(move || thread.join()).await.unwrap().expect("the server thread ends");
        }
    }
}

impl Drop for RestartableServer {
    fn drop(&mut self) {
        // Outside `kill` (a failed test): stop without waiting for the thread.
        let _ = self.stop.take().map(|stop| stop.send(()));
    }
}

/// An HTTP/1.1 JSON request with a blocking socket (the tests need a handful, not a client library):
/// answers the status and the body parsed as JSON (`Null` when empty).
pub async fn http_json(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let (method, url, token) = (method.to_owned(), url.to_owned(), token.map(str::to_owned));
    tokio::task::spawn_blocking(move || blocking_http_json(&method, &url, token.as_deref(), body)).await.unwrap()
}

fn blocking_http_json(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut stream = std::net::TcpStream::connect(host).unwrap_or_else(|e| panic!("cannot connect to {host}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8(answer).expect("a UTF-8 answer");
    let (head, payload) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    let payload = if chunked { dechunk(payload) } else { payload.to_owned() };
    let value = if payload.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{method} {url}: not JSON ({e}): {payload}"))
    };
    (status, value)
}

fn dechunk(mut payload: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = payload.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        payload = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Signs in through the REST API: the answer of `POST /api/auth/login`.
pub async fn api_login(base_url: &str, email: &str, password: &str) -> protocol::LoginResponse {
    let body = serde_json::json!({ "email": email, "password": password });
    let (status, answer) = http_json("POST", &format!("{base_url}/api/auth/login"), None, Some(body)).await;
    assert_eq!(status, 200, "login of {email}: {answer}");
    serde_json::from_value(answer).expect("a LoginResponse")
}

/// Signs in through the real login page and waits for the role's home page at `expected_path`.
pub async fn browser_login(browser: &Client, base_url: &str, email: &str, password: &str, expected_path: &str) {
    use fantoccini::Locator;
    browser.goto(&format!("{base_url}/login")).await.unwrap();
    let wait = Duration::from_secs(20);
    let field = browser.wait().at_most(wait).for_element(Locator::Css("input[type=email]")).await.unwrap();
    field.send_keys(email).await.unwrap();
    browser.find(Locator::Css("input[type=password]")).await.unwrap().send_keys(password).await.unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + wait;
    loop {
        if browser.current_url().await.unwrap().path() == expected_path {
            return;
        }
        assert!(Instant::now() < deadline, "the login did not reach {expected_path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs in with the demo password through the real login page and waits for the role's home page.
pub async fn login(browser: &Client, base_url: &str, email: &str) {
    let home = match email.split('@').next().unwrap_or_default().trim_end_matches(char::is_numeric) {
        "admin" => "/admin",
        "owner" => "/owner",
        _ => "/shop",
    };
    browser_login(browser, base_url, email, "demo1234", home).await;
}

/// A customer's purchase made over REST, as another person in another browser would: one unit of
/// `product_id` added to their cart, then checkout. Panics unless both answer 200; returns the orders.
pub async fn checkout_over_rest(
    base_url: &str,
    customer: &protocol::LoginResponse,
    product_id: protocol::ProductId,
) -> protocol::CheckoutResult {
    let body = serde_json::json!({ "product_id": product_id, "quantity": 1 });
    let url = format!("{base_url}/api/cart/items");
    let (status, answer) = http_json("POST", &url, Some(&customer.token), Some(body)).await;
    assert_eq!(status, 200, "add to cart: {answer}");
    let url = format!("{base_url}/api/orders");
    let (status, answer) = http_json("POST", &url, Some(&customer.token), Some(serde_json::json!({}))).await;
    assert_eq!(status, 200, "checkout: {answer}");
    serde_json::from_value(answer).expect("a checkout result")
}
