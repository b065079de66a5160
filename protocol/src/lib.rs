//! Wire types shared by the app and the server: every JSON body that crosses the network is defined here.
//!
//! Invariant: this crate depends only on serde and serde_json (whose `Value` decodes the tagged shapes, see
//! `tagged`); it holds data shapes, never I/O.

use serde::{Deserialize, Serialize};

pub mod auth;
pub mod bundles;
pub mod domain;
pub mod ids;
pub mod rest;
mod tagged;
pub mod ws;

pub use auth::{LoggedOut, LoginRequest, LoginResponse, Role, User};
pub use bundles::{Bundle, bundle_of};
pub use domain::*;
pub use ids::*;
pub use rest::*;
pub use ws::*;

/// The body of every error answer of the REST API: a stable machine-readable `code` and a `message` a user
/// can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable, snake_case identifier of the error kind (for example `not_found`).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The object as it is now, for `stale` (a write whose `If-Match` named an older version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<serde_json::Value>,
}

impl ErrorBody {
    /// Builds an error body from a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into(), field: None, current: None }
    }
}

/// Answer of `GET /api/ready` when this instance can serve (its database answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// `"ready"`.
    pub status: String,
    /// `"sqlite"` or `"postgres"`.
    pub database: String,
}

/// Answer of `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"ok"` when the server answers at all.
    pub status: String,
    /// The server's crate version.
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_body_has_the_documented_shape() {
        let body = ErrorBody::new("not_found", "No such route");
        assert_eq!(serde_json::to_value(&body).unwrap(), json!({"code": "not_found", "message": "No such route"}));
    }

    #[test]
    fn health_round_trips() {
        let text = r#"{"status":"ok","version":"0.1.0"}"#;
        let health: Health = serde_json::from_str(text).unwrap();
        assert_eq!(health.status, "ok");
        assert_eq!(serde_json::to_string(&health).unwrap(), text);
    }

    #[test]
    fn login_response_has_the_documented_shape() {
        let response = LoginResponse {
            token: "t".into(),
            expires_at: 1_800_000_000,
            user: User {
                id: UserId(2),
                name: "Olga Owner".into(),
                email: "owner1@izishopin.test".into(),
                role: Role::Owner,
                shop_id: Some(ShopId(1)),
            },
        };
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({
                "token": "t",
                "expires_at": 1_800_000_000,
                "user": {"id": 2, "name": "Olga Owner", "email": "owner1@izishopin.test", "role": "owner", "shop_id": 1}
            })
        );
    }

    #[test]
    fn unknown_roles_are_rejected() {
        assert!(serde_json::from_str::<Role>(r#""superuser""#).is_err());
        assert_eq!(serde_json::from_str::<Role>(r#""customer""#).unwrap(), Role::Customer);
    }
}
