//! The REST client: JSON in, JSON out, errors as [`ApiError`]; counts the requests it makes and knows whether
//! the last one reached the server.
//!
//! Invariant: the only module that issues HTTP requests; components call it through hooks and contexts.

pub mod errors;

use std::cell::OnceCell;

pub use errors::ApiError;
use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::AppConfig;

thread_local! {
    static REQUESTS: OnceCell<ArcRwSignal<u64>> = const { OnceCell::new() };
    static UNREACHABLE: OnceCell<ArcRwSignal<bool>> = const { OnceCell::new() };
}

fn unreachable_signal() -> ArcRwSignal<bool> {
    UNREACHABLE.with(|cell| cell.get_or_init(|| ArcRwSignal::new(false)).clone())
}

/// Whether the last request got no answer at all (the server or the network is down), reactive: what the
/// offline note shows on.
pub fn unreachable() -> Signal<bool> {
    let unreachable = unreachable_signal();
    Signal::derive(move || unreachable.get())
}

fn requests() -> ArcRwSignal<u64> {
    REQUESTS.with(|cell| cell.get_or_init(|| ArcRwSignal::new(0)).clone())
}

/// API requests this page has made since it loaded (reactive), for the monitoring panel.
pub fn request_count() -> Signal<u64> {
    let requests = requests();
    Signal::derive(move || requests.get())
}

fn url(path: &str) -> String {
    format!("{}{path}", AppConfig::from_browser().api_url)
}

fn authorized(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    }
}

/// `GET {api}{path}`, optionally authenticated.
pub async fn get_json<T: DeserializeOwned>(path: &str, token: Option<&str>) -> Result<T, ApiError> {
    let request = authorized(Request::get(&url(path)), token).build().map_err(|e| ApiError::Decode(e.to_string()))?;
    read(send(request).await).await
}

/// `POST {api}{path}` with a JSON body, optionally authenticated.
pub async fn post_json<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    token: Option<&str>,
) -> Result<T, ApiError> {
    let request =
        authorized(Request::post(&url(path)), token).json(body).map_err(|e| ApiError::Decode(e.to_string()))?;
    read(send(request).await).await
}

/// `PATCH {api}{path}` with a JSON body, optionally authenticated.
pub async fn patch_json<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    token: Option<&str>,
) -> Result<T, ApiError> {
    let request =
        authorized(Request::patch(&url(path)), token).json(body).map_err(|e| ApiError::Decode(e.to_string()))?;
    read(send(request).await).await
}

/// `DELETE {api}{path}`, optionally authenticated; the answer's JSON body is decoded.
pub async fn delete_json<T: DeserializeOwned>(path: &str, token: Option<&str>) -> Result<T, ApiError> {
    let request =
        authorized(Request::delete(&url(path)), token).build().map_err(|e| ApiError::Decode(e.to_string()))?;
    read(send(request).await).await
}

/// How a keyed write went: the answer's JSON, an error answer's status and body text, or no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Keyed {
    Answered(serde_json::Value),
    Status(u16, String),
    Unreachable(String),
}

/// A write of the outbox: `method {api}{path}` with an optional JSON body, its `Idempotency-Key` and, when
/// given, `If-Match: "<version>"` (docs/PROTOCOL.md).
pub async fn send_keyed(
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
    key: &str,
    if_match: Option<u64>,
    token: Option<&str>,
) -> Keyed {
    let builder = match method {
        "POST" => Request::post(&url(path)),
        "PATCH" => Request::patch(&url(path)),
        _ => Request::delete(&url(path)),
    };
    let mut builder = authorized(builder, token).header("Idempotency-Key", key);
    if let Some(version) = if_match {
        builder = builder.header("If-Match", &format!("\"{version}\""));
    }
    let request = match body {
        Some(body) => builder.json(body),
        None => builder.build(),
    };
    let request = match request {
        Ok(request) => request,
        Err(e) => return Keyed::Unreachable(e.to_string()),
    };
    let response = match send(request).await {
        Ok(response) => response,
        Err(e) => return Keyed::Unreachable(e.to_string()),
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if response.ok() {
        // Applied whatever the body says: a body that is not JSON must not make the write run again.
        Keyed::Answered(crate::json::from_text(&text).unwrap_or_default())
    } else {
        Keyed::Status(status, text)
    }
}

async fn send(request: Request) -> Result<Response, gloo_net::Error> {
    let requests = requests();
    requests.update(|n| *n += 1);
    let sent = request.send().await;
    let unreachable = unreachable_signal();
    if unreachable.get_untracked() != sent.is_err() {
        unreachable.set(sent.is_err());
    }
    sent
}

async fn read<T: DeserializeOwned>(sent: Result<Response, gloo_net::Error>) -> Result<T, ApiError> {
    let response = sent.map_err(|e| ApiError::Network(e.to_string()))?;
    if response.ok() {
        // Through `Value`, the app's one decoding path (see `crate::json`).
        let value = response.json::<serde_json::Value>().await.map_err(|e| ApiError::Decode(e.to_string()))?;
        T::deserialize(&value).map_err(|e| ApiError::Decode(e.to_string()))
    } else {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Err(ApiError::from_response(status, &body))
    }
}
