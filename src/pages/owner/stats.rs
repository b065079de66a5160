//! The owner's stat cards: orders (total and open), revenue this month, products, low stock.
//!
//! Invariant: figures come from the cached dashboard only; each card re-renders when its figure changes.

use leptos::prelude::*;
use protocol::ShopStats;

use super::OwnerData;
use crate::components::stat_card::StatCard;
use crate::components::states::loaded;

/// The row of stat cards.
#[component]
pub fn StatsSection(
    /// The owner's cached dashboard.
    data: OwnerData,
) -> impl IntoView {
    let stats = Memo::new(move |_| data.owner.with(|o| o.as_ref().map(|o| o.shop_stats.clone())));
    let figure = move |read: fn(&ShopStats) -> String| {
        Signal::derive(move || stats.with(|s| s.as_ref().map(read).unwrap_or_default()))
    };
    // Only the first value swaps the skeleton for the cards; later changes update the figures in place.
    let ready = Memo::new(move |_| stats.with(Option::is_some));
    let low_stock = Signal::derive(move || stats.with(|s| s.as_ref().is_some_and(|s| s.low_stock_count > 0)));
    view! {
        <section class="owner-stats" aria-label="Shop figures">
            {loaded(
                move || ready.get().then_some(()),
                data.error,
                data.refetch,
                2,
                move |()| {
                    view! {
                        <div class="stat-cards">
                            <StatCard
                                label="Total orders"
                                value=figure(|s| s.total_orders.to_string())
                                detail=figure(|s| format!("{} open", s.open_orders))
                                test_id="owner-total-orders"
                            />
                            <StatCard
                                label="Revenue this month"
                                value=figure(|s| s.monthly_revenue_cents.to_string())
                                test_id="owner-revenue"
                            />
                            <StatCard
                                label="Products"
                                value=figure(|s| s.product_count.to_string())
                                test_id="owner-products-count"
                            />
                            <StatCard
                                label="Low stock"
                                value=figure(|s| s.low_stock_count.to_string())
                                detail=figure(|_| "at 5 units or fewer".to_owned())
                                test_id="owner-low-stock"
                                warn=low_stock
                            />
                        </div>
                    }
                },
            )}
        </section>
    }
}
