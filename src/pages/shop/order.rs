//! `/orders/:id`: one of the customer's orders: its live status (it changes when the shop moves it), its
//! progress, lines and total.
//!
//! Invariant: read through the cache (`Query::Order`), which follows the server live; no polling.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use protocol::{Order, OrderId, OrderStatus, Role};

use super::parts::{Price, StatusBadge};
use crate::components::require_role::RequireRole;
use crate::components::states::{ErrorState, Skeleton};
use crate::data::queries::{Query, use_query};
use crate::format::{date, status_label};

/// The order page.
#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params.with(|p| p.get_str("id").and_then(|s| s.parse::<i64>().ok()).filter(|id| *id > 0).map(OrderId))
    });
    view! {
        <RequireRole role=Role::Customer>
            <section class="shop-page order-page">
                <p><A href="/orders">"← My orders"</A></p>
                {move || match id.get() {
                    Some(id) => view! { <OrderDetail id/> }.into_any(),
                    None => view! {
                        <div class="notice" role="alert">
                            <h1>"No such order"</h1>
                            <p>"This link does not name an order."</p>
                        </div>
                    }
                    .into_any(),
                }}
            </section>
        </RequireRole>
    }
}

#[component]
fn OrderDetail(
    /// The order to show.
    id: OrderId,
) -> impl IntoView {
    let order = use_query(Query::order(id));
    let data = order.data;
    let loaded = Memo::new(move |_| data.with(Option::is_some));
    move || {
        if loaded.get() {
            data.get_untracked()
                .map(|first| {
                    let live = Signal::derive(move || data.get().unwrap_or_else(|| first.clone()));
                    view! { <OrderView order=live/> }
                })
                .into_any()
        } else if let Some(message) = order.error.get() {
            let message = format!("Order #{id} could not be loaded: {message}");
            view! { <ErrorState message=message on_retry=order.refetch/> }.into_any()
        } else {
            view! { <Skeleton lines=5/> }.into_any()
        }
    }
}

#[component]
fn OrderView(
    /// The order (live).
    order: Signal<Order>,
) -> impl IntoView {
    let id = order.with_untracked(|o| o.id);
    let status = Signal::derive(move || order.with(|o| o.status));
    view! {
        <article class="order-detail card" data-testid="order" data-order-id=id.0>
            <header class="order-head">
                <h1>{format!("Order #{id}")}</h1>
                <StatusBadge status/>
            </header>
            <p class="muted">
                {move || order.with(|o| format!("From {}, placed on {}.", o.shop_name, date(&o.created_at)))}
            </p>
            <Progress status/>
            <table class="order-items">
                <thead>
                    <tr><th scope="col">"Product"</th><th scope="col">"Quantity"</th><th scope="col">"Price"</th><th scope="col">"Total"</th></tr>
                </thead>
                <tbody>
                    {move || {
                        order
                            .get()
                            .items
                            .into_iter()
                            .map(|item| {
                                let line = item.unit_price_cents.times(item.quantity);
                                view! {
                                    <tr>
                                        <td>
                                            <A href=format!("/shop/products/{}", item.product_id)>
                                                {item.product_name}
                                            </A>
                                        </td>
                                        <td>{item.quantity}</td>
                                        <td><Price cents=item.unit_price_cents/></td>
                                        <td><Price cents=line/></td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
                <tfoot>
                    <tr>
                        <th scope="row" colspan="3">"Total"</th>
                        <td><strong><Price cents=Signal::derive(move || order.with(|o| o.total_cents))/></strong></td>
                    </tr>
                </tfoot>
            </table>
        </article>
    }
}

/// Pending → Paid → Shipped → Delivered, the steps reached marked; a cancelled order says so instead.
#[component]
fn Progress(
    /// The status now.
    status: Signal<OrderStatus>,
) -> impl IntoView {
    let steps = [OrderStatus::Pending, OrderStatus::Paid, OrderStatus::Shipped, OrderStatus::Delivered];
    let rank = move |s: OrderStatus| steps.iter().position(|x| *x == s);
    move || {
        let now = status.get();
        if now == OrderStatus::Cancelled {
            return view! { <p class="notice">"This order was cancelled; any units were put back in stock."</p> }
                .into_any();
        }
        let reached = rank(now).unwrap_or(0);
        view! {
            <ol class="progress" aria-label="Progress">
                {steps
                    .iter()
                    .enumerate()
                    .map(|(i, step)| {
                        let class = if i < reached { "done" } else if i == reached { "current" } else { "todo" };
                        let current = (i == reached).then_some("step");
                        view! { <li class=class aria-current=current>{status_label(*step)}</li> }
                    })
                    .collect_view()}
            </ol>
        }
        .into_any()
    }
}
