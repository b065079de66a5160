//! Toasts: short messages that appear in a corner and go away by themselves (new orders, status changes,
//! errors of background actions).
//!
//! Invariant: provided once in `App`; text is rendered as text, never as HTML.

use leptos::prelude::*;

/// How a toast looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Success,
    Error,
}

impl ToastKind {
    fn class(self) -> &'static str {
        match self {
            ToastKind::Info => "toast info",
            ToastKind::Success => "toast success",
            ToastKind::Error => "toast error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Toast {
    id: u64,
    kind: ToastKind,
    title: String,
    message: String,
}

/// Handle to the toasts: `Copy`, provided once in `App`.
#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

/// How long a toast stays.
const TOAST_MS: u64 = 6_000;
/// At most this many toasts at once; the oldest goes first.
const MAX_TOASTS: usize = 4;

impl Toasts {
    /// Shows a toast for a few seconds.
    pub fn push(&self, kind: ToastKind, title: impl Into<String>, message: impl Into<String>) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let toast = Toast { id, kind, title: title.into(), message: message.into() };
        self.items.update(|items| {
            items.push(toast);
            if items.len() > MAX_TOASTS {
                items.remove(0);
            }
        });
        let items = self.items;
        set_timeout(
            move || {
                let _ = items.try_update(|items| items.retain(|t| t.id != id));
            },
            std::time::Duration::from_millis(TOAST_MS),
        );
    }

    fn dismiss(&self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }
}

/// Provides the toasts. Call once, in `App`, and render [`ToastHost`] once in the layout.
pub fn provide_toasts() -> Toasts {
    let toasts = Toasts { items: RwSignal::new(Vec::new()), next_id: StoredValue::new(0) };
    provide_context(toasts);
    toasts
}

/// The toasts provided in `App`.
pub fn use_toasts() -> Toasts {
    expect_context()
}

/// Where the toasts appear (a polite live region, so screen readers announce them).
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.items.get() key=|toast| toast.id let:toast>
                <div class=toast.kind.class()>
                    <strong>{toast.title.clone()}</strong>
                    <span>{toast.message.clone()}</span>
                    <button
                        type="button"
                        class="toast-close"
                        aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
