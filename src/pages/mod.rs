//! One page per file.

mod admin;
mod login;
mod not_found;
mod owner;
mod shop;

pub use admin::{AdminPage, AdminShopPage};
pub use login::LoginPage;
pub use not_found::NotFound;
pub use owner::OwnerPage;
pub use shop::{CartPage, CatalogPage, CheckoutPage, OrderPage, OrdersPage, ProductPage, ShopNav, WishlistPage};
