//! `/shop`: the catalog: a shop filter, a search box (debounced while typing, at once on Enter), pages of
//! product cards with live prices and stock, and the add-to-cart and wishlist actions.
//!
//! Invariant: the filter lives in the URL (`?shop=&q=&page=`), so a reload, a shared link and the way back
//! from the login page show the same list; the list is read through the cache, which follows the server live.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use protocol::{Page, Product, ShopId};

use super::format::{CATALOG_PER_PAGE, CatalogFilter, page_count, products_text};
use super::parts::ProductCard;
use crate::components::states::{EmptyState, list_states};
use crate::data::cart_auth::{UseCartAuthReturn, use_cart_auth};
use crate::data::queries::{Query, use_query};

/// How long typing pauses before the search runs.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(350);

/// The catalog page.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| CatalogFilter::from_params(q.get_str("shop"), q.get_str("q"), q.get_str("page")))
    });
    view! {
        <section class="shop-page catalog-page">
            <h1>"Shop"</h1>
            <CatalogBody filter/>
        </section>
    }
}

/// The filters and the results (the catalog is public: visitors browse too).
#[component]
fn CatalogBody(
    /// The filter read from the URL.
    filter: Memo<CatalogFilter>,
) -> impl IntoView {
    let navigate = StoredValue::new_local(use_navigate());
    let actions = use_cart_auth();
    let go = move |next: CatalogFilter, replace: bool| {
        let options = NavigateOptions { replace, scroll: false, ..Default::default() };
        navigate.with_value(|navigate| navigate(&next.url(), options));
    };

    // The search box: the text typed, sent after a pause (a newer keystroke cancels the older timer).
    let text = RwSignal::new(filter.get_untracked().search.unwrap_or_default());
    let typed = StoredValue::new(0u64);
    let search_now = move |replace: bool| {
        let search = Some(text.get_untracked().trim().to_owned()).filter(|s| !s.is_empty());
        let current = filter.get_untracked();
        if current.search != search {
            go(CatalogFilter { search, page: 1, ..current }, replace);
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        text.set(event_target_value(&ev));
        let generation = typed.get_value() + 1;
        typed.set_value(generation);
        set_timeout(
            move || {
                if typed.try_get_value() == Some(generation) {
                    search_now(true);
                }
            },
            SEARCH_DEBOUNCE,
        );
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        typed.update_value(|g| *g += 1);
        search_now(false);
    };
    // Back and forward change the URL: the box follows.
    Effect::new(move |_| {
        let search = filter.with(|f| f.search.clone().unwrap_or_default());
        if text.get_untracked().trim() != search {
            text.set(search);
        }
    });

    let on_shop = move |ev: leptos::ev::Event| {
        let shop = event_target_value(&ev).parse().ok().map(ShopId);
        go(CatalogFilter { shop, page: 1, ..filter.get_untracked() }, false);
    };

    view! {
        <form class="catalog-filters" role="search" on:submit=on_submit>
            <label>
                "Shop"
                <ShopSelect selected=Signal::derive(move || filter.with(|f| f.shop)) on_change=on_shop/>
            </label>
            <label class="search-field">
                "Search products"
                <input
                    type="search"
                    name="q"
                    placeholder="Name contains…"
                    autocomplete="off"
                    data-testid="search"
                    prop:value=move || text.get()
                    on:input=on_input
                />
            </label>
            <button type="submit" class="button secondary">"Search"</button>
        </form>
        {move || {
            let current = filter.get();
            view! { <ProductResults filter=current actions/> }
        }}
    }
}

/// The shop filter's choices (every shop, from `GET /api/shops`).
#[component]
fn ShopSelect(
    /// The shop chosen now (`None`: every shop).
    selected: Signal<Option<ShopId>>,
    /// Called with the select's change event.
    on_change: impl FnMut(leptos::ev::Event) + 'static,
) -> impl IntoView {
    let shops = use_query(Query::shops());
    view! {
        <select name="shop" data-testid="shop-filter" on:change=on_change>
            <option value="" selected=move || selected.get().is_none()>"All shops"</option>
            {move || {
                shops
                    .data
                    .get()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|shop| {
                        let id = shop.id;
                        view! {
                            <option value=id.0.to_string() selected=move || selected.get() == Some(id)>
                                {shop.name}
                            </option>
                        }
                    })
                    .collect_view()
            }}
        </select>
    }
}

/// One page of products for `filter`, with paging.
#[component]
fn ProductResults(
    /// What to list.
    filter: CatalogFilter,
    /// The cart actions.
    actions: UseCartAuthReturn,
) -> impl IntoView {
    let products = use_query(Query::products(filter.shop, filter.search.clone(), filter.page));
    let data = products.data;
    let ids =
        move || data.with(|d| d.as_ref().map(|p| p.items.iter().map(|p| p.id).collect::<Vec<_>>()).unwrap_or_default());
    let total = move || data.with(|d| d.as_ref().map_or(0, |p| p.total));
    let pages = move || page_count(total(), CATALOG_PER_PAGE);
    let empty_message = if filter.search.is_some() || filter.shop.is_some() {
        "No products match your search."
    } else {
        "The shops have no products yet."
    };
    let pager_filter = filter.clone();

    list_states(
        move || data.with(|d| d.as_ref().map(|p| p.items.is_empty())),
        products.error,
        products.refetch,
        6,
        |message| message,
        move || {
            view! {
                <div data-testid="catalog">
                    <EmptyState message=empty_message/>
                </div>
            }
            .into_any()
        },
        move || {
            let filter = pager_filter.clone();
            view! {
                <p class="muted result-count" aria-live="polite">
                    {move || products_text(total())}
                </p>
                <div class="product-grid" data-testid="catalog">
                    <For each=ids key=|id| *id let:id>
                        {
                            let find = move |d: &Option<Page<Product>>| {
                                d.as_ref().and_then(|p| p.items.iter().find(|p| p.id == id).cloned())
                            };
                            data.with_untracked(find).map(|first| {
                                let live = Signal::derive(move || data.with(find).unwrap_or_else(|| first.clone()));
                                view! { <ProductCard product=live actions/> }
                            })
                        }
                    </For>
                </div>
                <Pager filter pages=Signal::derive(pages)/>
            }
            .into_any()
        },
    )
}

/// Previous / "Page 2 of 3" / Next, as links.
#[component]
fn Pager(
    /// The filter of the page shown.
    filter: CatalogFilter,
    /// How many pages there are.
    pages: Signal<u32>,
) -> impl IntoView {
    let page = filter.page;
    let previous = StoredValue::new(filter.with_page(page.saturating_sub(1)).url());
    let next = StoredValue::new(filter.with_page(page + 1).url());
    view! {
        <Show when=move || { pages.get() > 1 || page > 1 }>
            <nav class="pager" aria-label="Pages">
                <Show when=move || { page > 1 }>
                    <A href=move || previous.get_value() attr:rel="prev">"← Previous"</A>
                </Show>
                <span>{move || format!("Page {page} of {}", pages.get().max(page))}</span>
                <Show when=move || { page < pages.get() }>
                    <A href=move || next.get_value() attr:rel="next">"Next →"</A>
                </Show>
            </nav>
        </Show>
    }
}
