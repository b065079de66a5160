//! `Idempotency-Key` on every write under `/api` (POST, PUT, PATCH, DELETE; the sign-in routes of
//! `/api/auth/` excepted): the first answer to a user's key is kept for 24 h (the newest [`KEPT_PER_USER`] of
//! each user) and replayed to a retry with the
//! same request, so a write sent again after a lost answer takes effect once.
//!
//! Invariant: a key is the caller's own (kept per user): the same key and request → the kept answer with
//! `Idempotent-Replayed: true` and no second effect; the same key with another request → 422
//! `idempotency_key_reused`; while the first request runs → 409 `idempotency_in_progress` (`Retry-After: 1`).
//! A 5xx is not kept (the retry runs again). If the server dies between a write's commit and keeping its
//! answer, the claim is taken over after [`LEASE_SECS`] and the write may run a second time: the one window
//! left, documented in docs/PROTOCOL.md.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::auth::AuthUser;
use crate::error::{AppError, read_body};
use crate::state::AppState;
use crate::store::idempotency::{self as kept_keys, KeptKey};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The header a replayed answer carries.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a key's answer is kept, at least.
pub const KEEP_SECS: i64 = 24 * 60 * 60;
/// Most keys kept per user (the newest): what a client sending a new key with every write can grow.
pub const KEPT_PER_USER: i64 = 10_000;
/// How long a claim whose request never answered blocks its key.
pub const LEASE_SECS: i64 = 30;
/// Longest key taken.
pub const MAX_KEY_CHARS: usize = 255;

/// What to do with a request whose key is already kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Answer what the first request was answered.
    Replay(u16, String),
    /// The key was used for another request.
    Reused,
    /// The first request is still running.
    InProgress,
    /// The first request never answered (its server died): run this one instead, taking over the claim made
    /// at this time.
    TakeOver(i64),
}

/// The rule for a request with `fingerprint` whose key is `kept`, at `now` (unix seconds).
pub fn decide(kept: &KeptKey, fingerprint: &str, now: i64) -> Decision {
    if kept.fingerprint != fingerprint {
        return Decision::Reused;
    }
    match &kept.answer {
        Some((status, body)) => Decision::Replay(*status, body.clone()),
        None if now - kept.created_at >= LEASE_SECS => Decision::TakeOver(kept.created_at),
        None => Decision::InProgress,
    }
}

/// What identifies a request: its method, path, query and body.
pub fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    // Each part after its length: no two requests run together into the same bytes.
    for part in [method.as_str().as_bytes(), path_and_query.as_bytes(), body] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    format!("{:x}", hash.finalize())
}

/// The key a request carries, if it is a write this layer takes; a key that is not 1 to
/// [`MAX_KEY_CHARS`] visible ASCII characters is a 400.
pub fn key_of(method: &Method, path: &str, value: Option<&HeaderValue>) -> Result<Option<String>, AppError> {
    let write = matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    if !write || !path.starts_with("/api/") || path.starts_with("/api/auth/") {
        return Ok(None);
    }
    let Some(value) = value else { return Ok(None) };
    let bad = || AppError::BadRequest(format!("Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"));
    let key = value.to_str().map_err(|_| bad())?;
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

/// The middleware (on the whole router: it looks at `/api` writes only).
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    run(state, request, next).await.unwrap_or_else(IntoResponse::into_response)
}

async fn run(state: AppState, request: Request, next: Next) -> Result<Response, AppError> {
    let key = key_of(request.method(), request.uri().path(), request.headers().get(HEADER))?;
    let Some(key) = key else { return Ok(next.run(request).await) };
    let (mut parts, body) = request.into_parts();
    let user = match AuthUser::from_request_parts(&mut parts, &state).await {
        Ok(AuthUser(user)) => user.id.0,
        // Not signed in: the route answers (a 401); there is no one to keep the key for.
        Err(_) => return Ok(next.run(Request::from_parts(parts, body)).await),
    };
    let bytes = read_body(Request::from_parts(parts.clone(), body), &state).await?;
    let path = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |p| p.as_str());
    let fingerprint = fingerprint(&parts.method, path, &bytes);
    let now = state.clock.now_secs();
    if !kept_keys::claim(&state.db, user, &key, &fingerprint, now).await? {
        match kept_keys::load(&state.db, user, &key).await?.map(|kept| decide(&kept, &fingerprint, now)) {
            Some(Decision::Replay(status, body)) => return Ok(replay(status, body)),
            Some(Decision::Reused) => return Err(AppError::IdempotencyKeyReused),
            Some(Decision::InProgress) => return Err(AppError::IdempotencyInProgress),
            Some(Decision::TakeOver(claimed_at)) => {
                if !kept_keys::take_over(&state.db, user, &key, claimed_at, now).await? {
                    return Err(AppError::IdempotencyInProgress);
                }
            }
            // Released meanwhile (its request failed): claim it again.
            None => {
                if !kept_keys::claim(&state.db, user, &key, &fingerprint, now).await? {
                    return Err(AppError::IdempotencyInProgress);
                }
            }
        }
    }
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    Ok(keep(&state, user, &key, response).await)
}

/// Keeps the answer of the request that claimed `key` and gives it back.
async fn keep(state: &AppState, user: i64, key: &str, response: Response) -> Response {
    let status = response.status();
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) if !status.is_server_error() => bytes,
        read => {
            if let Err(error) = kept_keys::release(&state.db, user, key).await {
                tracing::warn!(%error, "cannot release an idempotency key");
            }
            return match read {
                Ok(bytes) => Response::from_parts(parts, Body::from(bytes)),
                Err(error) => AppError::Internal(anyhow::anyhow!("reading an answer: {error}")).into_response(),
            };
        }
    };
    match std::str::from_utf8(&bytes) {
        Ok(text) => {
            if let Err(error) = kept_keys::answer(&state.db, user, key, status.as_u16(), text).await {
                tracing::warn!(%error, "cannot keep an idempotent answer");
            }
        }
        Err(_) => {
            // Every answer under /api is JSON; keep nothing rather than a mangled body.
            let _ = kept_keys::release(&state.db, user, key).await;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(fingerprint: &str, answer: Option<(u16, &str)>, created_at: i64) -> KeptKey {
        KeptKey {
            fingerprint: fingerprint.into(),
            answer: answer.map(|(status, body)| (status, body.to_owned())),
            created_at,
        }
    }

    #[test]
    fn a_kept_key_replays_refuses_or_waits() {
        let answered = kept("f", Some((201, "{\"id\":1}")), 100);
        assert_eq!(decide(&answered, "f", 100), Decision::Replay(201, "{\"id\":1}".into()));
        assert_eq!(decide(&answered, "g", 100), Decision::Reused, "another request, even answered");
        let running = kept("f", None, 100);
        assert_eq!(decide(&running, "f", 100 + LEASE_SECS - 1), Decision::InProgress);
        assert_eq!(decide(&running, "f", 100 + LEASE_SECS), Decision::TakeOver(100));
        assert_eq!(decide(&running, "g", 100), Decision::Reused);
    }

    #[test]
    fn the_fingerprint_covers_method_path_and_body() {
        let one = fingerprint(&Method::POST, "/api/cart/items", b"{\"product_id\":1}");
        assert_eq!(one, fingerprint(&Method::POST, "/api/cart/items", b"{\"product_id\":1}"));
        assert_ne!(one, fingerprint(&Method::POST, "/api/cart/items", b"{\"product_id\":2}"));
        assert_ne!(one, fingerprint(&Method::PATCH, "/api/cart/items", b"{\"product_id\":1}"));
        assert_ne!(one, fingerprint(&Method::POST, "/api/wishlist", b"{\"product_id\":1}"));
        // No ambiguity from where the parts meet.
        assert_ne!(fingerprint(&Method::POST, "/a", b"\nb"), fingerprint(&Method::POST, "/a\n", b"b"));
    }

    #[test]
    fn keys_are_taken_on_writes_under_api_only() {
        let key = HeaderValue::from_static("k-1");
        let taken = |method: Method, path: &str| key_of(&method, path, Some(&key)).unwrap();
        assert_eq!(taken(Method::POST, "/api/cart/items"), Some("k-1".into()));
        assert_eq!(taken(Method::DELETE, "/api/wishlist/3"), Some("k-1".into()));
        assert_eq!(taken(Method::GET, "/api/cart"), None);
        assert_eq!(taken(Method::POST, "/api/auth/login"), None);
        assert_eq!(taken(Method::POST, "/ws"), None);
        assert_eq!(key_of(&Method::POST, "/api/cart/items", None).unwrap(), None);
        for bad in ["", "with space", &"k".repeat(MAX_KEY_CHARS + 1)] {
            let value = HeaderValue::from_str(bad).unwrap();
            assert!(
                matches!(key_of(&Method::POST, "/api/cart", Some(&value)), Err(AppError::BadRequest(_))),
                "{bad:?}"
            );
        }
        let longest = HeaderValue::from_str(&"k".repeat(MAX_KEY_CHARS)).unwrap();
        assert!(key_of(&Method::POST, "/api/cart", Some(&longest)).unwrap().is_some());
    }
}
