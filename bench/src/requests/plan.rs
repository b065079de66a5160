//! The scripted hour: who does what, when (in simulated milliseconds from the start). Pure and deterministic,
//! so both designs replay exactly the same activity.

use protocol::ProductId;

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actor {
    /// owner1, watching their shop.
    Owner,
    /// The admin, watching every shop.
    Admin,
    /// customer1, shopping.
    Customer,
    /// customer2, ordering over REST from elsewhere: the orders arriving at the owner's shop. Not a measured
    /// session (the same writes in both designs).
    Background,
}

impl Actor {
    /// The measured sessions.
    pub const SESSIONS: [Actor; 3] = [Actor::Owner, Actor::Admin, Actor::Customer];

    pub fn email(self) -> &'static str {
        match self {
            Actor::Owner => "owner1@izishopin.test",
            Actor::Admin => "admin@izishopin.test",
            Actor::Customer => "customer1@izishopin.test",
            Actor::Background => "customer2@izishopin.test",
        }
    }

    /// Where the app lands this role after signing in.
    pub fn home(self) -> &'static str {
        match self {
            Actor::Owner => "/owner",
            Actor::Admin => "/admin",
            Actor::Customer | Actor::Background => "/shop",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Actor::Owner => "owner",
            Actor::Admin => "admin",
            Actor::Customer => "customer",
            Actor::Background => "background orders",
        }
    }
}

/// A product the customers buy (one of the owner's shop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: ProductId,
    pub name: String,
}

/// What an actor does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Sign in (through the login page in the app) and land on the role's home.
    Login,
    /// Go to an app path, as by following a link.
    Visit(String),
    /// The owner marks their newest pending order paid.
    MarkPaid,
    /// The customer opens the product, adds it to the cart, checks out, and looks at their orders.
    Order(Item),
    /// customer2 buys the product over REST (add to cart, checkout).
    BackgroundOrder(ProductId),
}

/// One scheduled action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Simulated milliseconds from the start of the session.
    pub at_ms: u64,
    pub actor: Actor,
    pub action: Action,
}

/// The session: `minutes` simulated minutes of activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub minutes: u64,
    pub steps: Vec<Step>,
}

const MINUTE: u64 = 60_000;

impl Plan {
    /// The scripted session over `minutes`, buying `items` in turn (at least one):
    /// - the owner works on their dashboard, looks at the catalog for a minute every 10 minutes and marks a
    ///   pending order paid every 10 minutes;
    /// - the admin drills into a shop every 6 minutes and comes back 2 minutes later;
    /// - the customer places an order every 8 minutes (product page, cart, checkout, their orders) and goes back
    ///   to the catalog 3 minutes later;
    /// - another customer orders from the owner's shop every 3 minutes: with the customer's, an order reaches
    ///   the owner about every 2 minutes.
    pub fn new(minutes: u64, items: &[Item], shops: &[i64]) -> Plan {
        assert!(!items.is_empty() && !shops.is_empty(), "a plan needs products and shops");
        let mut steps = Vec::new();
        let mut add = |minute: u64, actor: Actor, action: Action| {
            steps.push(Step { at_ms: minute * MINUTE, actor, action });
        };
        for actor in Actor::SESSIONS {
            add(0, actor, Action::Login);
        }
        let (mut bought, mut drilled, mut ordered) = (0usize, 0usize, 0usize);
        for minute in 1..minutes {
            match minute % 10 {
                5 => add(minute, Actor::Owner, Action::Visit("/shop".into())),
                6 => add(minute, Actor::Owner, Action::Visit("/owner".into())),
                8 => add(minute, Actor::Owner, Action::MarkPaid),
                _ => {}
            }
            match minute % 6 {
                3 => {
                    add(minute, Actor::Admin, Action::Visit(format!("/admin/shops/{}", shops[drilled % shops.len()])));
                    drilled += 1;
                }
                5 => add(minute, Actor::Admin, Action::Visit("/admin".into())),
                _ => {}
            }
            match minute % 8 {
                4 => {
                    add(minute, Actor::Customer, Action::Order(items[ordered % items.len()].clone()));
                    ordered += 1;
                }
                7 => add(minute, Actor::Customer, Action::Visit("/shop".into())),
                _ => {}
            }
            if minute % 3 == 2 {
                add(minute, Actor::Background, Action::BackgroundOrder(items[bought % items.len()].id));
                bought += 1;
            }
        }
        steps.sort_by_key(|s| (s.at_ms, s.actor));
        Plan { minutes, steps }
    }

    /// The steps of one actor, in time order.
    pub fn of(&self, actor: Actor) -> Vec<Step> {
        self.steps.iter().filter(|s| s.actor == actor).cloned().collect()
    }

    /// Orders placed over the session (the customer's and the background's).
    pub fn orders(&self) -> usize {
        self.steps.iter().filter(|s| matches!(s.action, Action::Order(_) | Action::BackgroundOrder(_))).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<Item> {
        vec![Item { id: ProductId(1), name: "A".into() }, Item { id: ProductId(2), name: "B".into() }]
    }

    #[test]
    fn an_hour_has_an_order_about_every_two_minutes_and_regular_navigation() {
        let plan = Plan::new(60, &items(), &[1, 2, 3]);
        let customer_orders = plan.of(Actor::Customer).iter().filter(|s| matches!(s.action, Action::Order(_))).count();
        assert_eq!(customer_orders, 7, "minutes 4, 12, …, 52");
        assert_eq!(plan.orders(), 7 + 20, "and every 3 minutes from minute 2");
        let admin_visits = plan.of(Actor::Admin).iter().filter(|s| matches!(s.action, Action::Visit(_))).count();
        assert_eq!(admin_visits, 20);
        assert_eq!(plan.of(Actor::Owner).iter().filter(|s| s.action == Action::MarkPaid).count(), 6);
        assert!(plan.steps.iter().all(|s| s.at_ms < 60 * MINUTE));
        assert!(plan.steps.windows(2).all(|w| w[0].at_ms <= w[1].at_ms), "in time order");
    }

    #[test]
    fn everyone_signs_in_first_and_products_and_shops_rotate() {
        let plan = Plan::new(60, &items(), &[1, 2, 3]);
        for actor in Actor::SESSIONS {
            assert_eq!(plan.of(actor)[0], Step { at_ms: 0, actor, action: Action::Login });
        }
        let bought: Vec<ProductId> = plan
            .of(Actor::Background)
            .iter()
            .filter_map(|s| match s.action {
                Action::BackgroundOrder(id) => Some(id),
                _ => None,
            })
            .take(3)
            .collect();
        assert_eq!(bought, vec![ProductId(1), ProductId(2), ProductId(1)]);
        let drills: Vec<Action> =
            plan.of(Actor::Admin).into_iter().map(|s| s.action).skip(1).step_by(2).take(3).collect();
        assert_eq!(drills, ["/admin/shops/1", "/admin/shops/2", "/admin/shops/3"].map(|p| Action::Visit(p.into())));
    }

    #[test]
    fn a_short_session_is_a_prefix_of_the_hour() {
        let hour = Plan::new(60, &items(), &[1]);
        let short = Plan::new(12, &items(), &[1]);
        let prefix: Vec<Step> = hour.steps.iter().filter(|s| s.at_ms < 12 * MINUTE).cloned().collect();
        assert_eq!(short.steps, prefix);
    }
}
