//! The WebSocket handshake of `/ws`, done here rather than by axum's `WebSocketUpgrade` so that the driver owns
//! the raw stream under the socket: after an oversized message it must drain bytes that are not frames
//! (see `socket::drain`), which axum's wrapper does not allow.
//!
//! Invariant: a request is upgraded only when it is a valid RFC 6455 opening handshake; anything else gets a
//! JSON error and the connection stays plain HTTP.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// The stream the connection driver serves.
pub type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Why a request is not a WebSocket opening handshake (answered 400, or 426 when the connection cannot upgrade).
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: &'static str,
}

impl Refusal {
    fn bad(message: &'static str) -> Self {
        Self { status: StatusCode::BAD_REQUEST, message }
    }
}

/// The `Sec-WebSocket-Accept` value for a valid opening handshake's headers (the method is checked by the route).
pub fn accept_key(headers: &HeaderMap) -> Result<String, Refusal> {
    if !has_token(headers, header::CONNECTION, "upgrade") {
        return Err(Refusal::bad("a WebSocket handshake needs `Connection: upgrade`"));
    }
    if !headers.get(header::UPGRADE).is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket")) {
        return Err(Refusal::bad("a WebSocket handshake needs `Upgrade: websocket`"));
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        return Err(Refusal {
            status: StatusCode::UPGRADE_REQUIRED,
            message: "only WebSocket version 13 is served (`Sec-WebSocket-Version: 13`)",
        });
    }
    match headers.get(header::SEC_WEBSOCKET_KEY) {
        Some(key) if !key.is_empty() => Ok(derive_accept_key(key.as_bytes())),
        _ => Err(Refusal::bad("a WebSocket handshake needs `Sec-WebSocket-Key`")),
    }
}

/// Whether a comma-separated header holds `token` (case-insensitive), as `Connection: keep-alive, Upgrade` does.
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&byte| byte == b','))
        .any(|part| part.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// The WebSocket over an upgraded connection, with the per-socket buffers and the frame and message limit.
pub async fn socket(upgraded: hyper::upgrade::Upgraded, max_frame_bytes: usize) -> Socket {
    let config = WebSocketConfig::default()
        .read_buffer_size(super::READ_BUFFER_BYTES)
        .write_buffer_size(super::WRITE_BUFFER_BYTES)
        .max_message_size(Some(max_frame_bytes))
        .max_frame_size(Some(max_frame_bytes));
    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const VALID: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "WebSocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn a_valid_handshake_gets_the_rfc_accept_key() {
        // RFC 6455 section 1.3's example.
        assert_eq!(accept_key(&headers(&VALID)).unwrap(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn each_missing_or_wrong_header_is_refused_with_its_reason() {
        for (index, wrong) in
            [(0, ("connection", "keep-alive")), (1, ("upgrade", "h2c")), (2, ("sec-websocket-version", "8"))]
        {
            let mut pairs = VALID.to_vec();
            pairs[index] = wrong;
            let refusal = accept_key(&headers(&pairs)).unwrap_err();
            let expected = if index == 2 { StatusCode::UPGRADE_REQUIRED } else { StatusCode::BAD_REQUEST };
            assert_eq!(refusal.status, expected, "{wrong:?}");
        }
        let refusal = accept_key(&headers(&VALID[..3])).unwrap_err();
        assert_eq!(refusal.message, "a WebSocket handshake needs `Sec-WebSocket-Key`");
    }
}
