//! The `Origin` rule of the WebSocket handshake, against cross-site WebSocket hijacking.
//!
//! Invariant: a handshake carrying an `Origin` header proceeds only when that origin equals (scheme, host and
//! port, default ports filled in) one of the allowed origins; no `Origin` header (a non-browser client) is
//! allowed, since such a client still has to authenticate with a token.

/// Whether a handshake with this `Origin` header value (`None`: no header) may proceed.
///
/// ```
/// use server::ws::origin::origin_allowed;
/// let allowed = vec!["http://localhost:8001".to_owned()];
/// assert!(origin_allowed(None, &allowed));
/// assert!(origin_allowed(Some("http://LOCALHOST:8001"), &allowed));
/// assert!(!origin_allowed(Some("https://evil.example"), &allowed));
/// ```
pub fn origin_allowed(origin: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else { return true };
    let Some(origin) = Origin::parse(origin) else { return false };
    allowed.iter().filter_map(|entry| Origin::parse(entry)).any(|entry| entry == origin)
}

/// A web origin in comparable form: lowercase scheme and host, explicit port.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses `scheme://host[:port]` (a trailing `/` is tolerated in configured entries); `None` for anything
    /// else, `null` included.
    fn parse(text: &str) -> Option<Origin> {
        let (scheme, rest) = text.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return None;
        }
        // An IPv6 literal is bracketed: `[::1]:8001`.
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']')?;
            (format!("[{host}]"), after.strip_prefix(':'))
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (authority.to_owned(), None),
            }
        };
        let port = match port {
            Some(port) => port.parse().ok()?,
            None => default_port,
        };
        (!host.is_empty()).then(|| Origin { scheme, host: host.to_ascii_lowercase(), port })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_listed_origins_pass_and_no_origin_passes() {
        let allowed = list(&["http://localhost:8001", "https://shop.example/", "http://[::1]:8001"]);
        assert!(origin_allowed(None, &allowed));
        assert!(origin_allowed(Some("http://localhost:8001"), &allowed));
        assert!(origin_allowed(Some("HTTP://LocalHost:8001"), &allowed));
        assert!(origin_allowed(Some("https://shop.example"), &allowed));
        assert!(origin_allowed(Some("https://shop.example:443"), &allowed));
        assert!(origin_allowed(Some("http://[::1]:8001"), &allowed));
        for refused in [
            "http://localhost:8002",
            "https://localhost:8001",
            "http://shop.example",
            "https://evil.example",
            "https://shop.example.evil.example",
            "null",
            "",
            "http://localhost:8001/path",
            "http://user@localhost:8001",
            "http://localhost:99999",
            "file://",
        ] {
            assert!(!origin_allowed(Some(refused), &allowed), "{refused}");
        }
    }

    #[test]
    fn an_empty_list_allows_only_clients_without_origin() {
        assert!(origin_allowed(None, &[]));
        assert!(!origin_allowed(Some("http://localhost:8001"), &[]));
    }
}
