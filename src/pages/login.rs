//! `/login`: email and password; on success, the guest cart and the pending action are handed to the account
//! (`finish_login`), then back to the return URL (same-origin only) or the role's home.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use protocol::{LoginRequest, LoginResponse};

use crate::api::{self, ApiError};
use crate::data::cart_auth::use_cart;
use crate::nav::safe_return_path;
use crate::shell::APP_TITLE;

/// The sign-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let cart = use_cart();
    let query = use_query_map();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let return_to = move || query.with_untracked(|q| q.get("return")).filter(|r| safe_return_path(r).is_some());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let request =
            LoginRequest { email: email.get_untracked().trim().to_owned(), password: password.get_untracked() };
        if request.email.is_empty() || request.password.is_empty() {
            error.set(Some("Enter your email and your password.".into()));
            return;
        }
        pending.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let result: Result<LoginResponse, ApiError> = api::post_json("/auth/login", &request, None).await;
            match result {
                Ok(response) => {
                    // Merges the guest cart, replays what a visitor asked for, then signs in.
                    let target = cart.finish_login(response, return_to()).await;
                    navigate(&target, Default::default());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            pending.try_set(false);
        });
    };

    view! {
        <section class="login card">
            <h1>{APP_TITLE}</h1>
            <p class="muted">"Sign in to shop, follow your orders and keep your wishlist, or to run your shop live."</p>
            <form class="stack" on:submit=submit novalidate>
                <label>
                    "Email"
                    <input type="email" name="email" autocomplete="username" required bind:value=email/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required bind:value=password/>
                </label>
                <Show when=move || error.with(Option::is_some)>
                    <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
                </Show>
                <button type="submit" class="button" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </section>
    }
}
