//! The customer's side: the catalog, a product, the cart, the wishlist, checkout, and the customer's orders.
//! One page per file; `parts` holds the pieces they share and `format` their pure wording.
//!
//! Invariant: pages read data through `use_query` (live through the cache) and change the cart and wishlist
//! only through `use_cart_auth`; none of them talks to the network or the socket directly.

mod cart;
mod catalog;
mod checkout;
pub mod format;
mod order;
mod orders;
mod parts;
mod product;
mod wishlist;

pub use cart::CartPage;
pub use catalog::CatalogPage;
pub use checkout::CheckoutPage;
pub use order::OrderPage;
pub use orders::OrdersPage;
pub use parts::ShopNav;
pub use product::ProductPage;
pub use wishlist::WishlistPage;
