//! The auth context: who is signed in, kept in localStorage so a reload stays signed in.
//!
//! Invariant: components read the session only through [`use_auth`]; only this file touches the storage; every
//! tab of the browser holds the session the storage holds (a sign-in, refresh or sign-out in one reaches all).

pub mod session;

use leptos::prelude::*;
pub use session::Session;

/// Handle to the auth context: cheap to copy, provided once at the root.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    session: RwSignal<Option<Session>>,
}

impl Auth {
    /// The signed-in session, reactive.
    pub fn session(&self) -> Signal<Option<Session>> {
        self.session.into()
    }

    /// Whether somebody is signed in (reactive).
    pub fn is_logged_in(&self) -> bool {
        self.session.with(Option::is_some)
    }

    /// The current token, if any (not reactive: for requests).
    pub fn token(&self) -> Option<String> {
        self.session.with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    }

    /// Signs in: keeps the session in memory and in localStorage.
    pub fn login(&self, session: Session) {
        if let Some(storage) = local_storage() {
            let _ = storage.set_item(session::STORAGE_KEY, &session::encode(&session));
        }
        self.session.set(Some(session));
    }

    /// Signs out: ends the session on the server (`POST /api/auth/logout`, so the token stops working
    /// everywhere) and forgets it here at once, whether or not the server can be reached.
    pub fn logout(&self) {
        if let Some(token) = self.token() {
            leptos::task::spawn_local(async move {
                let ended = crate::api::post_json::<_, protocol::LoggedOut>("/auth/logout", &(), Some(&token)).await;
                if let Err(error) = ended {
                    leptos::logging::warn!("the server did not end the session: {error}");
                }
            });
        }
        if let Some(storage) = local_storage() {
            let _ = storage.remove_item(session::STORAGE_KEY);
        }
        self.session.set(None);
    }
}

/// Provides the auth context, restoring a stored, unexpired session. Call once, at the root.
pub fn provide_auth() -> Auth {
    let now_secs = (js_sys_now_ms() / 1000.0) as i64;
    let stored = local_storage().and_then(|s| s.get_item(session::STORAGE_KEY).ok().flatten());
    let restored = stored.and_then(|text| session::decode(&text, now_secs));
    if restored.is_none()
        && let Some(storage) = local_storage()
    {
        let _ = storage.remove_item(session::STORAGE_KEY);
    }
    let auth = Auth { session: RwSignal::new(restored) };
    provide_context(auth);
    follow_other_tabs(auth);
    auth
}

/// Another tab of this browser signed in, renewed its token or signed out: this one follows (the browser
/// tells every other tab of the origin with a `storage` event). Signed out, the pages' role guard then goes to
/// the login page; another user, the connection restarts for them.
fn follow_other_tabs(auth: Auth) {
    crate::browser::follow_storage(session::STORAGE_KEY, move |text| {
        let now_secs = (js_sys_now_ms() / 1000.0) as i64;
        let next = text.and_then(|text| session::decode(&text, now_secs));
        if auth.session.try_with_untracked(|current| *current != next) == Some(true) {
            auth.session.try_set(next);
        }
    });
}

/// The auth context provided at the root.
pub fn use_auth() -> Auth {
    expect_context()
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn js_sys_now_ms() -> f64 {
    js_sys::Date::now()
}
