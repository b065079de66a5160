//! The Markdown section of the server-cost part.

use super::*;

pub(super) fn markdown(opts: &Opts, modes: &[ModeRun], idle: &[IdleRun]) -> String {
    let mut md = String::from("## Server cost\n\n");
    let (Some(poll), Some(push)) =
        (modes.iter().find(|m| m.mode == Mode::Polling), modes.iter().find(|m| m.mode == Mode::Push))
    else {
        return md;
    };
    md.push_str(&format!(
        "{} owner dashboards (spread over the 3 owners' accounts) for {:.0} s, once polling and once with push, \
         each on its own fresh server process, one after the other in the same run. **Polling**: every dashboard \
         GETs its {} data types every {} s, the dashboards' phases spread evenly over the interval, no cache. \
         **Push**: every dashboard GETs the same data types once (spread over the first {} s in the same way) and \
         then holds one WebSocket subscribed to the owner dashboard's topics. Both see the same background writes: one customer \
         checkout every {} s over REST (customer1 and customer2 in turn, the three shops in turn). At most {} \
         requests are in flight; a request starting more than {} s behind its schedule counts as late. CPU is \
         user + system time of the server process over the window (from `/proc`), peak memory its `VmHWM`; \
         requests, bytes (response bodies, headers not counted) and frames come from the server's own counters \
         (`/api/metrics`). The tokens are obtained once from a throwaway server (same JWT secret, same seed): \
         a password check (argon2, 19 MiB of working memory) leaves that memory resident in the server process, \
         which would hide everything measured here.{}{}\n\n",
        thousands(poll.dashboards as f64),
        poll.window_secs,
        data_types_of(DashboardRole::ShopOwner).len(),
        POLL_EVERY.as_secs(),
        POLL_EVERY.as_secs(),
        WRITE_EVERY.as_secs(),
        MAX_IN_FLIGHT,
        LATE_AFTER.as_secs(),
        if poll.window_secs < 1.5 * POLL_EVERY.as_secs_f64() {
            " With a window of one poll interval both modes make the same requests: only the sockets differ."
        } else {
            ""
        },
        if opts.quick { " *Quick run: fewer dashboards over a shorter window.*" } else { "" },
    ));
    md.push_str("| | Polling | Push | Polling ÷ push |\n|---|---:|---:|---:|\n");
    let row = |md: &mut String, name: &str, p: String, q: String, ratio: Option<f64>| {
        let ratio = ratio.filter(|r| r.is_finite()).map_or("—".to_owned(), |r| format!("{r:.1}×"));
        md.push_str(&format!("| {name} | {p} | {q} | {ratio} |\n"));
    };
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    row(
        &mut md,
        "Server CPU over the window",
        format!("{:.2} s", poll.server_cpu_secs),
        format!("{:.2} s", push.server_cpu_secs),
        ratio(poll.server_cpu_secs, push.server_cpu_secs),
    );
    row(
        &mut md,
        "Server CPU, share of one core",
        format!("{:.1}%", percent(poll.server_cpu_secs, poll.window_secs)),
        format!("{:.1}%", percent(push.server_cpu_secs, push.window_secs)),
        None,
    );
    row(
        &mut md,
        "Server memory before the window (VmRSS)",
        mib(poll.server_rss_before_kib),
        mib(push.server_rss_before_kib),
        None,
    );
    row(
        &mut md,
        "Server memory at the end (VmRSS)",
        mib(poll.server_rss_end_kib),
        mib(push.server_rss_end_kib),
        ratio(poll.server_rss_end_kib as f64, push.server_rss_end_kib as f64),
    );
    row(
        &mut md,
        "Server peak memory before the window (VmHWM)",
        mib(poll.server_peak_before_kib),
        mib(push.server_peak_before_kib),
        None,
    );
    row(
        &mut md,
        "Server peak memory at the end (VmHWM)",
        mib(poll.server_peak_rss_kib),
        mib(push.server_peak_rss_kib),
        ratio(poll.server_peak_rss_kib as f64, push.server_peak_rss_kib as f64),
    );
    row(
        &mut md,
        "Dashboards' HTTP requests",
        thousands(poll.dashboard_requests as f64),
        thousands(push.dashboard_requests as f64),
        ratio(poll.dashboard_requests as f64, push.dashboard_requests as f64),
    );
    row(
        &mut md,
        "Dashboards' response bytes",
        mib_bytes(poll.dashboard_bytes),
        mib_bytes(push.dashboard_bytes),
        ratio(poll.dashboard_bytes as f64, push.dashboard_bytes as f64),
    );
    row(&mut md, "WebSocket frames sent", thousands(poll.ws_frames as f64), thousands(push.ws_frames as f64), None);
    row(&mut md, "WebSocket bytes sent", mib_bytes(poll.ws_bytes), mib_bytes(push.ws_bytes), None);
    let total = |m: &ModeRun| m.dashboard_bytes + m.ws_bytes;
    row(
        &mut md,
        "Dashboards' bytes, HTTP + WebSocket",
        mib_bytes(total(poll)),
        mib_bytes(total(push)),
        ratio(total(poll) as f64, total(push) as f64),
    );
    row(
        &mut md,
        "Background checkouts (ok / failed)",
        format!("{} / {}", poll.writes_ok, poll.writes_failed),
        format!("{} / {}", push.writes_ok, push.writes_failed),
        None,
    );
    row(
        &mut md,
        "Background writer's requests, bytes",
        format!("{}, {}", poll.writer_requests, mib_bytes(poll.writer_bytes)),
        format!("{}, {}", push.writer_requests, mib_bytes(push.writer_bytes)),
        None,
    );
    row(
        &mut md,
        "Dashboard request answered (p50 / p99)",
        fmt_summary(poll.response_ms),
        fmt_summary(push.response_ms),
        None,
    );
    row(
        &mut md,
        "Requests late / failed",
        format!("{} / {}", poll.requests_late, poll.requests_failed),
        format!("{} / {}", push.requests_late, push.requests_failed),
        None,
    );
    row(
        &mut md,
        "Sockets failed / closed early",
        "—".to_owned(),
        format!("{} / {}", push.sockets_failed, push.sockets_closed),
        None,
    );
    row(
        &mut md,
        "Load generator's own CPU",
        format!("{:.2} s", poll.generator_cpu_secs),
        format!("{:.2} s", push.generator_cpu_secs),
        None,
    );
    md.push('\n');
    md.push_str(
        "The peak memory includes start-up, where seeding the demo accounts hashes their password once (argon2): \
         when a mode's peak at the end equals its peak before the window, the window never went above start-up \
         and the memory at the end is the figure to compare. The load generator runs on the same 2 cores as the \
         server; its own CPU is shown so its share is visible. Both windows include the first round of loads; \
         push spends nearly all of its HTTP work there and then only sends the events the writes cause.\n\n",
    );

    if let (Some(poll_steady), Some(push_steady)) = (&poll.steady, &push.steady) {
        md.push_str(&steady_table(poll_steady, push_steady));
    }

    md.push_str(&format!(
        "**Memory per idle socket**: a fresh server per N; after {} s its `VmRSS` is read, N authenticated \
         sockets subscribed to the owner dashboard's topics are opened ({} handshakes at a time, owner tokens in turn), and after \
         {} s idle `VmRSS` is read again.\n\n",
        SETTLE.as_secs(),
        PARALLEL_HANDSHAKES,
        IDLE_WAIT.as_secs(),
    ));
    md.push_str(
        "| Idle sockets | Server RSS before | Server RSS after | Server, per socket | Opening them | Closed \
         |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in idle {
        md.push_str(&format!(
            "| {} | {} | {} | {:.1} KiB | {:.1} s | {} |\n",
            thousands(r.sockets as f64),
            mib(r.server_rss_before_kib),
            mib(r.server_rss_after_kib),
            r.server_kib_per_socket,
            r.open_secs,
            r.closed,
        ));
    }
    md.push('\n');
    if let Some(largest) = idle.last() {
        md.push_str(&format!(
            "The server gives each socket a {READ_BUFFER_KIB:.0} KiB read buffer and writes its frames out \
             once {WRITE_BUFFER_KIB:.0} KiB wait or at the end of a batch (tungstenite's default buffers of 128 \
             KiB each would be ~260 KiB per socket); measured, an idle socket costs the server {:.1} KiB at {} \
             sockets, so 10,000 dashboards hold about {} of server memory. The goal is at most 8 KiB.\n",
            largest.server_kib_per_socket,
            thousands(largest.sockets as f64),
            mib((largest.server_kib_per_socket * 10_000.0).max(0.0) as u64),
        ));
    }
    md
}

/// The steady part of both windows: what each design costs once every dashboard has loaded.
fn steady_table(poll: &Steady, push: &Steady) -> String {
    let mut md = format!(
        "**Steady state**: the same two runs from {} s after the window starts (every first load is over) to its \
         end ({:.0} s): what each design costs while the dashboards stay open.\n\n",
        STEADY_AFTER.as_secs(),
        push.window_secs,
    );
    md.push_str("| Steady state | Polling | Push | Polling ÷ push |\n|---|---:|---:|---:|\n");
    let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.1}×", a / b) } else { "—".to_owned() };
    let rows = [
        (
            "Server CPU",
            format!("{:.2} s", poll.server_cpu_secs),
            format!("{:.2} s", push.server_cpu_secs),
            ratio(poll.server_cpu_secs, push.server_cpu_secs),
        ),
        (
            "Server CPU, share of one core",
            format!("{:.1}%", percent(poll.server_cpu_secs, poll.window_secs)),
            format!("{:.1}%", percent(push.server_cpu_secs, push.window_secs)),
            "—".to_owned(),
        ),
        (
            "Dashboards' HTTP requests",
            thousands(poll.dashboard_requests as f64),
            thousands(push.dashboard_requests as f64),
            ratio(poll.dashboard_requests as f64, push.dashboard_requests as f64),
        ),
        (
            "All HTTP requests (the background writer's included)",
            thousands(poll.all_requests as f64),
            thousands(push.all_requests as f64),
            ratio(poll.all_requests as f64, push.all_requests as f64),
        ),
        ("WebSocket frames sent", thousands(poll.ws_frames as f64), thousands(push.ws_frames as f64), "—".to_owned()),
        (
            "Dashboards' bytes, HTTP + WebSocket",
            mib_bytes(poll.dashboard_bytes + poll.ws_bytes),
            mib_bytes(push.dashboard_bytes + push.ws_bytes),
            ratio((poll.dashboard_bytes + poll.ws_bytes) as f64, (push.dashboard_bytes + push.ws_bytes) as f64),
        ),
        (
            "Load generator's own CPU",
            format!("{:.2} s", poll.generator_cpu_secs),
            format!("{:.2} s", push.generator_cpu_secs),
            "—".to_owned(),
        ),
    ];
    for (name, p, q, r) in rows {
        md.push_str(&format!("| {name} | {p} | {q} | {r} |\n"));
    }
    md.push('\n');
    md
}

fn fmt_summary(summary: Option<Summary>) -> String {
    summary.map_or("—".to_owned(), |s| format!("{:.1} / {:.1} ms", s.p50, s.p99))
}
