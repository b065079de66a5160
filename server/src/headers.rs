//! Security headers on every answer: `X-Content-Type-Options: nosniff`, `Referrer-Policy`, and a
//! Content-Security-Policy the app runs under (its own files only; `'wasm-unsafe-eval'` to compile the wasm;
//! the inline start-up script trunk writes into `index.html` allowed by its hash).
//!
//! Invariant: the policy names no host but the page's own origin, and no `'unsafe-eval'` or inline script
//! other than the hashed ones found in the `index.html` being served.

use axum::http::HeaderValue;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The `Referrer-Policy`: other sites learn the origin at most, never the path (which names orders, shops).
pub const REFERRER_POLICY: &str = "strict-origin-when-cross-origin";

/// The Content-Security-Policy for the app whose pages are `pages` (the `index.html` of each bundle; their
/// inline scripts hashed).
pub fn content_security_policy(pages: &[&[u8]]) -> HeaderValue {
    let mut hashes = String::new();
    for html in pages {
        for script in inline_scripts(&String::from_utf8_lossy(html)) {
            let hash = format!(" 'sha256-{}'", sha256_base64(script));
            if !hashes.contains(&hash) {
                hashes.push_str(&hash);
            }
        }
    }
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).expect("the policy is ASCII without control characters")
}

/// The bodies of the `<script>` elements without a `src`, as written.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.match_indices("<script").filter_map(move |(at, _)| {
        let rest = &html[at..];
        let open_end = rest.find('>')?;
        let tag = &rest[..open_end];
        if tag.contains(" src=") || tag.contains(" src =") {
            return None;
        }
        let body = &rest[open_end + 1..];
        Some(&body[..body.find("</script>")?])
    })
}

fn sha256_base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        let html = "<head><script src=\"/a.js\"></script><script type=\"module\">init()</script></head>";
        assert_eq!(inline_scripts(html).collect::<Vec<_>>(), ["init()"]);
        // The value browsers compute for `init()`.
        assert_eq!(sha256_base64("init()"), "w4ujnOpjBoH2vcasx+reJRUwYivG8Q3afx/XevGJod8=");
        let other = "<script>start()</script>";
        let policy = content_security_policy(&[html.as_bytes(), other.as_bytes(), html.as_bytes()]);
        let policy = policy.to_str().unwrap();
        let expected = format!(
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-{}' 'sha256-{}';",
            sha256_base64("init()"),
            sha256_base64("start()")
        );
        assert!(policy.contains(&expected), "every page's scripts, each once: {policy}");
        assert!(!policy.contains("'unsafe-eval'"), "{policy}");
    }
}
