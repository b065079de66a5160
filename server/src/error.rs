//! The server's one error type: every failure becomes a status and a `protocol::ErrorBody`.
//!
//! Invariant: internal causes are logged here and never shown to the client; another tenant's object is a
//! 404, never a 403 that would confirm it exists.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::ErrorBody;
use serde::de::{DeserializeOwned, IgnoredAny};

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The body is not JSON, or not the JSON expected (400).
    #[error("{0}")]
    BadRequest(String),
    /// A field has a value the operation cannot take (422).
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// No or bad token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The token has expired: refresh it (401).
    #[error("the token has expired")]
    TokenExpired,
    /// The token's session was ended by a logout: sign in again (401).
    #[error("this session has ended: sign in again")]
    SessionEnded,
    /// Wrong email or password (401).
    #[error("wrong email or password")]
    BadCredentials,
    /// No such route or object, or not one of the caller's (404).
    #[error("{0}")]
    NotFound(String),
    /// The object is not in a state that allows this (409).
    #[error("{0}")]
    Conflict(String),
    /// A write's `If-Match` named an older version of the object (409 `stale`, with the current value).
    #[error("it was changed meanwhile by someone else; here is how it is now")]
    Stale { current: serde_json::Value },
    /// An `Idempotency-Key` already used for another request (422).
    #[error("this Idempotency-Key was already used for another request")]
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still running (409, retry in a second).
    #[error("a request with this Idempotency-Key is still running; retry in a moment")]
    IdempotencyInProgress,
    /// The body is over the size limit (413).
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// The declared body did not arrive in time (408).
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    /// The route exists but not for this method (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Too many attempts; retry after the given seconds (429).
    #[error("too many attempts, retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database cannot be reached now (restarting, or the pool is exhausted): 503, worth a retry.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else: logged, answered as an opaque 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A validation error on `field`.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation { field: field.to_owned(), message: message.into() }
    }

    /// The 409 for a write that named an older version of `current`.
    pub fn stale<T: serde::Serialize>(current: &T) -> Self {
        AppError::Stale { current: serde_json::to_value(current).unwrap_or_default() }
    }

    /// The 404 for an object the caller may not see or that does not exist.
    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }
}

/// The store refused an input: the same 422 naming the field as any other validation error.
impl From<crate::store::Invalid> for AppError {
    fn from(invalid: crate::store::Invalid) -> Self {
        AppError::validation(invalid.field, invalid.message)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
                tracing::warn!(error = %error, "database unreachable");
                AppError::Unavailable("the database cannot be reached right now; try again in a moment".into())
            }
            error => AppError::Internal(anyhow::Error::new(error).context("database")),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, body) = match &self {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorBody::new("bad_request", message)),
            AppError::Validation { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorBody {
                    code: "validation".into(),
                    message: format!("{field}: {message}"),
                    field: Some(field.clone()),
                    current: None,
                },
            ),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, ErrorBody::new("unauthorized", message)),
            AppError::TokenExpired => (StatusCode::UNAUTHORIZED, ErrorBody::new("token_expired", message)),
            AppError::BadCredentials => (StatusCode::UNAUTHORIZED, ErrorBody::new("bad_credentials", message)),
            AppError::SessionEnded => (StatusCode::UNAUTHORIZED, ErrorBody::new("session_ended", message)),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorBody::new("not_found", message)),
            AppError::Conflict(_) => (StatusCode::CONFLICT, ErrorBody::new("conflict", message)),
            AppError::Stale { current } => {
                (StatusCode::CONFLICT, ErrorBody { current: Some(current.clone()), ..ErrorBody::new("stale", message) })
            }
            AppError::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorBody::new("idempotency_key_reused", message))
            }
            AppError::IdempotencyInProgress => {
                (StatusCode::CONFLICT, ErrorBody::new("idempotency_in_progress", message))
            }
            AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, ErrorBody::new("payload_too_large", message)),
            AppError::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, ErrorBody::new("request_timeout", message)),
            AppError::MethodNotAllowed(_) => {
                (StatusCode::METHOD_NOT_ALLOWED, ErrorBody::new("method_not_allowed", message))
            }
            AppError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, ErrorBody::new("too_many_requests", message))
            }
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, ErrorBody::new("unavailable", message)),
            AppError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorBody::new("internal", "something went wrong on the server"))
            }
        };
        let mut response = (status, Json(body)).into_response();
        match self {
            AppError::TooManyRequests { retry_after_secs } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            AppError::IdempotencyInProgress => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1));
            }
            _ => {}
        }
        response
    }
}

/// `Json<T>` whose rejections are `AppError`s: malformed JSON → 400, not an object or wrong shape → 422
/// naming the field, missing content type → 400, over the body limit → 413, a body that does not arrive in
/// time → 408. Every body the API takes is a JSON object: serde would also take a struct written as an array.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(AppError::BadRequest("send the body as application/json".into()));
        }
        let bytes = read_body(req, state).await?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(match serde_json::from_slice::<IgnoredAny>(&bytes) {
                Ok(_) => AppError::validation("body", "expected a JSON object"),
                Err(_) => AppError::BadRequest("the body is not valid JSON".into()),
            });
        }
        match Json::<T>::from_bytes(&bytes) {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// The whole body of `req`, within the body limit and the body timeout (413, 408; 400 for anything else).
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    match Bytes::from_request(req, state).await {
        Ok(bytes) => Ok(bytes),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::PayloadTooLarge),
        Err(rejection) if is_timeout(&rejection) => Err(AppError::BodyTimeout),
        Err(rejection) => Err(AppError::BadRequest(rejection.body_text())),
    }
}

/// Whether the request says its body is JSON (`application/json`, or `application/*+json`).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether reading the body failed because it did not arrive within `http_body_timeout`.
fn is_timeout(rejection: &BytesRejection) -> bool {
    use std::error::Error;
    let mut source: Option<&(dyn Error + 'static)> = Some(rejection);
    while let Some(error) = source {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = error.source();
    }
    false
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::JsonDataError(error) => {
            // serde_path_to_error's text starts with the path of the field at fault: "price_cents: invalid type".
            let text = error.body_text();
            let detail = text.split_once(": ").map(|(_, rest)| rest).unwrap_or(&text).to_owned();
            let (field, message) = match detail.split_once(": ") {
                Some((path, message)) if !path.contains(' ') => (path.to_owned(), message.to_owned()),
                _ => (missing_field(&detail).unwrap_or_else(|| "body".to_owned()), detail.clone()),
            };
            AppError::Validation { field, message }
        }
        JsonRejection::JsonSyntaxError(_) => AppError::BadRequest("the body is not valid JSON".into()),
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest("send the body as application/json".into()),
        JsonRejection::BytesRejection(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge
        }
        other => AppError::BadRequest(other.body_text()),
    }
}

/// The field named by serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.split("missing field `").nth(1)?;
    Some(rest.split('`').next()?.to_owned())
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use proptest::prelude::*;
    use tower::ServiceExt;

    use super::*;

    async fn take(ApiJson(patch): ApiJson<protocol::ProductPatch>) -> Json<protocol::ProductPatch> {
        Json(patch)
    }

    /// Sends `body` with `content_type` to a route taking `ApiJson`; the status and the body's text.
    fn answer(body: Vec<u8>, content_type: &str) -> (StatusCode, String) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let app = Router::new().route("/", post(take));
            let request = Request::post("/").header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        })
    }

    /// A store refusal is answered like every validation error: 422, code `validation`, the field named.
    #[test]
    fn a_store_refusal_is_a_422_naming_the_field() {
        let input = protocol::NewProduct {
            shop_id: None,
            name: "Mug".into(),
            description: String::new(),
            price_cents: -1,
            stock: 1,
        };
        let invalid = crate::store::products::ProductFields::parse(&input).unwrap_err();
        assert_eq!(invalid.field, "price_cents");
        let response = AppError::from(invalid).into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap();
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body.code, "validation");
        assert_eq!(body.field.as_deref(), Some("price_cents"));
        assert!(body.message.starts_with("price_cents: must be between 0 and "), "{}", body.message);
    }

    proptest! {
        /// Any bytes at all: a 200 with the patch, or a 400/422 with an error body; never a panic or a 5xx.
        #[test]
        fn any_body_gets_a_json_answer(body in prop::collection::vec(any::<u8>(), 0..200), json_type in any::<bool>()) {
            let (status, text) = answer(body, if json_type { "application/json" } else { "text/plain" });
            prop_assert!([StatusCode::OK, StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY].contains(&status));
            if status != StatusCode::OK {
                prop_assert!(serde_json::from_str::<ErrorBody>(&text).is_ok(), "{}", text);
            }
        }

        /// JSON values of every kind: only objects reach the type; the rest is a 422 on `body`.
        #[test]
        fn only_objects_are_taken(value in json_value()) {
            let (status, text) = answer(value.to_string().into_bytes(), "application/json");
            if !value.is_object() {
                prop_assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
                let error: ErrorBody = serde_json::from_str(&text).unwrap();
                prop_assert_eq!(error.field.as_deref(), Some("body"));
            } else {
                prop_assert!([StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY].contains(&status), "{}", text);
            }
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z_]{0,8}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map(
                    prop_oneof![Just("name".to_owned()), Just("stock".to_owned()), "[a-z]{1,6}"],
                    inner,
                    0..4
                )
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
            ]
        })
    }
}
