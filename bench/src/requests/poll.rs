//! Design (a), the one replaced: every page fetches what it shows when it opens, and every data type of the
//! role's dashboard is fetched again every 15 s, with no cache (the spec's `setInterval(fetchData, 15000)`).
//! There is no such app any more, so these clients replay the same plan over REST against the same server,
//! in the same compressed time; the requests and bytes are real answers of the real server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use izishopin_live::data::dashboard::{DashboardRole, data_types_of, query_for};
use izishopin_live::data::queries::Query;
use protocol::{LoginResponse, Order, OrderStatus, Page, ProductId, Role, ShopId};
use reqwest::Method;
use tokio::time::Instant;

use super::plan::{Action, Actor, Plan, Step};
use super::{Outcome, SPEED};
use crate::http;

/// The old design's polling interval, simulated.
pub const POLL_EVERY_MS: u64 = 15_000;

/// What a polling dashboard of `role` re-fetches every 15 s: every data type it shows.
pub fn polled_paths(role: DashboardRole, shop: Option<ShopId>) -> Vec<String> {
    data_types_of(role).iter().map(|kind| query_for(role, *kind, shop).path()).collect()
}

/// What opening `path` fetches in the old design (API paths): the page's own data.
pub fn page_paths(role: DashboardRole, shop: Option<ShopId>, path: &str) -> Vec<String> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let queries = match segments.as_slice() {
        ["owner"] | ["admin"] => return polled_paths(role, shop),
        ["admin", "shops", id] => {
            let shop = id.parse().ok().map(ShopId);
            vec![
                Query::ProductStats { shop },
                Query::Orders { page: 1, status: None, shop },
                Query::Products { shop, search: None, page: 1 },
            ]
        }
        ["shop"] => vec![Query::Products { shop: None, search: None, page: 1 }, Query::Shops],
        ["shop", "products", id] => id.parse().map(|id| vec![Query::Product(ProductId(id))]).unwrap_or_default(),
        ["orders"] => vec![Query::Orders { page: 1, status: None, shop: None }],
        ["cart"] | ["checkout"] => return vec!["/cart".into()],
        _ => Vec::new(),
    };
    queries.iter().map(Query::path).collect()
}

/// Runs the three measured sessions of `plan` as polling clients against `base_url`, from `start`.
pub async fn run_sessions(http: &reqwest::Client, base_url: &str, plan: &Plan, start: Instant) -> Vec<Outcome> {
    let end = start + Duration::from_secs_f64(plan.minutes as f64 * 60.0 / SPEED);
    let mut tasks = Vec::new();
    for actor in Actor::SESSIONS {
        let client = Poller {
            http: http.clone(),
            base: base_url.to_owned(),
            actor,
            login: None,
            last_orders: Default::default(),
        };
        let steps = plan.of(actor);
        tasks.push(tokio::spawn(async move { client.run(steps, start, end).await }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap_or_else(|e| Outcome::failed(format!("polling task: {e}"))));
    }
    outcomes
}

struct Poller {
    http: reqwest::Client,
    base: String,
    actor: Actor,
    login: Option<LoginResponse>,
    /// The orders page the dashboard polled last (the owner marks one of them paid).
    last_orders: Arc<Mutex<Option<Page<Order>>>>,
}

impl Poller {
    async fn run(mut self, steps: Vec<Step>, start: Instant, end: Instant) -> Outcome {
        let mut outcome = Outcome::default();
        let mut poller: Option<tokio::task::JoinHandle<u64>> = None;
        for step in steps {
            tokio::time::sleep_until(start + real(step.at_ms)).await;
            let done = self.perform(&step.action).await;
            if step.action == Action::Login && done.is_ok() {
                poller = Some(tokio::spawn(self.poll_until(end)));
            }
            outcome.record(&step, done);
        }
        if let Some(poller) = poller {
            match poller.await {
                Ok(failures) if failures > 0 => outcome.errors.push(format!("{failures} polls failed")),
                Ok(_) => {}
                Err(e) => outcome.errors.push(format!("poller: {e}")),
            }
        }
        outcome
    }

    fn role(&self) -> (DashboardRole, Option<ShopId>) {
        let user = self.login.as_ref().map(|l| &l.user);
        let role = user.map(|u| u.role).unwrap_or(Role::Customer);
        (DashboardRole::of(role), user.and_then(|u| u.shop_id))
    }

    fn token(&self) -> &str {
        self.login.as_ref().map(|l| l.token.as_str()).unwrap_or_default()
    }

    /// Every 15 s (simulated) from now until `end`: every data type of the role; returns the failures.
    fn poll_until(&self, end: Instant) -> impl Future<Output = u64> + Send + 'static {
        let (role, shop) = self.role();
        let (http, base, token, last_orders) =
            (self.http.clone(), self.base.clone(), self.token().to_owned(), self.last_orders.clone());
        async move {
            let mut failures = 0;
            let mut next = Instant::now() + real(POLL_EVERY_MS);
            while next < end {
                tokio::time::sleep_until(next).await;
                next += real(POLL_EVERY_MS);
                for path in polled_paths(role, shop) {
                    let url = format!("{base}/api{path}");
                    if path.starts_with("/orders") {
                        match http::call::<Page<Order>>(&http, Method::GET, &url, Some(&token), None).await {
                            Ok(page) => *last_orders.lock().unwrap_or_else(|e| e.into_inner()) = Some(page),
                            Err(_) => failures += 1,
                        }
                    } else if http::get_len(&http, &url, &token).await.is_err() {
                        failures += 1;
                    }
                }
            }
            failures
        }
    }

    async fn get_all(&self, paths: Vec<String>) -> anyhow::Result<()> {
        for path in paths {
            http::get_len(&self.http, &format!("{}/api{path}", self.base), self.token()).await?;
        }
        Ok(())
    }

    async fn visit(&self, path: &str) -> anyhow::Result<()> {
        let (role, shop) = self.role();
        self.get_all(page_paths(role, shop, path)).await
    }

    async fn perform(&mut self, action: &Action) -> anyhow::Result<bool> {
        match action {
            Action::Login => {
                self.login = Some(http::login(&self.http, &self.base, self.actor.email()).await?);
                self.visit(self.actor.home()).await?;
                Ok(true)
            }
            Action::Visit(path) => {
                self.visit(path).await?;
                Ok(true)
            }
            Action::MarkPaid => {
                let pending = self
                    .last_orders
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .as_ref()
                    .and_then(|page| page.items.iter().find(|o| o.status == OrderStatus::Pending).map(|o| o.id));
                let Some(id) = pending else { return Ok(false) };
                let url = format!("{}/api/orders/{id}", self.base);
                let body = serde_json::json!({ "status": "paid" });
                http::call::<serde_json::Value>(&self.http, Method::PATCH, &url, Some(self.token()), Some(&body))
                    .await?;
                Ok(true)
            }
            Action::Order(item) => {
                self.visit(&format!("/shop/products/{}", item.id)).await?;
                checkout(&self.http, &self.base, self.token(), item.id).await?;
                self.visit("/orders").await?;
                Ok(true)
            }
            Action::BackgroundOrder(_) => Ok(false),
        }
    }
}

/// Adds one of `product` to the cart and checks out, over REST.
pub async fn checkout(http: &reqwest::Client, base: &str, token: &str, product: ProductId) -> anyhow::Result<()> {
    let body = serde_json::json!({ "product_id": product, "quantity": 1 });
    http::call::<serde_json::Value>(http, Method::POST, &format!("{base}/api/cart/items"), Some(token), Some(&body))
        .await?;
    let body = serde_json::json!({});
    http::call::<serde_json::Value>(http, Method::POST, &format!("{base}/api/orders"), Some(token), Some(&body))
        .await?;
    Ok(())
}

/// Real time of `sim_ms` simulated milliseconds.
pub fn real(sim_ms: u64) -> Duration {
    Duration::from_secs_f64(sim_ms as f64 / 1000.0 / SPEED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_polls_the_five_data_types_of_the_dashboard() {
        let paths = polled_paths(DashboardRole::ShopOwner, Some(ShopId(1)));
        assert_eq!(paths.len(), 5);
        assert!(paths.contains(&"/dashboard".to_owned()), "{paths:?}");
        assert_eq!(polled_paths(DashboardRole::Admin, None).len(), 3);
    }

    #[test]
    fn pages_fetch_what_they_show() {
        let customer = DashboardRole::Customer;
        assert_eq!(page_paths(customer, None, "/shop/products/7"), vec!["/products/7".to_owned()]);
        assert_eq!(page_paths(customer, None, "/checkout"), vec!["/cart".to_owned()]);
        assert_eq!(page_paths(DashboardRole::Admin, None, "/admin/shops/2").len(), 3);
        assert_eq!(page_paths(DashboardRole::ShopOwner, Some(ShopId(1)), "/owner").len(), 5);
        assert!(page_paths(customer, None, "/nowhere").is_empty());
    }
}
