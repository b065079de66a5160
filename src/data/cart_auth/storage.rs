//! The localStorage side of the cart flow: the guest cart and the pending action (a customer's cart and
//! wishlist are in the cache's snapshot). Unreadable stored text reads as nothing.

use crate::data::guest_cart::{GUEST_CART_KEY, GuestCart, PENDING_ACTION_KEY, PendingAction};

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The text under `key` (`None` without storage or key).
fn read(key: &str) -> Option<String> {
    local()?.get_item(key).ok().flatten()
}

/// Stores `text` under `key`, or removes the key for `None` (a full or missing storage only loses the copy).
fn write(key: &str, text: Option<&str>) {
    if let Some(storage) = local() {
        let _ = match text {
            Some(text) => storage.set_item(key, text),
            None => storage.remove_item(key),
        };
    }
}

pub fn load_guest() -> GuestCart {
    read(GUEST_CART_KEY).map_or_else(GuestCart::new, |t| GuestCart::decode(&t))
}

/// Calls `changed` with the guest cart another tab of this browser stored, for the page's life.
pub fn follow_guest(changed: impl Fn(GuestCart) + 'static) {
    crate::browser::follow_storage(GUEST_CART_KEY, move |text| {
        changed(text.map_or_else(GuestCart::new, |text| GuestCart::decode(&text)));
    });
}

pub fn save_guest(cart: &GuestCart) {
    write(GUEST_CART_KEY, (!cart.is_empty()).then(|| cart.encode()).as_deref());
}

pub fn load_pending(now_secs: i64) -> Option<PendingAction> {
    PendingAction::decode(&read(PENDING_ACTION_KEY)?, now_secs)
}

pub fn save_pending(action: &PendingAction) {
    write(PENDING_ACTION_KEY, Some(&action.encode()));
}

pub fn clear_pending() {
    write(PENDING_ACTION_KEY, None);
}
