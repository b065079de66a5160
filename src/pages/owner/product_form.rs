//! The product form, for a new product or an edit: checks before sending, then the server's 422 shown next
//! to the field it names, or for an edit made on an older version (409 `stale`) the other person's product.
//!
//! Invariant: nothing is sent until [`validate`] passes; money goes out as integer cents parsed from text; the
//! write goes through the outbox (an edit with the version it was made on), so it waits while offline.

use leptos::html;
use leptos::prelude::*;
use protocol::{CatalogUpdate, Product, ProductAction, ServerMsg};
use serde::Deserialize;

use super::form::{Field, FieldErrors, ProductDraft, conflict_message, errors_from_server, patched, validate};
use crate::api::ApiError;
use crate::cache::context::use_data_cache;
use crate::cache::key::DataKind;
use crate::components::toast::{ToastKind, use_toasts};
use crate::data::live::apply_optimistic;
use crate::data::outbox::{Settled, Write, WriteId};
use crate::data::outbox_driver::use_writes;

/// Creates a product, or edits `product` when given.
#[component]
pub fn ProductForm(
    /// The product to edit; `None` for a new one.
    product: Option<Product>,
    /// Called with the saved product (created or updated), or `None` when an edit changed nothing.
    on_saved: Callback<Option<Product>>,
    /// Called when the person gives up (Cancel, Escape).
    on_cancel: Callback<()>,
) -> impl IntoView {
    let (writes, toasts, cache) = (use_writes(), use_toasts(), use_data_cache());
    let initial = product.as_ref().map(ProductDraft::from_product).unwrap_or_default();
    let name = RwSignal::new(initial.name);
    let description = RwSignal::new(initial.description);
    let price = RwSignal::new(initial.price);
    let stock = RwSignal::new(initial.stock);
    let errors = RwSignal::new(FieldErrors::default());
    let pending = RwSignal::new(false);
    // The write this form sent, while it waits for its first answer.
    let sent = RwSignal::new(None::<WriteId>);
    let refs = FieldRefs::default();
    let editing = StoredValue::new(product);
    let title = editing.with_value(|p| match p {
        Some(p) => format!("Edit {}", p.name),
        None => "New product".to_owned(),
    });
    let submit_text = if editing.with_value(Option::is_some) { "Save changes" } else { "Create product" };

    // Focus the first field when the form opens.
    Effect::new(move |_| {
        if let Some(input) = refs.name.get() {
            let _ = input.focus();
        }
    });

    // The server cannot be reached: the write waits in the outbox, shown in the table as not saved yet, so the
    // form lets the person go on (its answer still ends in a toast).
    Effect::new(move |_| {
        let Some(id) = sent.get() else { return };
        if writes.with_entries(|entries| entries.iter().any(|e| e.id == id && e.retrying())) {
            sent.set(None);
            let text = "It is sent as soon as the server can be reached; the table marks it “Not saved yet”.";
            toasts.push(ToastKind::Info, "Kept on this device", text);
            on_saved.run(None);
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let draft = ProductDraft {
            name: name.get_untracked(),
            description: description.get_untracked(),
            price: price.get_untracked(),
            stock: stock.get_untracked(),
        };
        let valid = match validate(&draft) {
            Ok(valid) => valid,
            Err(found) => {
                refs.focus(found.first_field());
                errors.set(found);
                return;
            }
        };
        errors.set(FieldErrors::default());
        let write = match editing.get_value() {
            None => Some(Write::ProductCreate { input: valid.to_new() }),
            Some(product) => valid.to_patch(&product).map(|patch| Write::ProductEdit {
                id: product.id,
                patch,
                version: product.version,
            }),
        };
        let Some(write) = write else {
            on_saved.run(None);
            return;
        };
        let verb = if matches!(write, Write::ProductCreate { .. }) { "created" } else { "saved" };
        // An edit shows in the table at once (offline too); a new product has a row of its own until its answer.
        if let (Write::ProductEdit { patch, .. }, Some(product)) = (&write, editing.get_value()) {
            let shown = patched(&product, patch);
            let event = CatalogUpdate { action: ProductAction::Updated, product: shown, seq: 0 };
            apply_optimistic(cache, &ServerMsg::CatalogUpdate(event));
        }
        pending.set(true);
        let id = writes.push_then(write, None, move |settled| {
            // The form may be gone (closed while the write waited): the toast still says what happened.
            let open = pending.try_set(false).is_none();
            match settled {
                Settled::Applied { answer, .. } => {
                    if let Ok(saved) = Product::deserialize(answer) {
                        toasts.push(ToastKind::Success, format!("{} {verb}", saved.name), "");
                        if open {
                            on_saved.run(Some(saved));
                        }
                    }
                }
                Settled::RolledBack { status, code, message, current, .. } => {
                    // Undone: what the edit showed is read again from the server.
                    cache.invalidate_kind(DataKind::Products);
                    let found = match current.as_ref().map(Product::deserialize) {
                        Some(Ok(theirs)) => {
                            FieldErrors { form: Some(conflict_message(&theirs)), ..FieldErrors::default() }
                        }
                        _ => errors_from_server(&ApiError::Server {
                            status: *status,
                            code: code.clone(),
                            message: message.clone(),
                        }),
                    };
                    if open {
                        refs.focus(found.first_field());
                        errors.try_set(found);
                    } else {
                        toasts.push(ToastKind::Error, "A product change was not saved", found.form.unwrap_or_default());
                    }
                }
                _ => {}
            }
        });
        sent.set(id);
    };

    let error_of = move |field: Field| Signal::derive(move || errors.with(|e| e.get(field).cloned()));
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            on_cancel.run(());
        }
    };
    view! {
        <form class="product-form card" on:submit=submit on:keydown=on_keydown novalidate data-testid="product-form">
            <h3>{title}</h3>
            <Show when=move || errors.with(|e| e.form.is_some())>
                <p class="error" role="alert">{move || errors.with(|e| e.form.clone().unwrap_or_default())}</p>
            </Show>
            <div class="form-grid">
                <TextField
                    id="product-name"
                    label="Name"
                    value=name
                    error=error_of(Field::Name)
                    node_ref=refs.name
                    hint="1 to 120 characters."
                />
                <TextField
                    id="product-price"
                    label="Price (USD)"
                    value=price
                    error=error_of(Field::Price)
                    node_ref=refs.price
                    hint="Dollars and cents, like 12.50."
                    inputmode="decimal"
                />
                <TextField
                    id="product-stock"
                    label="Units in stock"
                    value=stock
                    error=error_of(Field::Stock)
                    node_ref=refs.stock
                    hint="A whole number from 0 to 1,000,000."
                    inputmode="numeric"
                />
                <div class="field wide">
                    <label for="product-description">"Description"</label>
                    <textarea
                        id="product-description"
                        name="description"
                        rows="3"
                        node_ref=refs.description
                        aria-invalid=move || error_of(Field::Description).get().is_some().to_string()
                        aria-describedby="product-description-error"
                        prop:value=move || description.get()
                        on:input=move |ev| description.set(event_target_value(&ev))
                    ></textarea>
                    <p class="field-error" id="product-description-error" role="alert">
                        {move || error_of(Field::Description).get()}
                    </p>
                </div>
            </div>
            <div class="form-actions">
                <button type="submit" class="button" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { submit_text }}
                </button>
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

/// The form's fields, to move the focus to the first one at fault.
#[derive(Clone, Copy, Default)]
struct FieldRefs {
    name: NodeRef<html::Input>,
    description: NodeRef<html::Textarea>,
    price: NodeRef<html::Input>,
    stock: NodeRef<html::Input>,
}

impl FieldRefs {
    fn focus(&self, field: Option<Field>) {
        let _ = match field {
            Some(Field::Name) => self.name.get_untracked().map(|e| e.focus()),
            Some(Field::Description) => self.description.get_untracked().map(|e| e.focus()),
            Some(Field::Price) => self.price.get_untracked().map(|e| e.focus()),
            Some(Field::Stock) => self.stock.get_untracked().map(|e| e.focus()),
            None => None,
        };
    }
}

/// A labelled one-line input with its hint and its error message.
#[component]
fn TextField(
    /// The input's id (the label, hint and error refer to it).
    id: &'static str,
    /// The visible label, which is also the input's accessible name.
    label: &'static str,
    /// The text, two-way.
    value: RwSignal<String>,
    /// The message shown under the field when it is at fault.
    error: Signal<Option<String>>,
    /// The input, to focus it.
    node_ref: NodeRef<html::Input>,
    /// A short rule shown under the field.
    hint: &'static str,
    /// The keyboard a phone shows (`decimal`, `numeric`); plain text by default.
    #[prop(optional)]
    inputmode: Option<&'static str>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = format!("{hint_id} {error_id}");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type="text"
                inputmode=inputmode
                autocomplete="off"
                node_ref=node_ref
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <p class="field-hint muted" id=hint_id>{hint}</p>
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}
