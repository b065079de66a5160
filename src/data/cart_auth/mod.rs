//! The cart and wishlist of whoever is using the app, and the flow that joins them across a login: the
//! [`CartStore`] context (provided once in `App` by [`provide_cart`]) and the [`use_cart_auth`] hook pages
//! call to add, change and remove things.
//!
//! Invariant: the account's cart and wishlist are cached values like every other (`Query::Cart`,
//! `Query::Wishlist`, read while a customer is signed in): what the server last answered (every write answers
//! the whole `Cart` or `Wishlist`, put in the cache), patched in between by the live layer's reducers, shared
//! with the customer's other tabs and kept in the snapshot by the cache; what is shown is that with the writes
//! still waiting in the outbox applied (`outbox::cart_with`), so a change shows at once, offline too, and a
//! refused one disappears; nothing here polls or subscribes. A visitor's cart lives in localStorage as a
//! [`GuestCart`]; it is merged into the account at login and cleared only once the server took it. The
//! decisions of the flow ([`replay_of`], [`login_target`], [`action_error`]) are pure and tested natively.

use leptos::prelude::*;
use protocol::{Cart, CartItemInput, CheckoutResult, LoginResponse, Product, ProductId, Role, Wishlist, WishlistInput};
use serde::Deserialize;

use crate::api::{self, ApiError};
use crate::auth::{Auth, use_auth};
use crate::cache::context::{DataCache, UseCachedReturn, use_data_cache};
use crate::components::toast::{ToastKind, Toasts, use_toasts};
use crate::data::guest_cart::GuestCart;
use crate::data::outbox::{Entry, Scope, Settled, Write, cart_with, wishlist_with};
use crate::data::outbox_driver::{Writes, use_writes};
use crate::data::queries::{Query, use_query};

mod hook;
mod rules;
mod storage;

pub use hook::{AddItem, UseCartAuthOptions, UseCartAuthReturn, use_cart_auth, use_cart_auth_with_options};

pub use rules::{Replay, STAFF_MESSAGE, action_error, login_target, replay_of};

/// The handle to the cart context: `Copy`, provided once in `App`, read with [`use_cart`].
#[derive(Clone, Copy)]
pub struct CartStore {
    /// The signed-in customer's cart and wishlist, read through the cache while a customer is signed in
    /// (`None`: a visitor or staff).
    reads: RwSignal<Option<AccountReads>>,
    /// The visitor's cart, mirrored in localStorage.
    guest: RwSignal<GuestCart>,
    /// Writes in flight (buttons are disabled meanwhile).
    busy: RwSignal<u32>,
    auth: Auth,
    toasts: Toasts,
    cache: DataCache,
    /// The outbox every account write goes through.
    writes: Writes,
}

/// The cached reads of a customer's cart and wishlist: readers of the cache while the customer is signed in,
/// so the live layer patches them, a resync or an invalidation refetches them, the other tabs and the
/// snapshot share them.
#[derive(Clone, Copy)]
struct AccountReads {
    cart: UseCachedReturn<Cart>,
    wishlist: UseCachedReturn<Wishlist>,
}

/// Provides the cart context: reads the guest cart, reads the account's cart and wishlist through the cache
/// while a customer is signed in, and puts each write's answer there. Call once, in `App`, after
/// `provide_auth()`, `provide_toasts()`, `provide_websocket()` and `provide_data_cache()`.
pub fn provide_cart() -> CartStore {
    let store = CartStore {
        reads: RwSignal::new(None),
        guest: RwSignal::new(storage::load_guest()),
        busy: RwSignal::new(0),
        auth: use_auth(),
        toasts: use_toasts(),
        cache: use_data_cache(),
        writes: use_writes(),
    };
    provide_context(store);
    // The answers of the account's writes: the server's cart or wishlist, into the cache (and so into the
    // other tabs and the snapshot).
    store.writes.on_settled(move |settled| match settled {
        Settled::Applied { write, answer } => match write.scope() {
            Scope::Cart => {
                if let Ok(cart) = Cart::deserialize(answer) {
                    store.answered_cart(&cart);
                }
            }
            Scope::Wishlist => {
                if let Ok(list) = Wishlist::deserialize(answer) {
                    store.cache.set(&Query::wishlist().key(), &list);
                }
            }
            _ => {}
        },
        // Refused: it no longer shows; the server's cart is read again in case it changed (stock, a deletion).
        Settled::RolledBack { write, .. } if matches!(write.scope(), Scope::Cart | Scope::Wishlist) => store.refresh(),
        _ => {}
    });
    // A visitor's cart changed in another tab of this browser.
    storage::follow_guest(move |guest| drop(store.guest.try_set(guest)));

    // The reads live as long as the customer is signed in (the effect's owner drops them at a change).
    let customer = Memo::new(move |_| {
        store.auth.session().with(|s| s.as_ref().filter(|s| s.user.role == Role::Customer).map(|s| s.user.id))
    });
    Effect::new(move |_| {
        let reads = customer
            .get()
            .map(|_| AccountReads { cart: use_query(Query::cart()), wishlist: use_query(Query::wishlist()) });
        store.reads.set(reads);
    });
    store
}

/// The cart context provided at the root.
pub fn use_cart() -> CartStore {
    expect_context()
}

impl CartStore {
    /// The signed-in user's role (reactive); `None` for a visitor.
    pub fn role(&self) -> Option<Role> {
        self.auth.session().with(|s| s.as_ref().map(|s| s.user.role))
    }

    /// Units in the cart shown in the header (reactive): the account's for a customer (`None` until its cart
    /// is loaded: a number shown before would be wrong), the guest cart's for a visitor, none for staff.
    pub fn count(&self) -> Option<u64> {
        match self.role() {
            Some(Role::Customer) => self.account_cart().map(|c| c.count),
            Some(_) => Some(0),
            None => Some(self.guest.with(GuestCart::count)),
        }
    }

    /// The customer's cart as shown: the server's with the waiting writes applied (reactive).
    fn account_cart(&self) -> Option<Cart> {
        let cart = self.reads.get()?.cart.data.get()?;
        Some(self.writes.with_entries(|e| cart_with(&cart, e)))
    }

    /// The customer's wishlist as shown (reactive).
    fn account_wishlist(&self) -> Option<Wishlist> {
        let list = self.reads.get()?.wishlist.data.get()?;
        Some(self.writes.with_entries(|e| wishlist_with(&list, e)))
    }

    /// Why the cart or the wishlist could not be loaded (reactive).
    fn error(&self) -> Option<String> {
        let reads = self.reads.get()?;
        reads.cart.error.get().or_else(|| reads.wishlist.error.get())
    }

    /// Keeps an account write in the outbox (shown at once, sent when the server can be reached).
    fn push(&self, write: Write, shown: Option<Product>) {
        self.writes.push(write, shown);
    }

    /// Reads the account's cart and wishlist again (after a refused write, a failed checkout, a "Retry").
    pub fn refresh(&self) {
        self.cache.invalidate_many([&Query::cart().key(), &Query::wishlist().key()]);
    }

    /// Shows the cart a write answered, here and in the customer's other tabs.
    fn answered_cart(&self, cart: &Cart) {
        self.cache.set(&Query::cart().key(), cart);
    }

    fn set_guest(&self, change: impl FnOnce(&mut GuestCart)) {
        self.guest.update(change);
        self.guest.with_untracked(storage::save_guest);
    }

    /// What a toast adds to a change made offline.
    fn later(&self) -> &'static str {
        if self.writes.online() { "" } else { " It is saved when you are back online." }
    }

    /// Runs one write for a customer, keeping `busy` up meanwhile.
    async fn write<T>(&self, request: impl std::future::Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
        self.busy.update(|n| *n += 1);
        let result = request.await;
        self.busy.try_update(|n| *n = n.saturating_sub(1));
        result
    }

    /// Places the order (`POST /api/orders`): one order per shop. On success the cart is empty (as on the
    /// server); on a failure (a 409 when something ran out) nothing changed on the server and the cart is
    /// reloaded to show the current stock.
    pub async fn checkout(&self) -> Result<CheckoutResult, ApiError> {
        // Never queued: an order is placed now, on the cart the server has.
        let offline = || ApiError::Network("checkout needs a connection.".into());
        let (saving, unreachable) = self.writes.with_entries(|entries| {
            let cart = || entries.iter().filter(|e| e.write.scope() == Scope::Cart);
            (cart().next().is_some(), cart().any(Entry::retrying))
        });
        if !self.writes.online() || unreachable {
            return Err(offline());
        }
        if saving {
            let message = "your cart changes are still being saved; try again in a moment".to_owned();
            return Err(ApiError::Server { status: 409, code: "pending".into(), message });
        }
        let token = self.auth.token();
        let result = self
            .write(api::post_json::<_, CheckoutResult>("/orders", &serde_json::json!({}), token.as_deref()))
            .await
            .map_err(|e| if matches!(e, ApiError::Network(_)) { offline() } else { e });
        match &result {
            Ok(_) => {
                self.answered_cart(&Cart { items: Vec::new(), count: 0, total_cents: Default::default() });
            }
            Err(_) => self.refresh(),
        }
        result
    }

    /// Completes a login: for a customer, merges the guest cart into the account (`POST /api/cart/merge`,
    /// quantities added), replays the pending action (a wishlist add, say), clears what the server took, and
    /// loads the cart and wishlist; then signs in and answers where to go: `requested` when it is a safe
    /// same-origin path, else the pending action's page, else the role's home.
    pub async fn finish_login(&self, response: LoginResponse, requested: Option<String>) -> String {
        let store = *self;
        let role = response.user.role;
        let token = response.token.clone();
        let pending = storage::load_pending(now_secs());
        storage::clear_pending();
        let pending_return = pending.as_ref().filter(|p| p.is_for(role)).map(|p| p.return_to().to_owned());
        let target = login_target(requested.as_deref(), pending_return.as_deref(), role);

        if role != Role::Customer {
            if pending.is_some() {
                store.toasts.push(ToastKind::Info, "Staff accounts cannot shop", STAFF_MESSAGE);
            }
            store.auth.login(response.into());
            return target;
        }

        let guest = store.guest.get_untracked();
        let mut cart = None;
        if !guest.is_empty() {
            match api::post_json::<_, Cart>("/cart/merge", &guest.clone().into_merge_request(), Some(&token)).await {
                Ok(merged) => {
                    cart = Some(merged);
                    store.set_guest(GuestCart::clear);
                }
                Err(e) => store.toasts.push(
                    ToastKind::Error,
                    "Your cart could not be added to your account",
                    format!("{e}. It is kept on this device; try again later."),
                ),
            }
        }
        match pending.as_ref().map(|p| replay_of(p.kind(), &guest, cart.is_some())) {
            Some(Replay::AddToCart { product_id, quantity }) => {
                let input = CartItemInput { product_id, quantity: i64::from(quantity) };
                match api::post_json::<_, Cart>("/cart/items", &input, Some(&token)).await {
                    Ok(answer) => added_toast(store.toasts, &product_name_in(&answer, product_id)),
                    Err(e) => store.toasts.push(ToastKind::Error, "Not added to your cart", action_error(&e, None)),
                }
            }
            Some(Replay::AddToWishlist { product_id }) => {
                match api::post_json::<_, Wishlist>("/wishlist", &WishlistInput { product_id }, Some(&token)).await {
                    Ok(answer) => {
                        let name = answer.items.iter().find(|p| p.id == product_id).map(|p| p.name.clone());
                        wishlisted_toast(store.toasts, name.as_deref().unwrap_or("The product"));
                    }
                    Err(e) => store.toasts.push(ToastKind::Error, "Not added to your wishlist", action_error(&e, None)),
                }
            }
            Some(Replay::Merged { product_id }) => {
                if let Some(answer) = &cart {
                    added_toast(store.toasts, &product_name_in(answer, product_id));
                }
            }
            Some(Replay::Nothing) | None => {}
        }
        // Signed in, the cache reads the cart and the wishlist (the merge and the replay are in them).
        store.auth.login(response.into());
        target
    }
}

fn product_name_in(cart: &Cart, product_id: ProductId) -> String {
    cart.items
        .iter()
        .find(|line| line.product.id == product_id)
        .map_or_else(|| "The product".to_owned(), |line| line.product.name.clone())
}

fn added_toast(toasts: Toasts, name: &str) {
    toasts.push(ToastKind::Success, "Added to your cart", format!("Added {name} to your cart."));
}

fn wishlisted_toast(toasts: Toasts, name: &str) {
    toasts.push(ToastKind::Success, "Added to your wishlist", format!("Added {name} to your wishlist."));
}

fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}
