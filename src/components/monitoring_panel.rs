//! The monitoring panel ("Monitoring and Debugging"): the cache's statistics per data type, the live
//! connection's status and counters, the last message received and the API requests this page made. A header
//! button opens it, for every visitor, signed in or not.
//!
//! Invariant: everything shown is read from signals (no timer, no request of its own); the wording is pure
//! ([`ago`], [`clock_time`], [`approx_bytes`], [`message_type`], [`summarize`]) and tested natively.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use protocol::ServerMsg;

use crate::api::request_count;
use crate::cache::context::use_cache_stats;
use crate::cache::key::DataKind;
use crate::cache::stats::Counters;
use crate::components::connection_badge::{badge_text, state_name, transport_name};
use crate::data::outbox::{Entry, State};
use crate::data::outbox_driver::use_writes;
use crate::realtime::context::use_websocket;
use crate::realtime::machine::{Millis, Status};

/// How long ago `since` was, at `now`: "just now", "42 s ago", "3 min ago", "2 h ago", "4 days ago".
pub fn ago(since: Millis, now: Millis) -> String {
    let secs = now.0.saturating_sub(since.0) / 1000;
    match secs {
        0..5 => "just now".to_owned(),
        5..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => match secs / 86_400 {
            1 => "1 day ago".to_owned(),
            days => format!("{days} days ago"),
        },
    }
}

/// A Unix time in milliseconds as a UTC wall-clock time, "10:42:07 UTC".
pub fn clock_time(at: Millis) -> String {
    let secs = (at.0 / 1000) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", secs / 3600, secs / 60 % 60, secs % 60)
}

/// A size in bytes, roughly: "512 B", "1.5 KB", "2.0 MB".
pub fn approx_bytes(bytes: u64) -> String {
    const KB: u64 = 1024;
    match bytes {
        0..KB => format!("{bytes} B"),
        KB..1_048_576 => tenths(bytes, KB, "KB"),
        _ => tenths(bytes, 1_048_576, "MB"),
    }
}

/// `bytes / unit` with one decimal, rounded, in integers (float formatting would add kilobytes of wasm).
fn tenths(bytes: u64, unit: u64, name: &str) -> String {
    let tenths = (u128::from(bytes) * 10 + u128::from(unit / 2)) / u128::from(unit);
    format!("{}.{} {name}", tenths / 10, tenths % 10)
}

/// The wire name of a message's type (`order_update`, `auth_ok`, …).
pub fn message_type(msg: &ServerMsg) -> &'static str {
    match msg {
        ServerMsg::AuthOk { .. } => "auth_ok",
        ServerMsg::Pong => "pong",
        ServerMsg::Error { .. } => "error",
        ServerMsg::Resync => "resync",
        ServerMsg::Subscribed { .. } => "subscribed",
        ServerMsg::OrderUpdate(_) => "order_update",
        ServerMsg::ProductUpdate(_) => "product_update",
        ServerMsg::DashboardUpdate(_) => "dashboard_update",
        ServerMsg::Notification(_) => "notification",
        ServerMsg::CatalogUpdate(_) => "catalog_update",
    }
}

/// One line about a message: its type, its seq when it has one, and what it says.
pub fn summarize(msg: &ServerMsg) -> String {
    let what = match msg {
        ServerMsg::AuthOk { user, .. } => format!("signed in as {}", user.name),
        ServerMsg::Pong => "heartbeat answered".to_owned(),
        ServerMsg::Error { code, message } => format!("{code}: {message}"),
        ServerMsg::Resync => "events were missed: refetching".to_owned(),
        ServerMsg::Subscribed { topics } => {
            let names: Vec<String> = topics
                .iter()
                .map(|t| serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
                .collect();
            format!("topics {}", names.join(", "))
        }
        ServerMsg::OrderUpdate(u) => format!(
            "order #{} {} ({}, {}, {}, {})",
            u.order.id,
            action_word(&u.action),
            u.order.shop_name,
            u.order.customer_name,
            u.order.total_cents,
            u.order.status.as_str()
        ),
        ServerMsg::ProductUpdate(_) | ServerMsg::CatalogUpdate(_) => {
            let (action, product) = msg.product_change().expect("a product event");
            format!(
                "product “{}” {} ({}, stock {})",
                product.name,
                action_word(&action),
                product.shop_name,
                product.stock
            )
        }
        ServerMsg::DashboardUpdate(u) => format!(
            "figures of {}: {} orders, {} open, {} this month",
            u.shop_stats.shop_name,
            u.shop_stats.total_orders,
            u.shop_stats.open_orders,
            u.shop_stats.monthly_revenue_cents
        ),
        ServerMsg::Notification(n) => format!("notification: {}", n.notification.title),
    };
    match msg.seq() {
        Some(seq) => format!("{} · seq {seq} · {what}", message_type(msg)),
        None => format!("{} · {what}", message_type(msg)),
    }
}

/// The snake_case wire name of an action enum, as words ("status_changed" → "status changed").
fn action_word<T: serde::Serialize>(action: &T) -> String {
    serde_json::to_value(action).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()
}

/// A cache hit rate as a percentage, "75%" ("–" before the first lookup).
pub fn hit_rate_text(counters: &Counters) -> String {
    counters.hit_rate().map(|rate| format!("{}%", (rate * 100.0).round() as u64)).unwrap_or_else(|| "–".to_owned())
}

/// The "Monitor" button of the header and the panel it opens (hidden until asked for).
#[component]
pub fn MonitoringToggle() -> impl IntoView {
    let open = RwSignal::new(false);
    let button = NodeRef::<leptos::html::Button>::new();
    let close = Callback::new(move |()| {
        open.set(false);
        if let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
    });
    view! {
        <button
            type="button"
            class="button secondary monitor-toggle"
            node_ref=button
            aria-expanded=move || open.get().to_string()
            aria-controls=move || open.get().then_some("monitoring-panel")
            data-testid="monitor-toggle"
            on:click=move |_| open.update(|o| *o = !*o)
        >
            "Monitor"
        </button>
        <Show when=move || open.get()>
            <MonitoringPanel on_close=close/>
        </Show>
    }
}

/// The panel itself: cache, connection, last message and requests, all live.
#[component]
pub fn MonitoringPanel(
    /// Called when the user closes the panel (its button or Escape).
    on_close: Callback<()>,
) -> impl IntoView {
    let on_keydown = move |event: KeyboardEvent| {
        if event.key() == "Escape" {
            on_close.run(());
        }
    };
    view! {
        <aside
            id="monitoring-panel"
            class="monitoring-panel"
            aria-labelledby="monitoring-title"
            data-testid="monitoring-panel"
            on:keydown=on_keydown
        >
            <header class="monitoring-head">
                <h2 id="monitoring-title">"Monitoring"</h2>
                <button type="button" class="button secondary" on:click=move |_| on_close.run(())>
                    "Close"
                </button>
            </header>
            <RequestsSection/>
            <ConnectionSection/>
            <OutboxSection/>
            <CacheSection/>
        </aside>
    }
}

#[component]
fn RequestsSection() -> impl IntoView {
    let requests = request_count();
    view! {
        <section aria-labelledby="monitor-requests-title">
            <h3 id="monitor-requests-title">"API requests"</h3>
            <p>
                <strong data-testid="monitor-requests">{move || requests.get()}</strong>
                " made by this page since it loaded"
            </p>
        </section>
    }
}

fn now() -> Millis {
    Millis(js_sys::Date::now().max(0.0) as u64)
}

fn since_text(status: &Status) -> String {
    match status.connected_since {
        Some(since) => format!("{} ({})", clock_time(since), ago(since, now())),
        None => "not connected".to_owned(),
    }
}

/// Whether this tab leads or follows the connection its browser's tabs share, and how many share it.
fn sharing_text(sharing: Option<(bool, usize)>) -> String {
    match sharing {
        None => "this tab only (its own connection)".to_owned(),
        Some((true, 1)) => "leads (the only tab)".to_owned(),
        Some((true, tabs)) => format!("leads, shared by {tabs} tabs"),
        Some((false, tabs)) => format!("follows, shared by {tabs} tabs"),
    }
}

#[component]
fn ConnectionSection() -> impl IntoView {
    let ws = use_websocket();
    let status = ws.status;
    let last = ws.last_message;
    let row = move |label: &'static str, value: fn(&Status) -> String| {
        view! {
            <dt>{label}</dt>
            <dd>{move || status.with(value)}</dd>
        }
    };
    view! {
        <section aria-labelledby="monitor-connection-title">
            <h3 id="monitor-connection-title">"Connection"</h3>
            <dl class="monitor-grid">
                <dt>"State"</dt>
                <dd
                    data-testid="monitor-connection-state"
                    data-state=move || status.with(|s| state_name(s.state))
                >
                    {move || status.with(|s| format!("{} ({})", state_name(s.state), badge_text(s, now())))}
                </dd>
                {row("Transport", |s| transport_name(s.transport).to_owned())}
                <dt>"Tabs"</dt>
                <dd data-testid="monitor-tabs">{move || ws.sharing.with(|sharing| sharing_text(*sharing))}</dd>
                {row("Attempts", |s| format!("{} ({} failed in a row)", s.attempt, s.consecutive_failures))}
                {row("Next retry", |s| s.next_retry_at.map(clock_time).unwrap_or_else(|| "–".to_owned()))}
                {row("Connected since", since_text)}
                {row("Last seq", |s| s.last_seq.map(|q| q.to_string()).unwrap_or_else(|| "–".to_owned()))}
                {row("Messages received", |s| s.counters.messages_received.to_string())}
                {row("Events delivered", |s| s.counters.events_delivered.to_string())}
                {row("Duplicates dropped", |s| s.counters.duplicates_dropped.to_string())}
                {row("Malformed / oversized", |s| format!("{} / {}", s.counters.malformed_messages, s.counters.oversized_messages))}
                {row("Server errors", |s| s.counters.server_errors.to_string())}
                {row("Sockets opened", |s| s.counters.sockets_opened.to_string())}
                {row("Resyncs", |s| s.counters.resyncs.to_string())}
                {row("Polls (failed)", |s| format!("{} ({})", s.counters.polls, s.counters.poll_failures))}
                {row("Last error", |s| {
                    let error = s.last_error.clone().unwrap_or_else(|| "–".to_owned());
                    match s.last_close_code {
                        Some(code) => format!("{error} (close code {code})"),
                        None => error,
                    }
                })}
            </dl>
            <h3>"Last message"</h3>
            <p class="monitor-last" data-testid="monitor-last-message">
                {move || last.with(|m| m.as_ref().map(summarize).unwrap_or_else(|| "None yet".to_owned()))}
            </p>
        </section>
    }
}

/// The writes waiting for the server (pending or retrying) and those it refused lately.
#[component]
fn OutboxSection() -> impl IntoView {
    let writes = use_writes();
    let state = |entry: &Entry| match (&entry.state, entry.attempts) {
        (State::Sending, _) => "sending".to_owned(),
        (State::Waiting { .. }, 0) => "pending".to_owned(),
        (State::Waiting { not_before }, n) => {
            let why = entry.last_error.clone().unwrap_or_default();
            format!("retrying at {} ({n} failed: {why})", clock_time(Millis(not_before.0)))
        }
    };
    view! {
        <section aria-labelledby="monitor-outbox-title">
            <h3 id="monitor-outbox-title">"Outbox"</h3>
            <p data-testid="monitor-outbox-pending">
                {move || match writes.pending() {
                    0 => "No change waiting.".to_owned(),
                    n => format!("{n} waiting for the server"),
                }}
            </p>
            <ul class="monitor-outbox">
                {move || {
                    writes
                        .entries()
                        .into_iter()
                        .map(|entry| view! { <li data-state=state(&entry)>{entry.write.describe()} " — " {state(&entry)}</li> })
                        .collect_view()
                }}
                {move || {
                    writes
                        .failed()
                        .into_iter()
                        .map(|f| {
                            view! {
                                <li data-state="failed">
                                    {f.write.describe()} " — refused at " {clock_time(Millis(f.at.0))} ": " {f.message}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}

#[component]
fn CacheSection() -> impl IntoView {
    let stats = use_cache_stats();
    let row = move |name: &'static str, counters: Box<dyn Fn() -> Counters + Send + Sync>| {
        let counters = Signal::derive(counters);
        let cell = move |value: fn(&Counters) -> String| view! { <td class="num">{move || counters.with(value)}</td> };
        view! {
            <tr data-kind=name>
                <th scope="row">{name}</th>
                {cell(|c| c.hits.to_string())}
                {cell(|c| c.misses.to_string())}
                {cell(|c| c.stale_hits.to_string())}
                {cell(|c| c.fetches.to_string())}
                {cell(|c| c.deduplicated.to_string())}
                {cell(|c| c.errors.to_string())}
                {cell(|c| c.evictions.to_string())}
                {cell(|c| c.entries.to_string())}
                {cell(|c| approx_bytes(c.bytes))}
                {cell(hit_rate_text)}
            </tr>
        }
    };
    view! {
        <section aria-labelledby="monitor-cache-title">
            <h3 id="monitor-cache-title">"Cache"</h3>
            <div class="table-wrap">
                <table class="data-table monitor-cache" data-testid="monitor-cache">
                    <thead>
                        <tr>
                            <th scope="col">"Data"</th>
                            <th scope="col" class="num">"Hits"</th>
                            <th scope="col" class="num">"Misses"</th>
                            <th scope="col" class="num">"Stale hits"</th>
                            <th scope="col" class="num">"Fetches"</th>
                            <th scope="col" class="num">"De-duplicated"</th>
                            <th scope="col" class="num">"Errors"</th>
                            <th scope="col" class="num">"Evictions"</th>
                            <th scope="col" class="num">"Entries"</th>
                            <th scope="col" class="num">"Bytes"</th>
                            <th scope="col" class="num">"Hit rate"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {DataKind::ALL
                            .into_iter()
                            .map(|kind| row(kind.as_str(), Box::new(move || stats.with(|s| s.kind(kind)))))
                            .collect_view()}
                    </tbody>
                    <tfoot>{row("total", Box::new(move || stats.with(|s| s.total)))}</tfoot>
                </table>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{
        Cents, DashboardUpdate, Order, OrderAction, OrderId, OrderStatus, OrderUpdate, ShopId, ShopStats, Topic, UserId,
    };

    #[test]
    fn durations_read_naturally() {
        let now = Millis(10_000_000);
        assert_eq!(ago(Millis(10_000_000), now), "just now");
        assert_eq!(ago(Millis(9_996_000), now), "just now");
        assert_eq!(ago(Millis(9_958_000), now), "42 s ago");
        assert_eq!(ago(Millis(10_000_000 - 3 * 60_000 - 5_000), now), "3 min ago");
        assert_eq!(ago(Millis(10_000_000 - 2 * 3_600_000), now), "2 h ago");
        assert_eq!(ago(Millis(0), Millis(86_400_000)), "1 day ago");
        assert_eq!(ago(Millis(0), Millis(4 * 86_400_000 + 1)), "4 days ago");
        // A clock that went back a little is "just now", never a panic.
        assert_eq!(ago(Millis(10_000_500), now), "just now");
    }

    #[test]
    fn clock_times_and_sizes() {
        assert_eq!(clock_time(Millis(0)), "00:00:00 UTC");
        // 2026-11-27T10:42:07Z
        assert_eq!(clock_time(Millis(1_795_776_127_000)), "10:42:07 UTC");
        assert_eq!(approx_bytes(512), "512 B");
        assert_eq!(approx_bytes(1536), "1.5 KB");
        assert_eq!(approx_bytes(2 * 1_048_576), "2.0 MB");
        assert_eq!(approx_bytes(1_048_575), "1024.0 KB");
        assert_eq!(approx_bytes(1_100), "1.1 KB");
        assert_eq!(approx_bytes(u64::MAX / 4), "4398046511104.0 MB");
    }

    #[test]
    fn hit_rates_are_percentages() {
        assert_eq!(hit_rate_text(&Counters::default()), "–");
        let counters = Counters { hits: 3, misses: 1, ..Counters::default() };
        assert_eq!(hit_rate_text(&counters), "75%");
    }

    fn order_update() -> ServerMsg {
        ServerMsg::OrderUpdate(OrderUpdate {
            action: OrderAction::StatusChanged,
            order: Order {
                id: OrderId(71),
                shop_id: ShopId(1),
                shop_name: "Green Leaf Grocery".into(),
                customer_id: UserId(6),
                customer_name: "Tom Becker".into(),
                status: OrderStatus::Paid,
                items: vec![],
                total_cents: Cents(1300),
                created_at: "2026-11-27T10:00:00Z".into(),
                updated_at: "2026-11-27T10:00:00Z".into(),
                version: 1,
            },
            total_orders: 21,
            monthly_revenue: Cents(48_057),
            seq: 42,
        })
    }

    #[test]
    fn messages_are_summed_up_in_one_line() {
        assert_eq!(
            summarize(&order_update()),
            "order_update · seq 42 · order #71 status changed (Green Leaf Grocery, Tom Becker, $13.00, paid)"
        );
        let dashboard = ServerMsg::DashboardUpdate(DashboardUpdate {
            shop_stats: ShopStats {
                shop_id: ShopId(1),
                shop_name: "Green Leaf Grocery".into(),
                total_orders: 21,
                open_orders: 5,
                monthly_revenue_cents: Cents(48_057),
                product_count: 10,
                low_stock_count: 3,
            },
            notifications: vec![],
            timestamp: "2026-11-27T10:00:00Z".into(),
            seq: 43,
        });
        assert_eq!(
            summarize(&dashboard),
            "dashboard_update · seq 43 · figures of Green Leaf Grocery: 21 orders, 5 open, $480.57 this month"
        );
        assert_eq!(summarize(&ServerMsg::Pong), "pong · heartbeat answered");
        assert_eq!(
            summarize(&ServerMsg::Subscribed { topics: vec![Topic::Orders, Topic::Dashboard] }),
            "subscribed · topics orders, dashboard"
        );
        assert_eq!(message_type(&ServerMsg::Resync), "resync");
    }
}
