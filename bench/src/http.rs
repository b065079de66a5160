//! REST calls the benchmarks make: logging in, reading with a token, the server's counters.

use anyhow::{Context, bail};
use protocol::LoginResponse;
use serde::de::DeserializeOwned;

/// The password of every seeded account.
pub const PASSWORD: &str = "demo1234";

/// An HTTP client suited to many concurrent requests to one loopback server.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(1024).build().expect("a reqwest client")
}

/// Logs `email` in with the demo password.
pub async fn login(http: &reqwest::Client, base_url: &str, email: &str) -> anyhow::Result<LoginResponse> {
    let body = serde_json::json!({ "email": email, "password": PASSWORD });
    let response = http.post(format!("{base_url}/api/auth/login")).json(&body).send().await?;
    if !response.status().is_success() {
        bail!("login of {email}: {} {}", response.status(), response.text().await.unwrap_or_default());
    }
    response.json().await.with_context(|| format!("login answer for {email}"))
}

/// `METHOD base_url + path` with an optional bearer token and JSON body; the JSON answer, or an error naming
/// the status and body.
pub async fn call<T: DeserializeOwned>(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> anyhow::Result<T> {
    let mut request = http.request(method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.with_context(|| format!("{method} {url}"))?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() {
        bail!("{method} {url}: {status} {}", String::from_utf8_lossy(&bytes));
    }
    serde_json::from_slice(&bytes).with_context(|| format!("{method} {url}: unexpected answer"))
}

/// `GET` returning the body's length in bytes (the answer is read whole and dropped), erroring on a non-2xx.
pub async fn get_len(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<usize> {
    let response = http.get(url).bearer_auth(token).send().await.with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() {
        bail!("GET {url}: {status} {}", String::from_utf8_lossy(&bytes));
    }
    Ok(bytes.len())
}

/// The server's counters (`GET /api/metrics`, with an admin token).
pub async fn metrics(
    http: &reqwest::Client,
    base_url: &str,
    admin_token: &str,
) -> anyhow::Result<protocol::MetricsSnapshot> {
    call(http, reqwest::Method::GET, &format!("{base_url}/api/metrics"), Some(admin_token), None).await
}
