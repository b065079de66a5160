//! The guest cart kept in localStorage while logged out, merged into the account's cart at login, and the
//! pending action ("add to cart", "add to wishlist", "check out") a logged-out visitor asked for, replayed
//! after login where they were.
//!
//! Invariant: pure; time is passed in as Unix seconds. A guest cart only ever holds distinct products with
//! 1..=[`MAX_QUANTITY`] units and at most [`MAX_LINES`] lines (what `POST /api/cart/merge` accepts); a pending
//! action only ever holds a return path [`crate::nav::safe_return_path`] accepts. Unreadable stored text
//! decodes to an empty cart or no action, never a panic.

use protocol::{CartItemInput, MergeCart, ProductId, Role};
use serde::{Deserialize, Serialize};

use crate::nav::safe_return_path;

/// The localStorage key of the guest cart.
pub const GUEST_CART_KEY: &str = "izi.guest_cart";
/// Version of the stored guest cart; another version reads as an empty cart.
pub const GUEST_CART_VERSION: u32 = 1;
/// Units of one product a cart line may hold (the server's limit).
pub const MAX_QUANTITY: u32 = 99;
/// Lines a merge may carry (the server's limit for `POST /api/cart/merge`).
pub const MAX_LINES: usize = 200;

/// The cart of a visitor who is not logged in: product ids and quantities only (prices are the server's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestCart {
    items: Vec<CartItemInput>,
}

#[derive(Serialize, Deserialize)]
struct StoredCart {
    v: u32,
    items: Vec<CartItemInput>,
}

impl GuestCart {
    /// An empty cart.
    pub fn new() -> GuestCart {
        GuestCart::default()
    }

    /// The lines, oldest first; each a distinct product with 1..=[`MAX_QUANTITY`] units.
    pub fn items(&self) -> &[CartItemInput] {
        &self.items
    }

    /// Whether the cart holds nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Units in the cart (what the header's badge shows, like the server's `count`).
    pub fn count(&self) -> u64 {
        self.items.iter().map(|item| item.quantity.unsigned_abs()).sum()
    }

    /// Units of `product_id` in the cart (0 when absent).
    pub fn quantity_of(&self, product_id: ProductId) -> u32 {
        self.items.iter().find(|item| item.product_id == product_id).map_or(0, |item| item.quantity as u32)
    }

    /// Adds `quantity` units of `product_id` (quantities add up, capped at [`MAX_QUANTITY`]). Returns the
    /// line's units afterwards: 0 when nothing was added (`quantity` 0, or a new line in a cart already at
    /// [`MAX_LINES`]).
    pub fn add(&mut self, product_id: ProductId, quantity: u32) -> u32 {
        let now = self.quantity_of(product_id).saturating_add(quantity);
        self.set(product_id, now)
    }

    /// Sets the units of `product_id` (capped at [`MAX_QUANTITY`]; 0 removes the line). Returns the line's
    /// units afterwards: 0 when removed, or refused as a new line in a cart already at [`MAX_LINES`].
    pub fn set(&mut self, product_id: ProductId, quantity: u32) -> u32 {
        let quantity = quantity.min(MAX_QUANTITY);
        if quantity == 0 {
            self.remove(product_id);
            return 0;
        }
        let full = self.items.len() >= MAX_LINES;
        match self.items.iter_mut().find(|item| item.product_id == product_id) {
            Some(item) => item.quantity = i64::from(quantity),
            None if full => return 0,
            None => self.items.push(CartItemInput { product_id, quantity: i64::from(quantity) }),
        }
        quantity
    }

    /// Removes the line of `product_id`; returns whether there was one.
    pub fn remove(&mut self, product_id: ProductId) -> bool {
        let before = self.items.len();
        self.items.retain(|item| item.product_id != product_id);
        self.items.len() != before
    }

    /// Empties the cart (after a successful merge).
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// The text stored under [`GUEST_CART_KEY`].
    pub fn encode(&self) -> String {
        serde_json::to_string(&StoredCart { v: GUEST_CART_VERSION, items: self.items.clone() })
            .expect("a guest cart always serializes")
    }

    /// Reads a stored cart. Unreadable text or another version gives an empty cart; lines are cleaned as
    /// [`GuestCart::add`] would (quantities ≤ 0 dropped, repeats added up, caps applied).
    pub fn decode(text: &str) -> GuestCart {
        let mut cart = GuestCart::new();
        let Ok(stored) = crate::json::from_text::<StoredCart>(text) else { return cart };
        if stored.v != GUEST_CART_VERSION {
            return cart;
        }
        for item in stored.items.into_iter().filter(|item| item.quantity > 0) {
            cart.add(item.product_id, u32::try_from(item.quantity).unwrap_or(MAX_QUANTITY));
        }
        cart
    }

    /// The body of `POST /api/cart/merge` that hands this cart to the account at login.
    pub fn into_merge_request(self) -> MergeCart {
        MergeCart { items: self.items }
    }
}

/// The localStorage key of the pending action.
pub const PENDING_ACTION_KEY: &str = "izi.pending_action";
/// Version of the stored pending action; another version reads as none.
pub const PENDING_ACTION_VERSION: u32 = 2;
/// How long a pending action stays valid: a login abandoned and resumed later must not add things by
/// surprise.
pub const PENDING_ACTION_TTL_SECS: i64 = 30 * 60;

/// What a logged-out visitor asked for before being sent to log in. Externally tagged since version 2 (an
/// internally tagged enum costs a buffering decoder); a version-1 action reads as none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    /// Add `quantity` (1..=[`MAX_QUANTITY`]) units of a product to the cart.
    AddToCart { product_id: ProductId, quantity: u32 },
    /// Add a product to the wishlist.
    AddToWishlist { product_id: ProductId },
    /// Go on to check out (the guest cart is merged first).
    Checkout,
}

/// An action to replay after login, and the page to come back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAction {
    kind: PendingKind,
    return_to: String,
    /// Unix seconds when it was recorded.
    saved_at: i64,
}

#[derive(Serialize, Deserialize)]
struct StoredAction {
    v: u32,
    action: PendingAction,
}

impl PendingAction {
    /// Records `kind`, to come back to `return_to`, at `now_secs`. `None` when `return_to` is not a safe
    /// same-origin path ([`safe_return_path`]) or an add-to-cart has no units; quantities are capped at
    /// [`MAX_QUANTITY`].
    pub fn new(kind: PendingKind, return_to: &str, now_secs: i64) -> Option<PendingAction> {
        let return_to = safe_return_path(return_to)?.to_owned();
        let kind = match kind {
            PendingKind::AddToCart { quantity: 0, .. } => return None,
            PendingKind::AddToCart { product_id, quantity } => {
                PendingKind::AddToCart { product_id, quantity: quantity.min(MAX_QUANTITY) }
            }
            other => other,
        };
        Some(PendingAction { kind, return_to, saved_at: now_secs })
    }

    /// What to do.
    pub fn kind(&self) -> &PendingKind {
        &self.kind
    }

    /// Where to go afterwards: a safe same-origin path.
    pub fn return_to(&self) -> &str {
        &self.return_to
    }

    /// Whether a user of `role` can do it: cart, wishlist and checkout are a customer's (staff get 404 there),
    /// so for staff the action is dropped and only the return path may be used.
    pub fn is_for(&self, role: Role) -> bool {
        role == Role::Customer
    }

    /// The text stored under [`PENDING_ACTION_KEY`].
    pub fn encode(&self) -> String {
        serde_json::to_string(&StoredAction { v: PENDING_ACTION_VERSION, action: self.clone() })
            .expect("a pending action always serializes")
    }

    /// Reads a stored action; `None` when unreadable, of another version, older than
    /// [`PENDING_ACTION_TTL_SECS`] (or saved in the future) at `now_secs`, or no longer valid as
    /// [`PendingAction::new`] checks (stored text is not trusted).
    pub fn decode(text: &str, now_secs: i64) -> Option<PendingAction> {
        let stored: StoredAction = crate::json::from_text(text).ok()?;
        if stored.v != PENDING_ACTION_VERSION {
            return None;
        }
        let PendingAction { kind, return_to, saved_at } = stored.action;
        let age = now_secs.checked_sub(saved_at)?;
        if !(0..=PENDING_ACTION_TTL_SECS).contains(&age) {
            return None;
        }
        PendingAction::new(kind, &return_to, saved_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BREAD: ProductId = ProductId(2);
    const JAM: ProductId = ProductId(5);

    #[test]
    fn quantities_add_up_and_are_capped() {
        let mut cart = GuestCart::new();
        assert_eq!(cart.add(BREAD, 2), 2);
        assert_eq!(cart.add(JAM, 1), 1);
        assert_eq!(cart.add(BREAD, 3), 5);
        assert_eq!((cart.count(), cart.items().len()), (6, 2));
        assert_eq!(cart.add(BREAD, 200), MAX_QUANTITY);
        assert_eq!(cart.add(BREAD, u32::MAX), MAX_QUANTITY);
        assert_eq!(cart.add(JAM, 0), 1, "adding nothing changes nothing");
        assert_eq!(cart.count(), 100);
        assert_eq!(cart.items()[0], CartItemInput { product_id: BREAD, quantity: 99 }, "oldest first");
    }

    #[test]
    fn set_and_remove() {
        let mut cart = GuestCart::new();
        assert_eq!(cart.set(BREAD, 4), 4);
        assert_eq!(cart.set(BREAD, 1), 1);
        assert_eq!(cart.set(JAM, 150), MAX_QUANTITY);
        assert_eq!(cart.set(BREAD, 0), 0);
        assert_eq!(cart.quantity_of(BREAD), 0);
        assert!(cart.remove(JAM));
        assert!(!cart.remove(JAM));
        assert!(cart.is_empty());
        assert_eq!(cart.count(), 0);
    }

    #[test]
    fn a_full_cart_refuses_new_lines_but_not_more_units() {
        let mut cart = GuestCart::new();
        for id in 0..MAX_LINES as i64 {
            assert_eq!(cart.add(ProductId(id), 1), 1);
        }
        assert_eq!(cart.add(ProductId(10_000), 1), 0);
        assert_eq!(cart.items().len(), MAX_LINES);
        assert_eq!(cart.add(ProductId(0), 1), 2);
    }

    #[test]
    fn the_cart_round_trips_and_becomes_a_merge_request() {
        let mut cart = GuestCart::new();
        cart.add(BREAD, 2);
        cart.add(JAM, 1);
        let text = cart.encode();
        assert_eq!(GuestCart::decode(&text), cart);
        let merge = GuestCart::decode(&text).into_merge_request();
        assert_eq!(
            merge.items,
            vec![CartItemInput { product_id: BREAD, quantity: 2 }, CartItemInput { product_id: JAM, quantity: 1 }]
        );
        assert_eq!(
            serde_json::to_value(&merge).unwrap(),
            serde_json::json!({"items": [{"product_id": 2, "quantity": 2}, {"product_id": 5, "quantity": 1}]})
        );
    }

    #[test]
    fn garbage_or_another_version_reads_as_an_empty_cart() {
        for text in [
            "",
            "null",
            "{",
            "[1,2]",
            r#"{"v":2,"items":[{"product_id":2,"quantity":1}]}"#,
            r#"{"v":1,"items":"many"}"#,
            r#"{"v":1,"items":[{"product_id":"two","quantity":1}]}"#,
            r#"{"items":[{"product_id":2,"quantity":1}]}"#,
        ] {
            assert_eq!(GuestCart::decode(text), GuestCart::new(), "{text:?}");
        }
    }

    #[test]
    fn stored_lines_are_cleaned_on_the_way_in() {
        let text = r#"{"v":1,"items":[
            {"product_id":2,"quantity":60},{"product_id":2,"quantity":60},
            {"product_id":5,"quantity":0},{"product_id":6,"quantity":-3},
            {"product_id":7,"quantity":99999999999}]}"#;
        let cart = GuestCart::decode(text);
        assert_eq!(
            cart.items(),
            [
                CartItemInput { product_id: BREAD, quantity: 99 },
                CartItemInput { product_id: ProductId(7), quantity: 99 }
            ]
        );
    }

    #[test]
    fn a_pending_action_round_trips_within_its_lifetime() {
        let kind = PendingKind::AddToCart { product_id: BREAD, quantity: 3 };
        let action = PendingAction::new(kind.clone(), "/shop/products/2?q=bread", 1_000).unwrap();
        assert_eq!((action.kind(), action.return_to()), (&kind, "/shop/products/2?q=bread"));
        let text = action.encode();
        assert_eq!(PendingAction::decode(&text, 1_000), Some(action.clone()));
        assert_eq!(PendingAction::decode(&text, 1_000 + PENDING_ACTION_TTL_SECS), Some(action.clone()));
        assert_eq!(PendingAction::decode(&text, 1_001 + PENDING_ACTION_TTL_SECS), None, "expired");
        assert_eq!(PendingAction::decode(&text, 999), None, "saved in the future");
        assert!(action.is_for(Role::Customer));
        assert!(!action.is_for(Role::Owner));

        for kind in [PendingKind::AddToWishlist { product_id: JAM }, PendingKind::Checkout] {
            let action = PendingAction::new(kind, "/shop", 5).unwrap();
            assert_eq!(PendingAction::decode(&action.encode(), 6), Some(action));
        }
    }

    #[test]
    fn unsafe_return_paths_and_empty_adds_are_refused() {
        for bad in ["https://evil.test/", "//evil.test", "/\\evil.test", "javascript:alert(1)", "", "/login"] {
            assert_eq!(PendingAction::new(PendingKind::Checkout, bad, 0), None, "{bad:?}");
        }
        let none = PendingKind::AddToCart { product_id: BREAD, quantity: 0 };
        assert_eq!(PendingAction::new(none, "/shop", 0), None);
        let many = PendingKind::AddToCart { product_id: BREAD, quantity: 500 };
        let capped = PendingAction::new(many, "/shop", 0).unwrap();
        assert_eq!(capped.kind(), &PendingKind::AddToCart { product_id: BREAD, quantity: MAX_QUANTITY });
    }

    #[test]
    fn tampered_or_foreign_stored_actions_are_refused() {
        let tampered = r#"{"v":2,"action":{"kind":"checkout","return_to":"//evil.test","saved_at":10}}"#;
        let valid = tampered.replace("//evil.test", "/shop");
        assert!(PendingAction::decode(&valid, 10).is_some(), "the fixture is otherwise valid");
        assert_eq!(PendingAction::decode(tampered, 10), None);
        let other_version = valid.replace(r#""v":2"#, r#""v":9"#);
        assert_eq!(PendingAction::decode(&other_version, 10), None);
        let version_one = r#"{"v":1,"action":{"kind":{"type":"checkout"},"return_to":"/shop","saved_at":10}}"#;
        assert_eq!(PendingAction::decode(version_one, 10), None, "the old shape reads as none");
        for garbage in ["", "{}", "42", r#"{"v":2,"action":{"kind":"steal","return_to":"/","saved_at":10}}"#] {
            assert_eq!(PendingAction::decode(garbage, 10), None, "{garbage:?}");
        }
        assert_eq!(PendingAction::decode(&valid, i64::MIN), None, "no overflow");
    }
}
