//! The dashboards' "Refresh" control: asks the server again for everything the dashboard shows (through
//! `use_dashboard_data(role).refresh_all_data()`), says "Refreshing…" while the answers come and "Updated …"
//! (or that it failed) once they are in.
//!
//! Invariant: what it says follows the page's reads ([`next_phase`], pure): "Updated" only once the refetch
//! the click started has ended without an error (a click with nothing to refetch is done at once).

use leptos::prelude::*;

use crate::cache::entry::EntryState;
use crate::format;

/// Where a refresh is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Not asked yet.
    Idle,
    /// Asked, and the page's reads are refetching.
    Refreshing,
    /// Done at this moment (RFC 3339).
    Updated { at: String },
    /// The refetch ended in an error: the last data stays on screen.
    Failed,
}

/// The phase after a click, the reads being `busy` just after it: nothing to refetch is done at once.
pub fn clicked(busy: bool, now: &str) -> Phase {
    if busy { Phase::Refreshing } else { Phase::Updated { at: now.to_owned() } }
}

/// The phase once the page's reads are `busy` (refetching) and `failed` (the last fetch failed).
pub fn next_phase(phase: &Phase, busy: bool, failed: bool, now: &str) -> Phase {
    match phase {
        Phase::Refreshing if busy => Phase::Refreshing,
        Phase::Refreshing if failed => Phase::Failed,
        Phase::Refreshing => Phase::Updated { at: now.to_owned() },
        other => other.clone(),
    }
}

/// What the status line says.
pub fn status_text(phase: &Phase) -> Option<String> {
    match phase {
        Phase::Idle | Phase::Refreshing => None,
        Phase::Updated { at } => Some(format!("Updated {}", format::date_time(at))),
        Phase::Failed => Some("Could not refresh: showing the last data".to_owned()),
    }
}

/// The button and its status line.
#[component]
pub fn RefreshControl(
    /// Asks the server again for what the page shows (invalidates it: the reads on screen refetch).
    on_refresh: Callback<()>,
    /// The state of the page's main read (its summary), which the status follows.
    state: Signal<EntryState>,
) -> impl IntoView {
    let busy = Signal::derive(move || matches!(state.get(), EntryState::Loading | EntryState::Refreshing));
    let failed = Signal::derive(move || state.get() == EntryState::Error);
    let phase = RwSignal::new(Phase::Idle);
    Effect::new(move |_| {
        let (busy, failed) = (busy.get(), failed.get());
        let next = phase.with_untracked(|p| next_phase(p, busy, failed, &now()));
        if phase.with_untracked(|p| *p != next) {
            phase.set(next);
        }
    });
    let refresh = move |_| {
        on_refresh.run(());
        phase.set(clicked(busy.get_untracked(), &now()));
    };
    let refreshing = move || phase.with(|p| *p == Phase::Refreshing);
    view! {
        <div class="refresh">
            <button type="button" class="button small" data-testid="refresh" disabled=refreshing on:click=refresh>
                {move || if refreshing() { "Refreshing…" } else { "Refresh" }}
            </button>
            <span class="muted small" role="status" data-testid="refreshed">
                {move || phase.with(status_text)}
            </span>
        </div>
    }
}

/// The browser's clock as RFC 3339 (UTC), for [`format::date_time`].
fn now() -> String {
    #[cfg(target_arch = "wasm32")]
    return String::from(js_sys::Date::new_0().to_iso_string());
    #[cfg(not(target_arch = "wasm32"))]
    return "1970-01-01T00:00:00Z".to_owned();
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: &str = "2026-12-03T10:05:00Z";

    #[test]
    fn a_refresh_is_updated_once_the_refetch_it_started_has_ended() {
        let phase = clicked(true, AT);
        assert_eq!(phase, Phase::Refreshing);
        assert_eq!(status_text(&phase), None);
        let phase = next_phase(&phase, true, false, AT);
        assert_eq!(phase, Phase::Refreshing, "still running");
        let phase = next_phase(&phase, false, false, AT);
        assert_eq!(phase, Phase::Updated { at: AT.into() });
        assert_eq!(status_text(&phase).as_deref(), Some("Updated Dec 3, 10:05"));
    }

    #[test]
    fn a_failed_refetch_says_so_and_nothing_to_refetch_is_done_at_once() {
        let phase = next_phase(&clicked(true, AT), false, true, AT);
        assert_eq!(phase, Phase::Failed);
        assert_eq!(status_text(&phase).as_deref(), Some("Could not refresh: showing the last data"));
        assert_eq!(clicked(false, AT), Phase::Updated { at: AT.into() });
    }

    #[test]
    fn the_reads_changing_before_any_click_change_nothing() {
        assert_eq!(next_phase(&Phase::Idle, true, false, AT), Phase::Idle);
        assert_eq!(next_phase(&Phase::Idle, false, true, AT), Phase::Idle);
        let done = Phase::Updated { at: AT.into() };
        assert_eq!(next_phase(&done, true, false, AT), done, "a live refetch later does not undo it");
    }
}
