//! Words and numbers of the shop pages: stock badges, status names, paging, quantities, and the catalog's
//! filters as they appear in the URL.
//!
//! Invariant: pure (no `leptos`, no browser), tested natively.

use protocol::{LOW_STOCK_THRESHOLD, ShopId};

use crate::data::guest_cart::MAX_QUANTITY;
use crate::format::plural;
use crate::nav::encode_query_value;

pub use crate::components::pager::page_count;

/// Products on one catalog page (the server's default `per_page`).
pub const CATALOG_PER_PAGE: u32 = 20;
/// Orders on one page of "My orders" (the server's default `per_page`).
pub const ORDERS_PER_PAGE: u32 = 20;

/// The stock badge of a product: "Out of stock", "Only 3 left", or nothing when there is plenty.
pub fn stock_label(stock: u32) -> Option<String> {
    match stock {
        0 => Some("Out of stock".to_owned()),
        n if n <= LOW_STOCK_THRESHOLD => Some(format!("Only {n} left")),
        _ => None,
    }
}

/// A quantity typed by the user: a whole number within 1..=[`MAX_QUANTITY`] (and the stock when known), else
/// `None`.
pub fn parse_quantity(text: &str, stock: Option<u32>) -> Option<u32> {
    let quantity: u32 = text.trim().parse().ok()?;
    let most = stock.map_or(MAX_QUANTITY, |s| s.min(MAX_QUANTITY));
    (1..=most).contains(&quantity).then_some(quantity)
}

/// "1 item" or "3 items".
pub fn items_text(count: u64) -> String {
    plural(count, "item", "items")
}

/// "1 product" or "28 products".
pub fn products_text(count: u64) -> String {
    plural(count, "product", "products")
}

/// The catalog's filters, kept in the URL (`/shop?shop=2&q=fern&page=3`) so a link, a reload and the way back
/// from the login page show the same list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogFilter {
    pub shop: Option<ShopId>,
    /// Trimmed; `None` when empty.
    pub search: Option<String>,
    /// 1-based.
    pub page: u32,
}

impl CatalogFilter {
    /// Reads the URL's parameters; anything unreadable falls back to its default (every shop, no search,
    /// page 1).
    pub fn from_params(shop: Option<&str>, search: Option<&str>, page: Option<&str>) -> CatalogFilter {
        CatalogFilter {
            shop: shop.and_then(|s| s.trim().parse().ok()).filter(|id: &i64| *id > 0).map(ShopId),
            search: search.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
            page: page.and_then(|p| p.trim().parse().ok()).filter(|p| *p >= 1).unwrap_or(1),
        }
    }

    /// The catalog URL showing this filter.
    pub fn url(&self) -> String {
        let mut parts = Vec::new();
        if let Some(shop) = self.shop {
            parts.push(format!("shop={shop}"));
        }
        if let Some(search) = &self.search {
            parts.push(format!("q={}", encode_query_value(search)));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        if parts.is_empty() { "/shop".to_owned() } else { format!("/shop?{}", parts.join("&")) }
    }

    /// The same filter on another page.
    pub fn with_page(&self, page: u32) -> CatalogFilter {
        CatalogFilter { page: page.max(1), ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_badges() {
        assert_eq!(stock_label(0).as_deref(), Some("Out of stock"));
        assert_eq!(stock_label(1).as_deref(), Some("Only 1 left"));
        assert_eq!(stock_label(LOW_STOCK_THRESHOLD).as_deref(), Some("Only 5 left"));
        assert_eq!(stock_label(LOW_STOCK_THRESHOLD + 1), None);
    }

    #[test]
    fn paging() {
        assert_eq!(page_count(0, 20), 1);
        assert_eq!(page_count(20, 20), 1);
        assert_eq!(page_count(21, 20), 2);
        assert_eq!(page_count(28, 0), 28, "a zero page size counts as one");
        assert_eq!(page_count(u64::MAX, 1), u32::MAX);
    }

    #[test]
    fn quantities_are_whole_numbers_within_the_limits() {
        assert_eq!(parse_quantity(" 3 ", None), Some(3));
        assert_eq!(parse_quantity("99", None), Some(99));
        for bad in ["0", "100", "-1", "2.5", "", "two"] {
            assert_eq!(parse_quantity(bad, None), None, "{bad:?}");
        }
        assert_eq!(parse_quantity("4", Some(3)), None, "over the stock");
        assert_eq!(parse_quantity("3", Some(3)), Some(3));
        assert_eq!(parse_quantity("1", Some(0)), None, "out of stock");
    }

    #[test]
    fn item_counts() {
        assert_eq!(items_text(0), "0 items");
        assert_eq!(items_text(1), "1 item");
        assert_eq!(items_text(7), "7 items");
        assert_eq!(products_text(1), "1 product");
        assert_eq!(products_text(28), "28 products");
    }

    #[test]
    fn the_catalog_filter_round_trips_through_the_url() {
        let filter = CatalogFilter::from_params(Some("2"), Some("  red shoes & co "), Some("3"));
        assert_eq!(filter, CatalogFilter { shop: Some(ShopId(2)), search: Some("red shoes & co".into()), page: 3 });
        assert_eq!(filter.url(), "/shop?shop=2&q=red%20shoes%20%26%20co&page=3");
        assert_eq!(CatalogFilter::from_params(None, None, None).url(), "/shop");
        assert_eq!(filter.with_page(1).url(), "/shop?shop=2&q=red%20shoes%20%26%20co");
    }

    #[test]
    fn unreadable_parameters_fall_back_to_defaults() {
        let filter = CatalogFilter::from_params(Some("abc"), Some("   "), Some("0"));
        assert_eq!(filter, CatalogFilter { shop: None, search: None, page: 1 });
        assert_eq!(CatalogFilter::from_params(Some("-3"), None, Some("x")).page, 1);
        assert_eq!(CatalogFilter::from_params(Some("-3"), None, None).shop, None);
    }
}
