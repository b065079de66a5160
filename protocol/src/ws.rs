//! The WebSocket protocol at `/ws`: what the client sends, what the server sends, and the events.
//!
//! Events keep the spec's fields (`dashboard_update {shop_stats, notifications, timestamp}`, `product_update
//! {action, product, stats}`, `order_update {action, order, total_orders, monthly_revenue}`) plus `seq`.

use serde::{Deserialize, Serialize};

use crate::auth::User;
use crate::domain::{Notification, Order, Product, ProductStats, ShopStats};
use crate::ids::{Cents, Seq};

/// A kind of event a client can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Dashboard,
    Orders,
    Products,
    Notifications,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 4] = [Topic::Dashboard, Topic::Orders, Topic::Products, Topic::Notifications];
}

/// A frame from the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// First frame of a connection, and again later with a fresh token before the current one expires.
    Auth {
        token: String,
    },
    Subscribe {
        topics: Vec<Topic>,
    },
    Unsubscribe {
        topics: Vec<Topic>,
    },
    Ping,
    /// Replay the stored events after `last_seq` this user may see.
    Resume {
        last_seq: Seq,
    },
}

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderAction {
    Created,
    Updated,
    StatusChanged,
}

/// What happened to a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductAction {
    Created,
    Updated,
    Deleted,
}

/// `order_update`: an order was created or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderUpdate {
    pub action: OrderAction,
    pub order: Order,
    /// The order's shop's order count after the change.
    pub total_orders: u64,
    /// The order's shop's revenue this month after the change, in cents.
    pub monthly_revenue: Cents,
    pub seq: Seq,
}

/// `product_update`: a product was created, changed or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductUpdate {
    pub action: ProductAction,
    /// The product as it is now (as it was, for `deleted`).
    pub product: Product,
    /// The product's shop's figures after the change.
    pub stats: ProductStats,
    pub seq: Seq,
}

/// `dashboard_update`: a shop's figures changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardUpdate {
    pub shop_stats: ShopStats,
    /// Notifications created by the same change, for the recipient.
    pub notifications: Vec<Notification>,
    /// RFC 3339.
    pub timestamp: String,
    pub seq: Seq,
}

/// `notification`: a new notification for the recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEvent {
    pub notification: Notification,
    pub seq: Seq,
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The token was accepted; `seq` is the newest event seq at this moment.
    AuthOk {
        user: User,
        seq: Seq,
    },
    Pong,
    /// The client sent something the server could not take; the connection stays open.
    Error {
        code: String,
        message: String,
    },
    /// The requested replay is past the retention window: refetch everything subscribed.
    Resync,
    /// Acknowledges a subscribe or unsubscribe with the topics now subscribed.
    Subscribed {
        topics: Vec<Topic>,
    },
    OrderUpdate(OrderUpdate),
    ProductUpdate(ProductUpdate),
    DashboardUpdate(DashboardUpdate),
    Notification(NotificationEvent),
}

impl ServerMsg {
    /// The seq of an event; `None` for control frames.
    pub fn seq(&self) -> Option<Seq> {
        match self {
            ServerMsg::OrderUpdate(e) => Some(e.seq),
            ServerMsg::ProductUpdate(e) => Some(e.seq),
            ServerMsg::DashboardUpdate(e) => Some(e.seq),
            ServerMsg::Notification(e) => Some(e.seq),
            _ => None,
        }
    }

    /// The topic an event belongs to; `None` for control frames.
    pub fn topic(&self) -> Option<Topic> {
        match self {
            ServerMsg::OrderUpdate(_) => Some(Topic::Orders),
            ServerMsg::ProductUpdate(_) => Some(Topic::Products),
            ServerMsg::DashboardUpdate(_) => Some(Topic::Dashboard),
            ServerMsg::Notification(_) => Some(Topic::Notifications),
            _ => None,
        }
    }
}
