//! `/admin/shops/:id`: one shop's live figures (from the admin dashboard), its orders and its products, each
//! list paged.
//!
//! Invariant: the figures come from the same cached dashboard as `/admin` (no extra request when coming from
//! there); the lists are the shop-filtered order and product queries, patched live by the root live layer.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use protocol::{Order, Page, Product, Role, ShopId, ShopStats};

use super::{StatusPill, admin_dashboard, parse_shop_id};
use crate::components::pager::Pager;
use crate::components::require_role::RequireRole;
use crate::components::states::{EmptyState, ErrorState, Skeleton, loaded_with_error};
use crate::data::queries::{Query, use_query};
use crate::format::{date_time, plural};

/// The drill-down of one shop, for the admin role.
#[component]
pub fn AdminShopPage() -> impl IntoView {
    let params = use_params_map();
    let shop = Memo::new(move |_| params.with(|p| p.get("id")).as_deref().and_then(parse_shop_id));
    view! {
        <RequireRole role=Role::Admin>
            {move || match shop.get() {
                Some(shop) => view! { <ShopDetail shop=shop/> }.into_any(),
                None => view! {
                    <section class="notice" role="alert">
                        <h1>"No such shop"</h1>
                        <p>"This address names no shop. "<A href="/admin">"Back to every shop"</A></p>
                    </section>
                }
                .into_any(),
            }}
        </RequireRole>
    }
}

#[component]
fn ShopDetail(
    /// The shop shown.
    shop: ShopId,
) -> impl IntoView {
    let query = use_query(Query::dashboard());
    // `Some(None)`: the dashboard is here and has no such shop.
    let stats: Memo<Option<Option<ShopStats>>> = Memo::new(move |_| {
        query.data.get().and_then(admin_dashboard).map(|admin| admin.shops.into_iter().find(|s| s.shop_id == shop))
    });
    let title = move || match stats.get() {
        Some(Some(s)) => s.shop_name,
        Some(None) => format!("Shop {shop}"),
        None => "Shop".to_owned(),
    };
    let message = Signal::derive(move || query.error.get().unwrap_or_default());
    view! {
        <section class="admin admin-shop" aria-labelledby="shop-title" data-shop-id=shop.to_string()>
            <nav class="breadcrumbs" aria-label="Breadcrumbs">
                <A href="/admin">"Every shop"</A>
                " / "
                <span aria-current="page">{title}</span>
            </nav>
            <h1 id="shop-title" data-testid="shop-title">{title}</h1>
            {move || match stats.get() {
                Some(Some(stats)) => view! { <ShopFigures stats=stats/> }.into_any(),
                Some(None) => view! {
                    <section class="notice" role="alert">
                        <p>"No shop has this id. "<A href="/admin">"Back to every shop"</A></p>
                    </section>
                }
                .into_any(),
                None if query.error.with(Option::is_some) => {
                    view! { <ErrorState message=message on_retry=query.refetch/> }.into_any()
                }
                None => view! { <Skeleton lines=2/> }.into_any(),
            }}
            <Show when=move || !matches!(stats.get(), Some(None))>
                <div class="admin-columns">
                    <ShopOrders shop=shop/>
                    <ShopProducts shop=shop/>
                </div>
            </Show>
        </section>
    }
}

/// The shop's figures as cards.
#[component]
fn ShopFigures(
    /// The shop's live figures.
    stats: ShopStats,
) -> impl IntoView {
    let figures = [
        ("Orders", "shop-orders", stats.total_orders.to_string()),
        ("Open orders", "shop-open-orders", stats.open_orders.to_string()),
        ("Revenue this month", "shop-revenue", stats.monthly_revenue_cents.to_string()),
        ("Products", "shop-products", stats.product_count.to_string()),
        ("Low stock", "shop-low-stock", stats.low_stock_count.to_string()),
    ];
    view! {
        <dl class="admin-stats" aria-label="Shop figures" data-testid="shop-figures">
            {figures
                .into_iter()
                .map(|(label, testid, value)| {
                    view! {
                        <div class="admin-stat">
                            <dt>{label}</dt>
                            <dd data-testid=testid>{value}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}

/// The shop's orders, newest first, paged.
#[component]
fn ShopOrders(
    /// The shop whose orders are listed.
    shop: ShopId,
) -> impl IntoView {
    let page = RwSignal::new(1u32);
    // What the last page loaded says; the pager works out the page count from them.
    let total = RwSignal::new(0u64);
    let per_page = RwSignal::new(1u32);
    view! {
        <section class="card" aria-labelledby="shop-orders-title">
            <h2 id="shop-orders-title">"Orders"</h2>
            {move || {
                let query = use_query(Query::orders(page.get(), None, Some(shop)));
                loaded_with_error(move || query.data.get(), query.error, query.refetch, 5, move |list: Page<Order>| {
                    total.set(list.total);
                    per_page.set(list.per_page);
                    if list.items.is_empty() {
                        return view! { <EmptyState message="This shop has no orders yet."/> }.into_any();
                    }
                    view! {
                        <p class="muted" data-testid="shop-orders-total">{plural(list.total, "order", "orders")}</p>
                        <ol class="feed" data-testid="shop-orders-list">
                            {list
                                .items
                                .into_iter()
                                .map(|order| {
                                    view! {
                                        <li
                                            class="feed-row"
                                            data-order-id=order.id.to_string()
                                            data-shop-id=order.shop_id.to_string()
                                        >
                                            <span class="feed-id">{format!("#{}", order.id)}</span>
                                            <span class="feed-customer">{order.customer_name}</span>
                                            <span class="feed-items muted">
                                                {plural(order.items.iter().map(|i| u64::from(i.quantity)).sum(), "item", "items")}
                                            </span>
                                            <span class="feed-total">{order.total_cents.to_string()}</span>
                                            <StatusPill status=order.status/>
                                            <time class="feed-time muted" datetime=order.created_at.clone()>
                                                {date_time(&order.created_at)}
                                            </time>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                    }
                    .into_any()
                })
            }}
            <Pager page=page total=total per_page=per_page what="orders"/>
        </section>
    }
}

/// The shop's products by name, paged.
#[component]
fn ShopProducts(
    /// The shop whose products are listed.
    shop: ShopId,
) -> impl IntoView {
    let page = RwSignal::new(1u32);
    // What the last page loaded says; the pager works out the page count from them.
    let total = RwSignal::new(0u64);
    let per_page = RwSignal::new(1u32);
    view! {
        <section class="card" aria-labelledby="shop-products-title">
            <h2 id="shop-products-title">"Products"</h2>
            {move || {
                let query = use_query(Query::products(Some(shop), None, page.get()));
                loaded_with_error(move || query.data.get(), query.error, query.refetch, 5, move |list: Page<Product>| {
                    total.set(list.total);
                    per_page.set(list.per_page);
                    if list.items.is_empty() {
                        return view! { <EmptyState message="This shop has no products yet."/> }.into_any();
                    }
                    view! {
                        <div class="table-wrap">
                            <table class="data-table" data-testid="shop-products-list">
                                <thead>
                                    <tr>
                                        <th scope="col">"Product"</th>
                                        <th scope="col" class="num">"Price"</th>
                                        <th scope="col" class="num">"Stock"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list
                                        .items
                                        .into_iter()
                                        .map(|product| {
                                            let low = product.stock <= protocol::LOW_STOCK_THRESHOLD;
                                            view! {
                                                <tr
                                                    data-product-id=product.id.to_string()
                                                    data-shop-id=product.shop_id.to_string()
                                                >
                                                    <th scope="row" data-label="Product">{product.name}</th>
                                                    <td class="num" data-label="Price">{product.price_cents.to_string()}</td>
                                                    <td class="num" class:warn=low data-label="Stock">
                                                        {if product.stock == 0 {
                                                            "out of stock".to_owned()
                                                        } else {
                                                            product.stock.to_string()
                                                        }}
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                    .into_any()
                })
            }}
            <Pager page=page total=total per_page=per_page what="products"/>
        </section>
    }
}
