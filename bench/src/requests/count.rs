//! What the server counted over a session, sorted into API reads, API writes, app files and WebSocket
//! upgrades, without the background customer's writes (the same in both designs).

use std::collections::BTreeMap;

use protocol::MetricsSnapshot;
use serde::Serialize;

/// Requests and response body bytes of one design's session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub api_reads: u64,
    pub api_read_bytes: u64,
    /// Logins, token refreshes, cart changes, checkouts, status changes.
    pub api_writes: u64,
    pub api_write_bytes: u64,
    /// `index.html`, the wasm, the js, the css.
    pub app_files: u64,
    pub app_file_bytes: u64,
    pub ws_upgrades: u64,
    pub ws_frames: u64,
    pub ws_bytes: u64,
    /// API reads per endpoint (`GET /api/products/{id}`), most first.
    pub reads_by_endpoint: Vec<(String, u64)>,
    /// App file requests per route, most first.
    pub files_by_route: Vec<(String, u64)>,
}

impl Counts {
    /// Every API request.
    pub fn api(&self) -> u64 {
        self.api_reads + self.api_writes
    }

    /// Bytes of every API answer plus every WebSocket frame.
    pub fn data_bytes(&self) -> u64 {
        self.api_read_bytes + self.api_write_bytes + self.ws_bytes
    }
}

/// The counts between two snapshots, leaving out `background`'s requests (a user id whose requests are all
/// writes).
pub fn tally(before: &MetricsSnapshot, after: &MetricsSnapshot, background: Option<i64>) -> Counts {
    let mut counts = Counts::default();
    let mut reads: BTreeMap<String, u64> = BTreeMap::new();
    for (route, &n) in &after.by_route {
        let n = n.saturating_sub(before.by_route.get(route).copied().unwrap_or(0));
        let bytes = after
            .bytes_by_route
            .get(route)
            .copied()
            .unwrap_or(0)
            .saturating_sub(before.bytes_by_route.get(route).copied().unwrap_or(0));
        if n == 0 {
            continue;
        }
        let (method, path) = route.split_once(' ').unwrap_or(("", route));
        if path == "/ws" {
            counts.ws_upgrades += n;
        } else if path.starts_with("/api/") && method == "GET" {
            counts.api_reads += n;
            counts.api_read_bytes += bytes;
            *reads.entry(format!("GET {}", endpoint(path))).or_default() += n;
        } else if path.starts_with("/api/") {
            counts.api_writes += n;
            counts.api_write_bytes += bytes;
        } else {
            counts.app_files += n;
            counts.app_file_bytes += bytes;
            counts.files_by_route.push((route.clone(), n));
        }
    }
    if let Some(user) = background {
        let delta = |map: &BTreeMap<i64, u64>, old: &BTreeMap<i64, u64>| {
            map.get(&user).copied().unwrap_or(0).saturating_sub(old.get(&user).copied().unwrap_or(0))
        };
        counts.api_writes = counts.api_writes.saturating_sub(delta(&after.by_user, &before.by_user));
        counts.api_write_bytes =
            counts.api_write_bytes.saturating_sub(delta(&after.bytes_by_user, &before.bytes_by_user));
    }
    counts.ws_frames = after.ws_messages_sent.saturating_sub(before.ws_messages_sent);
    counts.ws_bytes = after.ws_bytes_sent.saturating_sub(before.ws_bytes_sent);
    let mut by_endpoint: Vec<(String, u64)> = reads.into_iter().collect();
    by_endpoint.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.reads_by_endpoint = by_endpoint;
    counts.files_by_route.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

/// A path with its numeric segments as `{id}`: `/api/products/12` → `/api/products/{id}`.
pub fn endpoint(path: &str) -> String {
    path.split('/')
        .map(
            |segment| if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) { "{id}" } else { segment },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(routes: &[(&str, u64, u64)], users: &[(i64, u64, u64)], ws: (u64, u64)) -> MetricsSnapshot {
        MetricsSnapshot {
            requests: routes.iter().map(|r| r.1).sum(),
            response_bytes: routes.iter().map(|r| r.2).sum(),
            by_route: routes.iter().map(|r| (r.0.to_owned(), r.1)).collect(),
            bytes_by_route: routes.iter().map(|r| (r.0.to_owned(), r.2)).collect(),
            by_user: users.iter().map(|u| (u.0, u.1)).collect(),
            bytes_by_user: users.iter().map(|u| (u.0, u.2)).collect(),
            ws_messages_sent: ws.0,
            ws_bytes_sent: ws.1,
            ws_open: 0,
        }
    }

    #[test]
    fn routes_are_sorted_into_kinds_and_the_background_writes_are_left_out() {
        let before = snapshot(&[("GET /api/dashboard", 2, 200), ("POST /api/orders", 1, 50)], &[(9, 1, 50)], (1, 10));
        let after = snapshot(
            &[
                ("GET /api/dashboard", 5, 500),
                ("GET /api/products/12", 1, 80),
                ("GET /api/products/13", 1, 90),
                ("POST /api/orders", 4, 200),
                ("POST /api/auth/login", 1, 300),
                ("GET /ws", 1, 0),
                ("GET /index.html", 1, 1000),
                ("GET /app.wasm", 1, 9000),
            ],
            &[(9, 3, 150)],
            (11, 510),
        );
        let counts = tally(&before, &after, Some(9));
        assert_eq!((counts.api_reads, counts.api_read_bytes), (5, 470));
        assert_eq!((counts.api_writes, counts.api_write_bytes), (4 - 1 + 1 - 2, 150 + 300 - 100));
        assert_eq!((counts.app_files, counts.app_file_bytes, counts.ws_upgrades), (2, 10_000, 1));
        assert_eq!((counts.ws_frames, counts.ws_bytes), (10, 500));
        assert_eq!(
            counts.reads_by_endpoint,
            vec![("GET /api/dashboard".to_owned(), 3), ("GET /api/products/{id}".to_owned(), 2)]
        );
        assert_eq!(counts.api(), 7);
    }

    #[test]
    fn numeric_segments_become_ids() {
        assert_eq!(endpoint("/api/orders/7"), "/api/orders/{id}");
        assert_eq!(endpoint("/api/products/stats"), "/api/products/stats");
        assert_eq!(endpoint("/admin/shops/3"), "/admin/shops/{id}");
    }
}
