//! A link to an app path that knows the two bundles: within this bundle it is the router's `<A>` (no page
//! load); to a path of the other bundle ([`protocol::bundle_of`]) it is a plain link the router leaves alone
//! (`rel="external"`), and the browser loads that bundle's page.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::shell::use_bundle;

/// `<A href>` in this bundle, `<a href rel="external">` to the other one.
#[component]
pub fn AppLink(
    href: &'static str,
    /// The link's class.
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    if protocol::bundle_of(href) == use_bundle() {
        view! { <A href=href attr:class=class>{children()}</A> }.into_any()
    } else {
        view! { <a href=href class=class rel="external">{children()}</a> }.into_any()
    }
}
