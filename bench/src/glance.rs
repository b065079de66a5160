//! The report's first table: each headline figure beside its anchor, read back from the parts' raw results
//! (`target/bench/<part>.json`), so it always matches the sections below it.

use serde_json::Value;

use crate::fmt::{FRAME_MS, fmt_ms, thousands};
use crate::stats::{Summary, percent};

/// The "At a glance" section from the raw results of the parts that have run (`(part, data)`).
pub fn section(results: &[(&str, Value)]) -> String {
    let mut rows = Vec::new();
    for (part, data) in results {
        let found = match *part {
            "requests" => requests(data),
            "latency" => latency(data),
            "fanout" => fanout(data),
            "cost" => cost(data),
            "start" => start(data),
            "tabs" => tabs(data),
            "cluster" => cluster(data),
            "offline" => offline(data),
            _ => None,
        };
        rows.extend(found.unwrap_or_else(|| vec![[part.to_string(), "no figures readable".into(), String::new()]]));
    }
    let mut md = String::from(
        "## At a glance\n\nEach headline figure beside its anchor; the sections below say how it was measured.\n\n\
         | Figure | Measured | Anchor |\n|---|---|---|\n",
    );
    for [figure, measured, anchor] in rows {
        md.push_str(&format!("| {figure} | {measured} | {anchor} |\n"));
    }
    md
}

type Rows = Vec<[String; 3]>;

fn num(value: &Value, path: &str) -> Option<f64> {
    path.split('.').try_fold(value, |v, key| v.get(key))?.as_f64()
}

fn requests(data: &Value) -> Option<Rows> {
    let counts = |design: &str, key: &str| -> Option<f64> {
        let c = data.get(design)?.get(key)?;
        Some(num(c, "api_reads")? + num(c, "api_writes")?)
    };
    let reads = |design: &str, key: &str| num(data, &format!("{design}.{key}.api_reads"));
    let minutes = num(data, "minutes")?;
    let (a, b) = (counts("polling", "counts")?, counts("push", "counts")?);
    let (a2, b2) = (counts("polling", "second_half")?, counts("push", "second_half")?);
    let (ra, rb) = (reads("polling", "counts")?, reads("push", "counts")?);
    Some(vec![
        [
            format!("API requests, scripted {minutes:.0}-minute session (owner, admin, customer)"),
            format!(
                "**{:.1}% fewer** ({} → {}); reads {:.1}% fewer ({} → {})",
                100.0 - percent(b, a),
                thousands(a),
                thousands(b),
                100.0 - percent(rb, ra),
                thousands(ra),
                thousands(rb)
            ),
            "spec: 90% fewer; our goal: 99% fewer".into(),
        ],
        [
            "… its second half alone (every page seen once)".into(),
            format!("{:.1}% fewer ({} → {})", 100.0 - percent(b2, a2), thousands(a2), thousands(b2)),
            "15 s polling: 240 requests per endpoint per hour".into(),
        ],
    ])
}

fn latency(data: &Value) -> Option<Rows> {
    let row = |key: &str, name: &str| -> Option<[String; 3]> {
        let (p50, p99) = (num(data, &format!("{key}.dom.p50"))?, num(data, &format!("{key}.dom.p99"))?);
        Some([
            format!("Event to screen in Chromium, {name}"),
            format!("p50 {}, p99 {}", fmt_ms(p50), fmt_ms(p99)),
            format!("one frame: {FRAME_MS:.1} ms; polling: 7.5 s on average, 15 s at worst"),
        ])
    };
    Some(vec![row("alone", "alone")?, row("with_fleet", "with 1,000 other live sockets")?])
}

fn fanout(data: &Value) -> Option<Rows> {
    let rows = data.get("rows")?.as_array()?;
    rows.iter()
        .map(|r| {
            Some([
                format!("Fan-out of one event to {} sockets", thousands(num(r, "sockets")?)),
                format!(
                    "p50 {}, p99 {}; {} deliveries/s; {} missed",
                    fmt_ms(num(r, "delivery_ms.p50")?),
                    fmt_ms(num(r, "delivery_ms.p99")?),
                    thousands(num(r, "deliveries_per_sec_median")?),
                    num(r, "missed")?
                ),
                format!("one frame: {FRAME_MS:.1} ms; polling: 7.5 s on average"),
            ])
        })
        .collect()
}

fn cost(data: &Value) -> Option<Rows> {
    let modes = data.get("modes")?.as_array()?;
    let mode = |name: &str| modes.iter().find(|m| m.get("mode").and_then(Value::as_str) == Some(name));
    let (poll, push) = (mode("polling")?, mode("push")?);
    let dashboards = num(poll, "dashboards")?;
    let window = num(poll, "window_secs")?;
    let mut rows = vec![[
        format!("Server CPU, {} dashboards for {window:.0} s", thousands(dashboards)),
        format!(
            "push {:.2} s, polling {:.2} s ({:.1}× less); requests {} vs {}",
            num(push, "server_cpu_secs")?,
            num(poll, "server_cpu_secs")?,
            num(poll, "server_cpu_secs")? / num(push, "server_cpu_secs")?.max(0.001),
            thousands(num(push, "dashboard_requests")?),
            thousands(num(poll, "dashboard_requests")?)
        ),
        "the same dashboards polling every 15 s, same run".into(),
    ]];
    if let (Some(poll_steady), Some(push_steady)) = (poll.get("steady"), push.get("steady"))
        && let (Some(poll_cpu), Some(push_cpu)) =
            (num(poll_steady, "server_cpu_secs"), num(push_steady, "server_cpu_secs"))
    {
        rows.push([
            format!("… its steady state (after the first loads, {:.0} s)", num(push_steady, "window_secs")?),
            format!(
                "push {push_cpu:.2} s, polling {poll_cpu:.2} s ({:.1}× less); requests {} vs {}",
                poll_cpu / push_cpu.max(0.001),
                thousands(num(push_steady, "dashboard_requests")?),
                thousands(num(poll_steady, "dashboard_requests")?)
            ),
            "goal: push ≤ 1/20 of polling".into(),
        ]);
    }
    for idle in data.get("idle")?.as_array()? {
        rows.push([
            format!("Server memory per idle socket at {}", thousands(num(idle, "sockets")?)),
            format!("{:.1} KiB", num(idle, "server_kib_per_socket")?),
            "goal: ≤ 8 KiB".into(),
        ]);
    }
    Some(rows)
}

fn start(data: &Value) -> Option<Rows> {
    let total = |bundle: &Value, field: &str| -> Option<f64> {
        let kinds = bundle.get("by_kind")?.as_array()?;
        let wanted =
            kinds.iter().filter(|k| matches!(k.get("kind").and_then(Value::as_str), Some("wasm" | "js" | "css")));
        wanted.map(|k| num(k, field)).sum()
    };
    let median = |visit: &str| -> Option<f64> {
        let samples: Vec<f64> =
            data.get("start")?.get("fast")?.get(visit)?.as_array()?.iter().filter_map(|s| num(s, "figures")).collect();
        Some(Summary::of(&samples)?.p50)
    };
    let mut rows = Vec::new();
    for bundle in data.get("bundles")?.as_array()? {
        let name = bundle.get("name")?.as_str()?;
        let goal = num(bundle, "goal_gzip")?;
        rows.push([
            format!("App size, {name}, wasm + js + css"),
            format!(
                "{:.1} KB gzip, {:.1} KB brotli",
                total(bundle, "gzip")? / 1000.0,
                total(bundle, "brotli")? / 1000.0
            ),
            format!("goal: ≤ {:.0} KB gzip (React 19 + TanStack Query ≈ 80 KB before app code)", goal / 1000.0),
        ]);
    }
    let visit = |name: &str| -> Option<f64> {
        let visit = data.get("first_visit")?.get(name)?;
        let files = visit.get("files")?.as_array()?;
        let app: f64 = files
            .iter()
            .filter(|f| !f.get("path").and_then(Value::as_str).unwrap_or_default().starts_with("/api/"))
            .filter_map(|f| num(f, "transfer"))
            .sum();
        Some(num(visit, "document")? + app)
    };
    if let (Some(shop), Some(owner)) = (visit("shop"), visit("owner")) {
        rows.push([
            "Cold first visit on the wire, page + app files".into(),
            format!("`/shop` {:.1} KB, `/owner` {:.1} KB", shop / 1000.0, owner / 1000.0),
            "goal: ≤ 150 KB and ≤ 250 KB gzip".into(),
        ]);
    }
    rows.push([
        "First dashboard figures on screen (loopback API)".into(),
        format!("cold {}, from the persisted cache {}", fmt_ms(median("cold")?), fmt_ms(median("persisted")?)),
        "the cold load of the same page".into(),
    ]);
    if let Some(mean) = data.get("event_cost").and_then(|cost| num(cost, "mean_ms")) {
        rows.push([
            "One event applied in Chromium, 256 cached entries".into(),
            format!("{mean:.2} ms"),
            "a 60 Hz frame: 16.7 ms".into(),
        ]);
    }
    Some(rows)
}

fn tabs(data: &Value) -> Option<Rows> {
    let mode = |name: &str, path: &str| num(data.get(name)?, path);
    let minutes = mode("five_tabs", "window_s")? / 60.0;
    let p99 = num(data, "handovers.summary.p99")?;
    let closes = data.get("handovers")?.get("ms")?.as_array()?.len();
    Some(vec![
        [
            format!("One owner, 5 tabs against 1, scripted {minutes:.0} minutes"),
            format!(
                "sockets held {} (1 tab: {}); API reads {} (1 tab: {})",
                mode("five_tabs", "sockets.max")?,
                mode("one_tab", "sockets.max")?,
                mode("five_tabs", "counts.api_reads")?,
                mode("one_tab", "counts.api_reads")?
            ),
            "goal: one socket and the first loads of one tab".into(),
        ],
        [format!("Handover to another tab, p99 over {closes} leader closes"), fmt_ms(p99), "goal: ≤ 2 s".into()],
    ])
}

fn offline(data: &Value) -> Option<Rows> {
    Some(vec![
        [
            "The storefront's start with the server down (service worker, persisted cache), median".into(),
            fmt_ms(num(data, "offline_start_ms.p50")?),
            format!("the same start online: {}", fmt_ms(num(data, "online_start_ms.p50")?)),
        ],
        [
            format!("{} cart changes queued offline: server back → outbox drained", num(data, "drain.writes")?),
            fmt_ms(num(data, "drain.drained_ms")?),
            format!("applied once: {} units added", num(data, "drain.units_added")?),
        ],
    ])
}

fn cluster(data: &Value) -> Option<Rows> {
    let largest = data.get("across")?.as_array()?.last()?;
    let sockets = num(largest, "sockets_per_instance")?;
    let (same, other) = (num(largest, "same_instance_ms.p99")?, num(largest, "other_instance_ms.p99")?);
    let storm = data.get("storm")?;
    Some(vec![
        [
            format!(
                "Cluster: delivery p99 to the other instance, {} + {} sockets",
                thousands(sockets),
                thousands(sockets)
            ),
            format!("{} ({:.2}× the same instance's {})", fmt_ms(other), other / same.max(0.001), fmt_ms(same)),
            "goal: ≤ 2× the same instance".into(),
        ],
        [
            format!("Cluster: {} clients resuming on the survivor of a kill", thousands(num(storm, "sockets")?)),
            format!(
                "all caught up after {:.2} s, {} resyncs",
                num(storm, "all_caught_up_secs")?,
                num(storm, "resyncs")?
            ),
            "goal: ≤ 10 s".into(),
        ],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn figures_are_read_from_the_raw_results_and_missing_ones_are_named() {
        let latency =
            json!({"alone": {"dom": {"p50": 4.4, "p99": 8.6}}, "with_fleet": {"dom": {"p50": 18.6, "p99": 34.1}}});
        let cost = json!({"modes": [{"mode": "polling", "dashboards": 1000, "window_secs": 60.0, "server_cpu_secs": 11.5,
            "dashboard_requests": 20000}, {"mode": "push", "server_cpu_secs": 4.6, "dashboard_requests": 5000}],
            "idle": [{"sockets": 1000, "server_kib_per_socket": 11.5}]});
        let md = section(&[("latency", latency), ("cost", cost), ("fanout", json!({"rows": "nope"}))]);
        assert!(md.contains("| Event to screen in Chromium, alone | p50 4.40 ms, p99 8.60 ms |"), "{md}");
        assert!(md.contains("push 4.60 s, polling 11.50 s (2.5× less); requests 5,000 vs 20,000"), "{md}");
        assert!(md.contains("| Server memory per idle socket at 1,000 | 11.5 KiB |"), "{md}");
        assert!(md.contains("| fanout | no figures readable |"), "{md}");
    }
}
