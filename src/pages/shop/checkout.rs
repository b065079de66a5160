//! `/checkout`: the cart to review, then "Place order" (`POST /api/orders`): one order per shop, shown with
//! links to them. A refusal (409: something ran out) is shown with the product named, and the cart stays as
//! it was.
//!
//! Invariant: customers only; a visitor is sent to log in (the guest cart is merged) and comes back here.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use protocol::{CheckoutResult, Order, Role};

use super::format::items_text;
use super::parts::{Price, StatusBadge};
use crate::cache::context::use_data_cache;
use crate::cache::key::DataKind;
use crate::components::require_role::RequireRole;
use crate::components::states::{EmptyState, ErrorState, Skeleton};
use crate::components::toast::{ToastKind, use_toasts};
use crate::data::cart_auth::{action_error, use_cart, use_cart_auth};

/// The checkout page.
#[component]
pub fn CheckoutPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Customer>
            <section class="shop-page checkout-page">
                <h1>"Checkout"</h1>
                <CheckoutBody/>
            </section>
        </RequireRole>
    }
}

#[component]
fn CheckoutBody() -> impl IntoView {
    let actions = use_cart_auth();
    let store = use_cart();
    let cache = use_data_cache();
    let toasts = use_toasts();
    let placed = RwSignal::new(None::<CheckoutResult>);
    let failure = RwSignal::new(None::<String>);
    let placing = RwSignal::new(false);
    let cart = actions.cart;

    let place = move |_| {
        if placing.get_untracked() {
            return;
        }
        placing.set(true);
        failure.set(None);
        spawn_local(async move {
            let result = store.checkout().await;
            placing.try_set(false);
            match result {
                Ok(result) => {
                    // Lists of orders read before now miss these: read them again when shown.
                    cache.invalidate_kind(DataKind::Orders);
                    let n = result.orders.len();
                    let text =
                        if n == 1 { "Your order is placed.".to_owned() } else { format!("{n} orders are placed.") };
                    toasts.push(ToastKind::Success, "Thank you!", text);
                    placed.try_set(Some(result));
                }
                Err(e) => drop(failure.try_set(Some(action_error(&e, None)))),
            }
        });
    };

    move || {
        if let Some(result) = placed.get() {
            return view! { <Placed result/> }.into_any();
        }
        match cart.get() {
            None => match actions.error.get() {
                Some(message) => view! { <ErrorState message=message on_retry=actions.refetch/> }.into_any(),
                None => view! { <Skeleton lines=4/> }.into_any(),
            },
            Some(cart) if cart.items.is_empty() => view! {
                <EmptyState message="Your cart is empty."/>
                <A href="/shop" attr:class="button">"Browse the shop"</A>
            }
            .into_any(),
            Some(cart) => view! {
                <ul class="review-lines card">
                    {cart
                        .items
                        .into_iter()
                        .map(|line| {
                            let short = line.quantity > line.product.stock;
                            view! {
                                <li data-testid="review-line" data-product-id=line.product.id.0>
                                    <span>{line.product.name.clone()} " × " {line.quantity}</span>
                                    <span class="muted">{line.product.shop_name.clone()}</span>
                                    <Price cents=line.line_total_cents/>
                                    {short.then(|| view! {
                                        <span class="stock-badge out">
                                            {format!("Only {} left", line.product.stock)}
                                        </span>
                                    })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <div class="cart-summary card">
                    <p>
                        <span class="muted">{items_text(cart.count)}</span>
                        " · Total "
                        <strong data-testid="checkout-total"><Price cents=cart.total_cents/></strong>
                    </p>
                    <Show when=move || failure.with(Option::is_some)>
                        <div class="error-state" role="alert" data-testid="checkout-error">
                            <p>
                                <strong>"Your order was not placed. "</strong>
                                {move || failure.get().unwrap_or_default()}
                                " Your cart is unchanged: adjust it and try again."
                            </p>
                        </div>
                    </Show>
                    <div class="card-actions">
                        <A href="/cart" attr:class="button secondary">"Edit cart"</A>
                        <button
                            type="button"
                            class="button"
                            data-testid="place-order"
                            disabled=move || placing.get()
                            on:click=place
                        >
                            {move || if placing.get() { "Placing your order…" } else { "Place order" }}
                        </button>
                    </div>
                </div>
            }
            .into_any(),
        }
    }
}

/// The orders a checkout created.
#[component]
fn Placed(
    /// The answer of the checkout.
    result: CheckoutResult,
) -> impl IntoView {
    view! {
        <div class="placed card" data-testid="placed-orders" role="status">
            <h2>"Thank you! Your order is placed."</h2>
            <p class="muted">"Each shop gets its own order; follow them live on their pages."</p>
            <ul class="order-list">
                {result.orders.into_iter().map(|order| view! { <PlacedOrder order/> }).collect_view()}
            </ul>
            <A href="/orders" attr:class="button secondary">"See all my orders"</A>
        </div>
    }
}

#[component]
fn PlacedOrder(
    /// One created order.
    order: Order,
) -> impl IntoView {
    let id = order.id;
    view! {
        <li data-testid="placed-order" data-order-id=id.0>
            <A href=format!("/orders/{id}")>{format!("Order #{id}")}</A>
            " from " {order.shop_name}
            " · " <Price cents=order.total_cents/> " "
            <StatusBadge status=order.status/>
        </li>
    }
}
