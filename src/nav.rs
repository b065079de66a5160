//! Navigation rules that must hold for security and convenience: where a role lands, and which return URLs
//! are safe to follow after login.
//!
//! Invariant: a return URL is followed only when it is a same-origin path (no scheme, no `//host`).

use protocol::{Bundle, Role};

/// The page a role lands on after login or when opening `/`.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "/admin",
        Role::Owner => "/owner",
        Role::Customer => "/shop",
    }
}

/// Returns the return URL when it is a path on this origin, `None` otherwise (open-redirect guard).
pub fn safe_return_path(candidate: &str) -> Option<&str> {
    let starts_as_path = candidate.starts_with('/') && !candidate.starts_with("//") && !candidate.starts_with("/\\");
    let clean = !candidate.chars().any(|c| c.is_control() || c == '\\');
    (starts_as_path && clean && !candidate.starts_with("/login")).then_some(candidate)
}

/// The login URL that brings the user back to `path` afterwards.
pub fn login_url_returning_to(path: &str) -> String {
    match safe_return_path(path) {
        Some(path) => format!("/login?return={}", encode_keeping(path, b"/")),
        None => "/login".to_owned(),
    }
}

/// Whether a path `bundle` has no route for is loaded in full from the server: when it is the other bundle's
/// ([`protocol::bundle_of`]), unless `last_load` ([`bundle_load_mark`] of this tab's last such load) says this
/// very path was loaded less than [`RELOAD_GUARD_MS`] ago and the server answered it with this bundle again.
pub fn should_load_elsewhere(bundle: Bundle, path: &str, last_load: Option<&str>, now_ms: f64) -> bool {
    if protocol::bundle_of(path) == bundle {
        return false;
    }
    let just_loaded = last_load.and_then(|mark| mark.split_once(' ')).is_some_and(|(at, loaded)| {
        loaded == path && at.parse::<f64>().is_ok_and(|at| (0.0..RELOAD_GUARD_MS).contains(&(now_ms - at)))
    });
    !just_loaded
}

/// How long after a full load of a path the same path is not loaded in full again.
pub const RELOAD_GUARD_MS: f64 = 10_000.0;

/// What [`should_load_elsewhere`] is told of a load: when, and which path.
pub fn bundle_load_mark(path: &str, now_ms: f64) -> String {
    // Whole milliseconds: an integer formats without pulling float formatting into the wasm.
    format!("{} {path}", now_ms as u64)
}

/// Percent-encodes `value` for a query string: the unreserved characters of RFC 3986 stay as they are, every
/// other byte becomes `%XX`.
pub fn encode_query_value(value: &str) -> String {
    encode_keeping(value, b"")
}

/// Like [`encode_query_value`], also keeping the bytes of `keep` (a return path keeps its `/`, readable).
fn encode_keeping(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            _ if keep.contains(&byte) => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_bundles_paths_are_loaded_in_full_but_never_in_a_loop() {
        use Bundle::{BackOffice, Storefront};
        assert!(should_load_elsewhere(Storefront, "/owner", None, 1_000.0));
        assert!(should_load_elsewhere(BackOffice, "/cart", None, 1_000.0));
        assert!(!should_load_elsewhere(Storefront, "/no/such/page", None, 1_000.0), "an unknown path: the 404");
        assert!(!should_load_elsewhere(BackOffice, "/admin/nothing", None, 1_000.0), "its own unknown path: the 404");
        let mark = bundle_load_mark("/owner", 1_000.0);
        assert!(!should_load_elsewhere(Storefront, "/owner", Some(&mark), 3_000.0), "the server sent it back here");
        assert!(should_load_elsewhere(Storefront, "/admin", Some(&mark), 3_000.0), "another path");
        assert!(should_load_elsewhere(Storefront, "/owner", Some(&mark), 1_000.0 + RELOAD_GUARD_MS), "later");
        assert!(should_load_elsewhere(Storefront, "/owner", Some("garbage"), 3_000.0));
        assert!(should_load_elsewhere(Storefront, "/owner", Some("soon /owner"), 3_000.0));
    }

    #[test]
    fn each_role_has_its_home() {
        assert_eq!(home_of(Role::Admin), "/admin");
        assert_eq!(home_of(Role::Owner), "/owner");
        assert_eq!(home_of(Role::Customer), "/shop");
    }

    #[test]
    fn same_origin_paths_are_accepted() {
        assert_eq!(safe_return_path("/shop/products/4?x=1"), Some("/shop/products/4?x=1"));
        assert_eq!(safe_return_path("/owner"), Some("/owner"));
    }

    #[test]
    fn other_origins_and_tricks_are_refused() {
        for bad in [
            "https://evil.test/",
            "//evil.test",
            "/\\evil.test",
            "javascript:alert(1)",
            "",
            "owner",
            "/a\\b",
            "/x\ny",
            "/login?return=/owner",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn login_url_encodes_the_return_path() {
        assert_eq!(
            login_url_returning_to("/shop/products/4?q=red shoes&x=1"),
            "/login?return=/shop/products/4%3Fq%3Dred%20shoes%26x%3D1"
        );
        assert_eq!(login_url_returning_to("//evil.test"), "/login");
    }

    #[test]
    fn query_values_keep_only_unreserved_characters() {
        assert_eq!(encode_query_value("Az09-_.~"), "Az09-_.~");
        assert_eq!(encode_query_value("red shoes/é&"), "red%20shoes%2F%C3%A9%26");
    }
}
