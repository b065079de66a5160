//! The live badge of the header: how events reach the page right now, in words, with its figures as `data-*`
//! attributes (the end-to-end tests read them).
//!
//! Its tooltip names the last event delivered (the live layer subscribes to every topic for the cache).
//!
//! Invariant: the wording is pure ([`badge_text`], [`state_name`], [`describe_event`]); the component only
//! reads the WebSocket context.

use leptos::prelude::*;
use protocol::ServerMsg;

use crate::auth::use_auth;
use crate::realtime::context::use_websocket;
use crate::realtime::machine::{Millis, StateKind, Status, Transport};

/// The connection state in the header: "Live", "Connecting…", "Reconnecting in 3 s", "Polling", "Offline".
#[component]
pub fn ConnectionBadge() -> impl IntoView {
    let auth = use_auth();
    let ws = use_websocket();
    let last_event = move || ws.last_message.with(|msg| msg.as_ref().and_then(describe_event));
    let status = ws.status;
    let text = move || status.with(|s| badge_text(s, Millis(js_sys::Date::now().max(0.0) as u64)));
    let title = move || {
        let last = last_event().map(|e| format!(" Last event: {e}.")).unwrap_or_default();
        status.with(|s| format!("{} events received, last seq {}.{last}", s.counters.events_delivered, seq_text(s)))
    };
    view! {
        <Show when=move || auth.is_logged_in()>
            <span
                class="connection-badge"
                role="status"
                aria-live="polite"
                aria-label=move || format!("Live updates: {}", text())
                title=title
                data-state=move || status.with(|s| state_name(s.state))
                data-transport=move || status.with(|s| transport_name(s.transport))
                data-last-seq=move || status.with(seq_text)
                data-events=move || status.with(|s| s.counters.events_delivered.to_string())
                data-tab-role=move || ws.sharing.with(|sharing| tab_role(*sharing))
            >
                <span class="connection-dot" aria-hidden="true"></span>
                <span class="connection-text">{text}</span>
            </span>
        </Show>
    }
}

/// The `data-tab-role` value: whether this tab holds the browser's shared connection (`leads`), relays it
/// (`follows`), or keeps its own (`own`: the browser cannot share).
pub fn tab_role(sharing: Option<(bool, usize)>) -> &'static str {
    match sharing {
        Some((true, _)) => "leads",
        Some((false, _)) => "follows",
        None => "own",
    }
}

/// The badge's words for a status at `now`.
pub fn badge_text(status: &Status, now: Millis) -> String {
    match status.state {
        StateKind::Open => "Live".into(),
        StateKind::Connecting | StateKind::Authenticating | StateKind::RefreshingToken => "Connecting…".into(),
        StateKind::Backoff => match status.next_retry_at {
            Some(at) => format!("Reconnecting in {} s", at.0.saturating_sub(now.0).div_ceil(1000).max(1)),
            None => "Reconnecting…".into(),
        },
        StateKind::Polling => "Polling".into(),
        StateKind::Paused => "Paused".into(),
        StateKind::Idle | StateKind::Stopped => "Offline".into(),
    }
}

/// The `data-state` value of a state.
pub fn state_name(state: StateKind) -> &'static str {
    match state {
        StateKind::Idle => "idle",
        StateKind::Connecting => "connecting",
        StateKind::Authenticating => "authenticating",
        StateKind::Open => "open",
        StateKind::Backoff => "backoff",
        StateKind::RefreshingToken => "refreshing-token",
        StateKind::Paused => "paused",
        StateKind::Polling => "polling",
        StateKind::Stopped => "stopped",
    }
}

/// The `data-transport` value of a transport.
pub fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::WebSocket => "websocket",
        Transport::Polling => "polling",
    }
}

fn seq_text(status: &Status) -> String {
    status.last_seq.map(|s| s.to_string()).unwrap_or_default()
}

/// A short sentence about an event; `None` for control frames.
pub fn describe_event(msg: &ServerMsg) -> Option<String> {
    Some(match msg {
        ServerMsg::OrderUpdate(u) => format!("order #{} {:?}", u.order.id, u.action).to_lowercase(),
        ServerMsg::ProductUpdate(_) | ServerMsg::CatalogUpdate(_) => {
            let (action, product) = msg.product_change()?;
            format!("product “{}” {}", product.name, format!("{action:?}").to_lowercase())
        }
        ServerMsg::DashboardUpdate(u) => format!("figures of {} updated", u.shop_stats.shop_name),
        ServerMsg::Notification(n) => format!("notification: {}", n.notification.title),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::machine::Counters;

    fn status(state: StateKind) -> Status {
        Status {
            state,
            transport: Transport::WebSocket,
            attempt: 0,
            consecutive_failures: 0,
            next_retry_at: None,
            connected_since: None,
            last_seq: None,
            counters: Counters::default(),
            last_error: None,
            last_close_code: None,
        }
    }

    #[test]
    fn each_state_has_its_words() {
        let now = Millis(10_000);
        assert_eq!(badge_text(&status(StateKind::Open), now), "Live");
        assert_eq!(badge_text(&status(StateKind::Connecting), now), "Connecting…");
        assert_eq!(badge_text(&status(StateKind::Authenticating), now), "Connecting…");
        assert_eq!(badge_text(&status(StateKind::RefreshingToken), now), "Connecting…");
        assert_eq!(badge_text(&status(StateKind::Polling), now), "Polling");
        assert_eq!(badge_text(&status(StateKind::Paused), now), "Paused");
        assert_eq!(badge_text(&status(StateKind::Idle), now), "Offline");
        assert_eq!(badge_text(&status(StateKind::Stopped), now), "Offline");
    }

    #[test]
    fn backoff_counts_whole_seconds_up_and_never_shows_zero() {
        let mut s = status(StateKind::Backoff);
        s.next_retry_at = Some(Millis(12_100));
        assert_eq!(badge_text(&s, Millis(10_000)), "Reconnecting in 3 s");
        assert_eq!(badge_text(&s, Millis(12_100)), "Reconnecting in 1 s");
        assert_eq!(badge_text(&s, Millis(20_000)), "Reconnecting in 1 s");
        s.next_retry_at = None;
        assert_eq!(badge_text(&s, Millis(0)), "Reconnecting…");
    }

    #[test]
    fn data_attribute_names_are_stable() {
        assert_eq!(state_name(StateKind::Open), "open");
        assert_eq!(state_name(StateKind::RefreshingToken), "refreshing-token");
        assert_eq!(transport_name(Transport::Polling), "polling");
    }
}
