//! The framework-free core of the dashboard data layer: pure event reducers that patch cached values with
//! WebSocket events, and the guest cart kept while logged out; `cart_auth` is the Leptos binding of the cart,
//! the wishlist and the login flow that joins them; `outbox` keeps the writes until the server answers them.
//!
//! Invariant: `reducers`, `guest_cart` and `outbox` import no `leptos`, no `web_sys` and read no clock (time is passed in);
//! they are tested natively.

pub mod cart_auth;
pub mod dashboard;
pub mod guest_cart;
pub mod live;
pub mod outbox;
pub mod outbox_driver;
pub mod queries;
pub mod reducers;
