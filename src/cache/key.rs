//! Cache keys: a [`DataKind`] plus typed, ordered [`Params`]; usable as `HashMap` keys and serialized for
//! persistence.
//!
//! Invariant: two keys are equal exactly when they name the same request. Text parameters are normalised at
//! construction (trimmed; empty means absent), so `" shoes "` and `"shoes"` share one entry.

use std::fmt;

use protocol::ShopId;
use serde::{Deserialize, Serialize};

/// What kind of data an entry holds; each kind has its own policy (TTL, persistence, retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataKind {
    /// The role dashboard (`dashboard-data`).
    DashboardData,
    /// Product figures of a shop or of the platform (`product-stats`).
    ProductStats,
    /// Order lists (`orders`).
    Orders,
    /// Notification lists (`notifications`).
    Notifications,
    /// Product lists (`products`).
    Products,
    /// Shop lists (`shops`).
    Shops,
    /// The signed-in customer's cart (`cart`).
    Cart,
    /// The signed-in customer's wishlist (`wishlist`).
    Wishlist,
}

impl DataKind {
    /// How many kinds there are (the length of per-kind arrays).
    pub const COUNT: usize = 8;

    /// Every kind, in declaration order.
    pub const ALL: [DataKind; DataKind::COUNT] = [
        DataKind::DashboardData,
        DataKind::ProductStats,
        DataKind::Orders,
        DataKind::Notifications,
        DataKind::Products,
        DataKind::Shops,
        DataKind::Cart,
        DataKind::Wishlist,
    ];

    /// The name used on disk and on the wire (`dashboard-data`, `product-stats`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            DataKind::DashboardData => "dashboard-data",
            DataKind::ProductStats => "product-stats",
            DataKind::Orders => "orders",
            DataKind::Notifications => "notifications",
            DataKind::Products => "products",
            DataKind::Shops => "shops",
            DataKind::Cart => "cart",
            DataKind::Wishlist => "wishlist",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<DataKind> {
        DataKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Position in [`DataKind::ALL`], for per-kind arrays.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parameters of a request, typed and ordered (derives `Ord` and `Hash`), never an ad-hoc string.
///
/// Built with [`Params::new`] and the chained setters; absent parameters are skipped on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Params {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shop: Option<ShopId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    per_page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    search: Option<String>,
    /// The id of one object (a product page, an order page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
}

/// Trims `text`; whitespace only becomes `None`.
fn normalise(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

impl Params {
    /// No parameters.
    pub fn new() -> Params {
        Params::default()
    }

    /// Scopes the request to one shop.
    pub fn shop(mut self, shop: ShopId) -> Params {
        self.shop = Some(shop);
        self
    }

    /// Sets the 1-based page number.
    pub fn page(mut self, page: u32) -> Params {
        self.page = Some(page);
        self
    }

    /// Sets the page size.
    pub fn per_page(mut self, per_page: u32) -> Params {
        self.per_page = Some(per_page);
        self
    }

    /// Sets a filter (for example an order status); trimmed, and blank means no filter.
    pub fn filter(mut self, filter: &str) -> Params {
        self.filter = normalise(filter);
        self
    }

    /// Sets the search text; trimmed, and blank means no search.
    pub fn search(mut self, search: &str) -> Params {
        self.search = normalise(search);
        self
    }

    /// Names one object of the kind (a product, an order).
    pub fn id(mut self, id: i64) -> Params {
        self.id = Some(id);
        self
    }

    /// The object id, if the key names one object.
    pub fn object_id(&self) -> Option<i64> {
        self.id
    }

    /// The shop the request is scoped to, if any.
    pub fn shop_id(&self) -> Option<ShopId> {
        self.shop
    }

    /// The page number, if any.
    pub fn page_number(&self) -> Option<u32> {
        self.page
    }

    /// The page size, if any.
    pub fn page_size(&self) -> Option<u32> {
        self.per_page
    }

    /// The filter, if any.
    pub fn filter_text(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// The search text, if any.
    pub fn search_text(&self) -> Option<&str> {
        self.search.as_deref()
    }
}

/// Names one cached request: what kind of data, with which parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CacheKey {
    /// The kind of data, which selects the policy.
    pub kind: DataKind,
    /// The request's parameters.
    #[serde(default)]
    pub params: Params,
}

impl CacheKey {
    /// A key of `kind` with no parameters.
    pub fn new(kind: DataKind) -> CacheKey {
        CacheKey { kind, params: Params::new() }
    }

    /// A key of `kind` with `params`.
    pub fn with_params(kind: DataKind, params: Params) -> CacheKey {
        CacheKey { kind, params }
    }

    /// Whether the key belongs to `shop` (its shop parameter is `shop`).
    pub fn is_for_shop(&self, shop: ShopId) -> bool {
        self.params.shop == Some(shop)
    }
}

/// A readable form for logs and the monitoring panel, like a URL path and query:
/// `orders?shop=3&page=2&search=red%20shoes` (only `%`, `&`, `=` and spaces are escaped).
impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())?;
        let p = &self.params;
        let mut sep = '?';
        let mut field = |f: &mut fmt::Formatter<'_>, name: &str, value: &str| {
            let escaped = value.replace('%', "%25").replace('&', "%26").replace('=', "%3D").replace(' ', "%20");
            let result = write!(f, "{sep}{name}={escaped}");
            sep = '&';
            result
        };
        if let Some(shop) = p.shop {
            field(f, "shop", &shop.to_string())?;
        }
        if let Some(page) = p.page {
            field(f, "page", &page.to_string())?;
        }
        if let Some(per_page) = p.per_page {
            field(f, "per_page", &per_page.to_string())?;
        }
        if let Some(filter) = &p.filter {
            field(f, "filter", filter)?;
        }
        if let Some(search) = &p.search {
            field(f, "search", search)?;
        }
        if let Some(id) = p.id {
            field(f, "id", &id.to_string())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn kinds_use_their_documented_names() {
        let names: Vec<String> = DataKind::ALL.iter().map(|kind| serde_json::to_string(kind).unwrap()).collect();
        assert_eq!(
            names,
            [
                "\"dashboard-data\"",
                "\"product-stats\"",
                "\"orders\"",
                "\"notifications\"",
                "\"products\"",
                "\"shops\"",
                "\"cart\"",
                "\"wishlist\""
            ]
        );
        for (i, kind) in DataKind::ALL.into_iter().enumerate() {
            assert_eq!(DataKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.index(), i);
            assert_eq!(format!("\"{kind}\""), names[i]);
        }
        assert_eq!(DataKind::parse("Orders"), None);
        assert_eq!(DataKind::parse(""), None);
    }

    #[test]
    fn keys_work_as_map_keys_and_text_is_normalised() {
        let a = CacheKey::with_params(DataKind::Products, Params::new().shop(ShopId(3)).search(" red shoes "));
        let b = CacheKey::with_params(DataKind::Products, Params::new().search("red shoes").shop(ShopId(3)));
        let blank = CacheKey::with_params(DataKind::Products, Params::new().search("   "));
        assert_eq!(a, b, "setter order and surrounding spaces do not matter");
        assert_eq!(blank, CacheKey::new(DataKind::Products));
        assert_eq!(a.params.search_text(), Some("red shoes"));

        let mut map = HashMap::new();
        map.insert(a.clone(), 1);
        map.insert(b, 2);
        map.insert(blank, 3);
        assert_eq!(map.len(), 2);
        assert_eq!(map[&a], 2);
    }

    #[test]
    fn keys_are_ordered_by_kind_then_params() {
        let mut keys = [
            CacheKey::with_params(DataKind::Orders, Params::new().page(2)),
            CacheKey::new(DataKind::Shops),
            CacheKey::with_params(DataKind::Orders, Params::new().page(1)),
            CacheKey::new(DataKind::DashboardData),
        ];
        keys.sort();
        let shown: Vec<String> = keys.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["dashboard-data", "orders?page=1", "orders?page=2", "shops"]);
    }

    #[test]
    fn keys_round_trip_through_json_and_skip_absent_params() {
        let key = CacheKey::with_params(
            DataKind::Orders,
            Params::new().shop(ShopId(3)).page(2).per_page(20).filter("pending"),
        );
        let json = serde_json::to_value(&key).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "orders", "params": {"shop": 3, "page": 2, "per_page": 20, "filter": "pending"}})
        );
        assert_eq!(serde_json::from_value::<CacheKey>(json).unwrap(), key);
        let bare: CacheKey = serde_json::from_str(r#"{"kind":"shops"}"#).unwrap();
        assert_eq!(bare, CacheKey::new(DataKind::Shops));
        assert!(serde_json::from_str::<CacheKey>(r#"{"kind":"users"}"#).is_err());
    }

    #[test]
    fn display_escapes_separators() {
        let key = CacheKey::with_params(DataKind::Products, Params::new().shop(ShopId(3)).search("a&b=c 100%"));
        assert_eq!(key.to_string(), "products?shop=3&search=a%26b%3Dc%20100%25");
        assert!(key.is_for_shop(ShopId(3)));
        assert!(!key.is_for_shop(ShopId(4)));
    }
}
