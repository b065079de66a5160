//! The app shell: the first page, the Monitor button (staff, or `?monitor`), routing, direct links, logging out.

use std::time::Duration;

use crate::page::WAIT;
use crate::support;

use fantoccini::Locator;
use izishopin_live::auth::session;
use izishopin_live::shell::APP_TITLE;

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
        let toggle = Locator::Css("[data-testid=monitor-toggle]");
        assert!(browser.find(toggle).await.is_err(), "no Monitor button for a visitor");

        // Anyone may ask for the monitoring panel with ?monitor; staff always have it.
        browser.goto(&format!("{base}/shop?monitor")).await.unwrap();
        browser.wait().at_most(WAIT).for_element(toggle).await.expect("Monitor behind ?monitor");
        support::login(&browser, &base, "owner1@izishopin.test").await;
        browser.wait().at_most(WAIT).for_element(toggle).await.expect("Monitor for an owner");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_ends_the_session_on_the_server() {
    let server = support::start_server().await;
    let base = server.base_url.clone();
    support::with_browser(move |browser| async move {
        support::login(&browser, &base, "owner1@izishopin.test").await;
        let stored = browser
            .execute("return localStorage.getItem(arguments[0]);", vec![session::STORAGE_KEY.into()])
            .await
            .unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let token = session::decode(stored.as_str().expect("a stored session"), now).expect("a session").token;
        let me = format!("{base}/api/me");
        assert_eq!(support::http_json("GET", &me, Some(&token), None).await.0, 200);
        let logout = Locator::XPath("//button[normalize-space()='Log out']");
        // After the login's crossing into the back office its header may still be rendering.
        browser.wait().at_most(WAIT).for_element(logout).await.expect("a log out button").click().await.unwrap();
        // The app asks the server to end the session: the token it held stops working.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = support::http_json("GET", &me, Some(&token), None).await;
            if status == 401 {
                assert_eq!(body["code"], "session_ended");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the session still works after logging out");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(browser.current_url().await.unwrap().path(), "/login");
    })
    .await;
}
