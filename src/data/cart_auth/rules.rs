//! The pure decisions of the cart flow: what a pending action still needs after the merge, where a login
//! leads and how a failed write reads. Tested natively.

use protocol::{ProductId, Role};

use crate::api::ApiError;
use crate::data::guest_cart::{GuestCart, PendingKind};
use crate::nav::{home_of, safe_return_path};

/// What the header and toasts tell staff who try to shop.
pub const STAFF_MESSAGE: &str =
    "Shop owners and admins have no cart or wishlist: sign in with a customer account to buy.";

/// What to do after the merge for a pending action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Nothing (a checkout: the return path leads there).
    Nothing,
    /// The item was in the guest cart the merge carried: only say so.
    Merged { product_id: ProductId },
    /// Add these units to the account's cart.
    AddToCart { product_id: ProductId, quantity: u32 },
    /// Add the product to the wishlist.
    AddToWishlist { product_id: ProductId },
}

/// The step a pending action still needs once the guest cart `guest` was (`merged`) or was not merged: an add
/// to cart already in a merged guest cart is not added twice.
pub fn replay_of(kind: &PendingKind, guest: &GuestCart, merged: bool) -> Replay {
    match *kind {
        PendingKind::AddToCart { product_id, .. } if merged && guest.quantity_of(product_id) > 0 => {
            Replay::Merged { product_id }
        }
        PendingKind::AddToCart { product_id, quantity } => Replay::AddToCart { product_id, quantity },
        PendingKind::AddToWishlist { product_id } => Replay::AddToWishlist { product_id },
        PendingKind::Checkout => Replay::Nothing,
    }
}

/// Where a login leads: the requested return path when safe, else the pending action's page, else the role's
/// home.
pub fn login_target(requested: Option<&str>, pending_return: Option<&str>, role: Role) -> String {
    requested
        .and_then(safe_return_path)
        .or_else(|| pending_return.and_then(safe_return_path))
        .unwrap_or_else(|| home_of(role))
        .to_owned()
}

/// A failed cart or wishlist write in words: the server's own message for a conflict or a validation error
/// (it names the product and what is left), "no longer available" for a product gone.
pub fn action_error(error: &ApiError, product: Option<&str>) -> String {
    match error {
        ApiError::Server { status: 404, .. } => match product {
            Some(name) => format!("{name} is no longer available."),
            None => "This product is no longer available.".to_owned(),
        },
        ApiError::Server { status: 401, .. } => "Your session has ended: sign in again.".to_owned(),
        ApiError::Server { message, .. } => capitalize(message),
        other => capitalize(&other.to_string()),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `?a=b` from a location's search part, whether or not it starts with `?` (empty stays empty).
pub(super) fn search_part(search: &str) -> String {
    match search {
        "" | "?" => String::new(),
        s if s.starts_with('?') => s.to_owned(),
        s => format!("?{s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FERN: ProductId = ProductId(4);

    #[test]
    fn an_add_carried_by_the_merge_is_not_added_twice() {
        let mut guest = GuestCart::new();
        guest.add(FERN, 2);
        let add = PendingKind::AddToCart { product_id: FERN, quantity: 2 };
        assert_eq!(replay_of(&add, &guest, true), Replay::Merged { product_id: FERN });
        assert_eq!(replay_of(&add, &guest, false), Replay::AddToCart { product_id: FERN, quantity: 2 }, "merge failed");
        assert_eq!(
            replay_of(&add, &GuestCart::new(), true),
            Replay::AddToCart { product_id: FERN, quantity: 2 },
            "the guest cart was full or cleared elsewhere"
        );
        let wish = PendingKind::AddToWishlist { product_id: FERN };
        assert_eq!(replay_of(&wish, &guest, true), Replay::AddToWishlist { product_id: FERN });
        assert_eq!(replay_of(&PendingKind::Checkout, &guest, true), Replay::Nothing);
    }

    #[test]
    fn a_login_goes_back_only_to_safe_paths() {
        assert_eq!(login_target(Some("/shop/products/4"), None, Role::Customer), "/shop/products/4");
        assert_eq!(login_target(Some("//evil.test"), None, Role::Customer), "/shop");
        assert_eq!(login_target(Some("https://evil.test/"), None, Role::Owner), "/owner");
        assert_eq!(login_target(None, Some("/checkout"), Role::Customer), "/checkout");
        assert_eq!(login_target(Some("//evil.test"), Some("/cart"), Role::Customer), "/cart");
        assert_eq!(login_target(None, Some("//evil.test"), Role::Admin), "/admin");
        assert_eq!(login_target(Some("/login?return=/x"), None, Role::Customer), "/shop");
    }

    #[test]
    fn errors_read_as_sentences() {
        let conflict = ApiError::Server {
            status: 409,
            code: "conflict".into(),
            message: "not enough stock of Fern: 1 left".into(),
        };
        assert_eq!(action_error(&conflict, Some("Fern")), "Not enough stock of Fern: 1 left");
        let gone = ApiError::Server { status: 404, code: "not_found".into(), message: "no such product".into() };
        assert_eq!(action_error(&gone, Some("Fern")), "Fern is no longer available.");
        assert_eq!(action_error(&gone, None), "This product is no longer available.");
        let down = ApiError::Network("refused".into());
        assert_eq!(action_error(&down, None), "Cannot reach the server: refused");
    }

    #[test]
    fn the_search_part_always_starts_with_a_question_mark() {
        assert_eq!(search_part(""), "");
        assert_eq!(search_part("?"), "");
        assert_eq!(search_part("?q=a"), "?q=a");
        assert_eq!(search_part("q=a"), "?q=a");
    }
}
