//! The WebSocket protocol at `/ws`: what the client sends, what the server sends, and the events.
//!
//! Events keep the spec's fields (`dashboard_update {shop_stats, notifications, timestamp}`, `product_update
//! {action, product, stats}`, `order_update {action, order, total_orders, monthly_revenue}`) plus `seq`. A
//! product change reaches its shop's staff as `product_update` (with the shop's figures) and everybody as
//! `catalog_update` (public fields only).

use serde::{Deserialize, Serialize};

use crate::auth::User;
use crate::domain::{Notification, Order, Product, ProductStats, ShopStats};
use crate::ids::{Cents, Seq};
use crate::tagged;

/// A kind of event a client can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Dashboard,
    Orders,
    /// `product_update`: the product changes of the subscriber's shop (every shop for admins), with figures.
    Products,
    Notifications,
    /// `catalog_update`: every shop's product changes, public fields only.
    Catalog,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 5] =
        [Topic::Dashboard, Topic::Orders, Topic::Products, Topic::Notifications, Topic::Catalog];
}

/// A frame from the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// First frame of a connection, and again later with a fresh token before the current one expires.
    ///
    /// On the first frame, `topics` subscribes at once and `last_seq` resumes after that seq, so no event can
    /// slip between `auth_ok` and a later `subscribe`/`resume`; the server then echoes the topics in
    /// `auth_ok`. Both are ignored on a renewal.
    Auth {
        token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topics: Option<Vec<Topic>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<Seq>,
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

/// `catalog_update`: a product of the public catalog was created, changed or deleted. It carries only what
/// `GET /api/products/{id}` shows anybody: no shop figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogUpdate {
    pub action: ProductAction,
    /// The product as it is now (as it was, for `deleted`).
    pub product: Product,
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

/// A frame from the server. Decoded through `serde_json::Value` (see `tagged`), encoded by the derive.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The token was accepted; `seq` is the newest event seq at this moment. `topics` is set when the `auth`
    /// frame carried topics (and is what is now subscribed): a client that sent them needs no `subscribe` or
    /// `resume` of its own.
    AuthOk {
        user: User,
        seq: Seq,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topics: Option<Vec<Topic>>,
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
    CatalogUpdate(CatalogUpdate),
}

impl ClientMsg {
    /// The plain `auth` frame: a token alone (a renewal, or a client subscribing on its own afterwards).
    pub fn auth(token: impl Into<String>) -> Self {
        ClientMsg::Auth { token: token.into(), topics: None, last_seq: None }
    }
}

/// The fields of `auth_ok`.
#[derive(Deserialize)]
struct AuthOkFields {
    user: User,
    seq: Seq,
    #[serde(default)]
    topics: Option<Vec<Topic>>,
}

/// The fields of `error`.
#[derive(Deserialize)]
struct ErrorFields {
    code: String,
    message: String,
}

/// The fields of `subscribed`.
#[derive(Deserialize)]
struct SubscribedFields {
    topics: Vec<Topic>,
}

const SERVER_MSG_TYPES: &[&str] = &[
    "auth_ok",
    "pong",
    "error",
    "resync",
    "subscribed",
    "order_update",
    "product_update",
    "dashboard_update",
    "notification",
    "catalog_update",
];

impl<'de> Deserialize<'de> for ServerMsg {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        ServerMsg::from_json(&value).map_err(serde::de::Error::custom)
    }
}

impl ServerMsg {
    /// Decodes a frame already parsed as JSON (the client's path: no second copy of the events' decoders).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, serde_json::Error> {
        Ok(match tagged::tag(value, "type")? {
            "auth_ok" => {
                let AuthOkFields { user, seq, topics } = tagged::part(value)?;
                ServerMsg::AuthOk { user, seq, topics }
            }
            "pong" => ServerMsg::Pong,
            "error" => {
                let ErrorFields { code, message } = tagged::part(value)?;
                ServerMsg::Error { code, message }
            }
            "resync" => ServerMsg::Resync,
            "subscribed" => ServerMsg::Subscribed { topics: tagged::part::<SubscribedFields>(value)?.topics },
            "order_update" => ServerMsg::OrderUpdate(tagged::part(value)?),
            "product_update" => ServerMsg::ProductUpdate(tagged::part(value)?),
            "dashboard_update" => ServerMsg::DashboardUpdate(tagged::part(value)?),
            "notification" => ServerMsg::Notification(tagged::part(value)?),
            "catalog_update" => ServerMsg::CatalogUpdate(tagged::part(value)?),
            other => return Err(tagged::unknown(other, SERVER_MSG_TYPES)),
        })
    }

    /// The product a `product_update` or `catalog_update` is about, with what happened to it.
    pub fn product_change(&self) -> Option<(ProductAction, &Product)> {
        match self {
            ServerMsg::ProductUpdate(e) => Some((e.action, &e.product)),
            ServerMsg::CatalogUpdate(e) => Some((e.action, &e.product)),
            _ => None,
        }
    }

    /// The seq of an event; `None` for control frames.
    pub fn seq(&self) -> Option<Seq> {
        match self {
            ServerMsg::OrderUpdate(e) => Some(e.seq),
            ServerMsg::ProductUpdate(e) => Some(e.seq),
            ServerMsg::DashboardUpdate(e) => Some(e.seq),
            ServerMsg::Notification(e) => Some(e.seq),
            ServerMsg::CatalogUpdate(e) => Some(e.seq),
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
            ServerMsg::CatalogUpdate(_) => Some(Topic::Catalog),
            _ => None,
        }
    }
}
