//! The REST client: JSON in, JSON out, errors as [`ApiError`]; counts the requests it makes.
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

async fn send(request: Request) -> Result<Response, gloo_net::Error> {
    let requests = requests();
    requests.update(|n| *n += 1);
    request.send().await
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
