//! The real server on `127.0.0.1:0`, spoken to over real HTTP.

use std::path::Path;

use protocol::{ErrorBody, Health};
use server::config::Config;
use server::startup::Application;
use tokio::sync::oneshot;

/// A running server on a fresh SQLite file; stops when dropped.
struct TestServer {
    base: String,
    _stop: oneshot::Sender<()>,
    _data: tempfile::TempDir,
}

async fn spawn(dist_dir: &Path) -> TestServer {
    let data = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", data.path().join("test.db").display());
    let config = Config { port: 0, dist_dir: dist_dir.to_owned(), database_url, ..Config::default() };
    let app = Application::build(&config).await.expect("server builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestServer { base, _stop: stop, _data: data }
}

fn dist_with_index() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html><title>IziShopin Live</title>").unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log('app')").unwrap();
    dir
}

#[tokio::test]
async fn health_answers_ok_with_the_version() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let response = reqwest::get(format!("{}/api/health", server.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let health: Health = response.json().await.unwrap();
    assert_eq!(health, Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() });
}

#[tokio::test]
async fn unknown_api_route_is_a_json_404() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let response = reqwest::get(format!("{}/api/no-such-thing", server.base)).await.unwrap();
    assert_eq!(response.status(), 404);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.code, "not_found");
    assert!(body.message.contains("/api/no-such-thing"), "{}", body.message);
}

#[tokio::test]
async fn app_files_are_served_and_client_routes_fall_back_to_index() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let js = reqwest::get(format!("{}/app.js", server.base)).await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.text().await.unwrap(), "console.log('app')");
    for path in ["/", "/owner", "/admin/shops/2"] {
        let page = reqwest::get(format!("{}{path}", server.base)).await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(page.text().await.unwrap().contains("<title>IziShopin Live</title>"), "{path}");
    }
}

#[tokio::test]
async fn stops_when_asked() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let url = format!("{}/api/health", server.base);
    assert!(reqwest::get(&url).await.is_ok());
    drop(server);
    let mut refused = false;
    for _ in 0..50 {
        if reqwest::get(&url).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "the server still answers after it was told to stop");
}
