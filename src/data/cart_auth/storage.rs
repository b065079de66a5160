//! The localStorage side of the cart flow: the guest cart, the pending action and the signed-in customer's
//! copy of their cart and wishlist. Unreadable stored text reads as nothing.

use protocol::UserId;

use super::rules::AccountCopy;
use crate::data::guest_cart::{GUEST_CART_KEY, GuestCart, PENDING_ACTION_KEY, PendingAction};

/// The localStorage key of the [`AccountCopy`].
pub const ACCOUNT_COPY_KEY: &str = "izi.account";

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn load_guest() -> GuestCart {
    local()
        .and_then(|s| s.get_item(GUEST_CART_KEY).ok().flatten())
        .map_or_else(GuestCart::new, |t| GuestCart::decode(&t))
}

/// Calls `changed` with the guest cart another tab of this browser stored, for the page's life.
pub fn follow_guest(changed: impl Fn(GuestCart) + 'static) {
    crate::browser::follow_storage(GUEST_CART_KEY, move |text| {
        changed(text.map_or_else(GuestCart::new, |text| GuestCart::decode(&text)));
    });
}

pub fn save_guest(cart: &GuestCart) {
    if let Some(storage) = local() {
        let _ = if cart.is_empty() {
            storage.remove_item(GUEST_CART_KEY)
        } else {
            storage.set_item(GUEST_CART_KEY, &cart.encode())
        };
    }
}

pub fn load_pending(now_secs: i64) -> Option<PendingAction> {
    let text = local()?.get_item(PENDING_ACTION_KEY).ok().flatten()?;
    PendingAction::decode(&text, now_secs)
}

pub fn save_pending(action: &PendingAction) {
    if let Some(storage) = local() {
        let _ = storage.set_item(PENDING_ACTION_KEY, &action.encode());
    }
}

pub fn clear_pending() {
    if let Some(storage) = local() {
        let _ = storage.remove_item(PENDING_ACTION_KEY);
    }
}

pub fn load_account(user: UserId) -> Option<AccountCopy> {
    let text = local()?.get_item(ACCOUNT_COPY_KEY).ok().flatten()?;
    AccountCopy::decode(&text, user)
}

pub fn save_account(copy: &AccountCopy) {
    if let Some(storage) = local() {
        let _ = storage.set_item(ACCOUNT_COPY_KEY, &copy.encode());
    }
}

pub fn clear_account() {
    if let Some(storage) = local() {
        let _ = storage.remove_item(ACCOUNT_COPY_KEY);
    }
}
