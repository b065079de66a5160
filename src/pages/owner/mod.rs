//! `/owner`: the shop owner's dashboard: stat cards, the revenue chart, orders with their next statuses,
//! notifications, and the products table with its form. Every figure is read from cached queries, which the
//! live layer keeps in step with the server's events: nothing here polls or applies events to data.
//!
//! Invariant: one concern per submodule; the rules (money parsing, validation, chart geometry, paging) are pure
//! functions tested natively; server text is rendered as text, never as HTML.

mod chart;
mod form;
mod notifications;
mod orders;
mod product_form;
mod products;
mod stats;

use leptos::prelude::*;
use protocol::{Dashboard, OrderAction, OrderUpdate, OwnerDashboard, Role, ShopId};

use crate::auth::use_auth;
use crate::cache::context::UseCachedReturn;
use crate::components::refresh::RefreshControl;
use crate::components::require_role::RequireRole;
use crate::components::toast::{ToastKind, use_toasts};
use crate::data::dashboard::{DashboardRole, use_dashboard_data};
use crate::realtime::context::use_websocket;

/// The page for the owner role.
#[component]
pub fn OwnerPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Owner>
            <OwnerDashboardView/>
        </RequireRole>
    }
}

/// The owner's dashboard as one cached query, narrowed to the owner's shape; `Copy`, passed to each section.
#[derive(Clone, Copy)]
pub(crate) struct OwnerData {
    /// The dashboard, once loaded (deduplicated: unchanged values do not re-render).
    pub owner: Memo<Option<OwnerDashboard>>,
    pub error: Signal<Option<String>>,
    pub refetch: Callback<()>,
}

impl OwnerData {
    fn new(query: UseCachedReturn<Dashboard>) -> Self {
        let owner = Memo::new(move |_| match query.data.get() {
            Some(Dashboard::Owner(dashboard)) => Some(dashboard),
            _ => None,
        });
        OwnerData { owner, error: query.error, refetch: query.refetch }
    }
}

/// The dashboard of a signed-in owner.
#[component]
fn OwnerDashboardView() -> impl IntoView {
    let auth = use_auth();
    let shop = auth.session().with_untracked(|s| s.as_ref().and_then(|s| s.user.shop_id));
    let Some(shop) = shop else {
        return view! {
            <section class="notice" role="alert">
                <h1>"No shop yet"</h1>
                <p>"Your account does not run a shop. Ask an administrator to set one up."</p>
            </section>
        }
        .into_any();
    };
    announce_new_orders(shop);
    let dashboard = use_dashboard_data(DashboardRole::ShopOwner);
    let shop_data = dashboard.shop_data();
    let data = OwnerData::new(shop_data);
    // Warm what the page and the next visits read (fresh values cost nothing).
    dashboard.preload();
    let shop_name = move || data.owner.with(|o| o.as_ref().map(|o| o.shop_stats.shop_name.clone()));
    view! {
        <div class="owner" data-testid="owner-dashboard">
            <header class="owner-head">
                <h1>{move || shop_name().unwrap_or_else(|| "Your shop".into())}</h1>
                <p class="muted">"Live: orders, revenue and stock update as they happen."</p>
                <RefreshControl
                    on_refresh=dashboard.refresh_callback()
                    state=shop_data.state
                />
            </header>
            <SectionNav/>
            <stats::StatsSection data=data/>
            <chart::RevenueSection data=data/>
            <div class="owner-columns">
                <orders::OrdersSection dashboard=dashboard/>
                <notifications::NotificationsSection data=data/>
            </div>
            <products::ProductsSection dashboard=dashboard shop=shop/>
        </div>
    }
    .into_any()
}

/// The sections of the page, to jump between; the one jumped to stays in the URL (`/owner#products`), so a
/// reload or a shared link lands there again.
#[component]
fn SectionNav() -> impl IntoView {
    // The browser scrolls to the URL's section before the app has drawn it: once drawn, go there.
    Effect::new(move |_| {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        let hash = document.location().and_then(|l| l.hash().ok()).unwrap_or_default();
        let wanted = hash.trim_start_matches('#');
        if let Some(section) = SECTIONS.iter().find(|(id, _)| *id == wanted)
            && let Some(element) = document.get_element_by_id(section.0)
        {
            element.scroll_into_view();
        }
    });
    view! {
        <nav class="section-nav" aria-label="Sections of this page" data-testid="owner-sections">
            {SECTIONS.iter().map(|(id, name)| view! { <a href=format!("#{id}")>{*name}</a> }).collect_view()}
        </nav>
    }
}

/// The page's sections: element id and name.
const SECTIONS: [(&str, &str); 4] =
    [("revenue", "Revenue"), ("orders", "Orders"), ("notifications", "Notifications"), ("products", "Products")];

/// Shows a toast for each new order of `shop` while the page is mounted. The figures themselves change in
/// the cache (the live layer); this only tells the owner.
fn announce_new_orders(shop: ShopId) {
    let toasts = use_toasts();
    use_websocket()
        .subscribe_to_order_updates(move |update| {
            if let Some((title, message)) = new_order_toast(shop, update) {
                toasts.push(ToastKind::Info, title, message);
            }
        })
        .keep();
}

/// The toast of an `order_update`: `Some` for an order created in `shop` ("New order #71 — $13.00").
pub(crate) fn new_order_toast(shop: ShopId, update: &OrderUpdate) -> Option<(String, String)> {
    let order = &update.order;
    if update.action != OrderAction::Created || order.shop_id != shop {
        return None;
    }
    let units: u32 = order.items.iter().map(|i| i.quantity).sum();
    let plural = if units == 1 { "" } else { "s" };
    Some((
        format!("New order #{} — {}", order.id, order.total_cents),
        format!("{} bought {units} item{plural}.", order.customer_name),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Cents, Order, OrderId, OrderItem, OrderStatus, ProductId, UserId};

    fn update(action: OrderAction, shop: i64) -> OrderUpdate {
        OrderUpdate {
            action,
            order: Order {
                id: OrderId(71),
                shop_id: ShopId(shop),
                shop_name: "Green Leaf Grocery".into(),
                customer_id: UserId(5),
                customer_name: "Carla Mendes".into(),
                status: OrderStatus::Pending,
                items: vec![OrderItem {
                    product_id: ProductId(2),
                    product_name: "Sourdough Loaf".into(),
                    quantity: 2,
                    unit_price_cents: Cents(650),
                }],
                total_cents: Cents(1300),
                created_at: "2026-11-27T10:00:00Z".into(),
                updated_at: "2026-11-27T10:00:00Z".into(),
                version: 1,
            },
            total_orders: 21,
            monthly_revenue: Cents(48_057),
            seq: 9,
        }
    }

    #[test]
    fn only_a_new_order_of_the_shop_gets_a_toast() {
        assert_eq!(
            new_order_toast(ShopId(1), &update(OrderAction::Created, 1)),
            Some(("New order #71 — $13.00".into(), "Carla Mendes bought 2 items.".into()))
        );
        assert_eq!(new_order_toast(ShopId(1), &update(OrderAction::StatusChanged, 1)), None);
        assert_eq!(new_order_toast(ShopId(1), &update(OrderAction::Created, 2)), None);
    }
}
