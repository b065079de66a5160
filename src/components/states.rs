//! The states every data view has besides "here is the data": loading skeletons, an error with a retry
//! button, and an empty state.

use leptos::prelude::*;

/// Grey placeholder lines shown while the first load is running.
#[component]
pub fn Skeleton(
    /// How many placeholder lines to show.
    #[prop(default = 3)]
    lines: usize,
) -> impl IntoView {
    view! {
        <div class="skeleton" aria-busy="true" aria-label="Loading">
            {(0..lines).map(|_| view! { <div class="skeleton-line"></div> }).collect_view()}
        </div>
    }
}

/// A failed load: what went wrong and a button to try again.
#[component]
pub fn ErrorState(
    /// What went wrong, in words a user can act on.
    #[prop(into)]
    message: Signal<String>,
    /// Called when the user asks to try again.
    on_retry: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="error-state" role="alert">
            <p>{move || message.get()}</p>
            <button type="button" class="button secondary" on:click=move |_| on_retry.run(())>
                "Try again"
            </button>
        </div>
    }
}

/// Nothing to show yet, said plainly.
#[component]
pub fn EmptyState(
    /// The sentence to show.
    #[prop(into)]
    message: String,
) -> impl IntoView {
    view! { <p class="empty-state">{message}</p> }
}
