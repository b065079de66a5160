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
    _stop: oneshot::Sender<()>,
    _data: tempfile::TempDir,
}

/// Starts the server serving the workspace's built `dist/`.
pub async fn start_server() -> TestServer {
    let dist_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist");
    assert!(
        dist_dir.join("index.html").is_file(),
        "{} has no index.html: build the app first (scripts/test does: trunk build --release)",
        dist_dir.display()
    );
    let data = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", data.path().join("e2e.db").display());
    let config = Config { port: 0, dist_dir, database_url, ..Config::default() };
    let app = Application::build(&config).await.expect("the server starts");
    let base_url = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestServer { base_url, _stop: stop, _data: data }
}

/// A chromedriver process on a free port; killed when dropped.
struct Chromedriver {
    url: String,
    _child: Child,
}

async fn start_chromedriver() -> Chromedriver {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Command::new(&program)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} (scripts/setup installs chromium-driver): {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Chromedriver { url: format!("http://127.0.0.1:{port}"), _child: child }
}

/// Runs `test` with a fresh headless Chromium, then closes the browser whatever happened, then re-raises
/// the test's panic if it had one.
pub async fn with_browser<F, Fut>(test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let driver = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("chromedriver opens a Chromium session");
    let outcome = tokio::spawn(test(client.clone())).await;
    let _ = client.close().await;
    drop(driver);
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}
