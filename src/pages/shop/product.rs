//! `/shop/products/:id`: one product with its live price and stock, a quantity, and the cart and wishlist
//! actions. A visitor gets the actions too (they go through the login page and come back here).
//!
//! Invariant: the product is read through the cache (`Query::Product`), which follows the server live.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use protocol::{Product, ProductId};

use super::format::parse_quantity;
use super::parts::{Price, StockBadge};
use crate::components::states::{ErrorState, Skeleton};
use crate::data::cart_auth::{AddItem, UseCartAuthReturn, use_cart_auth};
use crate::data::guest_cart::MAX_QUANTITY;
use crate::data::queries::{Query, use_query};

/// The product page.
#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params.with(|p| p.get_str("id").and_then(|s| s.parse::<i64>().ok()).filter(|id| *id > 0).map(ProductId))
    });
    view! {
        <section class="shop-page product-page">
            <p><A href="/shop">"← Back to the shop"</A></p>
            {move || match id.get() {
                None => view! {
                    <div class="notice" role="alert">
                        <h1>"No such product"</h1>
                        <p>"This link does not name a product."</p>
                    </div>
                }
                .into_any(),
                Some(id) => view! { <ProductDetail id/> }.into_any(),
            }}
        </section>
    }
}

/// The product, for visitors and signed-in users alike (the catalog is public).
#[component]
fn ProductDetail(
    /// The product to show.
    id: ProductId,
) -> impl IntoView {
    let product = use_query(Query::product(id));
    let actions = use_cart_auth();
    let data = product.data;
    let loaded = Memo::new(move |_| data.with(Option::is_some));
    move || {
        if loaded.get() {
            let first = data.get_untracked();
            first
                .map(|first| {
                    let live = Signal::derive(move || data.get().unwrap_or_else(|| first.clone()));
                    view! { <ProductView product=live actions/> }
                })
                .into_any()
        } else if let Some(message) = product.error.get() {
            let message = format!("This product could not be loaded: {message}");
            view! { <ErrorState message=message on_retry=product.refetch/> }.into_any()
        } else {
            view! { <Skeleton lines=4/> }.into_any()
        }
    }
}

/// The product's details and actions.
#[component]
fn ProductView(
    /// The product (live).
    product: Signal<Product>,
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let name = move || product.with(|p| p.name.clone());
    let stock = Signal::derive(move || product.with(|p| p.stock));
    view! {
        <article class="product-detail card" data-testid="product" data-product-id=move || product.with(|p| p.id.0)>
            <h1>{name}</h1>
            <p class="muted">"Sold by " {move || product.with(|p| p.shop_name.clone())}</p>
            <div class="price-line big">
                <Price cents=Signal::derive(move || product.with(|p| p.price_cents))/>
                <StockBadge stock/>
            </div>
            <p class="description">{move || product.with(|p| p.description.clone())}</p>
            <BuyBox
                id=product.with_untracked(|p| p.id)
                name=Signal::derive(name)
                stock=Signal::derive(move || Some(stock.get()))
                shown=product
                actions
            />
        </article>
    }
}

/// Quantity, "Add to cart" and "Add to wishlist".
#[component]
fn BuyBox(
    /// The product.
    id: ProductId,
    /// Its name, for the buttons' accessible names and the toasts.
    name: Signal<String>,
    /// Units in stock, when known.
    stock: Signal<Option<u32>>,
    /// The product as shown, kept with a change made before the server answers.
    shown: Signal<Product>,
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let quantity = RwSignal::new("1".to_owned());
    let invalid = RwSignal::new(false);
    let out = move || stock.get() == Some(0);
    let most = move || stock.get().map_or(MAX_QUANTITY, |s| s.clamp(1, MAX_QUANTITY));
    let add = move |_| match parse_quantity(&quantity.get_untracked(), stock.get_untracked()) {
        Some(quantity) => {
            invalid.set(false);
            let product = Some(shown.get_untracked());
            actions.add_to_cart.run(AddItem { product_id: id, name: name.get_untracked(), quantity, product });
        }
        None => invalid.set(true),
    };
    let wish = move |_| {
        let product = Some(shown.get_untracked());
        actions.add_to_wishlist.run(AddItem { product_id: id, name: name.get_untracked(), quantity: 1, product });
    };
    view! {
        <div class="buy-box">
            <label class="quantity-field">
                "Quantity"
                <input
                    type="number"
                    min="1"
                    max=move || most().to_string()
                    inputmode="numeric"
                    data-testid="quantity"
                    aria-invalid=move || invalid.get().to_string()
                    aria-describedby="quantity-help"
                    bind:value=quantity
                />
            </label>
            <Show when=move || invalid.get()>
                <p class="error" id="quantity-help" role="alert">
                    {move || format!("Choose a quantity from 1 to {}.", most())}
                </p>
            </Show>
            <div class="card-actions">
                <button
                    type="button"
                    class="button"
                    aria-label=move || format!("{}: {}", if out() { "Out of stock" } else { "Add to cart" }, name.get())
                    disabled=move || out() || actions.busy.get()
                    on:click=add
                >
                    {move || if out() { "Out of stock" } else { "Add to cart" }}
                </button>
                <button
                    type="button"
                    class="button secondary"
                    aria-label=move || format!("Add to wishlist: {}", name.get())
                    on:click=wish
                >
                    <span aria-hidden="true">"♡ "</span>
                    "Add to wishlist"
                </button>
            </div>
        </div>
    }
}
