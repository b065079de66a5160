//! One page per file.

mod admin;
mod customer;
mod login;
mod not_found;
mod owner;

pub use admin::AdminPage;
pub use customer::CustomerPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use owner::OwnerPage;
