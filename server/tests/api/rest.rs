//! REST basics: the seed, login, refresh, `/me`, error answers and the role-shaped dashboard.

use protocol::{Dashboard, LoginRequest, LoginResponse, Page, Product, Role, Shop, User};
use server::seed::{DEMO_LOGINS, DEMO_PASSWORD};

use crate::support::{dist_with_index, error, ok, spawn};

fn login_body(email: &str, password: &str) -> LoginRequest {
    LoginRequest { email: email.into(), password: password.into() }
}

#[tokio::test]
async fn the_seed_has_every_demo_login_three_shops_and_no_events() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&server.state.db).await.unwrap();
    assert_eq!(events, 0, "seeding creates no events");

    let mut roles = Vec::new();
    for (email, _) in DEMO_LOGINS {
        let api = server.login(email).await;
        assert_eq!(api.user.email, *email);
        roles.push(api.user.role);
    }
    assert_eq!(roles.iter().filter(|r| **r == Role::Owner).count(), 3);
    assert_eq!(roles.iter().filter(|r| **r == Role::Customer).count(), 2);

    let api = server.login("customer2@izishopin.test").await;
    let shops: Vec<Shop> = api.get_ok("/api/shops").await;
    assert_eq!(shops.len(), 3);
    for shop in &shops {
        let page: Page<Product> = api.get_ok(&format!("/api/products?shop_id={}&per_page=100", shop.id)).await;
        assert!(page.total >= 8, "{} has {} products", shop.name, page.total);
        assert!(page.items.iter().any(|p| p.stock == 0), "{} has an out-of-stock product", shop.name);
        assert!(page.items.iter().any(|p| (1..=5).contains(&p.stock)), "{} has a low-stock product", shop.name);
    }
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders").fetch_one(&server.state.db).await.unwrap();
    assert!(orders >= 30, "weeks of orders: {orders}");
}

#[tokio::test]
async fn seeding_twice_changes_nothing() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let count = |table: &'static str| {
        let db = server.state.db.clone();
        async move { sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&db).await.unwrap() }
    };
    let before = (count("users").await, count("products").await, count("orders").await);
    server::seed::ensure_seeded(&server.state.db, &server.state.clock).await.unwrap();
    assert_eq!(before, (count("users").await, count("products").await, count("orders").await));
}

#[tokio::test]
async fn every_first_start_seeds_the_same_data() {
    let dist = dist_with_index();
    let (one, two) = (spawn(dist.path()).await, spawn(dist.path()).await);
    let shape = |db: sqlx::AnyPool| async move {
        let orders: Vec<(i64, i64, i64, String, i64)> =
            sqlx::query_as("SELECT id, shop_id, customer_id, status, total_cents FROM orders ORDER BY id")
                .fetch_all(&db)
                .await
                .unwrap();
        let products: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT name, price_cents, stock FROM products ORDER BY id").fetch_all(&db).await.unwrap();
        (orders, products)
    };
    assert_eq!(shape(one.state.db.clone()).await, shape(two.state.db.clone()).await);
}

#[tokio::test]
async fn wrong_credentials_are_401_and_repeated_failures_429_with_retry_after() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/auth/login", server.base);
    let max = server.config.login_max_failures;
    for attempt in 0..max {
        let email = if attempt % 2 == 0 { "owner1@izishopin.test" } else { "nobody@izishopin.test" };
        let response = http.post(&url).json(&login_body(email, "wrong")).send().await.unwrap();
        assert_eq!(error(response, 401).await.code, "bad_credentials");
    }
    let response = http.post(&url).json(&login_body("owner1@izishopin.test", DEMO_PASSWORD)).send().await.unwrap();
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=server.config.login_window.as_secs()).contains(&retry_after), "{retry_after}");
    assert_eq!(error(response, 429).await.code, "too_many_requests");
}

#[tokio::test]
async fn a_success_clears_the_failure_count() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/auth/login", server.base);
    let max = server.config.login_max_failures;
    for _ in 0..max - 1 {
        let response = http.post(&url).json(&login_body("admin@izishopin.test", "nope")).send().await.unwrap();
        assert_eq!(response.status(), 401);
    }
    // Emails are matched case-insensitively and trimmed.
    let response = http.post(&url).json(&login_body(" Admin@IziShopin.test ", DEMO_PASSWORD)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    for _ in 0..max - 1 {
        let response = http.post(&url).json(&login_body("admin@izishopin.test", "nope")).send().await.unwrap();
        assert_eq!(response.status(), 401, "the count started again");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_logins_takes_turns_and_every_one_is_answered() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/auth/login", server.base);
    let emails = ["admin@izishopin.test", "owner1@izishopin.test", "owner2@izishopin.test", "customer1@izishopin.test"];
    let logins = (0..12).map(|i| {
        let (http, url, email) = (http.clone(), url.clone(), emails[i % emails.len()]);
        let password = if i == 5 { "wrong" } else { DEMO_PASSWORD };
        async move { (i, http.post(&url).json(&login_body(email, password)).send().await.unwrap().status()) }
    });
    for (i, status) in futures_util::future::join_all(logins).await {
        assert_eq!(status, if i == 5 { 401 } else { 200 }, "login {i}");
    }
}

#[tokio::test]
async fn refresh_gives_a_new_token_even_shortly_after_expiry_but_not_for_garbage() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let api = server.login("owner2@izishopin.test").await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/auth/refresh", server.base);

    let fresh: LoginResponse = ok(http.post(&url).bearer_auth(&api.token).send().await.unwrap()).await;
    assert_eq!(fresh.user, api.user);
    let me: User =
        ok(http.get(format!("{}/api/me", server.base)).bearer_auth(&fresh.token).send().await.unwrap()).await;
    assert_eq!(me, api.user);

    // A token that expired a minute ago: refused by the API, accepted by refresh.
    let ttl = server.config.token_ttl.as_secs() as i64;
    let (expired, _) = server.state.keys.issue(&api.user, 0, server.state.clock.now_secs() - ttl - 60);
    let response = http.get(format!("{}/api/me", server.base)).bearer_auth(&expired).send().await.unwrap();
    assert_eq!(error(response, 401).await.code, "token_expired");
    let renewed: LoginResponse = ok(http.post(&url).bearer_auth(&expired).send().await.unwrap()).await;
    assert!(renewed.expires_at > server.state.clock.now_secs());

    // Past the grace, or not a token at all.
    let grace = server.config.refresh_grace.as_secs() as i64;
    let (ancient, _) = server.state.keys.issue(&api.user, 0, server.state.clock.now_secs() - ttl - grace - 60);
    assert_eq!(error(http.post(&url).bearer_auth(&ancient).send().await.unwrap(), 401).await.code, "token_expired");
    assert_eq!(error(http.post(&url).bearer_auth("garbage").send().await.unwrap(), 401).await.code, "unauthorized");
    assert_eq!(error(http.post(&url).send().await.unwrap(), 401).await.code, "unauthorized");

    // A user deleted since cannot refresh.
    let ghost = User { id: protocol::UserId(999_999), ..api.user.clone() };
    let (token, _) = server.state.keys.issue(&ghost, 0, server.state.clock.now_secs());
    assert_eq!(error(http.post(&url).bearer_auth(&token).send().await.unwrap(), 401).await.code, "unauthorized");
}

#[tokio::test]
async fn requests_without_a_token_are_401() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    for path in ["/api/me", "/api/dashboard", "/api/products/stats", "/api/orders", "/api/cart", "/api/notifications"] {
        let response = reqwest::get(format!("{}{path}", server.base)).await.unwrap();
        assert_eq!(error(response, 401).await.code, "unauthorized", "{path}");
    }
}

#[tokio::test]
async fn visitors_browse_the_catalog_without_a_token() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let page: Page<Product> = ok(reqwest::get(format!("{}/api/products?q=a", server.base)).await.unwrap()).await;
    assert!(!page.items.is_empty());
    let one: Product =
        ok(reqwest::get(format!("{}/api/products/{}", server.base, page.items[0].id)).await.unwrap()).await;
    assert_eq!(one, page.items[0]);
    let shops: Vec<Shop> = ok(reqwest::get(format!("{}/api/shops", server.base)).await.unwrap()).await;
    assert_eq!(shops.len(), 3);
    let write = reqwest::Client::new().post(format!("{}/api/products", server.base)).json(&serde_json::json!({
        "name": "Nope", "price_cents": 1, "stock": 1
    }));
    assert_eq!(error(write.send().await.unwrap(), 401).await.code, "unauthorized", "writes still need a token");
}

#[tokio::test]
async fn bad_bodies_and_paths_get_json_errors() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let login = format!("{}/api/auth/login", server.base);
    let send = |body: Vec<u8>| http.post(&login).header("content-type", "application/json").body(body).send();
    assert_eq!(error(send(b"{not json".to_vec()).await.unwrap(), 400).await.code, "bad_request");
    let wrong_shape = error(send(br#"{"email": "a@b.c"}"#.to_vec()).await.unwrap(), 422).await;
    assert_eq!(wrong_shape.field.as_deref(), Some("password"));
    let mut huge = br#"{"email": ""#.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 1024 * 1024 + 10));
    huge.extend(br#"", "password": "x"}"#);
    assert_eq!(error(send(huge).await.unwrap(), 413).await.code, "payload_too_large");

    let api = server.login("admin@izishopin.test").await;
    assert_eq!(error(api.get("/api/no/such/route").await, 404).await.code, "not_found");
    for path in ["/api/products/abc", "/api/orders/1.5", "/api/products/99999999999999999999"] {
        assert_eq!(error(api.get(path).await, 400).await.code, "bad_request", "{path}");
    }
    assert_eq!(error(api.get("/api/products/999999").await, 404).await.code, "not_found");
}

#[tokio::test]
async fn the_dashboard_is_shaped_by_role() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;

    let owner = server.login("owner1@izishopin.test").await;
    let Dashboard::Owner(board) = owner.get_ok("/api/dashboard").await else { panic!("owner dashboard") };
    assert_eq!(Some(board.shop_stats.shop_id), owner.user.shop_id);
    assert!(board.recent_orders.len() <= 10 && !board.recent_orders.is_empty());
    assert!(board.recent_orders.iter().all(|o| Some(o.shop_id) == owner.user.shop_id));
    assert!(board.recent_orders.windows(2).all(|w| w[0].created_at >= w[1].created_at), "newest first");
    assert_eq!(board.revenue_by_day.len(), 30);
    let today = server.state.clock.now().date().to_string();
    assert_eq!(board.revenue_by_day.last().unwrap().date, today);
    assert!(board.revenue_by_day.windows(2).all(|w| w[0].date < w[1].date));
    assert!(board.notifications.len() <= 10 && board.unread_notifications > 0);
    assert!(board.shop_stats.product_count >= 8 && board.shop_stats.low_stock_count >= 1);

    let admin = server.login("admin@izishopin.test").await;
    let Dashboard::Admin(board) = admin.get_ok("/api/dashboard").await else { panic!("admin dashboard") };
    assert_eq!(board.shops.len(), 3);
    assert_eq!(board.totals.shops, 3);
    assert_eq!(board.totals.customers, 4);
    assert_eq!(board.totals.total_orders, board.shops.iter().map(|s| s.total_orders).sum::<u64>());
    assert_eq!(
        board.totals.monthly_revenue_cents,
        board.shops.iter().map(|s| s.monthly_revenue_cents).sum::<protocol::Cents>()
    );
    assert_eq!(board.recent_orders.len(), 20);
    let shop_ids: std::collections::HashSet<_> = board.recent_orders.iter().map(|o| o.shop_id).collect();
    assert!(shop_ids.len() > 1, "orders across shops");

    let customer = server.login("customer1@izishopin.test").await;
    let Dashboard::Customer(board) = customer.get_ok("/api/dashboard").await else { panic!("customer dashboard") };
    assert!(board.recent_orders.iter().all(|o| o.customer_id == customer.user.id));
    assert_eq!(board.cart_count, 3, "the seeded cart: 2 + 1 units");
    assert_eq!(board.wishlist_count, 2);
}

#[tokio::test]
async fn requests_are_counted_per_user_and_route_and_shown_to_admins_only() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let before = server.state.metrics.requests_by_user(owner.user.id.0);
    let _: protocol::Dashboard = owner.get_ok("/api/dashboard").await;
    let _: protocol::Dashboard = owner.get_ok("/api/dashboard").await;
    assert_eq!(server.state.metrics.requests_by_user(owner.user.id.0), before + 2);

    let admin = server.login("admin@izishopin.test").await;
    let shown: protocol::MetricsSnapshot = admin.get_ok("/api/metrics").await;
    assert_eq!(shown.by_user.get(&owner.user.id.0), Some(&(before + 2)));
    assert!(shown.by_route.get("GET /api/dashboard").is_some_and(|n| *n >= 2), "{:?}", shown.by_route);
    let dashboard_bytes = shown.bytes_by_route.get("GET /api/dashboard").copied().unwrap_or(0);
    assert!(dashboard_bytes > 2 * 10, "two dashboard answers have bytes: {:?}", shown.bytes_by_route);
    let owner_bytes = shown.bytes_by_user.get(&owner.user.id.0).copied().unwrap_or(0);
    assert!(owner_bytes >= dashboard_bytes, "the owner's bytes include their dashboards: {owner_bytes}");
    let again: protocol::MetricsSnapshot = admin.get_ok("/api/metrics").await;
    assert_eq!(again.requests, shown.requests, "reading the metrics is not counted");
    assert_eq!(again.ws_open, 0, "no socket is open");
    let mut socket = crate::ws::open(&server).await;
    crate::ws::auth(&mut socket, &owner.token, &owner.user).await;
    let open: protocol::MetricsSnapshot = admin.get_ok("/api/metrics").await;
    assert_eq!(open.ws_open, 1, "the owner's socket is counted while open");
    error(owner.get("/api/metrics").await, 404).await;
}

#[tokio::test]
async fn the_api_delay_holds_api_answers_back() {
    let dist = dist_with_index();
    let (mut config, _data) = crate::support::test_config(dist.path());
    config.api_delay = std::time::Duration::from_millis(300);
    let server = crate::support::spawn_with(config).await;
    let started = std::time::Instant::now();
    let health = reqwest::get(format!("{}/api/health", server.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "the API answer waited");

    // Adjustable while running; the app's files are never delayed (no upper bound is timed here: shared
    // machines make such checks flaky).
    server.state.api_delay_ms.store(0, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(reqwest::get(format!("{}/api/health", server.base)).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(format!("{}/app.js", server.base)).await.unwrap().status(), 200);
}

/// Fails `count` logins claiming to come from `forwarded`; the status of one more attempt.
async fn failures_then_status(server: &crate::support::TestServer, forwarded: &str, count: u32) -> u16 {
    let http = reqwest::Client::new();
    let url = format!("{}/api/auth/login", server.base);
    let attempt =
        || http.post(&url).header("x-forwarded-for", forwarded).json(&login_body("admin@izishopin.test", "nope"));
    for _ in 0..count {
        assert_eq!(attempt().send().await.unwrap().status(), 401);
    }
    attempt().send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_login_limit_is_per_forwarded_client() {
    let (server, _dist, _data) = crate::ws::spawn_config(|c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.login_max_failures = 2;
    })
    .await;
    assert_eq!(failures_then_status(&server, "203.0.113.7", 2).await, 429, "this client reached its limit");
    assert_eq!(failures_then_status(&server, "198.51.100.1, 203.0.113.8", 0).await, 401, "another client did not");

    // Without a trusted proxy the header is anybody's to send: every attempt counts against the peer.
    let (server, _dist, _data) = crate::ws::spawn_config(|c| c.login_max_failures = 2).await;
    assert_eq!(failures_then_status(&server, "203.0.113.7", 2).await, 429);
    assert_eq!(failures_then_status(&server, "203.0.113.8", 0).await, 429, "a forged header changes nothing");
}

#[tokio::test]
async fn ready_says_whether_the_database_answers_and_a_lost_database_is_a_503() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let ready = reqwest::get(format!("{}/api/ready", server.base)).await.unwrap();
    let ready: protocol::Ready = ok(ready).await;
    let expected = if crate::pg::enabled() { "postgres" } else { "sqlite" };
    assert_eq!((ready.status.as_str(), ready.database.as_str()), ("ready", expected));

    server.state.db.close().await;
    let ready = reqwest::get(format!("{}/api/ready", server.base)).await.unwrap();
    assert_eq!(error(ready, 503).await.code, "unavailable");
    let products = reqwest::get(format!("{}/api/products", server.base)).await.unwrap();
    let body = error(products, 503).await;
    assert_eq!(body.code, "unavailable", "a clean JSON error, not a 500: {}", body.message);
    let health = reqwest::get(format!("{}/api/health", server.base)).await.unwrap();
    assert_eq!(health.status(), 200, "the process itself is alive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_gives_clean_errors_meanwhile_and_the_server_recovers_on_its_own() {
    // A cluster of its own, whichever database the rest of the suite runs on: this test stops it.
    let cluster = tokio::task::spawn_blocking(crate::pg::Postgres::start).await.unwrap();
    let url = cluster.create_database();
    let dist = dist_with_index();
    let (mut config, _data) = crate::support::test_config(dist.path());
    config.database_url = url;
    let server = crate::support::spawn_with(config).await;
    let products = format!("{}/api/products", server.base);
    let page: Page<Product> = ok(reqwest::get(&products).await.unwrap()).await;
    assert!(!page.items.is_empty());

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop();
        cluster
    })
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let down = reqwest::get(&products).await.unwrap();
    assert_eq!(error(down, 503).await.code, "unavailable", "a clean JSON error while the database is down");
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "answered in {:?}", started.elapsed());
    let ready = reqwest::get(format!("{}/api/ready", server.base)).await.unwrap();
    assert_eq!(ready.status(), 503);

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.run();
        cluster
    })
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let status = reqwest::get(&products).await.unwrap().status();
        if status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {status} 20 s after the database came back");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    drop(cluster);
}

/// The value of `name` in a Prometheus text answer.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_for_prometheus_count_sockets_resumes_and_resyncs() {
    use protocol::{ClientMsg, ServerMsg};
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let scrape = || async {
        let answer = reqwest::get(format!("{}/metrics", server.base)).await.unwrap();
        assert_eq!(answer.status(), 200);
        let kind = answer.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
        answer.text().await.unwrap()
    };
    let before = scrape().await;
    assert!(before.contains("# TYPE izi_ws_resumes counter"), "{before}");
    assert_eq!(sample(&before, "izi_database_up"), Some(1.0));
    assert_eq!(sample(&before, "izi_ws_sockets"), Some(0.0));
    assert_eq!(sample(&before, "izi_ws_resumes_total"), Some(0.0));
    assert!(before.trim_end().ends_with("# EOF"));

    let owner = server.login("owner1@izishopin.test").await;
    let mut socket = crate::ws::open(&server).await;
    let seq = crate::ws::auth(&mut socket, &owner.token, &owner.user).await;
    crate::ws::send(&mut socket, &ClientMsg::Resume { last_seq: seq }).await;
    // A resume from beyond the stream's end cannot be served: resync.
    crate::ws::send(&mut socket, &ClientMsg::Resume { last_seq: seq + 1_000 }).await;
    assert!(matches!(crate::ws::next_msg(&mut socket).await, ServerMsg::Resync));
    let after = scrape().await;
    assert_eq!(sample(&after, "izi_ws_sockets"), Some(1.0));
    assert_eq!(sample(&after, "izi_ws_resumes_total"), Some(2.0), "{after}");
    assert_eq!(sample(&after, "izi_ws_resyncs_total"), Some(1.0));
    assert!(sample(&after, "izi_http_requests_total") > sample(&before, "izi_http_requests_total"), "the login counts");
    assert_eq!(
        sample(&after, "izi_http_requests_total"),
        sample(&scrape().await, "izi_http_requests_total"),
        "scrapes are not counted"
    );
}
