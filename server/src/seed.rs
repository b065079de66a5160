//! Demo data for a new database: three shops with their owners and products, customers, about five weeks of
//! orders and some notifications.
//!
//! Invariant: seeding happens only on an empty database (no users), in one transaction, creates no events,
//! prints nothing, and draws from a fixed-seed generator so every first start yields the same data (with
//! dates relative to now).

use anyhow::Context;
use protocol::{Cents, NotificationKind, OrderStatus};
use sqlx::{AnyConnection, AnyPool};
use time::{Duration, OffsetDateTime};

use crate::auth::hash_password;
use crate::clock::{self, Clock};
use crate::store;
use crate::store::notifications::kind_name;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "demo1234";

/// The demo accounts: email and what they are.
pub const DEMO_LOGINS: &[(&str, &str)] = &[
    ("admin@izishopin.test", "admin (every shop)"),
    ("owner1@izishopin.test", "owner of Green Leaf Grocery"),
    ("owner2@izishopin.test", "owner of Urban Threads"),
    ("owner3@izishopin.test", "owner of Gadget Garage"),
    ("customer1@izishopin.test", "customer"),
    ("customer2@izishopin.test", "customer"),
];

/// Days of order history.
const HISTORY_DAYS: i64 = 35;

struct ShopSeed {
    name: &'static str,
    owner_email: &'static str,
    owner_name: &'static str,
    /// Name, description, price in cents, stock.
    products: &'static [(&'static str, &'static str, i64, i64)],
}

const SHOPS: &[ShopSeed] = &[
    ShopSeed {
        name: "Green Leaf Grocery",
        owner_email: "owner1@izishopin.test",
        owner_name: "Olga Petrova",
        products: &[
            ("Organic Fuji Apples 1 kg", "Crisp and sweet, from a family orchard.", 499, 120),
            ("Sourdough Loaf", "Baked every morning with a 48-hour starter.", 650, 24),
            ("Free-Range Eggs (12)", "From hens that roam outdoors.", 579, 4),
            ("Greek Yogurt 500 g", "Thick, creamy, 10% fat.", 349, 60),
            ("Extra Virgin Olive Oil 750 ml", "Cold-pressed Koroneiki olives.", 1299, 35),
            ("Arabica Coffee Beans 1 kg", "Medium roast, notes of chocolate and nuts.", 2450, 0),
            ("Wildflower Honey 350 g", "Raw and unfiltered.", 899, 3),
            ("Basmati Rice 2 kg", "Aged for a year for long, fluffy grains.", 799, 80),
            ("Dark Chocolate 85%", "Single-origin cocoa from Ecuador.", 399, 150),
            ("Almond Milk 1 l", "Unsweetened, no additives.", 299, 45),
        ],
    },
    ShopSeed {
        name: "Urban Threads",
        owner_email: "owner2@izishopin.test",
        owner_name: "Marcus Chen",
        products: &[
            ("Classic White T-Shirt", "Heavyweight organic cotton.", 1999, 200),
            ("Slim Fit Jeans", "Stretch denim, dark indigo wash.", 5999, 40),
            ("Merino Wool Sweater", "Warm, breathable, machine washable.", 8900, 5),
            ("Rain Jacket", "Waterproof and packable, with taped seams.", 12900, 12),
            ("Canvas Sneakers", "Vulcanised rubber sole.", 6500, 2),
            ("Leather Belt", "Full-grain leather, brass buckle.", 3500, 30),
            ("Wool Beanie", "Ribbed knit, one size.", 2200, 55),
            ("Linen Shirt", "Relaxed fit for hot days.", 4900, 18),
            ("Running Shorts", "Lightweight with a zip pocket.", 2900, 0),
        ],
    },
    ShopSeed {
        name: "Gadget Garage",
        owner_email: "owner3@izishopin.test",
        owner_name: "Priya Nair",
        products: &[
            ("Wireless Earbuds", "Active noise cancelling, 30 h battery.", 7999, 25),
            ("USB-C Charger 65 W", "GaN, charges a laptop and a phone.", 3999, 60),
            ("Mechanical Keyboard", "Hot-swappable switches, aluminium case.", 11900, 8),
            ("4K Webcam", "Autofocus and dual microphones.", 14900, 1),
            ("Portable SSD 1 TB", "1,050 MB/s over USB-C.", 10900, 15),
            ("Smart Watch", "Heart rate, GPS, 7-day battery.", 24900, 6),
            ("Bluetooth Speaker", "Waterproof, 12 h of play.", 5900, 4),
            ("Phone Stand", "Adjustable aluminium stand.", 1500, 90),
            ("HDMI Cable 2 m", "Supports 4K at 120 Hz.", 999, 0),
        ],
    },
];

/// Customers: email and name (the first two are the documented demo logins).
const CUSTOMERS: &[(&str, &str)] = &[
    ("customer1@izishopin.test", "Carla Mendes"),
    ("customer2@izishopin.test", "Tom Becker"),
    ("customer3@izishopin.test", "Lena Fischer"),
    ("customer4@izishopin.test", "Sam Okafor"),
];

/// A small deterministic generator (SplitMix64): the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Seeds the demo data, dated back from `clock`'s now, if the database has no users yet; does nothing
/// otherwise.
pub async fn ensure_seeded(db: &AnyPool, clock: &Clock) -> anyhow::Result<()> {
    let mut tx = store::begin_write(db).await.context("cannot start the seed transaction")?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await.context("users")?;
    if users > 0 {
        return Ok(());
    }
    seed(&mut tx, clock.now()).await.context("cannot write the demo data")?;
    tx.commit().await.context("cannot commit the demo data")?;
    Ok(())
}

struct SeedProduct {
    id: i64,
    name: &'static str,
    price: i64,
    stock: i64,
}

struct SeedOrder {
    id: i64,
    shop: usize,
    customer: usize,
    status: OrderStatus,
    created: OffsetDateTime,
    total: Cents,
    units: i64,
}

async fn seed(conn: &mut AnyConnection, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    let hash = hash_password(DEMO_PASSWORD);
    let joined = clock::rfc3339(now - Duration::days(HISTORY_DAYS + 10));
    let insert_user = "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
                       RETURNING id";
    let admin: i64 = sqlx::query_scalar(insert_user)
        .bind("admin@izishopin.test")
        .bind("Ada Admin")
        .bind("admin")
        .bind(&hash)
        .bind(&joined)
        .fetch_one(&mut *conn)
        .await?;

    let mut owners = Vec::new();
    let mut shops = Vec::new();
    let mut products: Vec<Vec<SeedProduct>> = Vec::new();
    for shop in SHOPS {
        let owner: i64 = sqlx::query_scalar(insert_user)
            .bind(shop.owner_email)
            .bind(shop.owner_name)
            .bind("owner")
            .bind(&hash)
            .bind(&joined)
            .fetch_one(&mut *conn)
            .await?;
        let shop_id: i64 =
            sqlx::query_scalar("INSERT INTO shops (name, owner_id, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(shop.name)
                .bind(owner)
                .bind(&joined)
                .fetch_one(&mut *conn)
                .await?;
        let mut list = Vec::new();
        for (name, description, price, stock) in shop.products {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO products (shop_id, name, description, price_cents, stock, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(shop_id)
            .bind(name)
            .bind(description)
            .bind(price)
            .bind(stock)
            .bind(&joined)
            .bind(&joined)
            .fetch_one(&mut *conn)
            .await?;
            list.push(SeedProduct { id, name, price: *price, stock: *stock });
        }
        owners.push(owner);
        shops.push(shop_id);
        products.push(list);
    }

    let mut customers = Vec::new();
    for (email, name) in CUSTOMERS {
        let id: i64 = sqlx::query_scalar(insert_user)
            .bind(email)
            .bind(name)
            .bind("customer")
            .bind(&hash)
            .bind(&joined)
            .fetch_one(&mut *conn)
            .await?;
        customers.push(id);
    }

    let mut rng = Rng(0x1215_5EED);
    let mut orders = Vec::new();
    for days_ago in (0..HISTORY_DAYS).rev() {
        // Each shop gets zero or one order a day, and one or two more on the last three days so that every
        // dashboard has open orders to work on.
        let per_shop = (0..SHOPS.len()).map(|shop| (shop, rng.below(2) + u64::from(days_ago < 3))).collect::<Vec<_>>();
        for shop in per_shop.into_iter().flat_map(|(shop, n)| std::iter::repeat_n(shop, n as usize)) {
            let customer = rng.below(customers.len() as u64) as usize;
            let seconds_back = days_ago * 86_400 + 300 + rng.below(6 * 3600) as i64;
            let created = now - Duration::seconds(seconds_back);
            let status = pick_status(&mut rng, days_ago);
            let updated = (created + Duration::hours(1 + rng.below(20) as i64)).min(now);
            let mut lines: Vec<(&SeedProduct, i64)> = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let product = &products[shop][rng.below(products[shop].len() as u64) as usize];
                if !lines.iter().any(|(p, _)| p.id == product.id) {
                    lines.push((product, 1 + rng.below(3) as i64));
                }
            }
            let total = Cents(lines.iter().map(|(p, q)| p.price * q).sum());
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO orders (shop_id, customer_id, status, total_cents, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(shops[shop])
            .bind(customers[customer])
            .bind(status.as_str())
            .bind(total.0)
            .bind(clock::rfc3339(created))
            .bind(clock::rfc3339(updated))
            .fetch_one(&mut *conn)
            .await?;
            for (product, quantity) in &lines {
                sqlx::query(
                    "INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price_cents)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(product.id)
                .bind(product.name)
                .bind(quantity)
                .bind(product.price)
                .execute(&mut *conn)
                .await?;
            }
            let units = lines.iter().map(|(_, q)| q).sum();
            orders.push(SeedOrder { id, shop, customer, status, created, total, units });
        }
    }

    // Notifications are inserted oldest first so that ids follow time (lists are newest id first).
    let mut notes: Vec<(i64, NotificationKind, String, String, bool, OffsetDateTime)> = Vec::new();
    let welcome = now - Duration::days(HISTORY_DAYS);
    for user in std::iter::once(admin).chain(owners.iter().copied()).chain(customers.iter().copied()) {
        let text = "Your account is ready. Live dashboards update as orders come in.";
        notes.push((user, NotificationKind::Info, "Welcome to IziShopin Live".into(), text.into(), true, welcome));
    }
    for order in orders.iter().filter(|o| now - o.created < Duration::days(4)) {
        let (_, name) = CUSTOMERS[order.customer];
        notes.push((
            owners[order.shop],
            NotificationKind::NewOrder,
            format!("New order #{}", order.id),
            store::notifications::new_order_message(name, order.units.unsigned_abs(), order.total),
            now - order.created > Duration::days(1),
            order.created,
        ));
        if order.status != OrderStatus::Pending {
            notes.push((
                customers[order.customer],
                NotificationKind::OrderStatus,
                format!("Order #{} is {}", order.id, order.status.as_str()),
                format!("Your order from {} is now {}.", SHOPS[order.shop].name, order.status.as_str()),
                false,
                (order.created + Duration::hours(2)).min(now),
            ));
        }
    }
    for (shop, list) in products.iter().enumerate() {
        for product in list.iter().filter(|p| p.stock <= i64::from(protocol::LOW_STOCK_THRESHOLD)) {
            let message = match product.stock {
                0 => format!("{} is out of stock.", product.name),
                n => format!("Only {n} left of {}.", product.name),
            };
            let title = format!("Low stock: {}", product.name);
            notes.push((owners[shop], NotificationKind::LowStock, title, message, false, now - Duration::hours(6)));
        }
    }
    notes.sort_by_key(|note| note.5);
    for (user, kind, title, message, read, created) in notes {
        sqlx::query(
            "INSERT INTO notifications (user_id, kind, title, message, read, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user)
        .bind(kind_name(kind))
        .bind(title)
        .bind(message)
        .bind(i64::from(read))
        .bind(clock::rfc3339(created))
        .execute(&mut *conn)
        .await?;
    }

    // A started cart and wishlist for the first customer, so their dashboard is not empty.
    let added = clock::rfc3339(now - Duration::hours(3));
    for (product, quantity) in [(&products[0][1], 2), (&products[2][7], 1)] {
        sqlx::query("INSERT INTO cart_items (user_id, product_id, quantity, added_at) VALUES ($1, $2, $3, $4)")
            .bind(customers[0])
            .bind(product.id)
            .bind(quantity)
            .bind(&added)
            .execute(&mut *conn)
            .await?;
    }
    for product in [&products[1][2], &products[2][5]] {
        sqlx::query("INSERT INTO wishlist_items (user_id, product_id, added_at) VALUES ($1, $2, $3)")
            .bind(customers[0])
            .bind(product.id)
            .bind(&added)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A plausible status for an order placed `days_ago` days ago: old orders are delivered (or cancelled),
/// recent ones are still moving.
fn pick_status(rng: &mut Rng, days_ago: i64) -> OrderStatus {
    use OrderStatus::*;
    if rng.chance(10) && days_ago > 2 {
        return Cancelled;
    }
    match days_ago {
        0 => [Pending, Pending, Paid][rng.below(3) as usize],
        1..=2 => [Pending, Paid, Paid, Shipped][rng.below(4) as usize],
        3..=6 => [Paid, Shipped, Delivered][rng.below(3) as usize],
        _ => Delivered,
    }
}
