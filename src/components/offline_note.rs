//! The notes above every page about the app itself: "Offline — data from 14:32" while the server cannot be
//! reached, and "A new version is available — Reload" once a new version of the app took over (see
//! `sw_driver`).

use leptos::prelude::*;

use crate::api::unreachable;
use crate::cache::context::DataFrom;
use crate::cache::time::Millis;
use crate::realtime::context::use_websocket;
use crate::realtime::machine::StateKind;
use crate::sw_driver::use_new_version;

/// `14:32` (UTC, as the monitoring panel) of a wall-clock time.
pub fn hour_minute(at: Millis) -> String {
    let minutes = (at.0 / 60_000) % (24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The offline note's text: the time of the data the app opened with, when it opened with saved data.
pub fn offline_text(data_from: Option<Millis>) -> String {
    match data_from {
        Some(at) => format!("Offline — data from {} UTC", hour_minute(at)),
        None => "Offline — showing what was loaded before".to_owned(),
    }
}

/// Both notes, when they apply.
#[component]
pub fn AppNotes() -> impl IntoView {
    let unreachable = unreachable();
    // A socket that is open proves the server reachable, whatever the last request said.
    let status = use_websocket().status;
    let offline = Signal::derive(move || unreachable.get() && status.with(|s| s.state != StateKind::Open));
    let data_from = use_context::<DataFrom>().and_then(|d| d.0);
    let new_version = use_new_version();
    view! {
        <Show when=move || offline.get()>
            <p class="app-note offline-note" role="status" data-testid="offline-note">{offline_text(data_from)}</p>
        </Show>
        <Show when=move || new_version.get()>
            <p class="app-note update-note" role="status" data-testid="update-note">
                "A new version is available — "
                <button type="button" class="button small" on:click=|_| reload()>"Reload"</button>
            </p>
        </Show>
    }
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offline_note_says_how_old_the_data_is() {
        let at = Millis(((14 * 60 + 32) * 60 + 15) * 1000 + 86_400_000 * 3);
        assert_eq!(hour_minute(at), "14:32");
        assert_eq!(offline_text(Some(at)), "Offline — data from 14:32 UTC");
        assert_eq!(offline_text(None), "Offline — showing what was loaded before");
    }
}
