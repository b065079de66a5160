//! [`use_cart_auth`]: the cart, the wishlist and their actions for pages. A customer's changes go through the
//! outbox (shown at once, sent when the server can be reached); a visitor's change the guest cart, or is
//! remembered and finished after the login page.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};
use protocol::{Cart, Product, ProductId, Role, Wishlist};

use super::rules::search_part;
use super::{STAFF_MESSAGE, now_secs, storage, use_cart};
use crate::components::toast::ToastKind;
use crate::data::guest_cart::{GuestCart, PendingAction, PendingKind};
use crate::data::outbox::Write;
use crate::nav::login_url_returning_to;

/// An item to add: the product, its name for messages, and the units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddItem {
    pub product_id: ProductId,
    /// Shown in toasts ("Added Fern to your cart").
    pub name: String,
    /// 1..=99.
    pub quantity: u32,
    /// The product as shown, to show its line before the server answers (offline, say).
    pub product: Option<Product>,
}

/// Options of [`use_cart_auth_with_options`].
#[derive(Debug, Clone)]
pub struct UseCartAuthOptions {
    /// Whether actions report their outcome in toasts. Default: `true`.
    pub toasts: bool,
    /// The page a visitor comes back to after the login an action asks for. Default: `None`, meaning the
    /// current path and query.
    pub return_to: Option<String>,
}

impl Default for UseCartAuthOptions {
    fn default() -> Self {
        UseCartAuthOptions { toasts: true, return_to: None }
    }
}

/// What [`use_cart_auth`] returns: the cart and wishlist as signals, and the actions.
#[derive(Clone, Copy)]
pub struct UseCartAuthReturn {
    /// The signed-in customer's cart (`None` while loading, for visitors and for staff).
    pub cart: Signal<Option<Cart>>,
    /// The visitor's cart (kept on this device until login).
    pub guest: Signal<GuestCart>,
    /// Units in the cart, for the header (`None` while a customer's cart loads).
    pub count: Signal<Option<u64>>,
    /// The signed-in customer's wishlist (`None` while loading, for visitors and for staff).
    pub wishlist: Signal<Option<Wishlist>>,
    /// Why the cart or wishlist could not be loaded.
    pub error: Signal<Option<String>>,
    /// The signed-in role; `None` for a visitor.
    pub role: Signal<Option<Role>>,
    /// Whether a write is in flight.
    pub busy: Signal<bool>,
    /// Adds units to the cart: the account's for a customer; for a visitor the guest cart, then the login
    /// page (the add is finished there); for staff, a message.
    pub add_to_cart: Callback<AddItem>,
    /// Sets the units of a line (0 removes it).
    pub set_quantity: Callback<(ProductId, u32)>,
    /// Removes a line.
    pub remove_from_cart: Callback<ProductId>,
    /// Adds to the wishlist: for a visitor, remembered and done after the login page.
    pub add_to_wishlist: Callback<AddItem>,
    /// Removes from the wishlist.
    pub remove_from_wishlist: Callback<ProductId>,
    /// Adds one unit to the cart, then removes the product from the wishlist.
    pub move_to_cart: Callback<Product>,
    /// Sends a visitor to log in, coming back to checkout with the guest cart merged.
    pub checkout_login: Callback<()>,
    /// Loads the cart and wishlist again.
    pub refetch: Callback<()>,
}

/// The cart, the wishlist and their actions, with default options.
pub fn use_cart_auth() -> UseCartAuthReturn {
    use_cart_auth_with_options(UseCartAuthOptions::default())
}

/// The cart, the wishlist and their actions. Call inside the router (a visitor's action navigates to login).
pub fn use_cart_auth_with_options(options: UseCartAuthOptions) -> UseCartAuthReturn {
    let store = use_cart();
    let location = use_location();
    let navigate = StoredValue::new_local(use_navigate());
    let toasts = options.toasts.then_some(store.toasts);
    let fixed_return = options.return_to;
    let here = move || {
        fixed_return.clone().unwrap_or_else(|| {
            format!("{}{}", location.pathname.get_untracked(), search_part(&location.search.get_untracked()))
        })
    };
    let notify = move |kind: ToastKind, title: &str, message: String| {
        if let Some(toasts) = toasts {
            toasts.push(kind, title, message);
        }
    };
    let staff = move || notify(ToastKind::Info, "Staff accounts cannot shop", STAFF_MESSAGE.to_owned());
    // A visitor's action: remember it, then log in, coming back here.
    let go_login = {
        let here = here.clone();
        move |kind: PendingKind| {
            let here = here();
            if let Some(action) = PendingAction::new(kind, &here, now_secs()) {
                storage::save_pending(&action);
            }
            let url = login_url_returning_to(&here);
            navigate.with_value(|navigate| navigate(&url, NavigateOptions::default()));
        }
    };

    let add_to_cart = Callback::new({
        let go_login = go_login.clone();
        move |item: AddItem| match store.role() {
            None => {
                store.set_guest(|guest| {
                    guest.add(item.product_id, item.quantity);
                });
                notify(ToastKind::Info, "Kept in your cart", format!("Sign in to buy {}.", item.name));
                go_login(PendingKind::AddToCart { product_id: item.product_id, quantity: item.quantity });
            }
            Some(Role::Customer) => {
                store.push(Write::CartAdd { product: item.product_id, quantity: item.quantity }, item.product);
                notify(
                    ToastKind::Success,
                    "Added to your cart",
                    format!("Added {} to your cart.{}", item.name, store.later()),
                );
            }
            Some(_) => staff(),
        }
    });

    let set_quantity = Callback::new(move |(product_id, quantity): (ProductId, u32)| match store.role() {
        None => store.set_guest(|guest| {
            guest.set(product_id, quantity);
        }),
        Some(Role::Customer) => store.push(Write::CartSet { product: product_id, quantity }, None),
        Some(_) => staff(),
    });

    let remove_from_cart = Callback::new(move |product_id: ProductId| match store.role() {
        None => store.set_guest(|guest| {
            guest.remove(product_id);
        }),
        Some(Role::Customer) => store.push(Write::CartRemove { product: product_id }, None),
        Some(_) => staff(),
    });

    let add_to_wishlist = Callback::new({
        let go_login = go_login.clone();
        move |item: AddItem| match store.role() {
            None => {
                notify(
                    ToastKind::Info,
                    "Sign in to keep a wishlist",
                    format!("{} will be added after you sign in.", item.name),
                );
                go_login(PendingKind::AddToWishlist { product_id: item.product_id });
            }
            Some(Role::Customer) => {
                store.push(Write::WishlistAdd { product: item.product_id }, item.product);
                let text = format!("Added {} to your wishlist.{}", item.name, store.later());
                notify(ToastKind::Success, "Added to your wishlist", text);
            }
            Some(_) => staff(),
        }
    });

    let remove_from_wishlist = Callback::new(move |product_id: ProductId| {
        if store.role() != Some(Role::Customer) {
            return staff();
        }
        store.push(Write::WishlistRemove { product: product_id }, None);
    });

    let move_to_cart = Callback::new(move |product: Product| {
        if store.role() != Some(Role::Customer) {
            return staff();
        }
        store.push(Write::CartAdd { product: product.id, quantity: 1 }, Some(product.clone()));
        store.push(Write::WishlistRemove { product: product.id }, None);
        notify(
            ToastKind::Success,
            "Moved to your cart",
            format!("Added {} to your cart.{}", product.name, store.later()),
        );
    });

    let checkout_login = Callback::new(move |()| {
        let action = PendingAction::new(PendingKind::Checkout, "/checkout", now_secs());
        if let Some(action) = action {
            storage::save_pending(&action);
        }
        let url = login_url_returning_to("/checkout");
        navigate.with_value(|navigate| navigate(&url, NavigateOptions::default()));
    });

    UseCartAuthReturn {
        cart: Signal::derive(move || store.account_cart()),
        guest: store.guest.into(),
        count: Signal::derive(move || store.count()),
        wishlist: Signal::derive(move || store.account_wishlist()),
        error: Signal::derive(move || store.error()),
        role: Signal::derive(move || store.role()),
        busy: Signal::derive(move || store.busy.get() > 0),
        add_to_cart,
        set_quantity,
        remove_from_cart,
        add_to_wishlist,
        remove_from_wishlist,
        move_to_cart,
        checkout_login,
        refetch: Callback::new(move |()| store.refresh()),
    }
}
