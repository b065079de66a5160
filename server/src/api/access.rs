//! Who may do what: the role checks shared by the handlers.
//!
//! Invariant: a caller whose role may not use a route, or who asks for another tenant's object, gets the same
//! 404 as for a missing object, never a 403 that would confirm it exists.

use protocol::{Role, ShopId, User, UserId};

use crate::error::AppError;

/// A caller allowed to manage shops: an admin (every shop) or an owner (their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staff {
    Admin,
    Owner(ShopId),
}

impl Staff {
    /// Whether this staff member manages `shop`.
    pub fn manages(self, shop: ShopId) -> bool {
        match self {
            Staff::Admin => true,
            Staff::Owner(own) => own == shop,
        }
    }
}

/// The 404 given to a caller whose role has no business with a route.
pub fn not_for_role() -> AppError {
    AppError::NotFound("nothing here for this account".into())
}

/// The caller as staff, or 404 for a customer (or an owner without a shop).
pub fn staff(user: &User) -> Result<Staff, AppError> {
    match (user.role, user.shop_id) {
        (Role::Admin, _) => Ok(Staff::Admin),
        (Role::Owner, Some(shop)) => Ok(Staff::Owner(shop)),
        _ => Err(not_for_role()),
    }
}

/// The caller as a customer, or 404 for staff.
pub fn customer(user: &User) -> Result<UserId, AppError> {
    match user.role {
        Role::Customer => Ok(user.id),
        _ => Err(not_for_role()),
    }
}
