//! The server's one error type: every failure becomes a status and a `protocol::ErrorBody`.
//!
//! Invariant: internal causes are logged here and never shown to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::ErrorBody;

/// An error answer of the API.
#[derive(Debug)]
pub enum AppError {
    /// No such route or object (404).
    NotFound(String),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            AppError::NotFound(message) => {
                (StatusCode::NOT_FOUND, ErrorBody::new("not_found", message))
            }
        };
        (status, Json(body)).into_response()
    }
}
