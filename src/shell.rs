//! What every part of the app may know about the app itself: its title and which bundle it is. Leaf module:
//! `app.rs` provides the bundle, the layout and the pages read it here (no import goes back to `app.rs`).

use leptos::prelude::*;
use protocol::Bundle;

/// The title of the app, shown in the header and on the login page.
pub const APP_TITLE: &str = "IziShopin Live";

/// The bundle this app is (provided by `app::Storefront` and `app::BackOffice`).
pub fn use_bundle() -> Bundle {
    use_context().unwrap_or(Bundle::Storefront)
}
