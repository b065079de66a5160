//! `use_dashboard_data(role)`: the spec's dashboard data hook, the way every dashboard loads (reactive reads
//! through the TTL cache: `shop_data`, `orders(page)`, `products(page)`), refreshes ("Refresh") and preloads;
//! also batch fetches, real-time subscriptions for the role's message types and the connection status.
//!
//! Invariant: which queries a role reads, refreshes and preloads and which topics it listens to are decided
//! by the pure functions [`read_for`], [`refresh_kinds`], [`preload_queries`] and [`topics_for`]; the hook
//! only runs them. The type each read answers
//! comes from `queries.rs` (a [`Read<T>`]); nothing here names it again.

use futures::future::join_all;
use leptos::prelude::*;
use protocol::{Dashboard, Notification, Order, Page, Product, ProductStats, Role, ServerMsg, Shop, ShopId, Topic};

use crate::api::ApiError;
use crate::auth::{Auth, use_auth};
use crate::cache::context::{DataCache, UseCachedReturn, use_data_cache};
use crate::cache::key::DataKind;
use crate::data::queries::{Answer, Query, Read, Visitor, fetch_query_in, use_query};
use crate::realtime::context::{Subscription, WebSocket, use_websocket};
use crate::realtime::machine::Status;

/// The dashboards of the spec: `shop-owner`, `admin`, `customer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DashboardRole {
    ShopOwner,
    Admin,
    Customer,
}

impl DashboardRole {
    /// The dashboard of a signed-in role.
    pub fn of(role: Role) -> Self {
        match role {
            Role::Owner => DashboardRole::ShopOwner,
            Role::Admin => DashboardRole::Admin,
            Role::Customer => DashboardRole::Customer,
        }
    }

    /// The spec's name of the dashboard.
    pub fn as_str(self) -> &'static str {
        match self {
            DashboardRole::ShopOwner => "shop-owner",
            DashboardRole::Admin => "admin",
            DashboardRole::Customer => "customer",
        }
    }
}

/// What a dashboard reads (the spec's `shopData`, `productStats`, `orders`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// The role's dashboard summary (`GET /api/dashboard`).
    ShopData,
    ProductStats,
    /// The first page of the orders the role may see.
    Orders,
    Notifications,
    /// The first page of the products the role works with (an owner: their shop's).
    Products,
    Shops,
}

impl DataType {
    /// Every data type.
    pub const ALL: [DataType; 6] = [
        DataType::ShopData,
        DataType::ProductStats,
        DataType::Orders,
        DataType::Notifications,
        DataType::Products,
        DataType::Shops,
    ];
}

/// A fetched value of one [`DataType`].
#[derive(Debug, Clone, PartialEq)]
pub enum DashboardValue {
    ShopData(Dashboard),
    ProductStats(ProductStats),
    Orders(Page<Order>),
    Notifications(Page<Notification>),
    Products(Page<Product>),
    Shops(Vec<Shop>),
}

/// The read of one [`DataType`], typed like its [`DashboardValue`].
#[derive(Debug, Clone, PartialEq)]
pub enum DataRead {
    ShopData(Read<Dashboard>),
    ProductStats(Read<ProductStats>),
    Orders(Read<Page<Order>>),
    Notifications(Read<Page<Notification>>),
    Products(Read<Page<Product>>),
    Shops(Read<Vec<Shop>>),
}

impl DataRead {
    /// The query.
    pub fn query(&self) -> &Query {
        match self {
            DataRead::ShopData(read) => read.query(),
            DataRead::ProductStats(read) => read.query(),
            DataRead::Orders(read) => read.query(),
            DataRead::Notifications(read) => read.query(),
            DataRead::Products(read) => read.query(),
            DataRead::Shops(read) => read.query(),
        }
    }

    /// Fetches it through `cache` (fresh: no request).
    pub async fn fetch(self, cache: DataCache, token: Option<String>) -> Result<DashboardValue, ApiError> {
        Ok(match self {
            DataRead::ShopData(read) => DashboardValue::ShopData(fetch_query_in(cache, read, token).await?),
            DataRead::ProductStats(read) => DashboardValue::ProductStats(fetch_query_in(cache, read, token).await?),
            DataRead::Orders(read) => DashboardValue::Orders(fetch_query_in(cache, read, token).await?),
            DataRead::Notifications(read) => DashboardValue::Notifications(fetch_query_in(cache, read, token).await?),
            DataRead::Products(read) => DashboardValue::Products(fetch_query_in(cache, read, token).await?),
            DataRead::Shops(read) => DashboardValue::Shops(fetch_query_in(cache, read, token).await?),
        })
    }
}

/// How `role` reads `kind` (`shop`: the owner's shop).
pub fn read_for(role: DashboardRole, kind: DataType, shop: Option<ShopId>) -> DataRead {
    let own_shop = match role {
        DashboardRole::ShopOwner => shop,
        _ => None,
    };
    match kind {
        DataType::ShopData => DataRead::ShopData(Query::dashboard()),
        DataType::ProductStats => DataRead::ProductStats(Query::product_stats(own_shop)),
        DataType::Orders => DataRead::Orders(orders_read(1)),
        DataType::Notifications => DataRead::Notifications(Query::notifications(1)),
        DataType::Products => DataRead::Products(products_read(role, shop, 1)),
        DataType::Shops => DataRead::Shops(Query::shops()),
    }
}

/// Page `page` of the orders a role may see (the first is [`DataType::Orders`]).
pub fn orders_read(page: u32) -> Read<Page<Order>> {
    Query::orders(page, None, None)
}

/// Page `page` of the products a role works with: an owner's shop's, the whole catalog for the others (the
/// first is [`DataType::Products`]).
pub fn products_read(role: DashboardRole, shop: Option<ShopId>, page: u32) -> Read<Page<Product>> {
    let own_shop = if role == DashboardRole::ShopOwner { shop } else { None };
    Query::products(own_shop, None, page)
}

/// The query that reads `kind` for `role` (`shop`: the owner's shop).
pub fn query_for(role: DashboardRole, kind: DataType, shop: Option<ShopId>) -> Query {
    read_for(role, kind, shop).query().clone()
}

/// The data types a role's dashboard shows, in the order it needs them.
pub fn data_types_of(role: DashboardRole) -> &'static [DataType] {
    match role {
        DashboardRole::ShopOwner => {
            &[DataType::ShopData, DataType::Orders, DataType::Products, DataType::Notifications, DataType::ProductStats]
        }
        DashboardRole::Admin => &[DataType::ShopData, DataType::Shops, DataType::Orders],
        DashboardRole::Customer => &[DataType::ShopData, DataType::Products, DataType::Shops, DataType::Orders],
    }
}

/// What a role visits next, warmed in the background: the owner's notifications page, the admin's product
/// catalog, the customer's orders and notifications.
pub fn preload_queries(role: DashboardRole, shop: Option<ShopId>) -> Vec<Query> {
    let mut queries: Vec<Query> = data_types_of(role).iter().map(|kind| query_for(role, *kind, shop)).collect();
    match role {
        DashboardRole::ShopOwner => queries.push(Query::Orders { page: 2, status: None, shop: None }),
        DashboardRole::Admin => queries.push(Query::Products { shop: None, search: None, page: 1 }),
        DashboardRole::Customer => queries.push(Query::Notifications { page: 1 }),
    }
    queries
}

/// The message types a role's dashboard listens to.
pub fn topics_for(role: DashboardRole) -> &'static [Topic] {
    match role {
        DashboardRole::ShopOwner => &[Topic::Dashboard, Topic::Orders, Topic::Products, Topic::Notifications],
        DashboardRole::Admin => &[Topic::Dashboard, Topic::Orders, Topic::Products],
        DashboardRole::Customer => &[Topic::Orders, Topic::Catalog, Topic::Notifications],
    }
}

/// What "Refresh" asks the server for again: the kinds of the values the role's dashboard shows and visits
/// next, each once.
pub fn refresh_kinds(role: DashboardRole) -> Vec<DataKind> {
    let mut kinds: Vec<DataKind> = Vec::new();
    for query in preload_queries(role, None) {
        let kind = query.key().kind;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// Undoes [`UseDashboardDataReturn::setup_realtime_updates`] when dropped or called.
#[must_use = "dropping the cleanup unsubscribes at once"]
pub struct RealtimeCleanup(Vec<Subscription>);

impl RealtimeCleanup {
    /// Unsubscribes now.
    pub fn cleanup(self) {}

    /// Keeps the subscriptions until the current component unmounts.
    pub fn keep(self) {
        self.0.into_iter().for_each(Subscription::keep);
    }
}

/// What [`use_dashboard_data`] returns: a `Copy` handle, usable outside a reactive owner (in event handlers)
/// but for the reactive reads (`shop_data`, `orders`, `products`), which belong in a component.
#[derive(Clone, Copy)]
pub struct UseDashboardDataReturn {
    role: DashboardRole,
    auth: Auth,
    cache: DataCache,
    ws: WebSocket,
}

/// The data hook of a role's dashboard. Reads the session, the cache and the WebSocket contexts.
pub fn use_dashboard_data(role: DashboardRole) -> UseDashboardDataReturn {
    UseDashboardDataReturn { role, auth: use_auth(), cache: use_data_cache(), ws: use_websocket() }
}

impl std::fmt::Debug for UseDashboardDataReturn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseDashboardDataReturn").field("role", &self.role).finish_non_exhaustive()
    }
}

impl UseDashboardDataReturn {
    fn shop(&self) -> Option<ShopId> {
        self.auth.session().with_untracked(|s| s.as_ref().and_then(|s| s.user.shop_id))
    }

    fn token(&self) -> Option<String> {
        self.auth.token()
    }

    /// The role this hook was made for.
    pub fn role(&self) -> DashboardRole {
        self.role
    }

    /// Fetches one data type through the cache (fresh: no request).
    pub async fn fetch_data(&self, kind: DataType) -> Result<DashboardValue, ApiError> {
        read_for(self.role, kind, self.shop()).fetch(self.cache, self.token()).await
    }

    /// Fetches several data types concurrently, in one round of requests; results in the order asked.
    pub async fn fetch_multiple_data(&self, kinds: &[DataType]) -> Vec<(DataType, Result<DashboardValue, ApiError>)> {
        let this = *self;
        let fetches = kinds.iter().map(move |kind| async move { (*kind, this.fetch_data(*kind).await) });
        join_all(fetches).await
    }

    /// Calls `callback` with each real-time message of the role's types; the returned cleanup unsubscribes
    /// (keep it with `.keep()` to tie it to the component). The cache is kept up to date by the live layer
    /// whether or not anyone calls this: use it for effects such as toasts.
    pub fn setup_realtime_updates(&self, callback: impl Fn(Topic, &ServerMsg) + Clone + 'static) -> RealtimeCleanup {
        let ws = self.ws;
        let subscriptions = topics_for(self.role)
            .iter()
            .map(|topic| {
                let (topic, callback) = (*topic, callback.clone());
                ws.subscribe(topic, move |msg| callback(topic, msg))
            })
            .collect();
        RealtimeCleanup(subscriptions)
    }

    /// The role's dashboard summary, read reactively through the cache (the spec's `shopData`).
    pub fn shop_data(&self) -> UseCachedReturn<Dashboard> {
        use_query(Query::dashboard())
    }

    /// Page `page` of the orders the role may see, read reactively through the cache.
    pub fn orders(&self, page: u32) -> UseCachedReturn<Page<Order>> {
        use_query(orders_read(page))
    }

    /// Page `page` of the products the role works with (an owner: their shop's), read reactively.
    pub fn products(&self, page: u32) -> UseCachedReturn<Page<Product>> {
        use_query(products_read(self.role, self.shop(), page))
    }

    /// Marks every value of the kinds the role's dashboard shows stale, every page of them; those on screen
    /// refetch in the background. Returns how many values were marked.
    pub fn refresh_all_data(&self) -> usize {
        refresh_kinds(self.role).iter().map(|kind| self.cache.invalidate_kind(*kind)).sum()
    }

    /// [`UseDashboardDataReturn::refresh_all_data`] as a callback, for a "Refresh" button.
    pub fn refresh_callback(&self) -> Callback<()> {
        let this = *self;
        Callback::new(move |()| {
            this.refresh_all_data();
        })
    }

    /// The WebSocket's status now (state, transport, attempts, connected since, counters).
    pub fn get_connection_status(&self) -> Status {
        self.ws.status.get_untracked()
    }

    /// Warms the cache for what the role shows and visits next, in the background (fresh values cost nothing).
    pub fn preload(&self) {
        let queries = preload_queries(self.role, self.shop());
        let (cache, token) = (self.cache, self.token());
        // The values go to the cache; a failure shows up on the page that reads it.
        let fetches: Vec<_> =
            queries.into_iter().map(|query| query.visit(Warm { cache, token: token.clone() })).collect();
        leptos::task::spawn_local(async move {
            join_all(fetches).await;
        });
    }
}

/// Fetches a query through the cache for its value to be there, whatever its type.
struct Warm {
    cache: DataCache,
    token: Option<String>,
}

impl Visitor for Warm {
    type Out = futures::future::LocalBoxFuture<'static, ()>;

    fn visit<T: Answer>(self, read: Read<T>) -> Self::Out {
        let fetch = fetch_query_in(self.cache, read, self.token);
        Box::pin(async move { drop(fetch.await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_read_their_own_shop_and_others_the_platform() {
        let shop = Some(ShopId(2));
        assert_eq!(
            query_for(DashboardRole::ShopOwner, DataType::Products, shop),
            Query::Products { shop, search: None, page: 1 }
        );
        assert_eq!(query_for(DashboardRole::ShopOwner, DataType::ProductStats, shop), Query::ProductStats { shop });
        assert_eq!(
            query_for(DashboardRole::Admin, DataType::Products, shop),
            Query::Products { shop: None, search: None, page: 1 }
        );
        assert_eq!(query_for(DashboardRole::Customer, DataType::ShopData, None), Query::Dashboard);
    }

    #[test]
    fn preloading_covers_the_dashboard_and_the_next_page_without_repeats() {
        for role in [DashboardRole::ShopOwner, DashboardRole::Admin, DashboardRole::Customer] {
            let queries = preload_queries(role, Some(ShopId(1)));
            for kind in data_types_of(role) {
                assert!(queries.contains(&query_for(role, *kind, Some(ShopId(1)))), "{role:?} {kind:?}");
            }
            let unique: std::collections::HashSet<_> = queries.iter().map(Query::key).collect();
            assert_eq!(unique.len(), queries.len(), "{role:?} preloads a query twice");
            assert!(queries.len() > data_types_of(role).len(), "{role:?} warms something it visits next");
        }
    }

    #[test]
    fn refresh_asks_again_for_every_kind_the_dashboard_shows_once_each() {
        for role in [DashboardRole::ShopOwner, DashboardRole::Admin, DashboardRole::Customer] {
            let kinds = refresh_kinds(role);
            for kind in data_types_of(role) {
                let kind_of = query_for(role, *kind, Some(ShopId(1))).key().kind;
                assert!(kinds.contains(&kind_of), "{role:?} refreshes {kind:?}");
            }
            let unique: std::collections::HashSet<_> = kinds.iter().collect();
            assert_eq!(unique.len(), kinds.len(), "{role:?}");
        }
        assert!(!refresh_kinds(DashboardRole::Admin).contains(&DataKind::Notifications));
    }

    #[test]
    fn later_pages_read_like_the_first() {
        let shop = Some(ShopId(4));
        assert_eq!(orders_read(3).query(), &Query::Orders { page: 3, status: None, shop: None });
        assert_eq!(
            products_read(DashboardRole::ShopOwner, shop, 2).query(),
            &Query::Products { shop, search: None, page: 2 }
        );
        assert_eq!(
            products_read(DashboardRole::Customer, shop, 2).query(),
            &Query::Products { shop: None, search: None, page: 2 }
        );
        assert_eq!(read_for(DashboardRole::ShopOwner, DataType::Orders, shop), DataRead::Orders(orders_read(1)));
    }

    #[test]
    fn each_role_listens_to_what_it_shows() {
        let owner = topics_for(DashboardRole::ShopOwner);
        assert!(Topic::ALL.iter().all(|t| owner.contains(t) != (*t == Topic::Catalog)), "the shop's own products");
        assert!(topics_for(DashboardRole::Customer).contains(&Topic::Catalog), "the public catalog, no figures");
        assert!(!topics_for(DashboardRole::Customer).contains(&Topic::Products));
        assert!(!topics_for(DashboardRole::Admin).contains(&Topic::Notifications), "owners' notifications are theirs");
        assert!(!topics_for(DashboardRole::Customer).contains(&Topic::Dashboard), "shop figures are not for customers");
        assert_eq!(DashboardRole::of(Role::Owner).as_str(), "shop-owner");
    }
}
