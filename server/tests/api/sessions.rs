//! Tenant-safe events and sessions that end: a product change carries the shop's figures only to its staff;
//! a logout revokes the session for REST (401 `session_ended`), refresh, and sockets (closed with 4401).

use std::time::Duration;

use protocol::{ClientMsg, LoggedOut, Page, Product, ServerMsg, Topic, User};
use serde_json::json;
use server::events::Audience;

use crate::support::{Api, TestServer, dist_with_index, error, ok, spawn, spawn_with, test_config};
use crate::ws::{Client, closed, emit, next_msg, note, open, send};

/// A socket of `api`'s user, subscribed to every topic in its auth frame.
async fn live_socket(server: &TestServer, api: &Api) -> Client {
    let mut ws = open(server).await;
    send(&mut ws, &ClientMsg::Auth { token: api.token.clone(), topics: Some(Topic::ALL.to_vec()), last_seq: None })
        .await;
    assert!(matches!(next_msg(&mut ws).await, ServerMsg::AuthOk { topics: Some(_), .. }));
    ws
}

/// The event types a socket receives up to the public marker `marker`.
async fn kinds_through(ws: &mut Client, marker: u64) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    loop {
        let msg = next_msg(ws).await;
        let seq = msg.seq();
        kinds.push(match msg {
            ServerMsg::ProductUpdate(_) => "product_update",
            ServerMsg::CatalogUpdate(_) => "catalog_update",
            ServerMsg::DashboardUpdate(_) => "dashboard_update",
            ServerMsg::OrderUpdate(_) => "order_update",
            ServerMsg::Notification(_) => "notification",
            _ => continue,
        });
        if seq == Some(marker) {
            kinds.pop();
            return kinds;
        }
    }
}

#[tokio::test]
async fn a_product_change_carries_shop_figures_only_to_the_shops_staff() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner1 = server.login("owner1@izishopin.test").await;
    let owner2 = server.login("owner2@izishopin.test").await;
    let admin = server.login("admin@izishopin.test").await;
    let customer = server.login("customer1@izishopin.test").await;
    let shop = owner1.user.shop_id.unwrap();
    let products: Page<Product> = owner1.get_ok(&format!("/api/products?shop_id={}", shop.0)).await;
    let product = &products.items[0];
    let mut sockets = Vec::new();
    for api in [&owner1, &owner2, &admin, &customer] {
        sockets.push(live_socket(&server, api).await);
    }
    let _: Product = ok(owner1.patch(&format!("/api/products/{}", product.id.0), &json!({"stock": 3})).await).await;
    let marker = emit(&server, Audience::everyone(), note).await;
    // Each user gets the change once: the shop's staff with the figures, everybody else without.
    let expected: [&[&str]; 4] = [
        &["product_update", "dashboard_update"],
        &["catalog_update"],
        &["product_update", "dashboard_update"],
        &["catalog_update"],
    ];
    for (ws, want) in sockets.iter_mut().zip(expected) {
        assert_eq!(kinds_through(ws, marker).await, want);
    }
    // What REST answers them agrees: a customer gets a 404, another owner only their own shop's figures.
    error(customer.get(&format!("/api/products/stats?shop_id={}", shop.0)).await, 404).await;
    let theirs: protocol::ProductStats = owner2.get_ok(&format!("/api/products/stats?shop_id={}", shop.0)).await;
    assert_eq!(theirs.shop_id, owner2.user.shop_id);
}

async fn logout(api: &Api) -> reqwest::Response {
    reqwest::Client::new().post(format!("{}/api/auth/logout", api.base)).bearer_auth(&api.token).send().await.unwrap()
}

async fn refresh(api: &Api) -> reqwest::Response {
    reqwest::Client::new().post(format!("{}/api/auth/refresh", api.base)).bearer_auth(&api.token).send().await.unwrap()
}

#[tokio::test]
async fn logout_ends_the_session_for_rest_refresh_and_sockets_but_not_other_sessions() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let phone = server.login("owner1@izishopin.test").await;
    let laptop = server.login("owner1@izishopin.test").await;
    let _: User = phone.get_ok("/api/me").await;
    let mut phone_socket = live_socket(&server, &phone).await;
    let mut laptop_socket = live_socket(&server, &laptop).await;

    let answer: LoggedOut = ok(logout(&phone).await).await;
    assert!(answer.logged_out);
    let (code, reason) = tokio::time::timeout(Duration::from_secs(1), closed(&mut phone_socket))
        .await
        .expect("the socket of the ended session is closed within a second");
    assert_eq!((code, reason.as_str()), (4401, "the session has ended"));
    assert_eq!(error(phone.get("/api/me").await, 401).await.code, "session_ended");
    assert_eq!(error(refresh(&phone).await, 401).await.code, "session_ended");
    // A new socket with the old token is refused too.
    let mut again = open(&server).await;
    send(&mut again, &ClientMsg::auth(phone.token.clone())).await;
    assert_eq!(closed(&mut again).await.0, 4401);
    // Logging out twice is fine.
    let _: LoggedOut = ok(logout(&phone).await).await;

    // The other session goes on, socket included.
    let _: User = laptop.get_ok("/api/me").await;
    let marker = emit(&server, Audience::everyone(), note).await;
    assert_eq!(next_msg(&mut laptop_socket).await.seq(), Some(marker));
    let refreshed: protocol::LoginResponse = ok(refresh(&laptop).await).await;
    assert_eq!(refreshed.user, laptop.user);
}

#[tokio::test]
async fn a_revoked_session_stays_revoked_after_a_restart() {
    let dist = dist_with_index();
    let (config, _data) = test_config(dist.path());
    let server = spawn_with(config.clone()).await;
    let api = server.login("customer1@izishopin.test").await;
    let _: LoggedOut = ok(logout(&api).await).await;
    drop(server);
    let server = spawn_with(config).await;
    let api = Api { base: server.base.clone(), ..api };
    assert_eq!(error(api.get("/api/me").await, 401).await.code, "session_ended");
}

#[tokio::test]
async fn logout_without_a_valid_token_is_a_json_401() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let response = reqwest::Client::new().post(format!("{}/api/auth/logout", server.base)).send().await.unwrap();
    assert_eq!(error(response, 401).await.code, "unauthorized");
    let response = reqwest::Client::new()
        .post(format!("{}/api/auth/logout", server.base))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(error(response, 401).await.code, "unauthorized");
}
