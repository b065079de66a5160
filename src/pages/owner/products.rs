//! The shop's products: a paged table with create and edit (the form), and delete behind a confirm step.
//!
//! Invariant: the table is the cached `Query::Products` page of the owner's shop; a save's answer is put in it
//! by `live::follow_answers` (through the reducer: in place when exact, refetched when the page shifts), a
//! delete's page is refetched.
//! Products made here that the server has not answered yet (no id: offline, or on their way) are rows of
//! their own above page 1, read from the outbox, marked "Not saved yet", without actions.

use leptos::html;
use leptos::prelude::*;
use protocol::{CatalogUpdate, Cents, LOW_STOCK_THRESHOLD, Page, Product, ProductAction, ProductId, ServerMsg, ShopId};

use super::product_form::ProductForm;
use crate::cache::context::use_data_cache;
use crate::components::pager::Pager;
use crate::components::states::EmptyState;
use crate::components::states::loaded;
use crate::components::toast::{ToastKind, use_toasts};
use crate::data::dashboard::{DashboardRole, UseDashboardDataReturn, products_read};
use crate::data::live::apply_optimistic;
use crate::data::outbox::{NewShown, Settled, Write, new_products};
use crate::data::outbox_driver::use_writes;

/// What the form area shows.
#[derive(Debug, Clone, PartialEq)]
enum Editor {
    Closed,
    Create,
    Edit(Product),
}

/// The stock cell's warning: "Out of stock", "Low stock", or nothing.
pub fn stock_warning(stock: u32) -> Option<&'static str> {
    match stock {
        0 => Some("Out of stock"),
        n if n <= LOW_STOCK_THRESHOLD => Some("Low stock"),
        _ => None,
    }
}

/// The products section: heading, "New product", the form when open, and the current page.
#[component]
pub fn ProductsSection(
    /// The dashboard's data hook, which reads each page.
    dashboard: UseDashboardDataReturn,
    /// The owner's shop.
    shop: ShopId,
) -> impl IntoView {
    let page = RwSignal::new(1u32);
    let editor = RwSignal::new(Editor::Closed);
    let new_button = NodeRef::<html::Button>::new();

    let close = move || {
        editor.set(Editor::Closed);
        if let Some(button) = new_button.get_untracked() {
            let _ = button.focus();
        }
    };
    // The answer itself reaches the cache through `live::follow_answers`, like every product write's.
    let on_saved = Callback::new(move |_: Option<Product>| close());
    let on_cancel = Callback::new(move |()| close());

    view! {
        <section class="owner-section owner-products" id="products" aria-labelledby="owner-products-title">
            <div class="section-head">
                <h2 id="owner-products-title">"Products"</h2>
                <button
                    type="button"
                    class="button"
                    node_ref=new_button
                    aria-expanded=move || (editor.get() == Editor::Create).to_string()
                    on:click=move |_| editor.set(Editor::Create)
                >
                    "New product"
                </button>
            </div>
            {move || match editor.get() {
                Editor::Closed => ().into_any(),
                Editor::Create => view! { <ProductForm product=None on_saved=on_saved on_cancel=on_cancel/> }.into_any(),
                Editor::Edit(product) => {
                    view! { <ProductForm product=Some(product) on_saved=on_saved on_cancel=on_cancel/> }.into_any()
                }
            }}
            // A page is its own query: re-created when the page changes (read here: component bodies are
            // untracked).
            {move || {
                let number = page.get();
                view! { <ProductsPage dashboard=dashboard shop=shop page=page number=number editor=editor/> }
            }}
        </section>
    }
}

/// One page of the table.
#[component]
fn ProductsPage(
    /// The dashboard's data hook, which reads the page.
    dashboard: UseDashboardDataReturn,
    /// The owner's shop.
    shop: ShopId,
    /// The page signal, moved by the pager.
    page: RwSignal<u32>,
    /// The page shown (the section re-creates this view when it changes).
    number: u32,
    /// The form area, opened by "Edit".
    editor: RwSignal<Editor>,
) -> impl IntoView {
    let key = products_read(DashboardRole::ShopOwner, Some(shop), number).key();
    let products = dashboard.products(number);
    let (cache, toasts, writes) = (use_data_cache(), use_toasts(), use_writes());
    let confirming = RwSignal::new(None::<ProductId>);
    // The product whose deletion waits for the server ("Deleting…", offline too).
    let deleting = Signal::derive(move || {
        writes.with_entries(|entries| {
            entries.iter().find_map(|e| match e.write {
                Write::ProductDelete { id, .. } => Some(id),
                _ => None,
            })
        })
    });

    let delete = move |product: Product| {
        if deleting.get_untracked() == Some(product.id) {
            return;
        }
        let key = key.clone();
        let write = Write::ProductDelete { id: product.id, version: product.version };
        // Gone from the table at once (offline too); a refusal reads it back.
        let event = CatalogUpdate { action: ProductAction::Deleted, product: product.clone(), seq: 0 };
        apply_optimistic(cache, &ServerMsg::CatalogUpdate(event));
        writes.push_then(write, None, move |settled| {
            let name = &product.name;
            match settled {
                Settled::Applied { .. } => {
                    confirming.try_set(None);
                    if editor.try_with_untracked(|e| matches!(e, Editor::Edit(p) if p.id == product.id)) == Some(true) {
                        editor.try_set(Editor::Closed);
                    }
                    toasts.push(ToastKind::Success, format!("{name} deleted"), "");
                }
                Settled::RolledBack { code, message, .. } => {
                    confirming.try_set(None);
                    let text = match code.as_str() {
                        "stale" => "Someone else changed it meanwhile: look at it again before deleting it.".to_owned(),
                        _ => message.clone(),
                    };
                    toasts.push(ToastKind::Error, format!("{name} was not deleted"), text);
                }
                _ => return,
            }
            // The next page's first product moves up (or the product is as the other person left it): only the
            // server knows.
            cache.invalidate(&key);
        });
    };

    // Made here, not answered yet: shown above the first page.
    let made_here = Signal::derive(move || if number == 1 { writes.with_entries(new_products) } else { Vec::new() });
    let any_made_here = Memo::new(move |_| !made_here.with(Vec::is_empty));
    let edited = move |id: ProductId| {
        Signal::derive(move || writes.waits(|w| matches!(w, Write::ProductEdit { id: e, .. } if *e == id)))
    };

    let per_page = Signal::derive(move || products.data.with(|p| p.as_ref().map_or(20, |p| p.per_page)));
    let total = Signal::derive(move || products.data.with(|p| p.as_ref().map_or(0, |p| p.total)));
    view! {
        {loaded(
            move || products.data.get(),
            products.error,
            products.refetch,
            5,
            move |list: Page<Product>| {
                if list.items.is_empty() && !any_made_here.get() {
                    return view! { <EmptyState message="No products yet: add your first with “New product”."/> }
                        .into_any();
                }
                let rows = list
                    .items
                    .into_iter()
                    .map(|product| {
                        let edited = edited(product.id);
                        product_row(product, editor, confirming, deleting, edited, delete.clone())
                    })
                    .collect_view();
                view! {
                    <p class="scroll-hint muted" aria-hidden="true">"Swipe the table sideways for stock and actions."</p>
                    <div class="table-scroll" role="region" aria-label="Products table, scrolls sideways" tabindex="0">
                        <table class="product-table" data-testid="owner-products">
                            <caption class="visually-hidden">"Products of your shop"</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col" class="num">"Price"</th>
                                    <th scope="col" class="num">"Stock"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                <For each=move || made_here.get() key=|shown| (shown.write, shown.retrying) let:shown>
                                    {new_row(shown)}
                                </For>
                                {rows}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            },
        )}
        <Pager page=page total=total per_page=per_page what="products"/>
    }
}

/// A product made here that the server has not answered: what was typed, marked as not saved (retrying: the
/// server cannot be reached) or saving (on its way).
fn new_row(shown: NewShown) -> impl IntoView {
    let state = if shown.retrying { "Not saved yet" } else { "Saving…" };
    let product = shown.product;
    view! {
        <tr class="not-saved" data-testid="new-product-row" data-write-id=shown.write>
            <th scope="row">
                <span class="product-name">{product.name}</span>
                <span class="product-description muted">{product.description}</span>
            </th>
            <td class="num">{Cents(product.price_cents).to_string()}</td>
            <td class="num">{product.stock}</td>
            <td class="row-actions">
                <span class="badge muted" data-testid="product-not-saved">{state}</span>
            </td>
        </tr>
    }
}

fn product_row(
    product: Product,
    editor: RwSignal<Editor>,
    confirming: RwSignal<Option<ProductId>>,
    deleting: Signal<Option<ProductId>>,
    edited: Signal<bool>,
    delete: impl Fn(Product) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let id = product.id;
    let name = product.name.clone();
    let warning = stock_warning(product.stock);
    let confirm_button = NodeRef::<html::Button>::new();
    // Move the focus onto the confirm button when it appears, so Enter confirms and Tab reaches "Keep".
    Effect::new(move |_| {
        if let Some(button) = confirm_button.get() {
            let _ = button.focus();
        }
    });
    let stored = StoredValue::new(product.clone());
    let actions = move || {
        let name = name.clone();
        if confirming.get() == Some(id) {
            let delete = delete.clone();
            view! {
                <span class="confirm-text">{format!("Delete {name}?")}</span>
                <button
                    type="button"
                    class="button danger small"
                    node_ref=confirm_button
                    aria-label=format!("Confirm delete {name}")
                    disabled=move || deleting.get() == Some(id)
                    on:click=move |_| delete(stored.get_value())
                >
                    {move || if deleting.get() == Some(id) { "Deleting…" } else { "Delete" }}
                </button>
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=format!("Keep {name}")
                    on:click=move |_| confirming.set(None)
                >
                    "Keep"
                </button>
            }
            .into_any()
        } else {
            view! {
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=format!("Edit {name}")
                    on:click=move |_| editor.set(Editor::Edit(stored.get_value()))
                >
                    "Edit"
                </button>
                <button
                    type="button"
                    class="button secondary danger small"
                    aria-label=format!("Delete {name}")
                    on:click=move |_| confirming.set(Some(id))
                >
                    "Delete"
                </button>
            }
            .into_any()
        }
    };
    view! {
        <tr data-product-id=id.0 class:low=warning.is_some() data-pending=move || edited.get().to_string()>
            <th scope="row">
                <span class="product-name">{product.name.clone()}</span>
                <Show when=move || edited.get()>
                    <span class="badge muted" data-testid="product-not-saved">"Not saved yet"</span>
                </Show>
                <span class="product-description muted">{product.description.clone()}</span>
            </th>
            <td class="num">{product.price_cents.to_string()}</td>
            <td class="num">
                {product.stock}
                {warning.map(|w| view! { <span class="badge stock-warning">{w}</span> })}
            </td>
            <td class="row-actions">
                <div>{actions}</div>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_warnings_follow_the_threshold() {
        assert_eq!(stock_warning(0), Some("Out of stock"));
        assert_eq!(stock_warning(1), Some("Low stock"));
        assert_eq!(stock_warning(LOW_STOCK_THRESHOLD), Some("Low stock"));
        assert_eq!(stock_warning(LOW_STOCK_THRESHOLD + 1), None);
    }
}
