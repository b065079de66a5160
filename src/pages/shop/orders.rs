//! `/orders`: the customer's own orders, newest first, with live statuses, a page at a time (`?page=`).
//!
//! Invariant: read through the cache (`Query::Orders`, no status or shop filter), which follows the server
//! live: a status the owner changes shows here at once.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use protocol::{Order, OrderId, Page, Role};

use super::format::{ORDERS_PER_PAGE, page_count};
use super::parts::{Price, StatusBadge};
use crate::components::refresh::RefreshControl;
use crate::components::require_role::RequireRole;
use crate::components::states::{EmptyState, list_states};
use crate::data::dashboard::{DashboardRole, use_dashboard_data};
use crate::format::date;

/// The "My orders" page.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| {
        query.with(|q| q.get_str("page").and_then(|p| p.parse::<u32>().ok()).filter(|p| *p >= 1).unwrap_or(1))
    });
    view! {
        <RequireRole role=Role::Customer>
            <section class="shop-page orders-page">
                {move || {
                    let page = page.get();
                    view! { <OrderList page/> }
                }}
            </section>
        </RequireRole>
    }
}

/// One page of orders.
#[component]
fn OrderList(
    /// 1-based page number.
    page: u32,
) -> impl IntoView {
    let dashboard = use_dashboard_data(DashboardRole::Customer);
    let orders = dashboard.orders(page);
    let data = orders.data;
    let ids =
        move || data.with(|d| d.as_ref().map(|p| p.items.iter().map(|o| o.id).collect::<Vec<_>>()).unwrap_or_default());
    let pages = move || page_count(data.with(|d| d.as_ref().map_or(0, |p| p.total)), ORDERS_PER_PAGE);
    let refresh = dashboard.refresh_callback();
    let list = list_states(
        move || data.with(|d| d.as_ref().map(|p| p.items.is_empty())),
        orders.error,
        orders.refetch,
        5,
        |message| format!("Your orders could not be loaded: {message}"),
        move || {
            view! {
                <div data-testid="orders">
                    <EmptyState message="You have no orders yet."/>
                    <A href="/shop" attr:class="button">"Browse the shop"</A>
                </div>
            }
            .into_any()
        },
        move || {
            view! {
                <ul class="order-list" data-testid="orders">
                    <For each=ids key=|id| *id let:id>
                        {
                            let find = move |d: &Option<Page<Order>>| {
                                d.as_ref().and_then(|p| p.items.iter().find(|o| o.id == id).cloned())
                            };
                            data.with_untracked(find).map(|first| {
                                let order = Signal::derive(move || data.with(find).unwrap_or_else(|| first.clone()));
                                view! { <OrderRow order/> }
                            })
                        }
                    </For>
                </ul>
                <Show when=move || { pages() > 1 || page > 1 }>
                    <nav class="pager" aria-label="Pages">
                        <Show when=move || { page > 1 }>
                            <A href=format!("/orders?page={}", page - 1) attr:rel="prev">"← Newer"</A>
                        </Show>
                        <span>{move || format!("Page {page} of {}", pages().max(page))}</span>
                        <Show when=move || { page < pages() }>
                            <A href=format!("/orders?page={}", page + 1) attr:rel="next">"Older →"</A>
                        </Show>
                    </nav>
                </Show>
            }
            .into_any()
        },
    );
    view! {
        <header class="page-head">
            <h1>"My orders"</h1>
            <RefreshControl on_refresh=refresh state=orders.state/>
        </header>
        {list}
    }
}

/// One order in the list.
#[component]
fn OrderRow(
    /// The order (live).
    order: Signal<Order>,
) -> impl IntoView {
    let id: OrderId = order.with_untracked(|o| o.id);
    let units = move || order.with(|o| o.items.iter().map(|i| u64::from(i.quantity)).sum::<u64>());
    view! {
        <li class="order-row card" data-testid="order-row" data-order-id=id.0>
            <A href=format!("/orders/{id}")>{format!("Order #{id}")}</A>
            <span class="muted">{move || order.with(|o| o.shop_name.clone())}</span>
            <time class="muted" datetime=move || order.with(|o| o.created_at.clone())>
                {move || order.with(|o| date(&o.created_at))}
            </time>
            <span>{move || super::format::items_text(units())}</span>
            <Price cents=Signal::derive(move || order.with(|o| o.total_cents))/>
            <StatusBadge status=Signal::derive(move || order.with(|o| o.status))/>
        </li>
    }
}
