//! Components shared by several pages.

pub mod connection_badge;
pub mod layout;
pub mod require_role;
pub mod states;
pub mod toast;
