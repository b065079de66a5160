//! Bodies of the REST API under `/api` that are not marketplace objects themselves.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{Notification, Order, OrderStatus, Product, ShopStats};
use crate::ids::{Cents, ProductId, Seq, ShopId};
use crate::tagged;
use crate::ws::ServerMsg;

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Items in the whole list.
    pub total: u64,
    /// 1-based page number.
    pub page: u32,
    pub per_page: u32,
}

/// Revenue of one day (UTC), for the revenue chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRevenue {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub revenue_cents: Cents,
    pub orders: u64,
}

/// `GET /api/dashboard` for a shop owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerDashboard {
    pub shop_stats: ShopStats,
    pub recent_orders: Vec<Order>,
    pub notifications: Vec<Notification>,
    pub unread_notifications: u64,
    /// The last 30 days, oldest first, today last.
    pub revenue_by_day: Vec<DayRevenue>,
}

/// Totals of the whole platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformTotals {
    pub shops: u64,
    pub products: u64,
    pub customers: u64,
    pub total_orders: u64,
    pub monthly_revenue_cents: Cents,
}

/// `GET /api/dashboard` for an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminDashboard {
    pub totals: PlatformTotals,
    pub shops: Vec<ShopStats>,
    pub recent_orders: Vec<Order>,
}

/// `GET /api/dashboard` for a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDashboard {
    pub recent_orders: Vec<Order>,
    pub cart_count: u64,
    pub wishlist_count: u64,
    pub unread_notifications: u64,
}

/// `GET /api/dashboard`: the shape depends on the caller's role, named by `"role"`. Decoded through
/// `serde_json::Value` (see `tagged`), encoded by the derive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Dashboard {
    Owner(OwnerDashboard),
    Admin(AdminDashboard),
    Customer(CustomerDashboard),
}

impl<'de> Deserialize<'de> for Dashboard {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Dashboard::from_json(&value).map_err(serde::de::Error::custom)
    }
}

impl Dashboard {
    /// Decodes a dashboard already parsed as JSON.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, serde_json::Error> {
        Ok(match tagged::tag(value, "role")? {
            "owner" => Dashboard::Owner(tagged::part(value)?),
            "admin" => Dashboard::Admin(tagged::part(value)?),
            "customer" => Dashboard::Customer(tagged::part(value)?),
            other => return Err(tagged::unknown(other, &["owner", "admin", "customer"])),
        })
    }
}

/// `POST /api/products`. `shop_id` is required from an admin and ignored from an owner (their own shop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProduct {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<ShopId>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub price_cents: i64,
    pub stock: i64,
}

/// `PATCH /api/products/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
}

/// One line of a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product: Product,
    pub quantity: u32,
    pub line_total_cents: Cents,
}

/// `GET /api/cart` and the answer of every cart write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub items: Vec<CartLine>,
    /// Units in the cart.
    pub count: u64,
    pub total_cents: Cents,
}

/// `POST /api/cart/items`, and one item of a guest cart merged at login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartItemInput {
    pub product_id: ProductId,
    pub quantity: i64,
}

/// `PATCH /api/cart/items/{product_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityInput {
    pub quantity: i64,
}

/// `POST /api/cart/merge`: a guest cart added to the account's cart (quantities added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeCart {
    pub items: Vec<CartItemInput>,
}

/// `GET /api/wishlist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wishlist {
    pub items: Vec<Product>,
}

/// `POST /api/wishlist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishlistInput {
    pub product_id: ProductId,
}

/// Answer of `POST /api/orders` (checkout): one order per shop in the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutResult {
    pub orders: Vec<Order>,
}

/// `PATCH /api/orders/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInput {
    pub status: OrderStatus,
}

/// `GET /api/events?after=SEQ`: what the polling fallback receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    /// The events after `after` this user may see, in order.
    pub events: Vec<ServerMsg>,
    /// The newest seq the server has; poll with `after` = this next time.
    pub last_seq: Seq,
    /// True when `after` is older than the retention window: refetch everything instead.
    pub resync: bool,
}

impl EventsPage {
    /// An `after` beyond any history: the answer replays nothing and carries the newest seq (`resync: true`),
    /// the seq a client with nothing yet polls on from.
    pub const FIRST_CONTACT: Seq = i64::MAX as Seq;
}

/// `GET /api/metrics` (admins): the server's request counters since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// Every HTTP request (API, app files, WebSocket upgrades), `/api/metrics` excepted.
    pub requests: u64,
    /// Response body bytes: `Content-Length`, or the exact size of a body built in memory (streamed bodies of
    /// unknown size are not counted).
    pub response_bytes: u64,
    /// API requests per authenticated user id.
    pub by_user: BTreeMap<i64, u64>,
    /// Requests per `METHOD /path` (ids included as they were requested).
    pub by_route: BTreeMap<String, u64>,
    /// Response bytes (as `response_bytes` counts them) per authenticated user id.
    #[serde(default)]
    pub bytes_by_user: BTreeMap<i64, u64>,
    /// Response bytes (as `response_bytes` counts them) per `METHOD /path`.
    #[serde(default)]
    pub bytes_by_route: BTreeMap<String, u64>,
    /// Text frames the WebSocket sent (control frames such as `auth_ok` included, pings excluded).
    #[serde(default)]
    pub ws_messages_sent: u64,
    /// Payload bytes of those frames.
    #[serde(default)]
    pub ws_bytes_sent: u64,
    /// Authenticated WebSocket connections open now (0 in the in-process counters, filled by the endpoint).
    #[serde(default)]
    pub ws_open: u64,
}
