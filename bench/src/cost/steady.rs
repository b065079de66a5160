//! The steady part of a cost window (after the first loads) and the dashboards' schedule that fills the window.

use super::*;

/// A mode's figures over the steady part of its window, after the first loads.
#[derive(Debug, Serialize)]
pub(super) struct Steady {
    pub(super) window_secs: f64,
    pub(super) server_cpu_secs: f64,
    pub(super) generator_cpu_secs: f64,
    pub(super) dashboard_requests: u64,
    pub(super) dashboard_bytes: u64,
    pub(super) all_requests: u64,
    pub(super) ws_frames: u64,
    pub(super) ws_bytes: u64,
}

/// What the server and the generator had used at one moment.
pub(super) struct Snapshot {
    at: Instant,
    server: ProcUsage,
    own: ProcUsage,
    metrics: protocol::MetricsSnapshot,
}

impl Snapshot {
    pub(super) async fn take(
        server: &ServerProc,
        client: &reqwest::Client,
        admin_token: &str,
    ) -> anyhow::Result<Snapshot> {
        let metrics = http::metrics(client, &server.base_url, admin_token).await?;
        Ok(Snapshot { at: Instant::now(), server: server.usage()?, own: ProcUsage::own()?, metrics })
    }

    /// The growth from `self` to `later`, the dashboards being `owner_ids`' requests.
    pub(super) fn steady_until(&self, later: &Snapshot, owner_ids: &[i64]) -> Steady {
        let (before, after) = (&self.metrics, &later.metrics);
        Steady {
            window_secs: later.at.duration_since(self.at).as_secs_f64(),
            server_cpu_secs: later.server.cpu_secs - self.server.cpu_secs,
            generator_cpu_secs: later.own.cpu_secs - self.own.cpu_secs,
            dashboard_requests: by_users(&before.by_user, &after.by_user, owner_ids),
            dashboard_bytes: by_users(&before.bytes_by_user, &after.bytes_by_user, owner_ids),
            all_requests: after.requests.saturating_sub(before.requests),
            ws_frames: after.ws_messages_sent.saturating_sub(before.ws_messages_sent),
            ws_bytes: after.ws_bytes_sent.saturating_sub(before.ws_bytes_sent),
        }
    }
}

/// The dashboards of one mode from `start` to `end`: their requests, and for push their sockets, held until
/// the end (returned, with how many failed to open).
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_dashboards(
    server: &ServerProc,
    client: &reqwest::Client,
    owners: &[Owner],
    mode: Mode,
    dashboards: usize,
    gate: &Arc<Semaphore>,
    stats: &Arc<Requests>,
    start: Instant,
    end: Instant,
) -> (Vec<Fleet>, u64) {
    let mut tasks = JoinSet::new();
    let mut fleets = JoinSet::new();
    // Dashboard `d` starts at `d / dashboards` of the poll interval, so the load is steady.
    let phase = |d: usize| POLL_EVERY.mul_f64(d as f64 / dashboards as f64);
    match mode {
        Mode::Polling => {
            for round in 0u32.. {
                let round_start = start + POLL_EVERY * round;
                if round_start >= end {
                    break;
                }
                for d in 0..dashboards {
                    let at = round_start + phase(d);
                    if at >= end {
                        break;
                    }
                    tokio::time::sleep_until(at).await;
                    let owner = &owners[d % owners.len()];
                    for url in &owner.urls {
                        request(&mut tasks, gate, stats, client, url.clone(), owner.login.token.clone(), at).await;
                    }
                }
            }
        }
        Mode::Push => {
            for d in 0..dashboards {
                let at = start + phase(d);
                tokio::time::sleep_until(at).await;
                let owner = &owners[d % owners.len()];
                for url in &owner.urls {
                    request(&mut tasks, gate, stats, client, url.clone(), owner.login.token.clone(), at).await;
                }
                // The app opens its socket as it loads; one fleet of one per dashboard keeps the spread.
                let (ws_url, token) = (server.ws_url.clone(), owner.login.token.clone());
                let topics = topics_for(DashboardRole::ShopOwner);
                fleets.spawn(async move { Fleet::open(&ws_url, &[token], 1, topics, 1).await });
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    let mut held = Vec::new();
    let mut sockets_failed = 0;
    let mut first_socket_error = None;
    while let Some(opened) = fleets.join_next().await {
        match opened {
            Ok(Ok(fleet)) => held.push(fleet),
            Ok(Err(error)) => {
                sockets_failed += 1;
                first_socket_error.get_or_insert_with(|| format!("{error:#}"));
            }
            Err(error) => {
                sockets_failed += 1;
                first_socket_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    if let Some(error) = first_socket_error {
        eprintln!("    {sockets_failed} sockets failed to open, the first: {error}");
    }
    tokio::time::sleep_until(end).await;
    (held, sockets_failed)
}
