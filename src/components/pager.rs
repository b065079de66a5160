//! Paging of the dashboards' lists (the owner's and the admin's): "Page 2 of 3" with previous and next
//! buttons named for their list.
//!
//! Invariant: the page count is pure ([`page_count`]); the pager only moves a page signal within bounds.

use leptos::prelude::*;

/// Pages needed for `total` items at `per_page` a page; at least one (an empty list still has its page).
pub fn page_count(total: u64, per_page: u32) -> u32 {
    let per_page = u64::from(per_page.max(1));
    u32::try_from(total.div_ceil(per_page).max(1)).unwrap_or(u32::MAX)
}

/// Previous and next buttons for a list; nothing when everything fits on one page.
#[component]
pub fn Pager(
    /// The page shown, 1-based; the buttons move it.
    page: RwSignal<u32>,
    /// Items in the whole list.
    #[prop(into)]
    total: Signal<u64>,
    /// Items a page holds.
    #[prop(into)]
    per_page: Signal<u32>,
    /// The list's name in the buttons' accessible names ("orders": "Next page of orders").
    what: &'static str,
) -> impl IntoView {
    let pages = move || page_count(total.get(), per_page.get());
    view! {
        <Show when=move || { pages() > 1 || page.get() > 1 }>
            <nav class="pager" aria-label=format!("Pages of {what}")>
                <button
                    type="button"
                    class="button secondary"
                    aria-label=format!("Previous page of {what}")
                    disabled=move || { page.get() <= 1 }
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))
                >
                    "Previous"
                </button>
                <span class="pager-position">{move || format!("Page {} of {}", page.get(), pages().max(page.get()))}</span>
                <button
                    type="button"
                    class="button secondary"
                    aria-label=format!("Next page of {what}")
                    disabled=move || { page.get() >= pages() }
                    on:click=move |_| page.update(|p| *p = (*p + 1).min(pages()))
                >
                    "Next"
                </button>
            </nav>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_up_and_never_drop_below_one() {
        assert_eq!(page_count(0, 20), 1);
        assert_eq!(page_count(1, 20), 1);
        assert_eq!(page_count(20, 20), 1);
        assert_eq!(page_count(21, 20), 2);
        assert_eq!(page_count(100, 0), 100, "a zero page size counts as one");
        assert_eq!(page_count(u64::MAX, 1), u32::MAX);
    }
}
