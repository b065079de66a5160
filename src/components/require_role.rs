//! Guards a page: signed-out visitors go to the login page (and come back afterwards); a user of another
//! role is told the page is not theirs.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;
use protocol::Role;

use crate::auth::use_auth;
use crate::components::app_link::AppLink;
use crate::nav::{home_of, login_url_returning_to};

/// Renders `children` only for a signed-in user of `role`.
#[component]
pub fn RequireRole(
    /// The role the page is for.
    role: Role,
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    // Only a change of role re-renders the page: a refreshed token (same user, same role) must not reset what
    // the user is doing (a half-filled form).
    let role_now = Memo::new(move |_| auth.session().with(|s| s.as_ref().map(|s| s.user.role)));
    move || {
        match role_now.get() {
        None => {
            let search = location.search.get_untracked();
            let separator = if search.is_empty() || search.starts_with('?') { "" } else { "?" };
            let here = format!("{}{separator}{search}", location.pathname.get_untracked());
            view! { <Redirect path=login_url_returning_to(&here)/> }.into_any()
        }
        Some(current) if current == role => children().into_any(),
        Some(current) => view! {
            <section class="notice" role="alert">
                <h1>"This page is not for your account"</h1>
                <p>"You are signed in with another role. "<AppLink href=home_of(current)>"Go to your dashboard"</AppLink></p>
            </section>
        }
        .into_any(),
    }
    }
}
