//! The admin pages: the platform overview at `/admin` (totals, every shop's live figures, the live feed of
//! orders) and one shop's drill-down at `/admin/shops/:id`.
//!
//! Invariant: the pages only read queries (`use_query`); live changes reach them through the cache, which the
//! root live layer patches with every event, so they never poll and never apply an event themselves. The
//! wording helpers here are pure and tested natively.

mod overview;
mod shop;

use leptos::prelude::*;
use protocol::{AdminDashboard, Dashboard, OrderStatus, ShopId};

use crate::format::status_label;

pub use overview::AdminPage;
pub use shop::AdminShopPage;

/// The admin's dashboard out of the role-tagged answer (`None` for another role's shape).
pub fn admin_dashboard(dashboard: Dashboard) -> Option<AdminDashboard> {
    match dashboard {
        Dashboard::Admin(admin) => Some(admin),
        _ => None,
    }
}

/// The shop id of an `/admin/shops/:id` path segment: a positive integer, nothing else.
pub fn parse_shop_id(segment: &str) -> Option<ShopId> {
    let id: i64 = segment.trim().parse().ok()?;
    (id > 0).then_some(ShopId(id))
}

/// The link to a shop's drill-down.
pub fn shop_href(shop: ShopId) -> String {
    format!("/admin/shops/{shop}")
}

/// An order status as a small coloured label (the word is the text; the colour only repeats it).
#[component]
pub fn StatusPill(
    /// The status to show.
    status: OrderStatus,
) -> impl IntoView {
    view! { <span class=format!("status-pill status-{}", status.as_str()) data-status=status.as_str()>
        {status_label(status)}
    </span> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::pager::page_count;

    #[test]
    fn shop_ids_are_positive_integers_only() {
        assert_eq!(parse_shop_id("2"), Some(ShopId(2)));
        assert_eq!(parse_shop_id(" 17 "), Some(ShopId(17)));
        assert_eq!(parse_shop_id("0"), None);
        assert_eq!(parse_shop_id("-3"), None);
        assert_eq!(parse_shop_id("abc"), None);
        assert_eq!(parse_shop_id(""), None);
        assert_eq!(shop_href(ShopId(3)), "/admin/shops/3");
    }

    #[test]
    fn pages_are_counted() {
        assert_eq!(page_count(0, 20), 1);
        assert_eq!(page_count(20, 20), 1);
        assert_eq!(page_count(21, 20), 2);
        assert_eq!(page_count(5, 0), 5);
    }

    #[test]
    fn only_the_admin_shape_is_taken() {
        let customer = Dashboard::Customer(protocol::CustomerDashboard {
            recent_orders: vec![],
            cart_count: 0,
            wishlist_count: 0,
            unread_notifications: 0,
        });
        assert_eq!(admin_dashboard(customer), None);
    }
}
