//! Checkout, `POST /api/orders`: the caller's cart becomes one `pending` order per shop.
//!
//! Invariant: all or nothing. Stock is taken with a conditional UPDATE inside one write transaction, so two
//! buyers racing for the last unit cannot both win and stock never goes negative; if any line cannot be
//! served the transaction rolls back and nothing (stock, cart, orders, events) changes.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use protocol::{CheckoutResult, NotificationKind, OrderAction, Product, ProductAction, ShopId};

use super::access;
use super::emit::Outbox;
use crate::auth::AuthUser;
use crate::clock;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{self, begin_write};

/// Turns the caller's cart into orders: 404 for staff, 409 `conflict` for an empty cart or a line that
/// exceeds the stock (naming the product).
pub async fn checkout(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<CheckoutResult>, AppError> {
    let customer = access::customer(&user)?;
    let mut tx = begin_write(&state.db).await?;
    let lines = store::carts::lines(&mut tx, customer).await?;
    if lines.is_empty() {
        return Err(AppError::Conflict("the cart is empty".into()));
    }
    let now = state.clock.now();
    let stamp = clock::rfc3339(now);
    let threshold = protocol::LOW_STOCK_THRESHOLD;
    let mut by_shop: BTreeMap<ShopId, Vec<(Product, u32)>> = BTreeMap::new();
    let mut now_low = Vec::new();
    for line in &lines {
        let product = &line.product;
        if !store::products::take_stock(&mut tx, product.id, line.quantity, &stamp).await? {
            // Dropping the transaction rolls back the units already taken.
            return Err(AppError::Conflict(format!(
                "not enough stock of {}: {} left, {} in the cart",
                product.name, product.stock, line.quantity
            )));
        }
        let left = product.stock.saturating_sub(line.quantity);
        if product.stock > threshold && left <= threshold {
            now_low.push((product.clone(), left));
        }
        by_shop.entry(product.shop_id).or_default().push((product.clone(), line.quantity));
    }

    let mut outbox = Outbox::new(now);
    let mut orders = Vec::new();
    for (shop_id, shop_lines) in by_shop {
        let id = store::orders::create(&mut tx, shop_id, customer, &shop_lines, &stamp).await?;
        let order = store::orders::get(&mut tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
        outbox.order(&mut tx, OrderAction::Created, &order).await?;
        let shop = store::shops::get(&mut tx, shop_id).await?.ok_or(sqlx::Error::RowNotFound)?;
        let units: u32 = order.items.iter().map(|item| item.quantity).sum();
        let mut notes = vec![
            store::notifications::create(
                &mut tx,
                shop.owner_id,
                NotificationKind::NewOrder,
                &format!("New order #{}", order.id),
                &store::notifications::new_order_message(&order.customer_name, u64::from(units), order.total_cents),
                &stamp,
            )
            .await?,
        ];
        for (product, left) in now_low.iter().filter(|(p, _)| p.shop_id == shop_id) {
            let message = match left {
                0 => format!("{} is out of stock.", product.name),
                n => format!("Only {n} left of {}.", product.name),
            };
            let title = format!("Low stock: {}", product.name);
            notes.push(
                store::notifications::create(
                    &mut tx,
                    shop.owner_id,
                    NotificationKind::LowStock,
                    &title,
                    &message,
                    &stamp,
                )
                .await?,
            );
        }
        for note in &notes {
            outbox.notification(&mut tx, shop.owner_id, note.clone()).await?;
        }
        outbox.dashboard(&mut tx, shop_id, notes).await?;
        orders.push(order);
    }
    for line in &lines {
        if let Some(product) = store::products::get(&mut tx, line.product.id).await? {
            outbox.product(&mut tx, ProductAction::Updated, product).await?;
        }
    }
    store::carts::clear(&mut tx, customer).await?;
    outbox.commit(tx, &state.hub).await?;
    Ok(Json(CheckoutResult { orders }))
}
