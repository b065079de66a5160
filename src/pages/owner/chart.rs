//! The revenue section: the last 30 days of the cached dashboard as a bar chart.
//!
//! Invariant: draws from the dashboard's `revenue_by_day` only; a new order moves its day's bar live.

use leptos::prelude::*;
use protocol::Cents;

use super::OwnerData;
use crate::components::revenue_chart::RevenueChart;
use crate::components::states::loaded;

/// The revenue chart with its heading and the period's total.
#[component]
pub fn RevenueSection(
    /// The owner's cached dashboard.
    data: OwnerData,
) -> impl IntoView {
    let days = Memo::new(move |_| data.owner.with(|o| o.as_ref().map(|o| o.revenue_by_day.clone())));
    let ready = Memo::new(move |_| days.with(Option::is_some));
    let total = move || days.with(|d| d.iter().flatten().map(|d| d.revenue_cents).sum::<Cents>());
    view! {
        <section class="owner-section owner-revenue" id="revenue" aria-labelledby="owner-revenue-title">
            <div class="section-head">
                <h2 id="owner-revenue-title">"Revenue, last 30 days"</h2>
                <span class="muted" data-testid="owner-revenue-30d">{move || total().to_string()}</span>
            </div>
            {loaded(
                move || ready.get().then_some(()),
                data.error,
                data.refetch,
                4,
                move |()| {
                    let days = Signal::derive(move || days.get().unwrap_or_default());
                    view! { <RevenueChart days=days/> }
                },
            )}
        </section>
    }
}
