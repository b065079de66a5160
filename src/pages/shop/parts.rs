//! Pieces the shop pages share: a product card, the stock and status badges, a price, the quantity stepper of
//! a cart line, the prompt to sign in, and the header's shop links.
//!
//! Invariant: these render what they are given and act only through the `use_cart_auth` callbacks; they
//! fetch nothing themselves.

use leptos::prelude::*;
use leptos_router::components::A;
use protocol::{Cents, OrderStatus, Product, ProductId, Role};

use super::format::stock_label;
use crate::components::app_link::AppLink;
use crate::data::cart_auth::{AddItem, UseCartAuthReturn, use_cart};
use crate::data::guest_cart::MAX_QUANTITY;
use crate::format::status_label;

/// A price, as text (`$12.99`), with the `price` test hook.
#[component]
pub fn Price(
    /// The amount.
    #[prop(into)]
    cents: Signal<Cents>,
) -> impl IntoView {
    view! { <span class="price" data-testid="price">{move || cents.get().to_string()}</span> }
}

/// "Only 3 left" or "Out of stock"; nothing when there is plenty.
#[component]
pub fn StockBadge(
    /// Units in stock.
    #[prop(into)]
    stock: Signal<u32>,
) -> impl IntoView {
    move || {
        stock_label(stock.get()).map(|label| {
            let class = if stock.get() == 0 { "stock-badge out" } else { "stock-badge low" };
            view! { <span class=class data-testid="stock">{label}</span> }
        })
    }
}

/// An order status as a coloured badge (`data-status` holds the wire name).
#[component]
pub fn StatusBadge(
    /// The status to show.
    #[prop(into)]
    status: Signal<OrderStatus>,
) -> impl IntoView {
    view! {
        <span
            class=move || format!("status-badge status-{}", status.get().as_str())
            data-testid="order-status"
            data-status=move || status.get().as_str()
        >
            {move || status_label(status.get())}
        </span>
    }
}

/// One product in the catalog: name (a link to its page), shop, price, stock, and the two actions.
#[component]
pub fn ProductCard(
    /// The product (a live value: its price and stock follow the server).
    #[prop(into)]
    product: Signal<Product>,
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let id = product.with_untracked(|p| p.id);
    let name = move || product.with(|p| p.name.clone());
    let out = move || product.with(|p| p.stock == 0);
    let add = move |_| {
        let item = product.with_untracked(|p| AddItem {
            product_id: p.id,
            name: p.name.clone(),
            quantity: 1,
            product: Some(p.clone()),
        });
        actions.add_to_cart.run(item);
    };
    let wish = move |_| {
        let item = product.with_untracked(|p| AddItem {
            product_id: p.id,
            name: p.name.clone(),
            quantity: 1,
            product: Some(p.clone()),
        });
        actions.add_to_wishlist.run(item);
    };
    view! {
        <article class="product-card" data-testid="product-card" data-product-id=id.0>
            <h2 class="product-name">
                <A href=format!("/shop/products/{id}")>{name}</A>
            </h2>
            <p class="muted shop-name">{move || product.with(|p| p.shop_name.clone())}</p>
            <p class="price-line">
                <Price cents=Signal::derive(move || product.with(|p| p.price_cents))/>
                <StockBadge stock=Signal::derive(move || product.with(|p| p.stock))/>
            </p>
            <div class="card-actions">
                <button
                    type="button"
                    class="button"
                    aria-label=move || format!("Add to cart: {}", name())
                    disabled=move || out() || actions.busy.get()
                    on:click=add
                >
                    "Add to cart"
                </button>
                <button
                    type="button"
                    class="button secondary"
                    aria-label=move || format!("Wishlist: add {}", name())
                    on:click=wish
                >
                    <span aria-hidden="true">"♡ "</span>
                    "Wishlist"
                </button>
            </div>
        </article>
    }
}

/// − quantity + for a cart line; the field takes a typed number on change.
#[component]
pub fn QuantityStepper(
    /// The product of the line.
    product_id: ProductId,
    /// Its name, for the controls' accessible names.
    #[prop(into)]
    name: String,
    /// The units now.
    #[prop(into)]
    quantity: Signal<u32>,
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let set = move |n: u32| actions.set_quantity.run((product_id, n.min(MAX_QUANTITY)));
    let on_change = move |ev: leptos::ev::Event| {
        if let Ok(n) = event_target_value(&ev).trim().parse::<u32>() {
            set(n);
        }
    };
    let (less, more, field) = (format!("One less {name}"), format!("One more {name}"), format!("Quantity of {name}"));
    view! {
        <div class="stepper">
            <button
                type="button"
                class="button secondary"
                aria-label=less
                disabled=move || actions.busy.get()
                on:click=move |_| set(quantity.get_untracked().saturating_sub(1))
            >
                "−"
            </button>
            <input
                type="number"
                min="0"
                max=MAX_QUANTITY
                inputmode="numeric"
                aria-label=field
                data-testid="quantity"
                prop:value=move || quantity.get().to_string()
                on:change=on_change
            />
            <button
                type="button"
                class="button secondary"
                aria-label=more
                disabled=move || { actions.busy.get() || quantity.get() >= MAX_QUANTITY }
                on:click=move |_| set(quantity.get_untracked() + 1)
            >
                "+"
            </button>
        </div>
    }
}

/// The shop links of the header: the cart with its count (customers and visitors), the wishlist and "My
/// orders" (customers).
#[component]
pub fn ShopNav() -> impl IntoView {
    let cart = use_cart();
    let role = move || cart.role();
    view! {
        <Show when=move || matches!(role(), None | Some(Role::Customer))>
            <AppLink href="/cart" class="cart-link">
                "Cart "
                // No number until the account's cart is loaded (a "0" first would be wrong).
                {move || {
                    cart.count()
                        .map(|count| {
                            view! {
                                <span
                                    class="cart-count"
                                    data-testid="cart-count"
                                    aria-label=format!("{count} items")
                                >
                                    {count}
                                </span>
                            }
                        })
                }}
            </AppLink>
        </Show>
        <Show when=move || role() == Some(Role::Customer)>
            <AppLink href="/wishlist">"Wishlist"</AppLink>
            <AppLink href="/orders">"My orders"</AppLink>
        </Show>
    }
}
