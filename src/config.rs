//! Where the API and the WebSocket live: from the build-time `.env` (`IZI_API_URL`, `IZI_WS_URL`) or, when
//! unset, the page's own origin (`wss://` when the page is `https://`).
//!
//! Invariant: the derivation is pure; [`AppConfig::from_browser`] is the only place reading the page location.

/// Endpoints the app talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// Base of the REST API, without a trailing slash (for example `http://localhost:8001/api`).
    pub api_url: String,
    /// URL of the WebSocket endpoint (for example `ws://localhost:8001/ws`).
    pub ws_url: String,
}

impl AppConfig {
    /// Derives the endpoints from optional configured values and the page origin (`scheme://host[:port]`).
    /// A configured value that is empty counts as unset.
    pub fn derive(api_url: Option<&str>, ws_url: Option<&str>, origin: &str) -> Self {
        let origin = origin.trim_end_matches('/');
        let configured = |value: Option<&str>| {
            value.map(str::trim).filter(|v| !v.is_empty()).map(|v| v.trim_end_matches('/').to_owned())
        };
        let ws_origin = if let Some(rest) = origin.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = origin.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            origin.to_owned()
        };
        Self {
            api_url: configured(api_url).unwrap_or_else(|| format!("{origin}/api")),
            ws_url: configured(ws_url).unwrap_or_else(|| format!("{ws_origin}/ws")),
        }
    }

    /// The configuration for this page: build-time `.env` values, else the page's origin.
    pub fn from_browser() -> Self {
        let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
        Self::derive(option_env!("IZI_API_URL"), option_env!("IZI_WS_URL"), &origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_values_follow_the_page_origin() {
        let config = AppConfig::derive(None, None, "http://localhost:8001");
        assert_eq!(config.api_url, "http://localhost:8001/api");
        assert_eq!(config.ws_url, "ws://localhost:8001/ws");
    }

    #[test]
    fn https_pages_use_secure_websockets() {
        let config = AppConfig::derive(None, Some(""), "https://shop.example/");
        assert_eq!(config.api_url, "https://shop.example/api");
        assert_eq!(config.ws_url, "wss://shop.example/ws");
    }

    #[test]
    fn configured_values_win_and_lose_their_trailing_slash() {
        let config = AppConfig::derive(Some("http://api.test:9000/api/"), Some("ws://rt.test/ws"), "https://x.test");
        assert_eq!(config.api_url, "http://api.test:9000/api");
        assert_eq!(config.ws_url, "ws://rt.test/ws");
    }
}
