//! The app shell: the first page, routing, direct links.

use std::time::Duration;

use crate::support;

use fantoccini::Locator;
use izishopin_live::app::APP_TITLE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_the_app_reaches_the_login_page() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        browser.goto(&format!("{base}/")).await.unwrap();
        let heading = browser
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("section.login h1"))
            .await
            .expect("the login page renders");
        assert_eq!(heading.text().await.unwrap(), APP_TITLE);
        assert_eq!(browser.title().await.unwrap(), APP_TITLE);
        assert_eq!(browser.current_url().await.unwrap().path(), "/login");
        browser.find(Locator::Css("input[type=email]")).await.expect("an email field");
        browser.find(Locator::Css("input[type=password]")).await.expect("a password field");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_link_to_a_dashboard_loads_the_app() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        browser.goto(&format!("{base}/owner")).await.unwrap();
        browser
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("section.login"))
            .await
            .expect("a visitor is sent to the login page");
        let url = browser.current_url().await.unwrap();
        assert_eq!((url.path(), url.query()), ("/login", Some("return=/owner")));
    })
    .await;
}
