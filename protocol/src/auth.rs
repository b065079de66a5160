//! Users, roles and the login exchange.

use serde::{Deserialize, Serialize};

use crate::ids::{ShopId, UserId};

/// What a user may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees every shop and the platform totals.
    Admin,
    /// Runs one shop (`shop_id`).
    Owner,
    /// Shops: cart, wishlist, checkout, own orders.
    Customer,
}

impl Role {
    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Owner => "owner",
            Role::Customer => "customer",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Owner, Role::Customer].into_iter().find(|r| r.as_str() == text)
    }
}

/// A signed-in user as the server describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// The shop an owner runs; `None` for admins and customers.
    pub shop_id: Option<ShopId>,
}

/// Body of `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Answer of `POST /api/auth/login` and `POST /api/auth/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The JWT to send as `Authorization: Bearer` and in the WebSocket's `auth` frame.
    pub token: String,
    /// When the token stops being accepted, in seconds since the Unix epoch.
    pub expires_at: i64,
    pub user: User,
}

/// Answer of `POST /api/auth/logout`: the session is over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedOut {
    pub logged_out: bool,
}
