//! `/wishlist`: a customer's saved products, with live prices and stock, "Move to cart" and "Remove".
//!
//! Invariant: customers only (staff have no wishlist; visitors are sent to log in and come back).

use leptos::prelude::*;
use leptos_router::components::A;
use protocol::{Product, Role, Wishlist};

use super::parts::{Price, StockBadge};
use crate::components::require_role::RequireRole;
use crate::components::states::{EmptyState, list_states};
use crate::data::cart_auth::{UseCartAuthReturn, use_cart_auth};

/// The wishlist page.
#[component]
pub fn WishlistPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Customer>
            <section class="shop-page wishlist-page">
                <h1>"Your wishlist"</h1>
                <WishlistBody/>
            </section>
        </RequireRole>
    }
}

#[component]
fn WishlistBody() -> impl IntoView {
    let actions = use_cart_auth();
    let list = actions.wishlist;
    let ids =
        move || list.with(|l| l.as_ref().map(|l| l.items.iter().map(|p| p.id).collect::<Vec<_>>()).unwrap_or_default());
    list_states(
        move || list.with(|l| l.as_ref().map(|l| l.items.is_empty())),
        actions.error,
        actions.refetch,
        3,
        |message| format!("Your wishlist could not be loaded: {message}"),
        move || {
            view! {
                <div data-testid="wishlist">
                    <EmptyState message="Your wishlist is empty."/>
                    <A href="/shop" attr:class="button">"Browse the shop"</A>
                </div>
            }
            .into_any()
        },
        move || {
            view! {
                <ul class="wishlist-items" data-testid="wishlist">
                    <For each=ids key=|id| *id let:id>
                        {
                            let find = move |l: &Option<Wishlist>| {
                                l.as_ref().and_then(|l| l.items.iter().find(|p| p.id == id).cloned())
                            };
                            list.with_untracked(find).map(|first| {
                                let product = Signal::derive(move || list.with(find).unwrap_or_else(|| first.clone()));
                                view! { <WishlistItem product actions/> }
                            })
                        }
                    </For>
                </ul>
            }
            .into_any()
        },
    )
}

/// One saved product.
#[component]
fn WishlistItem(
    /// The product (live).
    product: Signal<Product>,
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let id = product.with_untracked(|p| p.id);
    let name = move || product.with(|p| p.name.clone());
    let out = move || product.with(|p| p.stock == 0);
    view! {
        <li class="wishlist-item card" data-testid="wishlist-item" data-product-id=id.0>
            <div class="line-product">
                <A href=format!("/shop/products/{id}")>{name}</A>
                <span class="muted">{move || product.with(|p| p.shop_name.clone())}</span>
                <span>
                    <Price cents=Signal::derive(move || product.with(|p| p.price_cents))/>
                    " "
                    <StockBadge stock=Signal::derive(move || product.with(|p| p.stock))/>
                </span>
            </div>
            <div class="card-actions">
                <button
                    type="button"
                    class="button"
                    aria-label=move || format!("Move to cart: {}", name())
                    disabled=move || out() || actions.busy.get()
                    on:click=move |_| actions.move_to_cart.run(product.get_untracked())
                >
                    "Move to cart"
                </button>
                <button
                    type="button"
                    class="button secondary"
                    aria-label=move || format!("Remove: {} from the wishlist", name())
                    disabled=move || actions.busy.get()
                    on:click=move |_| actions.remove_from_wishlist.run(id)
                >
                    "Remove"
                </button>
            </div>
        </li>
    }
}
