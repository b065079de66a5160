//! The cart and wishlist of whoever is using the app, and the flow that joins them across a login: the
//! [`CartStore`] context (provided once in `App` by [`provide_cart`]) and the [`use_cart_auth`] hook pages
//! call to add, change and remove things.
//!
//! Invariant: the account's cart and wishlist are only ever what the server last answered (every write answers
//! the whole `Cart` or `Wishlist`), patched in between by `product_update` events through the pure reducers;
//! what is shown is that with the writes still waiting in the outbox applied (`outbox::cart_with`), so a
//! change shows at once, offline too, and a refused one disappears; nothing here polls. A visitor's cart lives in localStorage as a [`GuestCart`]; it is merged into the account
//! at login and cleared only once the server took it. The decisions of the flow ([`replay_of`],
//! [`login_target`], [`action_error`]) are pure and tested natively.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{
    Cart, CartItemInput, CheckoutResult, LoginResponse, Product, ProductId, Role, ServerMsg, Topic, UserId, Wishlist,
    WishlistInput,
};
use serde::Deserialize;

use crate::api::{self, ApiError};
use crate::auth::{Auth, use_auth};
use crate::browser::JsonChannel;
use crate::components::toast::{ToastKind, Toasts, use_toasts};
use crate::data::guest_cart::GuestCart;
use crate::data::outbox::{Entry, Scope, Settled, Write, cart_with, wishlist_with};
use crate::data::outbox_driver::{Writes, use_writes};
use crate::data::reducers::{Applied, Reduce};
use crate::realtime::context::use_websocket;

mod hook;
mod rules;
mod storage;

pub use hook::{AddItem, UseCartAuthOptions, UseCartAuthReturn, use_cart_auth, use_cart_auth_with_options};

pub use rules::{AccountCopy, CartShare, Replay, STAFF_MESSAGE, action_error, login_target, replay_of};

/// The handle to the cart context: `Copy`, provided once in `App`, read with [`use_cart`].
#[derive(Debug, Clone, Copy)]
pub struct CartStore {
    /// The signed-in customer's cart as the server last answered (`None`: not loaded, or not a customer).
    account: RwSignal<Option<Cart>>,
    /// The signed-in customer's wishlist (`None`: not loaded, or not a customer).
    wishlist: RwSignal<Option<Wishlist>>,
    /// The visitor's cart, mirrored in localStorage.
    guest: RwSignal<GuestCart>,
    /// Why the last load of the cart or wishlist failed.
    error: RwSignal<Option<String>>,
    /// Writes in flight (buttons are disabled meanwhile).
    busy: RwSignal<u32>,
    /// The customer whose cart and wishlist are loaded (or being loaded).
    loaded_for: StoredValue<Option<UserId>>,
    /// Whether this tab's checkout is waiting for its answer, which sets the cart itself.
    checking_out: StoredValue<bool>,
    /// The customer's other tabs (`izi-cart-{user id}`): every write's answer made here is shown there too.
    tabs: StoredValue<Option<JsonChannel<CartShare>>, LocalStorage>,
    auth: Auth,
    toasts: Toasts,
    /// The outbox every account write goes through.
    writes: Writes,
}

/// Provides the cart context: reads the guest cart, loads the account's cart and wishlist when a customer
/// signs in (once per user), forgets them at sign-out, and applies `product_update` events to them. Call once,
/// in `App`, after `provide_auth()`, `provide_toasts()` and `provide_websocket()`.
pub fn provide_cart() -> CartStore {
    let store = CartStore {
        account: RwSignal::new(None),
        wishlist: RwSignal::new(None),
        guest: RwSignal::new(storage::load_guest()),
        error: RwSignal::new(None),
        busy: RwSignal::new(0),
        loaded_for: StoredValue::new(None),
        checking_out: StoredValue::new(false),
        tabs: StoredValue::new_local(None),
        auth: use_auth(),
        toasts: use_toasts(),
        writes: use_writes(),
    };
    provide_context(store);
    // The answers of the account's writes: the server's cart or wishlist, shown here and in the other tabs.
    store.writes.on_settled(move |settled| match settled {
        Settled::Applied { write, answer } => match write.scope() {
            Scope::Cart => {
                if let Ok(cart) = Cart::deserialize(answer) {
                    store.answered_cart(cart);
                }
            }
            Scope::Wishlist => {
                if let Ok(list) = Wishlist::deserialize(answer) {
                    store.answered_wishlist(list);
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

    Effect::new(move |_| {
        let who = store.auth.session().with(|s| s.as_ref().map(|s| (s.user.id, s.user.role)));
        match who {
            Some((id, Role::Customer)) => {
                if store.loaded_for.get_value() != Some(id) {
                    store.loaded_for.set_value(Some(id));
                    let tabs = JsonChannel::open(&format!("izi-cart-{}", id.0), move |share| store.take_shared(share));
                    store.tabs.set_value(tabs);
                    // What the server last answered, until it answers again (offline: until it is back).
                    if let Some(copy) = storage::load_account(id) {
                        store.account.set(copy.cart);
                        store.wishlist.set(copy.wishlist);
                    }
                    store.refresh();
                }
            }
            _ => {
                storage::clear_account();
                store.tabs.set_value(None);
                store.loaded_for.set_value(None);
                store.account.set(None);
                store.wishlist.set(None);
                store.error.set(None);
            }
        }
    });

    // Kept for the next start (which may be offline), for this customer only.
    Effect::new(move |_| {
        // Read first: what the effect follows.
        let (cart, wishlist) = (store.account.get(), store.wishlist.get());
        let Some(user) = store.loaded_for.get_value() else { return };
        if cart.is_some() || wishlist.is_some() {
            storage::save_account(&AccountCopy { user, cart, wishlist });
        }
    });

    let ws = use_websocket();
    // Product changes patch the lines (staff get them as `product_update`, everybody else as
    // `catalog_update`); a checkout (here or in another tab) empties the cart on the server: the reducer asks
    // for a refetch.
    for topic in [Topic::Products, Topic::Catalog, Topic::Orders] {
        ws.subscribe(topic, move |event| store.apply(event)).keep();
    }
    ws.on_resync(move || {
        if store.loaded_for.get_value().is_some() {
            store.refresh();
        }
    })
    .keep();
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
        self.account.with(|c| c.as_ref().map(|c| self.writes.with_entries(|e| cart_with(c, e))))
    }

    /// The customer's wishlist as shown (reactive).
    fn account_wishlist(&self) -> Option<Wishlist> {
        self.wishlist.with(|w| w.as_ref().map(|w| self.writes.with_entries(|e| wishlist_with(w, e))))
    }

    /// Keeps an account write in the outbox (shown at once, sent when the server can be reached).
    fn push(&self, write: Write, shown: Option<Product>) {
        self.writes.push(write, shown);
    }

    /// Applies one event to the cart and the wishlist; refetches when the reducer cannot know.
    fn apply(&self, event: &ServerMsg) {
        let mut outcome = Applied::Unchanged;
        self.account.maybe_update(|cart| match cart {
            Some(cart) => {
                outcome = cart.reduce(&(), event);
                outcome.is_changed()
            }
            None => false,
        });
        self.wishlist.maybe_update(|list| list.as_mut().is_some_and(|list| list.reduce(&(), event).is_changed()));
        // The order event of this tab's own checkout usually arrives before the checkout's answer, which empties
        // the cart (or, on a failure, reloads it): no need to ask for it twice.
        if outcome.needs_refetch() && !self.checking_out.get_value() {
            self.refresh_cart();
        }
    }

    /// Loads the account's cart and wishlist again (after a failure, a resync, a checkout elsewhere).
    pub fn refresh(&self) {
        self.reload(true);
    }

    /// Loads the account's cart again (a checkout elsewhere emptied it; the wishlist did not change).
    fn refresh_cart(&self) {
        self.reload(false);
    }

    /// Loads the cart, and the wishlist too when `with_wishlist`, then records why a load failed (or that none
    /// did).
    fn reload(&self, with_wishlist: bool) {
        let store = *self;
        let Some(token) = store.auth.token() else { return };
        spawn_local(async move {
            let wishlist = async {
                match with_wishlist {
                    true => Some(api::get_json::<Wishlist>("/wishlist", Some(&token)).await),
                    false => None,
                }
            };
            let (cart, wishlist) = futures::future::join(api::get_json::<Cart>("/cart", Some(&token)), wishlist).await;
            // The user may have signed out meanwhile.
            if store.auth.token().as_deref() != Some(token.as_str()) {
                return;
            }
            let mut error = None;
            match cart {
                Ok(cart) => drop(store.account.try_set(Some(cart))),
                Err(e) => error = Some(e.to_string()),
            }
            match wishlist {
                Some(Ok(list)) => drop(store.wishlist.try_set(Some(list))),
                Some(Err(e)) => error = error.or(Some(e.to_string())),
                None => {}
            }
            store.error.try_set(error);
        });
    }

    /// Shows the cart a write answered, here and in the customer's other tabs.
    fn answered_cart(&self, cart: Cart) {
        self.share(CartShare { cart: Some(cart.clone()), wishlist: None });
        self.account.try_set(Some(cart));
    }

    /// Shows the wishlist a write answered, here and in the customer's other tabs.
    fn answered_wishlist(&self, list: Wishlist) {
        self.share(CartShare { cart: None, wishlist: Some(list.clone()) });
        self.wishlist.try_set(Some(list));
    }

    fn share(&self, share: CartShare) {
        self.tabs.try_with_value(|tabs| tabs.as_ref().map(|channel| channel.post(&share)));
    }

    /// Another tab of this customer wrote: show what its server answer said.
    fn take_shared(&self, share: CartShare) {
        if let Some(cart) = share.cart {
            self.account.try_set(Some(cart));
        }
        if let Some(list) = share.wishlist {
            self.wishlist.try_set(Some(list));
        }
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
        self.checking_out.set_value(true);
        let result = self
            .write(api::post_json::<_, CheckoutResult>("/orders", &serde_json::json!({}), token.as_deref()))
            .await
            .map_err(|e| if matches!(e, ApiError::Network(_)) { offline() } else { e });
        self.checking_out.try_set_value(false);
        match &result {
            Ok(_) => {
                self.answered_cart(Cart { items: Vec::new(), count: 0, total_cents: Default::default() });
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
        let mut wishlist = None;
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
                    Ok(answer) => {
                        added_toast(store.toasts, &product_name_in(&answer, product_id));
                        cart = Some(answer);
                    }
                    Err(e) => store.toasts.push(ToastKind::Error, "Not added to your cart", action_error(&e, None)),
                }
            }
            Some(Replay::AddToWishlist { product_id }) => {
                match api::post_json::<_, Wishlist>("/wishlist", &WishlistInput { product_id }, Some(&token)).await {
                    Ok(answer) => {
                        let name = answer.items.iter().find(|p| p.id == product_id).map(|p| p.name.clone());
                        wishlisted_toast(store.toasts, name.as_deref().unwrap_or("The product"));
                        wishlist = Some(answer);
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
        // Whatever the steps above did not answer is loaded now, so the header's count is right at once.
        let (cart_answer, wishlist_answer) = futures::future::join(
            async {
                match cart {
                    Some(cart) => Ok(cart),
                    None => api::get_json::<Cart>("/cart", Some(&token)).await,
                }
            },
            async {
                match wishlist {
                    Some(list) => Ok(list),
                    None => api::get_json::<Wishlist>("/wishlist", Some(&token)).await,
                }
            },
        )
        .await;
        store.account.try_set(cart_answer.ok());
        store.wishlist.try_set(wishlist_answer.ok());
        let loaded = store.account.with_untracked(Option::is_some) && store.wishlist.with_untracked(Option::is_some);
        store.loaded_for.set_value(loaded.then_some(response.user.id));
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
