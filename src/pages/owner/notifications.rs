//! The owner's newest notifications (from the cached dashboard) with the unread count and "Mark read".
//!
//! Invariant: marking read writes the outcome into every cached value listing the notification through the
//! reducers' helpers (`owner_mark_read`, `mark_read`); when a helper cannot know, the value is refetched.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{Dashboard, Notification, NotificationId, NotificationKind, Page};

use super::OwnerData;
use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::cache::context::{DataCache, use_data_cache};
use crate::components::states::EmptyState;
use crate::components::states::loaded;
use crate::components::toast::{ToastKind, use_toasts};
use crate::data::queries::Query;
use crate::data::reducers::{Applied, mark_read, owner_mark_read};
use crate::format::date_time;

/// A notification kind in a word, for its badge.
fn kind_label(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::NewOrder => "Order",
        NotificationKind::OrderStatus => "Status",
        NotificationKind::LowStock => "Stock",
        NotificationKind::Info => "Info",
    }
}

/// "3 unread", "All read".
pub fn unread_text(unread: u64) -> String {
    if unread == 0 { "All read".into() } else { format!("{unread} unread") }
}

/// The notifications section.
#[component]
pub fn NotificationsSection(
    /// The owner's cached dashboard.
    data: OwnerData,
) -> impl IntoView {
    let (auth, cache, toasts) = (use_auth(), use_data_cache(), use_toasts());
    let notes = Memo::new(move |_| data.owner.with(|o| o.as_ref().map(|o| o.notifications.clone())));
    let unread = Memo::new(move |_| data.owner.with(|o| o.as_ref().map_or(0, |o| o.unread_notifications)));
    let busy = RwSignal::new(None::<NotificationId>);

    let read = move |id: NotificationId| {
        if busy.get_untracked().is_some() {
            return;
        }
        busy.set(Some(id));
        spawn_local(async move {
            let answer: Result<Notification, ApiError> =
                api::post_json(&format!("/notifications/{id}/read"), &serde_json::json!({}), auth.token().as_deref())
                    .await;
            busy.try_set(None);
            match answer {
                Ok(_) => apply_read(cache, id),
                Err(error) => toasts.push(ToastKind::Error, "The notification was not marked read", error.to_string()),
            }
        });
    };

    view! {
        <section class="owner-section owner-notifications" id="notifications" aria-labelledby="owner-notifications-title">
            <div class="section-head">
                <h2 id="owner-notifications-title">"Notifications"</h2>
                <span class="badge unread" class:none=move || unread.get() == 0 data-testid="owner-unread">
                    {move || unread_text(unread.get())}
                </span>
            </div>
            {loaded(
                move || notes.get(),
                data.error,
                data.refetch,
                4,
                move |list: Vec<Notification>| {
                    if list.is_empty() {
                        return view! { <EmptyState message="Nothing new. Orders and low-stock alerts show up here."/> }
                            .into_any();
                    }
                    view! {
                        <ul class="note-list" data-testid="owner-notifications">
                            {list.into_iter().map(|note| note_row(note, busy, read)).collect_view()}
                        </ul>
                    }
                    .into_any()
                },
            )}
        </section>
    }
}

fn note_row(
    note: Notification,
    busy: RwSignal<Option<NotificationId>>,
    read: impl Fn(NotificationId) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = note.id;
    let button = (!note.read).then(|| {
        view! {
            <button
                type="button"
                class="button secondary small"
                aria-label=format!("Mark read: {}", note.title)
                disabled=move || busy.get() == Some(id)
                on:click=move |_| read(id)
            >
                "Mark read"
            </button>
        }
    });
    view! {
        <li class="note" class:unread=!note.read data-notification-id=id.0>
            <span class="badge kind">{kind_label(note.kind)}</span>
            <div class="note-text">
                <strong>{note.title.clone()}</strong>
                <span class="muted">{note.message.clone()}</span>
                <time class="muted" datetime=note.created_at.clone()>{date_time(&note.created_at)}</time>
            </div>
            {button}
        </li>
    }
}

/// Writes "notification `id` is read" into the cached dashboard and first notifications page; refetches
/// whichever cannot tell (the notification is not listed there).
fn apply_read(cache: DataCache, id: NotificationId) {
    let dashboard = Query::Dashboard.key();
    let mut outcome = Applied::Unchanged;
    cache.update(&dashboard, |value: &mut Dashboard| {
        if let Dashboard::Owner(owner) = value {
            outcome = owner_mark_read(owner, id);
        }
    });
    if outcome.needs_refetch() {
        cache.invalidate(&dashboard);
    }
    let notes = Query::Notifications { page: 1 }.key();
    let mut outcome = Applied::Unchanged;
    if cache.update(&notes, |page: &mut Page<Notification>| outcome = mark_read(page, id)) && outcome.needs_refetch() {
        cache.invalidate(&notes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unread_count_reads_as_words() {
        assert_eq!(unread_text(0), "All read");
        assert_eq!(unread_text(3), "3 unread");
    }
}
