//! The states every data view has besides "here is the data": loading skeletons, an error with a retry
//! button, and an empty state; and the two switches between them that the pages share (`loaded` for a
//! section showing one value, `list_states` for a list with an empty state).
//!
//! Invariant: a value once shown stays on screen through later failed refreshes.

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

/// The usual three states of a section: a skeleton before the first value, the error with a retry when the
/// first load failed, otherwise `render` of the value. A later failure keeps the last good value on screen,
/// without the error; `loaded_with_error` shows the error above it too.
pub fn loaded<T, V>(
    data: impl Fn() -> Option<T> + Send + Sync + 'static,
    error: Signal<Option<String>>,
    refetch: Callback<()>,
    lines: usize,
    render: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    V: IntoView + 'static,
{
    switch(data, error, refetch, lines, false, render)
}

/// Like `loaded`, but a failed refresh after the first value shows the error (with its retry) above the value
/// kept on screen.
pub fn loaded_with_error<T, V>(
    data: impl Fn() -> Option<T> + Send + Sync + 'static,
    error: Signal<Option<String>>,
    refetch: Callback<()>,
    lines: usize,
    render: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    V: IntoView + 'static,
{
    switch(data, error, refetch, lines, true, render)
}

fn switch<T, V>(
    data: impl Fn() -> Option<T> + Send + Sync + 'static,
    error: Signal<Option<String>>,
    refetch: Callback<()>,
    lines: usize,
    error_over_value: bool,
    render: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    V: IntoView + 'static,
{
    move || match (data(), error.get()) {
        (Some(value), Some(message)) if error_over_value => view! {
            <ErrorState message=message on_retry=refetch/>
            {render(value)}
        }
        .into_any(),
        (Some(value), _) => render(value).into_any(),
        (None, Some(message)) => view! { <ErrorState message=message on_retry=refetch/> }.into_any(),
        (None, None) => view! { <Skeleton lines=lines/> }.into_any(),
    }
}

/// Which of its four states a list view is in, coarsely: the list itself re-renders per item, not per state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListState {
    /// No value yet and no error.
    Loading,
    /// No value and the load failed with this message.
    Failed(String),
    /// A value with no items.
    Empty,
    /// A value with items.
    Ready,
}

impl ListState {
    /// The state from whether the value has no items (`None` before the first value) and the last error. A
    /// value once there wins over a later error.
    pub fn of(is_empty: Option<bool>, error: Option<String>) -> Self {
        match (is_empty, error) {
            (Some(true), _) => ListState::Empty,
            (Some(false), _) => ListState::Ready,
            (None, Some(message)) => ListState::Failed(message),
            (None, None) => ListState::Loading,
        }
    }
}

/// The switch of a list view: a skeleton of `lines` while loading, the error (worded by `failed`) with a
/// retry, `empty()` when the list has no items and `ready()` otherwise. `ready()` runs again only when the
/// state changes, so the list inside it updates item by item.
pub fn list_states<E, R>(
    is_empty: impl Fn() -> Option<bool> + Send + Sync + 'static,
    error: Signal<Option<String>>,
    refetch: Callback<()>,
    lines: usize,
    failed: impl Fn(String) -> String + Send + Sync + 'static,
    empty: impl Fn() -> E + Send + Sync + 'static,
    ready: impl Fn() -> R + Send + Sync + 'static,
) -> impl IntoView
where
    E: IntoView + 'static,
    R: IntoView + 'static,
{
    let state = Memo::new(move |_| ListState::of(is_empty(), error.get()));
    move || match state.get() {
        ListState::Loading => view! { <Skeleton lines=lines/> }.into_any(),
        ListState::Failed(message) => view! { <ErrorState message=failed(message) on_retry=refetch/> }.into_any(),
        ListState::Empty => empty().into_any(),
        ListState::Ready => ready().into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::ListState;

    #[test]
    fn a_value_wins_over_an_error_and_an_error_over_loading() {
        assert_eq!(ListState::of(None, None), ListState::Loading);
        assert_eq!(ListState::of(None, Some("down".into())), ListState::Failed("down".into()));
        assert_eq!(ListState::of(Some(true), Some("down".into())), ListState::Empty);
        assert_eq!(ListState::of(Some(false), None), ListState::Ready);
    }
}
