//! `/admin`: platform totals as cards, every shop's live figures (each linking to its drill-down) and the live
//! feed of the newest orders across shops, new ones highlighted as they arrive.
//!
//! Invariant: one query (`Query::Dashboard`) feeds the whole page; each part reads a memo of its slice, so an
//! event re-renders only the figures it changed.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos_router::components::A;
use protocol::{AdminDashboard, Order, PlatformTotals, Role, ShopStats};

use super::{StatusPill, admin_dashboard, shop_href};
use crate::auth::use_auth;
use crate::components::refresh::RefreshControl;
use crate::components::require_role::RequireRole;
use crate::components::states::{EmptyState, ErrorState, Skeleton};
use crate::data::dashboard::{DashboardRole, use_dashboard_data};
use crate::format::date_time;

/// The page for the admin role.
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Admin>
            <AdminOverview/>
        </RequireRole>
    }
}

#[component]
fn AdminOverview() -> impl IntoView {
    let auth = use_auth();
    let name = move || auth.session().with(|s| s.as_ref().map(|s| s.user.name.clone()).unwrap_or_default());
    let dashboard = use_dashboard_data(DashboardRole::Admin);
    let query = dashboard.shop_data();
    // Warm what the page and the next visits read (the shops, the catalog).
    dashboard.preload();
    let admin: Memo<Option<AdminDashboard>> = Memo::new(move |_| query.data.get().and_then(admin_dashboard));
    let totals = Memo::new(move |_| admin.with(|a| a.as_ref().map(|a| a.totals.clone())));
    let shops = Memo::new(move |_| admin.with(|a| a.as_ref().map(|a| a.shops.clone()).unwrap_or_default()));
    let orders = Memo::new(move |_| admin.with(|a| a.as_ref().map(|a| a.recent_orders.clone()).unwrap_or_default()));
    let wrong_shape = move || query.data.with(|d| d.is_some()) && admin.with(Option::is_none);
    let message = Signal::derive(move || {
        if wrong_shape() {
            "The server answered a dashboard that is not the admin's.".to_owned()
        } else {
            query.error.get().unwrap_or_default()
        }
    });
    let failed = move || wrong_shape() || (query.error.with(Option::is_some) && admin.with(Option::is_none));
    let refresh_failed = move || query.error.with(Option::is_some) && admin.with(Option::is_some);

    view! {
        <section class="admin" aria-labelledby="admin-title">
            <header class="admin-head">
                <h1 id="admin-title">"Every shop, live"</h1>
                <p class="muted">"Signed in as "{name}". Figures update as orders and products change."</p>
                <RefreshControl
                    on_refresh=dashboard.refresh_callback()
                    state=query.state
                />
            </header>
            <Show when=refresh_failed>
                <ErrorState message=message on_retry=query.refetch/>
            </Show>
            <Show
                when=move || admin.with(Option::is_some)
                fallback=move || {
                    view! {
                        <Show when=failed fallback=|| view! { <Skeleton lines=6/> }>
                            <ErrorState message=message on_retry=query.refetch/>
                        </Show>
                    }
                }
            >
                <TotalsCards totals=totals/>
                <div class="admin-columns">
                    <ShopsTable shops=shops/>
                    <OrderFeed orders=orders/>
                </div>
            </Show>
        </section>
    }
}

/// The platform totals, one card each.
#[component]
fn TotalsCards(
    /// The totals (`None` before the first load).
    totals: Memo<Option<PlatformTotals>>,
) -> impl IntoView {
    let card = move |label: &'static str, testid: &'static str, value: fn(&PlatformTotals) -> String| {
        view! {
            <div class="admin-stat">
                <dt>{label}</dt>
                <dd data-testid=testid>{move || totals.with(|t| t.as_ref().map(value).unwrap_or_default())}</dd>
            </div>
        }
    };
    view! {
        <dl class="admin-stats" aria-label="Platform totals">
            {card("Shops", "admin-total-shops", |t| t.shops.to_string())}
            {card("Products", "admin-total-products", |t| t.products.to_string())}
            {card("Customers", "admin-total-customers", |t| t.customers.to_string())}
            {card("Orders", "admin-total-orders", |t| t.total_orders.to_string())}
            {card("Revenue this month", "admin-total-revenue", |t| t.monthly_revenue_cents.to_string())}
        </dl>
    }
}

/// The row key of a shop: every figure, so a changed shop's row is rebuilt (and flashes) and others are kept.
fn shop_key(shop: &ShopStats) -> (i64, u64, u64, i64, u64, u64) {
    (
        shop.shop_id.0,
        shop.total_orders,
        shop.open_orders,
        shop.monthly_revenue_cents.0,
        shop.product_count,
        shop.low_stock_count,
    )
}

/// Every shop with its live figures; each name links to the shop's drill-down.
#[component]
fn ShopsTable(
    /// The shops' figures, by shop id.
    shops: Memo<Vec<ShopStats>>,
) -> impl IntoView {
    // Rows built after the first render are changes: they flash once.
    let first_render = StoredValue::new(true);
    Effect::new(move |_| first_render.set_value(false));
    view! {
        <section class="card admin-shops" aria-labelledby="admin-shops-title">
            <h2 id="admin-shops-title">"Shops"</h2>
            <Show
                when=move || shops.with(|s| !s.is_empty())
                fallback=|| view! { <EmptyState message="No shops yet."/> }
            >
                <div class="table-wrap">
                    <table class="data-table" data-testid="admin-shops">
                        <thead>
                            <tr>
                                <th scope="col">"Shop"</th>
                                <th scope="col" class="num">"Orders"</th>
                                <th scope="col" class="num">"Open"</th>
                                <th scope="col" class="num">"Revenue this month"</th>
                                <th scope="col" class="num">"Products"</th>
                                <th scope="col" class="num">"Low stock"</th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=move || shops.get() key=shop_key let:shop>
                                <tr
                                    data-shop-id=shop.shop_id.to_string()
                                    class:flash=move || !first_render.get_value()
                                >
                                    <th scope="row" data-label="Shop">
                                        <A href=shop_href(shop.shop_id)>{shop.shop_name.clone()}</A>
                                    </th>
                                    <td class="num" data-label="Orders" data-testid="shop-orders">
                                        {shop.total_orders}
                                    </td>
                                    <td class="num" data-label="Open" data-testid="shop-open-orders">
                                        {shop.open_orders}
                                    </td>
                                    <td class="num" data-label="Revenue this month" data-testid="shop-revenue">
                                        {shop.monthly_revenue_cents.to_string()}
                                    </td>
                                    <td class="num" data-label="Products" data-testid="shop-products">
                                        {shop.product_count}
                                    </td>
                                    <td
                                        class="num"
                                        class:warn={shop.low_stock_count > 0}
                                        data-label="Low stock"
                                        data-testid="shop-low-stock"
                                    >
                                        {shop.low_stock_count}
                                    </td>
                                </tr>
                            </For>
                        </tbody>
                    </table>
                </div>
            </Show>
        </section>
    }
}

/// The orders shown in the feed, each marked new when it was not there at the first render.
fn mark_new(orders: &[Order], seen_at_start: &HashSet<i64>) -> Vec<(Order, bool)> {
    orders.iter().map(|order| (order.clone(), !seen_at_start.contains(&order.id.0))).collect()
}

/// The newest orders across shops, newest first; orders arriving while the page is open are highlighted.
#[component]
fn OrderFeed(
    /// The newest orders across shops, newest first.
    orders: Memo<Vec<Order>>,
) -> impl IntoView {
    let seen_at_start = StoredValue::new(None::<HashSet<i64>>);
    let rows = Memo::new(move |_| {
        orders.with(|orders| {
            if seen_at_start.with_value(Option::is_none) {
                seen_at_start.set_value(Some(orders.iter().map(|o| o.id.0).collect()));
            }
            seen_at_start.with_value(|seen| mark_new(orders, seen.as_ref().expect("set above")))
        })
    });
    view! {
        <section class="card admin-feed-card" aria-labelledby="admin-feed-title">
            <h2 id="admin-feed-title">"Live orders"</h2>
            <Show
                when=move || orders.with(|o| !o.is_empty())
                fallback=|| view! { <EmptyState message="No orders yet: new ones appear here as they are placed."/> }
            >
                <ol class="feed" data-testid="admin-feed" aria-live="polite" aria-relevant="additions">
                    <For
                        each=move || rows.get()
                        key=|(order, _)| (order.id.0, order.status, order.updated_at.clone())
                        let:row
                    >
                        <FeedRow order=row.0 is_new=row.1/>
                    </For>
                </ol>
            </Show>
        </section>
    }
}

/// One order of the feed.
#[component]
fn FeedRow(
    /// The order.
    order: Order,
    /// Whether it arrived while the page was open (highlighted briefly).
    is_new: bool,
) -> impl IntoView {
    view! {
        <li
            class="feed-row"
            class:is-new=is_new
            data-order-id=order.id.to_string()
            data-shop-id=order.shop_id.to_string()
        >
            <span class="feed-id">{format!("#{}", order.id)}</span>
            <span class="feed-shop">
                <A href=shop_href(order.shop_id)>{order.shop_name.clone()}</A>
            </span>
            <span class="feed-customer">{order.customer_name.clone()}</span>
            <span class="feed-total">{order.total_cents.to_string()}</span>
            <StatusPill status=order.status/>
            <time class="feed-time muted" datetime=order.created_at.clone()>{date_time(&order.created_at)}</time>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Cents, OrderId, OrderStatus, ShopId, UserId};

    fn order(id: i64) -> Order {
        Order {
            id: OrderId(id),
            shop_id: ShopId(1),
            shop_name: "Green Leaf Grocery".into(),
            customer_id: UserId(5),
            customer_name: "Carla Mendes".into(),
            status: OrderStatus::Pending,
            items: vec![],
            total_cents: Cents(1300),
            created_at: "2026-11-27T10:00:00Z".into(),
            updated_at: "2026-11-27T10:00:00Z".into(),
            version: 1,
        }
    }

    #[test]
    fn orders_absent_at_the_start_are_new() {
        let seen: HashSet<i64> = [1, 2].into_iter().collect();
        let marked = mark_new(&[order(3), order(2), order(1)], &seen);
        let flags: Vec<(i64, bool)> = marked.iter().map(|(o, new)| (o.id.0, *new)).collect();
        assert_eq!(flags, vec![(3, true), (2, false), (1, false)]);
    }
}
