//! The page frame: header with the brand and the navigation for the signed-in role, then the page.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use protocol::Role;

use crate::auth::use_auth;
use crate::components::app_link::AppLink;
use crate::components::connection_badge::ConnectionBadge;
use crate::components::monitoring_panel::MonitoringToggle;
use crate::components::offline_note::AppNotes;
use crate::components::pending_writes::PendingWrites;
use crate::components::toast::ToastHost;
use crate::pages::ShopNav;
use crate::shell::APP_TITLE;

/// Wraps every page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let auth = use_auth();
    let role = move || auth.session().with(|s| s.as_ref().map(|s| s.user.role));
    let user_name = move || auth.session().with(|s| s.as_ref().map(|s| s.user.name.clone()).unwrap_or_default());
    let navigate = use_navigate();
    let query = use_query_map();
    let asked_monitor = RwSignal::new(false);
    Effect::new(move |_| {
        if query.with(|q| q.get("monitor").is_some()) {
            asked_monitor.set(true);
        }
    });
    let logout = move |_| {
        auth.logout();
        navigate("/login", Default::default());
    };
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">{APP_TITLE}</A>
            <nav aria-label="Main">
                <AppLink href="/shop">"Shop"</AppLink>
                <ShopNav/>
                <Show when=move || role() == Some(Role::Owner)>
                    <AppLink href="/owner">"My shop"</AppLink>
                </Show>
                <Show when=move || role() == Some(Role::Admin)>
                    <AppLink href="/admin">"Admin"</AppLink>
                </Show>
            </nav>
            <Show when=move || role().is_some()>
                <span class="user-name">{user_name}</span>
            </Show>
            <div class="session">
                <ConnectionBadge/>
                <PendingWrites/>
                // A tool for staff; anyone else asks for it with `?monitor` (kept for the page's life).
                <Show when=move || matches!(role(), Some(Role::Owner | Role::Admin)) || asked_monitor.get()>
                    <MonitoringToggle/>
                </Show>
                <Show
                    when=move || role().is_some()
                    fallback=|| view! { <A href="/login" attr:class="button">"Log in"</A> }
                >
                    <button type="button" class="button secondary logout" on:click=logout.clone()>"Log out"</button>
                </Show>
            </div>
        </header>
        <AppNotes/>
        <main class="page">{children()}</main>
        <ToastHost/>
    }
}
