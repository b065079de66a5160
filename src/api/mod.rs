//! The REST client: JSON in, JSON out, errors as [`ApiError`].
//!
//! Invariant: the only module that issues HTTP requests; components call it through hooks and contexts.

pub mod errors;

pub use errors::ApiError;
use gloo_net::http::{Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::AppConfig;

/// `POST {api}{path}` with a JSON body, optionally authenticated.
pub async fn post_json<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    token: Option<&str>,
) -> Result<T, ApiError> {
    let url = format!("{}{path}", AppConfig::from_browser().api_url);
    let mut request = Request::post(&url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let request = request.json(body).map_err(|e| ApiError::Decode(e.to_string()))?;
    read(request.send().await).await
}

/// `GET {api}{path}`, optionally authenticated.
pub async fn get_json<T: DeserializeOwned>(path: &str, token: Option<&str>) -> Result<T, ApiError> {
    let url = format!("{}{path}", AppConfig::from_browser().api_url);
    let mut request = Request::get(&url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    read(request.send().await).await
}

async fn read<T: DeserializeOwned>(sent: Result<Response, gloo_net::Error>) -> Result<T, ApiError> {
    let response = sent.map_err(|e| ApiError::Network(e.to_string()))?;
    if response.ok() {
        response.json::<T>().await.map_err(|e| ApiError::Decode(e.to_string()))
    } else {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Err(ApiError::from_response(status, &body))
    }
}
