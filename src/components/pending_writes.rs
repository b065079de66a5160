//! The header's note of changes still waiting for the server ("Offline · 2 changes waiting"), shown only while
//! some wait.

use leptos::prelude::*;

use crate::data::outbox_driver::use_writes;

/// The note for `pending` waiting changes; `None` when nothing waits.
pub fn pending_text(pending: usize, online: bool) -> Option<String> {
    let changes = match pending {
        0 => return None,
        1 => "1 change waiting".to_owned(),
        n => format!("{n} changes waiting"),
    };
    Some(if online { changes } else { format!("Offline · {changes}") })
}

/// The header's note.
#[component]
pub fn PendingWrites() -> impl IntoView {
    let writes = use_writes();
    let text = move || pending_text(writes.pending(), writes.online());
    view! {
        <Show when=move || text().is_some()>
            <span class="pending-writes" role="status" data-testid="pending-writes" data-pending=move || writes.pending()>
                {move || text().unwrap_or_default()}
            </span>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_counts_the_changes_and_says_offline() {
        assert_eq!(pending_text(0, false), None);
        assert_eq!(pending_text(1, true).as_deref(), Some("1 change waiting"));
        assert_eq!(pending_text(3, false).as_deref(), Some("Offline · 3 changes waiting"));
    }
}
