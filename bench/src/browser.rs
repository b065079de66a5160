//! Real headless Chromium sessions driven over WebDriver (Debian's `chromium` + `chromium-driver`), as the
//! end-to-end tests drive them.

use std::net::TcpListener;
use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// A chromedriver process and the Chromium sessions opened through it; [`Browsers::close`] ends them all.
pub struct Browsers {
    pub clients: Vec<Client>,
    driver_url: String,
    _driver: Child,
    profiles: Vec<tempfile::TempDir>,
}

impl Browsers {
    /// Starts chromedriver and opens `count` headless sessions, each with its own fresh profile.
    pub async fn launch(count: usize) -> anyhow::Result<Browsers> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {program} (scripts/setup installs chromium-driver)"))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on port {port} within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut browsers = Browsers {
            clients: Vec::new(),
            driver_url: format!("http://127.0.0.1:{port}"),
            _driver: driver,
            profiles: Vec::new(),
        };
        for _ in 0..count {
            if let Err(error) = browsers.open().await {
                browsers.close().await;
                return Err(error);
            }
        }
        Ok(browsers)
    }

    /// Opens one more session with a fresh profile (nothing cached, nothing stored); returns its index.
    pub async fn open(&mut self) -> anyhow::Result<usize> {
        let profile = tempfile::tempdir()?;
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1280,900",
                    // A benchmark tab must not be throttled as a background tab would be.
                    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                    "--disable-backgrounding-occluded-windows",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!("a JSON object") };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.driver_url)
            .await
            .context("chromedriver opens a Chromium session")?;
        self.clients.push(client);
        self.profiles.push(profile);
        Ok(self.clients.len() - 1)
    }

    /// Closes session `index` (its profile is deleted with the others at the end).
    pub async fn close_one(&mut self, index: usize) {
        let _ = self.clients[index].clone().close().await;
    }

    /// Closes every session and stops chromedriver.
    pub async fn close(self) {
        for client in self.clients {
            let _ = client.close().await;
        }
    }
}

/// Runs `script` (a function body; `arguments` are the args) and returns its value.
pub async fn eval(client: &Client, script: &str, args: Vec<serde_json::Value>) -> anyhow::Result<serde_json::Value> {
    client.execute(script, args).await.with_context(|| format!("running script: {}", first_line(script)))
}

/// Polls `script` every 20 ms until it returns something other than `null`/`false`, for at most `timeout`.
pub async fn wait_for(client: &Client, script: &str, timeout: Duration) -> anyhow::Result<serde_json::Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let value = eval(client, script, vec![]).await?;
        if !(value.is_null() || value == serde_json::Value::Bool(false)) {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("waited {timeout:?} for: {}", first_line(script));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn first_line(script: &str) -> &str {
    script.trim().lines().next().unwrap_or_default()
}

/// Wall-clock milliseconds since the Unix epoch, sub-millisecond: the clock a page's
/// `performance.timeOrigin + performance.now()` and `Date.now()` are compared with.
pub fn epoch_ms() -> anyhow::Result<f64> {
    let since =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).context("the clock is after 1970")?;
    Ok(since.as_secs_f64() * 1000.0)
}
