//! The browser half of one cache for all tabs: the user's channel (`izi-cache-{user id}`) and a shared Web
//! Lock of the same name that every tab of the user holds for its life, so a new tab knows at once whether any
//! tab could answer it.
//!
//! Invariant: decides nothing (`share.rs` and the binding do); `None` where Web Locks or `BroadcastChannel`
//! are missing, and each tab then keeps its own cache, as before.

use protocol::UserId;

use super::share::{CacheWire, TabId};
use crate::browser::{JsonChannel, LockRequest, is_held, lock_manager};

/// This tab's side of the cache sharing for one user.
pub(super) struct ShareDriver {
    me: TabId,
    channel: JsonChannel<CacheWire>,
    /// Held (shared) while the tab lives: the other tabs' queries see it.
    _presence: Option<LockRequest>,
}

impl ShareDriver {
    /// Joins the caches of `user`'s other tabs: `on_wire` gets their messages; `alone` runs once if none is
    /// there (nobody holds the lock).
    pub(super) fn open(
        user: UserId,
        on_wire: impl FnMut(CacheWire) + 'static,
        alone: impl FnOnce() + 'static,
    ) -> Option<ShareDriver> {
        let locks = lock_manager()?;
        let name = format!("izi-cache-{}", user.0);
        let channel = JsonChannel::open(&name, on_wire)?;
        // Asked before this tab's own request, so the answer is about the others.
        is_held(&locks, &name, move |held| {
            if !held {
                alone();
            }
        });
        let presence = LockRequest::new(&locks, &name, true, || {});
        let me = (js_sys::Math::random() * 9_007_199_254_740_992.0) as TabId;
        Some(ShareDriver { me, channel, _presence: presence })
    }

    /// This tab's identity.
    pub(super) fn id(&self) -> TabId {
        self.me
    }

    /// Posts `wire` to the other tabs.
    pub(super) fn post(&self, wire: &CacheWire) {
        self.channel.post(wire);
    }
}
