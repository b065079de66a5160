//! Builds the events of a write inside its transaction and publishes them once it has committed.
//!
//! Invariant: shop figures go only to the shop's staff (a public `catalog_update` carries none, and every
//! user gets a product change once: staff as `product_update`, the others as `catalog_update`); a customer's
//! `order_update` carries the customer's own figures; events are published only after the transaction that
//! appended them commits, in seq order.

use protocol::{
    CatalogUpdate, DashboardUpdate, Notification, NotificationEvent, Order, OrderAction, OrderUpdate, Product,
    ProductAction, ProductUpdate, Seq, ServerMsg, ShopId, UserId,
};
use sqlx::AnyConnection;
use time::OffsetDateTime;

use crate::clock;
use crate::events::{self, Audience, StoredEvent};
use crate::hub::Hub;
use crate::store;

/// The events appended by one write, to publish after commit.
#[derive(Debug)]
pub struct Outbox {
    /// When the write happens: its events are dated by it and its figures are as of it.
    now: OffsetDateTime,
    events: Vec<StoredEvent>,
}

impl Outbox {
    /// An empty outbox for a write made at `now` (read from `AppState::clock`).
    pub fn new(now: OffsetDateTime) -> Self {
        Self { now, events: Vec::new() }
    }

    /// Appends one event of this write.
    async fn append(
        &mut self,
        conn: &mut AnyConnection,
        audience: Audience,
        build: impl FnOnce(Seq) -> ServerMsg,
    ) -> Result<(), sqlx::Error> {
        self.events.push(events::append_at(conn, clock::unix_ms(self.now), audience, build).await?);
        Ok(())
    }

    /// Commits the write and publishes its events, in seq order with every other write.
    pub async fn commit(self, tx: sqlx::Transaction<'_, sqlx::Any>, hub: &Hub) -> Result<(), sqlx::Error> {
        hub.commit_and_publish(tx, self.events).await
    }

    /// `product_update` for the shop's staff, with the figures of the product's shop as they are now, and
    /// `catalog_update` for everybody else, with the product alone: each user gets the change once.
    pub async fn product(
        &mut self,
        conn: &mut AnyConnection,
        action: ProductAction,
        product: Product,
    ) -> Result<(), sqlx::Error> {
        let stats = store::products::stats(conn, Some(product.shop_id)).await?;
        let shop = product.shop_id;
        let public = product.clone();
        self.append(conn, Audience::shop_staff(shop), |seq| {
            ServerMsg::ProductUpdate(ProductUpdate { action, product, stats, seq })
        })
        .await?;
        self.append(conn, Audience::everyone_but_staff(shop), |seq| {
            ServerMsg::CatalogUpdate(CatalogUpdate { action, product: public, seq })
        })
        .await
    }

    /// `dashboard_update` for the staff of `shop`, with `notifications` created by the same change. The
    /// notifications are the owner's: when there are some, admins get their own copy without them.
    pub async fn dashboard(
        &mut self,
        conn: &mut AnyConnection,
        shop: ShopId,
        notifications: Vec<Notification>,
    ) -> Result<(), sqlx::Error> {
        let shop_stats = store::stats::shop_stats(conn, shop, self.now).await?.ok_or(sqlx::Error::RowNotFound)?;
        let timestamp = clock::rfc3339(self.now);
        let owner_only = Audience { shop_id: Some(shop), ..Audience::default() };
        let admins_only = Audience { for_admin: true, ..Audience::default() };
        let audiences = if notifications.is_empty() {
            vec![(Audience::shop_staff(shop), Vec::new())]
        } else {
            vec![(owner_only, notifications), (admins_only, Vec::new())]
        };
        for (audience, notifications) in audiences {
            let (shop_stats, timestamp) = (shop_stats.clone(), timestamp.clone());
            self.append(conn, audience, |seq| {
                ServerMsg::DashboardUpdate(DashboardUpdate { shop_stats, notifications, timestamp, seq })
            })
            .await?;
        }
        Ok(())
    }

    /// Two `order_update`s: one for the shop's staff with the shop's figures, one for the customer with theirs.
    pub async fn order(
        &mut self,
        conn: &mut AnyConnection,
        action: OrderAction,
        order: &Order,
    ) -> Result<(), sqlx::Error> {
        let shop = store::stats::shop_stats(conn, order.shop_id, self.now).await?.ok_or(sqlx::Error::RowNotFound)?;
        self.append(conn, Audience::shop_staff(order.shop_id), |seq| {
            ServerMsg::OrderUpdate(OrderUpdate {
                action,
                order: order.clone(),
                total_orders: shop.total_orders,
                monthly_revenue: shop.monthly_revenue_cents,
                seq,
            })
        })
        .await?;
        let month_start = clock::month_start_rfc3339(self.now);
        let (total_orders, spent) = store::orders::customer_figures(conn, order.customer_id, &month_start).await?;
        self.append(conn, Audience::user(order.customer_id), |seq| {
            ServerMsg::OrderUpdate(OrderUpdate {
                action,
                order: order.clone(),
                total_orders,
                monthly_revenue: spent,
                seq,
            })
        })
        .await
    }

    /// `notification` for its recipient.
    pub async fn notification(
        &mut self,
        conn: &mut AnyConnection,
        user: UserId,
        notification: Notification,
    ) -> Result<(), sqlx::Error> {
        self.append(conn, Audience::user(user), |seq| ServerMsg::Notification(NotificationEvent { notification, seq }))
            .await
    }
}
