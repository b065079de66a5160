//! Keeping the snapshot: saving once shortly after changes (several changes, one save), saving now (the
//! page is hidden), and following the signed-in user (another user or none clears the cache and the
//! snapshot).
//!
//! Invariant: nothing is saved for a visitor or with persistence off; what is saved is decided by
//! `persist.rs`, where it is written by `persist_driver.rs`.

use leptos::prelude::*;
use protocol::UserId;

use super::{DataCache, now};
use crate::cache::{persist, persist_driver};

impl DataCache {
    /// Saves the snapshot once, `save_delay` after the first change since the last save.
    pub(super) fn schedule_save(self) {
        let delay = self
            .inner
            .try_update_value(|inner| {
                let wanted = inner.persist && inner.user.is_some() && !inner.save_armed;
                inner.save_armed |= wanted;
                wanted.then_some(inner.save_delay)
            })
            .flatten();
        if let Some(delay) = delay {
            let save = move || {
                self.inner.try_update_value(|inner| inner.save_armed = false);
                self.save_now();
            };
            set_timeout(save, delay);
        }
    }

    /// Saves the snapshot of the signed-in user now; nothing when nobody is signed in or persistence is off.
    pub(in crate::cache) fn save_now(self) {
        let now = now();
        let text = self
            .inner
            .try_with_value(|inner| {
                let user = inner.user.filter(|_| inner.persist)?;
                persist::encode(&inner.store.snapshot_persistable(user, now)).ok()
            })
            .flatten();
        if let Some(text) = text {
            persist_driver::write(&text);
        }
    }

    /// Follows the session: a logout or another user clears the cache and the snapshot; on a sign-in, the keys
    /// still read (say, by the layout) are fetched again for the new user.
    pub(in crate::cache) fn set_user(self, user: Option<UserId>) {
        let changed = self.inner.try_update_value(|inner| std::mem::replace(&mut inner.user, user) != user);
        if changed == Some(true) {
            let read = self.clear_keeping_readers();
            self.join_tabs(user);
            if user.is_some() {
                for key in &read {
                    self.start(key, None, false);
                }
            }
        }
    }
}
