//! The shop's orders, newest first, paged: status badges and one button per allowed next status.
//!
//! Invariant: the list is the cached `Query::Orders` page (new orders arrive through the live layer); a status
//! change goes through the outbox with the order's version: shown in that page at once (marked as not saved
//! yet), replaced by the server's answer, and on a refusal by the order as the server has it (the other
//! person's change, for a 409 `stale`) with a toast, never a silent failure.

use leptos::prelude::*;
use protocol::{Order, OrderId, OrderStatus, Page};
use serde::Deserialize;

use crate::cache::context::{DataCache, use_data_cache};
use crate::cache::key::CacheKey;
use crate::components::pager::Pager;
use crate::components::states::EmptyState;
use crate::components::states::loaded;
use crate::components::toast::{ToastKind, use_toasts};
use crate::data::dashboard::{UseDashboardDataReturn, orders_read};
use crate::data::outbox::{Settled, Write};
use crate::data::outbox_driver::use_writes;
use crate::format::{date_time, status_label};

/// The visible text and the accessible name of the button moving order `id` to `next`: the name starts with
/// the text (WCAG 2.5.3, label in name) and says which order.
pub fn move_button(id: OrderId, next: OrderStatus) -> (&'static str, String) {
    let text = match next {
        OrderStatus::Cancelled => "Cancel",
        OrderStatus::Paid => "Mark paid",
        OrderStatus::Shipped => "Mark shipped",
        OrderStatus::Delivered => "Mark delivered",
        OrderStatus::Pending => "Reopen",
    };
    (text, format!("{text} order #{id}"))
}

/// The lines of an order in a few words: "2 × Sourdough Loaf, 1 × Honey".
pub fn items_summary(order: &Order) -> String {
    order.items.iter().map(|i| format!("{} × {}", i.quantity, i.product_name)).collect::<Vec<_>>().join(", ")
}

/// The orders section: a heading and the current page.
#[component]
pub fn OrdersSection(
    /// The dashboard's data hook, which reads each page.
    dashboard: UseDashboardDataReturn,
) -> impl IntoView {
    let page = RwSignal::new(1u32);
    view! {
        <section class="owner-section owner-orders" id="orders" aria-labelledby="owner-orders-title">
            <div class="section-head">
                <h2 id="owner-orders-title">"Orders"</h2>
            </div>
            // A page is its own query: re-created when the page changes (read here: component bodies are
            // untracked).
            {move || {
                let number = page.get();
                view! { <OrdersPage dashboard=dashboard page=page number=number/> }
            }}
        </section>
    }
}

/// One page of orders.
#[component]
fn OrdersPage(
    /// The dashboard's data hook, which reads the page.
    dashboard: UseDashboardDataReturn,
    /// The page signal, moved by the pager.
    page: RwSignal<u32>,
    /// The page shown (the section re-creates this view when it changes).
    number: u32,
) -> impl IntoView {
    let key = orders_read(number).key();
    let orders = dashboard.orders(number);
    let (cache, toasts, writes) = (use_data_cache(), use_toasts(), use_writes());
    let waiting = move |id: OrderId| writes.waits(|w| matches!(w, Write::OrderStatus { id: o, .. } if *o == id));

    let change = move |id: OrderId, next: OrderStatus| {
        if waiting(id) {
            return;
        }
        let version = orders.data.with_untracked(|page| {
            page.as_ref().and_then(|p| p.items.iter().find(|o| o.id == id)).map_or(0, |o| o.version)
        });
        // Shown at once; the answer (or, on a refusal, the server's order) replaces it.
        cache.update(&key, |page: &mut Page<Order>| {
            if let Some(listed) = page.items.iter_mut().find(|o| o.id == id) {
                listed.status = next;
            }
        });
        let key = key.clone();
        writes.push_then(Write::OrderStatus { id, status: next, version }, None, move |settled| match settled {
            Settled::Applied { answer, .. } => {
                if let Ok(order) = Order::deserialize(answer) {
                    let status = status_label(order.status).to_lowercase();
                    put_order(&cache, &key, order);
                    toasts.push(ToastKind::Success, format!("Order #{id} is {status}"), "");
                }
            }
            Settled::RolledBack { message, current, .. } => match current.as_ref().map(Order::deserialize) {
                Some(Ok(order)) => {
                    let now = status_label(order.status).to_lowercase();
                    put_order(&cache, &key, order);
                    let text =
                        format!("Someone else changed it meanwhile: it is now {now}. Your change was not applied.");
                    toasts.push(ToastKind::Error, format!("Order #{id} was not changed"), text);
                }
                _ => {
                    cache.invalidate(&key);
                    toasts.push(ToastKind::Error, format!("Order #{id} was not changed"), message.clone());
                }
            },
            _ => {}
        });
    };

    let per_page = Signal::derive(move || orders.data.with(|p| p.as_ref().map_or(20, |p| p.per_page)));
    let total = Signal::derive(move || orders.data.with(|p| p.as_ref().map_or(0, |p| p.total)));
    view! {
        {loaded(
            move || orders.data.get(),
            orders.error,
            orders.refetch,
            5,
            move |list: Page<Order>| {
                if list.items.is_empty() {
                    return view! { <EmptyState message="No orders yet: they appear here the moment they are placed."/> }
                        .into_any();
                }
                view! {
                    <ul class="order-list" data-testid="owner-orders">
                        {list
                            .items
                            .into_iter()
                            .map(|order| {
                                let id = order.id;
                                let waiting = Signal::derive(move || waiting(id));
                                view! { <OrderRow order=order waiting=waiting on_move=change.clone()/> }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            },
        )}
        <Pager page=page total=total per_page=per_page what="orders"/>
    }
}

/// Writes `order` (the server's) into the cached page `key`.
fn put_order(cache: &DataCache, key: &CacheKey, order: Order) {
    cache.update(key, |page: &mut Page<Order>| {
        if let Some(listed) = page.items.iter_mut().find(|o| o.id == order.id) {
            *listed = order;
        }
    });
}

/// One order with its status and its moves.
#[component]
fn OrderRow<F>(
    /// The order to show.
    order: Order,
    /// Whether its status change waits for the server (its buttons are disabled meanwhile).
    waiting: Signal<bool>,
    /// Moves an order to a status.
    on_move: F,
) -> impl IntoView
where
    F: Fn(OrderId, OrderStatus) + Clone + Send + Sync + 'static,
{
    let id = order.id;
    let status = order.status;
    let moves = status
        .next_statuses()
        .into_iter()
        .map(|next| {
            let (text, name) = move_button(id, next);
            let on_move = on_move.clone();
            let class = if next == OrderStatus::Cancelled { "button secondary danger" } else { "button secondary" };
            view! {
                <button
                    type="button"
                    class=class
                    aria-label=name
                    data-next=next.as_str()
                    disabled=move || waiting.get()
                    on:click=move |_| on_move(id, next)
                >
                    {text}
                </button>
            }
        })
        .collect_view();
    view! {
        <li class="order-row" data-order-id=id.0 data-shop-id=order.shop_id.0 data-status=status.as_str() data-pending=move || waiting.get().to_string()>
            <div class="order-main">
                <span class="order-id">{format!("#{id}")}</span>
                <span class="order-customer">{order.customer_name.clone()}</span>
            </div>
            <div class="order-items muted">{items_summary(&order)}</div>
            <div class="order-meta">
                <strong class="order-total">{order.total_cents.to_string()}</strong>
                <time datetime=order.created_at.clone()>{date_time(&order.created_at)}</time>
                <span class=format!("badge status-{}", status.as_str()) data-testid="order-status">
                    {status_label(status)}
                </span>
                <Show when=move || waiting.get()>
                    <span class="badge muted" data-testid="order-not-saved">"Not saved yet"</span>
                </Show>
            </div>
            <div class="order-actions">{moves}</div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Cents, OrderItem, ProductId, ShopId, UserId};

    #[test]
    fn every_move_has_a_named_button() {
        assert_eq!(move_button(OrderId(7), OrderStatus::Paid), ("Mark paid", "Mark paid order #7".into()));
        assert_eq!(move_button(OrderId(7), OrderStatus::Cancelled), ("Cancel", "Cancel order #7".into()));
        for status in OrderStatus::ALL {
            for next in status.next_statuses() {
                let (text, name) = move_button(OrderId(1), next);
                assert!(name.starts_with(text) && name.ends_with("#1"), "{name}");
            }
        }
    }

    #[test]
    fn orders_read_in_a_few_words() {
        let order = Order {
            id: OrderId(70),
            shop_id: ShopId(1),
            shop_name: "Green Leaf Grocery".into(),
            customer_id: UserId(5),
            customer_name: "Carla Mendes".into(),
            status: OrderStatus::Pending,
            items: vec![
                OrderItem {
                    product_id: ProductId(8),
                    product_name: "Basmati Rice 2 kg".into(),
                    quantity: 3,
                    unit_price_cents: Cents(799),
                },
                OrderItem {
                    product_id: ProductId(2),
                    product_name: "Honey".into(),
                    quantity: 1,
                    unit_price_cents: Cents(899),
                },
            ],
            total_cents: Cents(3296),
            created_at: "2026-11-26T22:59:16Z".into(),
            updated_at: "2026-11-26T22:59:16Z".into(),
            version: 1,
        };
        assert_eq!(items_summary(&order), "3 × Basmati Rice 2 kg, 1 × Honey");
    }
}
