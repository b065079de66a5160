//! `/cart`: the lines with quantity controls, line totals and the total, then "Checkout". A customer sees the
//! account's cart (live prices); a visitor the cart kept on this device, with a way to sign in and check out;
//! staff a plain message (they have no cart).
//!
//! Invariant: every change goes through `use_cart_auth`; the page shows what the server last answered.

use leptos::prelude::*;
use leptos_router::components::A;
use protocol::{Cart, CartLine, ProductId, Role};

use super::format::items_text;
use super::parts::{Price, QuantityStepper, StockBadge};
use crate::components::states::{EmptyState, list_states};
use crate::data::cart_auth::{STAFF_MESSAGE, UseCartAuthReturn, use_cart_auth};
use crate::data::queries::{Query, use_query};

/// The cart page.
#[component]
pub fn CartPage() -> impl IntoView {
    let actions = use_cart_auth();
    let role = Memo::new(move |_| actions.role.get());
    view! {
        <section class="shop-page cart-page">
            <h1>"Your cart"</h1>
            {move || match role.get() {
                Some(Role::Customer) => view! { <AccountCart actions/> }.into_any(),
                None => view! { <GuestCartView actions/> }.into_any(),
                Some(_) => view! { <p class="notice" role="status">{STAFF_MESSAGE}</p> }.into_any(),
            }}
        </section>
    }
}

/// A customer's cart.
#[component]
fn AccountCart(
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let cart = actions.cart;
    let ids = move || cart.with(|c| c.as_ref().map(|c| c.items.iter().map(|l| l.product.id).collect::<Vec<_>>()));
    let total = move || cart.with(|c| c.as_ref().map(|c| c.total_cents).unwrap_or_default());
    let count = move || cart.with(|c| c.as_ref().map_or(0, |c| c.count));
    let over_stock =
        move || cart.with(|c| c.as_ref().is_some_and(|c| c.items.iter().any(|l| l.quantity > l.product.stock)));
    list_states(
        move || cart.with(|c| c.as_ref().map(|c| c.items.is_empty())),
        actions.error,
        actions.refetch,
        4,
        |message| format!("Your cart could not be loaded: {message}"),
        move || view! { <EmptyCart/> }.into_any(),
        move || {
            view! {
                <ul class="cart-lines" data-testid="cart">
                    <For each=move || ids().unwrap_or_default() key=|id| *id let:id>
                        {
                            let find = move |c: &Option<Cart>| {
                                c.as_ref().and_then(|c| c.items.iter().find(|l| l.product.id == id).cloned())
                            };
                            cart.with_untracked(find).map(|first| {
                                let line = Signal::derive(move || cart.with(find).unwrap_or_else(|| first.clone()));
                                view! { <AccountLine line actions/> }
                            })
                        }
                    </For>
                </ul>
                <div class="cart-summary card">
                    <p>
                        <span class="muted">{move || items_text(count())}</span>
                        " · Total "
                        <strong data-testid="cart-total"><Price cents=Signal::derive(total)/></strong>
                    </p>
                    <Show when=over_stock>
                        <p class="error" role="alert">
                            "Some lines ask for more than the shop has in stock: lower them to check out."
                        </p>
                    </Show>
                    <A href="/checkout" attr:class="button" attr:data-testid="checkout">"Checkout"</A>
                </div>
            }
            .into_any()
        },
    )
}

/// One line of a customer's cart.
#[component]
fn AccountLine(
    /// The line (live: price and stock follow the server).
    line: Signal<CartLine>,
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let id = line.with_untracked(|l| l.product.id);
    let name = line.with_untracked(|l| l.product.name.clone());
    let remove_label = format!("Remove {name} from cart");
    view! {
        <li class="cart-line card" data-testid="cart-line" data-product-id=id.0>
            <div class="line-product">
                <A href=format!("/shop/products/{id}")>{move || line.with(|l| l.product.name.clone())}</A>
                <span class="muted">{move || line.with(|l| l.product.shop_name.clone())}</span>
                <span>
                    <Price cents=Signal::derive(move || line.with(|l| l.product.price_cents))/>
                    " each "
                    <StockBadge stock=Signal::derive(move || line.with(|l| l.product.stock))/>
                </span>
            </div>
            <QuantityStepper
                product_id=id
                name=name
                quantity=Signal::derive(move || line.with(|l| l.quantity))
                actions
            />
            <strong class="line-total" data-testid="line-total">
                <Price cents=Signal::derive(move || line.with(|l| l.line_total_cents))/>
            </strong>
            <button
                type="button"
                class="button secondary"
                aria-label=remove_label
                disabled=move || actions.busy.get()
                on:click=move |_| actions.remove_from_cart.run(id)
            >
                "Remove"
            </button>
        </li>
    }
}

/// A visitor's cart, kept on this device: the products (read from the public catalog) and quantities.
#[component]
fn GuestCartView(
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let guest = actions.guest;
    let ids = move || guest.with(|g| g.items().iter().map(|i| i.product_id).collect::<Vec<_>>());
    move || {
        if guest.with(|g| g.is_empty()) {
            return view! { <EmptyCart/> }.into_any();
        }
        view! {
            <p class="muted">"Your cart is kept on this device. Sign in to check out."</p>
            <ul class="cart-lines" data-testid="cart">
                <For each=ids key=|id| *id let:id>
                    <GuestLine id actions/>
                </For>
            </ul>
            <div class="cart-summary card">
                <p class="muted">{move || items_text(guest.with(|g| g.count()))}</p>
                <button type="button" class="button" on:click=move |_| actions.checkout_login.run(())>
                    "Sign in to check out"
                </button>
            </div>
        }
        .into_any()
    }
}

/// One line of a visitor's cart.
#[component]
fn GuestLine(
    /// The product.
    id: ProductId,
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let name = format!("product #{id}");
    let quantity = Signal::derive(move || actions.guest.with(|g| g.quantity_of(id)));
    let product = use_query(Query::product(id));
    let title =
        move || product.data.with(|p| p.as_ref().map(|p| p.name.clone())).unwrap_or_else(|| format!("Product #{id}"));
    let line_total = move || {
        product.data.with(|p| p.as_ref().map(|p| p.price_cents.times(quantity.get()).to_string())).unwrap_or_default()
    };
    view! {
        <li class="cart-line card" data-testid="cart-line" data-product-id=id.0>
            <div class="line-product">
                <A href=format!("/shop/products/{id}")>{title}</A>
            </div>
            <QuantityStepper product_id=id name=name.clone() quantity actions/>
            <span class="line-total">{line_total}</span>
            <button
                type="button"
                class="button secondary"
                aria-label=format!("Remove {name} from cart")
                on:click=move |_| actions.remove_from_cart.run(id)
            >
                "Remove"
            </button>
        </li>
    }
}

/// "Your cart is empty", with the way back to the shop.
#[component]
fn EmptyCart() -> impl IntoView {
    view! {
        <div class="empty-cart" data-testid="cart">
            <EmptyState message="Your cart is empty."/>
            <A href="/shop" attr:class="button">"Browse the shop"</A>
        </div>
    }
}
