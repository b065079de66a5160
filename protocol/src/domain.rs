//! The marketplace's objects as the API and the events carry them.

use serde::{Deserialize, Serialize};

use crate::ids::{Cents, NotificationId, OrderId, ProductId, ShopId, UserId};

/// A shop of the marketplace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shop {
    pub id: ShopId,
    pub name: String,
    pub owner_id: UserId,
    pub owner_name: String,
}

/// A product of a shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub shop_id: ShopId,
    pub shop_name: String,
    pub name: String,
    pub description: String,
    pub price_cents: Cents,
    /// Units in stock, never negative.
    pub stock: u32,
    /// RFC 3339.
    pub updated_at: String,
    /// Bumped by every change (an edit, a sale, a deletion): what `If-Match` names on a write. 0 from a backend
    /// that keeps no versions (the app then sends no `If-Match`).
    #[serde(default)]
    pub version: u64,
}

/// Where an order is in its life. Legal moves: pending → paid → shipped → delivered, and pending or paid →
/// cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    /// Every status, in life-cycle order.
    pub const ALL: [OrderStatus; 5] = [Self::Pending, Self::Paid, Self::Shipped, Self::Delivered, Self::Cancelled];

    /// Whether an order may move from `self` to `next`.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!((self, next), (Pending, Paid) | (Paid, Shipped) | (Shipped, Delivered) | (Pending | Paid, Cancelled))
    }

    /// The statuses an order in `self` may move to.
    pub fn next_statuses(self) -> Vec<OrderStatus> {
        Self::ALL.into_iter().filter(|next| self.can_become(*next)).collect()
    }

    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Option<OrderStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the order's money counts as revenue (every status but cancelled).
    pub fn counts_as_revenue(self) -> bool {
        self != Self::Cancelled
    }
}

/// One line of an order, with the price paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub product_id: ProductId,
    pub product_name: String,
    pub quantity: u32,
    pub unit_price_cents: Cents,
}

/// An order: one customer buying from one shop (a checkout across shops creates one order per shop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub shop_id: ShopId,
    pub shop_name: String,
    pub customer_id: UserId,
    pub customer_name: String,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    pub total_cents: Cents,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Bumped by every status change: what `If-Match` names on a write (0: the backend keeps no versions).
    #[serde(default)]
    pub version: u64,
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    NewOrder,
    OrderStatus,
    LowStock,
    Info,
}

/// A message for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub title: String,
    pub message: String,
    pub read: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// Live figures of one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopStats {
    pub shop_id: ShopId,
    pub shop_name: String,
    /// Every order ever placed with the shop (cancelled included).
    pub total_orders: u64,
    /// Orders waiting to be paid or shipped.
    pub open_orders: u64,
    /// Revenue of the current calendar month (UTC), cancelled orders excluded.
    pub monthly_revenue_cents: Cents,
    pub product_count: u64,
    /// Products with stock at or below [`LOW_STOCK_THRESHOLD`].
    pub low_stock_count: u64,
}

/// At or below this many units a product counts as low on stock.
pub const LOW_STOCK_THRESHOLD: u32 = 5;

/// What a product may be: the server enforces these (422 naming the field), the product form checks them
/// before sending.
pub mod product_limits {
    /// Longest product name, in characters, after trimming.
    pub const MAX_NAME_CHARS: usize = 120;
    /// Longest description, in characters.
    pub const MAX_DESCRIPTION_CHARS: usize = 2000;
    /// Highest price: one million dollars.
    pub const MAX_PRICE_CENTS: i64 = 100_000_000;
    /// Most units a product may have in stock.
    pub const MAX_STOCK: i64 = 1_000_000;
}

/// Figures about the products of one shop (or of the platform, `shop_id` absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductStats {
    pub shop_id: Option<ShopId>,
    pub total_products: u64,
    pub low_stock: u64,
    pub out_of_stock: u64,
    /// Sum of price × stock.
    pub inventory_value_cents: Cents,
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn the_order_life_cycle_allows_only_its_moves() {
        assert_eq!(Pending.next_statuses(), vec![Paid, Cancelled]);
        assert_eq!(Paid.next_statuses(), vec![Shipped, Cancelled]);
        assert_eq!(Shipped.next_statuses(), vec![Delivered]);
        assert!(Delivered.next_statuses().is_empty());
        assert!(Cancelled.next_statuses().is_empty());
        assert!(!Pending.can_become(Shipped));
        assert!(!Pending.can_become(Pending));
    }

    #[test]
    fn statuses_use_snake_case_names() {
        for status in OrderStatus::ALL {
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{}\"", status.as_str()));
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OrderStatus::parse("lost"), None);
    }
}
