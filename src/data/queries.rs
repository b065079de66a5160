//! Every read of the REST API the dashboards make, as a typed [`Query`]: its cache key, its URL, and the
//! hooks that read it through the TTL cache.
//!
//! The type each query answers is written once, in the typed constructors ([`Query::dashboard`],
//! [`Query::orders`], …, each a [`Read<T>`]); [`Query::visit`] hands any query to generic code as the read of
//! its type, so the live layer and the warm-up need no table of their own, and reading a query as another
//! type does not compile.
//!
//! Invariant: a query and its cache key determine each other (`Query::from_key(q.key()) == Some(q)`), so the
//! live layer can refetch any cached key after a resync, and pages never build keys or URLs by hand.

use std::future::Future;
use std::marker::PhantomData;

use protocol::{
    Cart, Dashboard, Notification, Order, OrderId, OrderStatus, Page, Product, ProductId, ProductStats, Shop, ShopId,
    Wishlist,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::cache::context::{DataCache, UseCachedReturn, use_cached, use_data_cache};
use crate::cache::key::{CacheKey, DataKind, Params};
use crate::data::reducers::{OrderFilter, ProductFilter, Reduce};
use crate::nav::encode_query_value;

/// What a query answers: a value the cache holds and the live layer patches, with what its reducer needs to
/// know of the query (a list's filter).
pub trait Answer: Reduce + DeserializeOwned + Serialize + Clone + Send + Sync + 'static {
    /// The reducer's scope for `query` (one of this type's queries).
    fn scope(query: &Query) -> Self::Scope;
}

macro_rules! unscoped_answers {
    ($($answer:ty),*) => {$(
        impl Answer for $answer {
            fn scope(_: &Query) {}
        }
    )*};
}

unscoped_answers!(Dashboard, ProductStats, Order, Page<Notification>, Product, Vec<Shop>, Cart, Wishlist);

impl Answer for Page<Order> {
    fn scope(query: &Query) -> OrderFilter {
        match query {
            Query::Orders { status, shop, .. } => OrderFilter { shop_id: *shop, status: *status },
            _ => OrderFilter { shop_id: None, status: None },
        }
    }
}

impl Answer for Page<Product> {
    fn scope(query: &Query) -> ProductFilter {
        match query {
            Query::Products { shop, search, .. } => ProductFilter::new(*shop, search.as_deref()),
            _ => ProductFilter::new(None, None),
        }
    }
}

/// A query with the type of its answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Read<T> {
    query: Query,
    answer: PhantomData<fn() -> T>,
}

impl<T> Read<T> {
    fn new(query: Query) -> Read<T> {
        Read { query, answer: PhantomData }
    }

    /// The query.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// Its cache key.
    pub fn key(&self) -> CacheKey {
        self.query.key()
    }
}

/// Generic code run on a query as the read of its type (see [`Query::visit`]).
pub trait Visitor {
    type Out;
    fn visit<T: Answer>(self, read: Read<T>) -> Self::Out;
}

/// One read of the API.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Query {
    /// `GET /api/dashboard` (the shape depends on the role): `Dashboard`.
    Dashboard,
    /// `GET /api/products/stats`: `ProductStats`.
    ProductStats { shop: Option<ShopId> },
    /// `GET /api/orders`: `Page<Order>`.
    Orders { page: u32, status: Option<OrderStatus>, shop: Option<ShopId> },
    /// `GET /api/orders/{id}`: `Order`.
    Order(OrderId),
    /// `GET /api/notifications`: `Page<Notification>`.
    Notifications { page: u32 },
    /// `GET /api/products`: `Page<Product>`.
    Products { shop: Option<ShopId>, search: Option<String>, page: u32 },
    /// `GET /api/products/{id}`: `Product`.
    Product(ProductId),
    /// `GET /api/shops`: `Vec<Shop>`.
    Shops,
    /// `GET /api/cart` (a customer's): `Cart`.
    Cart,
    /// `GET /api/wishlist` (a customer's): `Wishlist`.
    Wishlist,
}

impl Query {
    /// `GET /api/dashboard`.
    pub fn dashboard() -> Read<Dashboard> {
        Read::new(Query::Dashboard)
    }

    /// `GET /api/products/stats`.
    pub fn product_stats(shop: Option<ShopId>) -> Read<ProductStats> {
        Read::new(Query::ProductStats { shop })
    }

    /// `GET /api/orders`.
    pub fn orders(page: u32, status: Option<OrderStatus>, shop: Option<ShopId>) -> Read<Page<Order>> {
        Read::new(Query::Orders { page, status, shop })
    }

    /// `GET /api/orders/{id}`.
    pub fn order(id: OrderId) -> Read<Order> {
        Read::new(Query::Order(id))
    }

    /// `GET /api/notifications`.
    pub fn notifications(page: u32) -> Read<Page<Notification>> {
        Read::new(Query::Notifications { page })
    }

    /// `GET /api/products`.
    pub fn products(shop: Option<ShopId>, search: Option<String>, page: u32) -> Read<Page<Product>> {
        Read::new(Query::Products { shop, search, page })
    }

    /// `GET /api/products/{id}`.
    pub fn product(id: ProductId) -> Read<Product> {
        Read::new(Query::Product(id))
    }

    /// `GET /api/shops`.
    pub fn shops() -> Read<Vec<Shop>> {
        Read::new(Query::Shops)
    }

    /// `GET /api/cart`.
    pub fn cart() -> Read<Cart> {
        Read::new(Query::Cart)
    }

    /// `GET /api/wishlist`.
    pub fn wishlist() -> Read<Wishlist> {
        Read::new(Query::Wishlist)
    }

    /// Runs `visitor` on this query as the read of its type (through the constructors above: the one table).
    pub fn visit<V: Visitor>(self, visitor: V) -> V::Out {
        match self {
            Query::Dashboard => visitor.visit(Query::dashboard()),
            Query::ProductStats { shop } => visitor.visit(Query::product_stats(shop)),
            Query::Orders { page, status, shop } => visitor.visit(Query::orders(page, status, shop)),
            Query::Order(id) => visitor.visit(Query::order(id)),
            Query::Notifications { page } => visitor.visit(Query::notifications(page)),
            Query::Products { shop, search, page } => visitor.visit(Query::products(shop, search, page)),
            Query::Product(id) => visitor.visit(Query::product(id)),
            Query::Shops => visitor.visit(Query::shops()),
            Query::Cart => visitor.visit(Query::cart()),
            Query::Wishlist => visitor.visit(Query::wishlist()),
        }
    }

    /// The cache key of this query.
    pub fn key(&self) -> CacheKey {
        let params = Params::new();
        match self {
            Query::Dashboard => CacheKey::new(DataKind::DashboardData),
            Query::ProductStats { shop } => CacheKey::with_params(DataKind::ProductStats, with_shop(params, *shop)),
            Query::Orders { page, status, shop } => {
                let params = with_shop(params.page(*page), *shop);
                let params = match status {
                    Some(status) => params.filter(status.as_str()),
                    None => params,
                };
                CacheKey::with_params(DataKind::Orders, params)
            }
            Query::Order(id) => CacheKey::with_params(DataKind::Orders, params.id(id.0)),
            Query::Notifications { page } => CacheKey::with_params(DataKind::Notifications, params.page(*page)),
            Query::Products { shop, search, page } => {
                let params = with_shop(params.page(*page), *shop).search(search.as_deref().unwrap_or(""));
                CacheKey::with_params(DataKind::Products, params)
            }
            Query::Product(id) => CacheKey::with_params(DataKind::Products, params.id(id.0)),
            Query::Shops => CacheKey::new(DataKind::Shops),
            Query::Cart => CacheKey::new(DataKind::Cart),
            Query::Wishlist => CacheKey::new(DataKind::Wishlist),
        }
    }

    /// The query a cache key stands for (`None` for a key no query makes).
    pub fn from_key(key: &CacheKey) -> Option<Query> {
        let p = &key.params;
        let page = p.page_number();
        Some(match (key.kind, p.object_id()) {
            (DataKind::DashboardData, None) => Query::Dashboard,
            (DataKind::ProductStats, None) => Query::ProductStats { shop: p.shop_id() },
            (DataKind::Orders, Some(id)) => Query::Order(OrderId(id)),
            (DataKind::Orders, None) => Query::Orders {
                page: page?,
                status: match p.filter_text() {
                    Some(text) => Some(OrderStatus::parse(text)?),
                    None => None,
                },
                shop: p.shop_id(),
            },
            (DataKind::Notifications, None) => Query::Notifications { page: page? },
            (DataKind::Products, Some(id)) => Query::Product(ProductId(id)),
            (DataKind::Products, None) => {
                Query::Products { shop: p.shop_id(), search: p.search_text().map(str::to_owned), page: page? }
            }
            (DataKind::Shops, None) => Query::Shops,
            (DataKind::Cart, None) => Query::Cart,
            (DataKind::Wishlist, None) => Query::Wishlist,
            _ => return None,
        })
    }

    /// The API path (under the API base URL) this query reads.
    pub fn path(&self) -> String {
        let mut query = QueryString::default();
        let path = match self {
            Query::Dashboard => "/dashboard".to_owned(),
            Query::ProductStats { shop } => {
                query.push("shop_id", shop.map(|s| s.to_string()));
                "/products/stats".to_owned()
            }
            Query::Orders { page, status, shop } => {
                query.push("page", Some(page.to_string()));
                query.push("status", status.map(|s| s.as_str().to_owned()));
                query.push("shop_id", shop.map(|s| s.to_string()));
                "/orders".to_owned()
            }
            Query::Order(id) => format!("/orders/{id}"),
            Query::Notifications { page } => {
                query.push("page", Some(page.to_string()));
                "/notifications".to_owned()
            }
            Query::Products { shop, search, page } => {
                query.push("shop_id", shop.map(|s| s.to_string()));
                query.push("q", search.clone());
                query.push("page", Some(page.to_string()));
                "/products".to_owned()
            }
            Query::Product(id) => format!("/products/{id}"),
            Query::Shops => "/shops".to_owned(),
            Query::Cart => "/cart".to_owned(),
            Query::Wishlist => "/wishlist".to_owned(),
        };
        format!("{path}{}", query.finish())
    }
}

fn with_shop(params: Params, shop: Option<ShopId>) -> Params {
    match shop {
        Some(shop) => params.shop(shop),
        None => params,
    }
}

#[derive(Default)]
struct QueryString(Vec<String>);

impl QueryString {
    fn push(&mut self, name: &str, value: Option<String>) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.0.push(format!("{name}={}", encode_query_value(&value)));
        }
    }

    fn finish(self) -> String {
        if self.0.is_empty() { String::new() } else { format!("?{}", self.0.join("&")) }
    }
}

/// Reads `query` through the cache, reactively: loading, value, error, refetch. Only components reading
/// this query's key re-render when it changes.
pub fn use_query<T: Answer>(read: Read<T>) -> UseCachedReturn<T> {
    let auth = use_auth();
    let path = read.query.path();
    use_cached(read.key(), move || {
        let path = path.clone();
        let token = auth.token();
        async move { api::get_json::<T>(&path, token.as_deref()).await }
    })
}

/// Fetches `query` through the cache (fresh: no request; stale: the cached value now, refetched behind).
/// Reads the cache context when called (not when awaited).
pub fn fetch_query<T: Answer>(
    read: Read<T>,
    token: Option<String>,
) -> impl Future<Output = Result<T, ApiError>> + 'static {
    fetch_query_in(use_data_cache(), read, token)
}

/// [`fetch_query`] through a cache handle taken earlier (usable outside a reactive owner).
pub fn fetch_query_in<T: Answer>(
    cache: DataCache,
    read: Read<T>,
    token: Option<String>,
) -> impl Future<Output = Result<T, ApiError>> + 'static {
    let path = read.query.path();
    cache.fetch(read.key(), move || {
        let path = path.clone();
        let token = token.clone();
        async move { api::get_json::<T>(&path, token.as_deref()).await }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Query> {
        vec![
            Query::Dashboard,
            Query::ProductStats { shop: None },
            Query::ProductStats { shop: Some(ShopId(2)) },
            Query::Orders { page: 1, status: None, shop: None },
            Query::Orders { page: 3, status: Some(OrderStatus::Shipped), shop: Some(ShopId(1)) },
            Query::Order(OrderId(17)),
            Query::Notifications { page: 1 },
            Query::Products { shop: None, search: None, page: 1 },
            Query::Products { shop: Some(ShopId(3)), search: Some("red shoes & socks".into()), page: 2 },
            Query::Product(ProductId(5)),
            Query::Shops,
            Query::Cart,
            Query::Wishlist,
        ]
    }

    #[test]
    fn every_query_round_trips_through_its_key() {
        for query in all() {
            assert_eq!(Query::from_key(&query.key()), Some(query.clone()), "{query:?}");
        }
    }

    #[test]
    fn distinct_queries_have_distinct_keys() {
        let keys: std::collections::HashSet<CacheKey> = all().iter().map(Query::key).collect();
        assert_eq!(keys.len(), all().len());
    }

    #[test]
    fn paths_carry_the_parameters_encoded() {
        assert_eq!(Query::Dashboard.path(), "/dashboard");
        assert_eq!(
            Query::Products { shop: Some(ShopId(3)), search: Some("red shoes & socks".into()), page: 2 }.path(),
            "/products?shop_id=3&q=red%20shoes%20%26%20socks&page=2"
        );
        assert_eq!(
            Query::Orders { page: 1, status: Some(OrderStatus::Paid), shop: None }.path(),
            "/orders?page=1&status=paid"
        );
        assert_eq!(Query::Product(ProductId(5)).path(), "/products/5");
        assert_eq!(Query::ProductStats { shop: None }.path(), "/products/stats");
    }

    #[test]
    fn every_query_visits_as_the_read_of_its_own_type() {
        struct TypeOf;
        impl Visitor for TypeOf {
            type Out = (&'static str, Query);
            fn visit<T: Answer>(self, read: Read<T>) -> Self::Out {
                (std::any::type_name::<T>(), read.query)
            }
        }
        for query in all() {
            let (type_name, visited) = query.clone().visit(TypeOf);
            assert_eq!(visited, query, "the same query");
            let expected = match query {
                Query::Dashboard => std::any::type_name::<Dashboard>(),
                Query::Orders { .. } => std::any::type_name::<Page<Order>>(),
                Query::Products { .. } => std::any::type_name::<Page<Product>>(),
                Query::Shops => std::any::type_name::<Vec<Shop>>(),
                _ => continue,
            };
            assert_eq!(type_name, expected, "{query:?}");
        }
        let orders = Query::orders(2, Some(OrderStatus::Paid), Some(ShopId(4)));
        assert_eq!(
            <Page<Order>>::scope(orders.query()),
            OrderFilter { shop_id: Some(ShopId(4)), status: Some(OrderStatus::Paid) }
        );
    }

    #[test]
    fn keys_no_query_makes_are_refused() {
        let unpaged = CacheKey::new(DataKind::Orders);
        assert_eq!(Query::from_key(&unpaged), None);
        let bad_status = CacheKey::with_params(DataKind::Orders, Params::new().page(1).filter("lost"));
        assert_eq!(Query::from_key(&bad_status), None);
    }
}
