//! The WebSocket at `/ws`: the handshake (origin rule, buffer sizes and frame limits) and the close codes.
//!
//! Invariant: a socket sees only events its user may see ([`crate::events::Audience::can_see`]) of the topics it
//! subscribed to, in increasing `seq` order, each at most once; nothing a client sends makes the server panic.
//!
//! A connection goes: handshake (a browser `Origin` must be allowed, else 403) → first frame `auth` within
//! `ws_auth_timeout` → `auth_ok {user, seq}` → `subscribe`/`unsubscribe`/`ping`/`resume`/`auth` frames from the
//! client, events pushed by the server, until one side closes. `docs/PROTOCOL-ws.md` is the full contract.

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::ErrorBody;

use crate::state::AppState;

pub mod origin;
mod session;
#[cfg(test)]
mod session_props;
mod socket;
mod upgrade;

/// No, a bad, or an expired token; a token of another user at re-authentication. The client must get a new
/// token (refresh or log in) before reconnecting.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// More than `ws_max_messages_per_10s` client frames in a 10 s window.
pub const CLOSE_POLICY: u16 = 1008;
/// A client frame or message over `ws_max_frame_bytes`.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// The server had an internal failure (the database); reconnect and resume.
pub const CLOSE_INTERNAL: u16 = 1011;
/// The socket fell more than `ws_socket_queue` writes behind: reconnect and resume from the last applied seq.
pub const CLOSE_LAGGED: u16 = 1013;
/// No client frame for [`IDLE_TIMEOUT`].
pub const CLOSE_IDLE: u16 = 4408;

/// A connection with no frame at all from the client for this long is closed with [`CLOSE_IDLE`]. The app
/// pings every 25 s; 90 s leaves room for a background tab whose timers the browser throttles to one a minute.
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// Bytes of the per-socket read buffer, allocated (and zeroed) for every socket: client frames are small
/// (the auth frame with its token is well under 1 KiB; a larger one is read in several calls). tungstenite's
/// default of 128 KiB would cost that per idle socket.
pub const READ_BUFFER_BYTES: usize = 1024;
/// Frames fed to a socket are written out once this many bytes wait (or at the flush that ends a batch); the
/// buffer only grows while frames are fed.
pub const WRITE_BUFFER_BYTES: usize = 4 * 1024;

/// `GET /ws`: checks the `Origin`, then upgrades to a WebSocket served by the connection driver.
///
/// The allowed origins are `config.effective_allowed_origins(config.port)`, where `state.config.port` is the
/// port actually bound (startup writes it back, so port 0 works). A request without `Origin` (not a browser) is
/// upgraded too: it still has to send a valid token as its first frame.
pub async fn handler(
    State(state): State<AppState>,
    permit: Option<axum::Extension<crate::serve::ConnectionPermit>>,
    mut request: Request,
) -> Response {
    let headers = request.headers();
    // A header that is not text cannot be an allowed origin: map it to "" (refused), not to "no header".
    let origin = headers.get(header::ORIGIN).map(|value| value.to_str().unwrap_or(""));
    let allowed = state.config.effective_allowed_origins(state.config.port);
    if !origin::origin_allowed(origin, &allowed) {
        tracing::warn!(origin = origin.unwrap_or_default(), "refused a WebSocket handshake from another origin");
        let body = ErrorBody::new("forbidden_origin", "this origin may not open the WebSocket");
        return (StatusCode::FORBIDDEN, Json(body)).into_response();
    }
    let accept = match upgrade::accept_key(headers) {
        Ok(accept) => accept,
        Err(refusal) => return refused(refusal),
    };
    let Some(on_upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        let message = "this connection cannot be upgraded (HTTP/1.1 is needed)";
        return refused(upgrade::Refusal { status: StatusCode::UPGRADE_REQUIRED, message });
    };
    tokio::spawn(async move {
        // The upgraded socket still counts against `max_connections` until it closes.
        let _permit = permit;
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket = upgrade::socket(upgraded, state.config.ws_max_frame_bytes).await;
                socket::run(socket, state).await;
            }
            Err(error) => tracing::debug!(%error, "a WebSocket upgrade did not complete"),
        }
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    response_headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    let accept = HeaderValue::try_from(accept).expect("a base64 accept key is a valid header value");
    response_headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    response
}

fn refused(refusal: upgrade::Refusal) -> Response {
    (refusal.status, Json(ErrorBody::new("bad_handshake", refusal.message))).into_response()
}
