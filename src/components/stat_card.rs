//! A stat card: one figure with its label and an optional detail line, read out as "label: value".
//!
//! Invariant: renders text only; the figure is a signal so a live change re-renders the card alone.

use leptos::prelude::*;

/// One figure of a dashboard.
#[component]
pub fn StatCard(
    /// What the figure is ("Total orders"); also the start of the card's accessible name.
    label: &'static str,
    /// The figure, formatted ("20", "$467.57").
    #[prop(into)]
    value: Signal<String>,
    /// A detail under the figure ("4 open"), if any.
    #[prop(optional, into)]
    detail: Option<Signal<String>>,
    /// The card's `data-testid`, for tests.
    test_id: &'static str,
    /// Whether the figure asks for attention (low stock): styled as a warning.
    #[prop(optional, into)]
    warn: Signal<bool>,
) -> impl IntoView {
    let name = move || match detail {
        Some(detail) => format!("{label}: {}, {}", value.get(), detail.get()),
        None => format!("{label}: {}", value.get()),
    };
    view! {
        <div class="stat-card" class:warn=move || warn.get() role="group" aria-label=name data-testid=test_id>
            <span class="stat-label" aria-hidden="true">{label}</span>
            <strong class="stat-value" aria-hidden="true">{move || value.get()}</strong>
            {detail.map(|detail| view! { <span class="stat-detail" aria-hidden="true">{move || detail.get()}</span> })}
        </div>
    }
}
