//! The cache binding mounted in a real headless Chromium (wasm-bindgen-test): small component trees with
//! counting fetchers (this is a component test, not end to end), asserting on fetch counts and the DOM.
#![cfg(target_arch = "wasm32")]

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::future::LocalBoxFuture;
use izishopin_live::api::ApiError;
use izishopin_live::auth::session::{self, Session};
use izishopin_live::auth::{Auth, provide_auth};
use izishopin_live::cache::context::{
    DataCache, DataCacheOptions, fetch_with_cache, provide_data_cache, use_cache_stats, use_cached,
};
use izishopin_live::cache::key::{CacheKey, DataKind, Params};
use izishopin_live::cache::persist;
use izishopin_live::cache::policy::{CachePolicy, RetryPolicy};
use izishopin_live::cache::time::Millis;
use leptos::prelude::*;
use protocol::{Role, ShopId, User, UserId};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

/// Starts each test with an empty localStorage and a fresh mount point.
fn fresh_page() -> web_sys::HtmlElement {
    storage().clear().unwrap();
    let root = document().create_element("div").unwrap().dyn_into::<web_sys::HtmlElement>().unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    root
}

/// Stores a signed-in session of user 2, as a previous visit would have.
fn sign_in_before_mount() {
    let owner = Session {
        token: "token".into(),
        expires_at: (js_sys::Date::now() / 1000.0) as i64 + 3600,
        user: User {
            id: UserId(2),
            name: "Olga Owner".into(),
            email: "owner1@izishopin.test".into(),
            role: Role::Owner,
            shop_id: Some(ShopId(1)),
        },
    };
    storage().set_item(session::STORAGE_KEY, &session::encode(&owner)).unwrap();
}

async fn sleep(ms: u64) {
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}

/// Waits (bounded, 3 s) until `done` holds, yielding to the browser between checks.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        sleep(10).await;
    }
    panic!("timed out waiting until {what}");
}

fn text(root: &web_sys::HtmlElement, selector: &str) -> String {
    root.query_selector(selector).unwrap().and_then(|e| e.text_content()).unwrap_or_default()
}

async fn wait_text(root: &web_sys::HtmlElement, selector: &str, expected: &str) {
    for _ in 0..300 {
        if text(root, selector) == expected {
            return;
        }
        sleep(10).await;
    }
    panic!("`{selector}` never read {expected:?}; the page is: {}", root.inner_html());
}

/// A mounted tree: the auth and cache contexts plus `body`; dropping it unmounts (a page close).
struct Mounted {
    cache: DataCache,
    auth: Auth,
    _handle: Box<dyn Any>,
}

fn mount<V: IntoView + 'static>(
    root: &web_sys::HtmlElement,
    options: DataCacheOptions,
    body: impl FnOnce() -> V + 'static,
) -> Mounted {
    let contexts = Rc::new(Cell::new(None));
    let out = contexts.clone();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        let auth = provide_auth();
        let cache = provide_data_cache(options);
        out.set(Some((cache, auth)));
        body()
    });
    let (cache, auth) = contexts.get().unwrap();
    Mounted { cache, auth, _handle: Box::new(handle) }
}

/// A counting fetcher: answers `answer` after `delay` ms, and counts calls and answers.
#[derive(Clone)]
struct Fake<T> {
    answer: Rc<RefCell<Result<T, ApiError>>>,
    delay: Rc<Cell<u64>>,
    calls: Rc<Cell<u32>>,
    answered: Rc<Cell<u32>>,
}

impl<T: Clone + 'static> Fake<T> {
    fn new(answer: T, delay: u64) -> Fake<T> {
        Fake {
            answer: Rc::new(RefCell::new(Ok(answer))),
            delay: Rc::new(Cell::new(delay)),
            calls: Rc::new(Cell::new(0)),
            answered: Rc::new(Cell::new(0)),
        }
    }

    fn answer(&self, answer: Result<T, ApiError>) {
        *self.answer.borrow_mut() = answer;
    }

    fn calls(&self) -> u32 {
        self.calls.get()
    }

    fn fetcher(&self) -> impl Fn() -> LocalBoxFuture<'static, Result<T, ApiError>> + 'static {
        let fake = self.clone();
        move || {
            let fake = fake.clone();
            fake.calls.set(fake.calls.get() + 1);
            Box::pin(async move {
                sleep(fake.delay.get()).await;
                fake.answered.set(fake.answered.get() + 1);
                fake.answer.borrow().clone()
            })
        }
    }
}

/// A component reading `key` through `use_cached`, showing its state, value, error and a refresh button.
fn reader(class: &'static str, key: CacheKey, fake: Fake<Vec<String>>) -> impl IntoView {
    let cached = use_cached(key, fake.fetcher());
    view! {
        <div class=class>
            <p class="state">{move || format!("{:?}", cached.state.get())}</p>
            <p class="value">{move || cached.data.get().map_or_else(|| "none".to_owned(), |v| v.join(","))}</p>
            <p class="error">{move || cached.error.get().unwrap_or_default()}</p>
            <button on:click=move |_| cached.refetch.run(())>"Refresh"</button>
        </div>
    }
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn orders(shop: i64) -> CacheKey {
    CacheKey::with_params(DataKind::Orders, Params::new().shop(ShopId(shop)))
}

#[wasm_bindgen_test]
async fn concurrent_fetches_of_a_key_share_one_call_and_a_fresh_value_needs_none() {
    let root = fresh_page();
    let fake = Fake::new("v1".to_owned(), 50);
    let key = orders(1);
    let from_page = Rc::new(RefCell::new(None));
    let (page_key, page_fake, page_out) = (key.clone(), fake.clone(), from_page.clone());
    let mounted = mount(&root, DataCacheOptions::default(), move || {
        // A page starting a fetch through the context while the test starts two more.
        let answer = fetch_with_cache::<String, _, _>(page_key, page_fake.fetcher());
        leptos::task::spawn_local(async move { *page_out.borrow_mut() = Some(answer.await) });
        view! { <p>"cache"</p> }
    });
    let cache = mounted.cache;

    let (a, b) = futures::join!(cache.fetch(key.clone(), fake.fetcher()), cache.fetch(key.clone(), fake.fetcher()));
    assert_eq!((a, b), (Ok("v1".to_owned()), Ok("v1".to_owned())));
    assert_eq!(fake.calls(), 1, "one fetcher call for three concurrent callers");
    wait_until("the page's fetch resolved", || from_page.borrow().is_some()).await;
    assert_eq!(from_page.borrow().clone(), Some(Ok("v1".to_owned())));

    let again: Result<String, ApiError> = cache.fetch(key.clone(), fake.fetcher()).await;
    assert_eq!(again, Ok("v1".to_owned()));
    assert_eq!(fake.calls(), 1, "a fresh value is served without a call");
    let total = cache.stats().total;
    assert_eq!((total.misses, total.fetches, total.deduplicated, total.hits), (1, 1, 2, 1));
}

#[wasm_bindgen_test]
async fn after_the_ttl_the_stale_value_comes_at_once_and_one_refetch_runs() {
    let root = fresh_page();
    let policy = CachePolicy::default().with_ttl(DataKind::Orders, Millis(50));
    let mounted = mount(&root, DataCacheOptions { policy, ..DataCacheOptions::default() }, || view! { <p/> });
    let (cache, key) = (mounted.cache, orders(1));
    let fake = Fake::new("v1".to_owned(), 10);
    assert_eq!(cache.fetch(key.clone(), fake.fetcher()).await, Ok("v1".to_owned()));

    fake.answer(Ok("v2".to_owned()));
    fake.delay.set(300);
    sleep(80).await;
    let asked = js_sys::Date::now();
    let stale: Result<String, ApiError> = cache.fetch(key.clone(), fake.fetcher()).await;
    assert_eq!(stale, Ok("v1".to_owned()), "the stale value");
    assert!(js_sys::Date::now() - asked < 150.0, "at once, not after the 300 ms fetch");

    wait_until("the background refetch stored v2", || cache.get::<String>(&key).as_deref() == Some("v2")).await;
    assert_eq!(fake.calls(), 2, "exactly one background refetch");
    assert_eq!(cache.stats().total.stale_hits, 1);
}

#[wasm_bindgen_test]
async fn use_cached_shows_loading_then_the_value_and_an_update_rerenders_in_place() {
    let root = fresh_page();
    let fake = Fake::new(list(&["a"]), 100);
    let (key, component_fake) = (orders(1), fake.clone());
    let mounted = mount(&root, DataCacheOptions::default(), move || reader("orders", key, component_fake));

    assert_eq!(text(&root, ".orders .state"), "Loading");
    assert_eq!(text(&root, ".orders .value"), "none");
    wait_text(&root, ".orders .value", "a").await;
    assert_eq!(text(&root, ".orders .state"), "Ready");

    let shown = root.query_selector(".orders .value").unwrap().unwrap();
    assert!(mounted.cache.update(&orders(1), |v: &mut Vec<String>| v.push("b".into())));
    wait_text(&root, ".orders .value", "a,b").await;
    let after = root.query_selector(".orders .value").unwrap().unwrap();
    assert!(shown.is_same_node(Some(&after)), "patched in place, not re-mounted");
    assert_eq!(fake.calls(), 1, "an update is not a fetch");
    assert!(!mounted.cache.update(&orders(1), |n: &mut u32| *n += 1), "a value of another type is left alone");
}

#[wasm_bindgen_test]
async fn a_change_of_one_key_rerenders_only_its_readers() {
    let root = fresh_page();
    // Reactive closures must be `Send`: an atomic counts the renders.
    let renders = Arc::new(AtomicU32::new(0));
    let counted = renders.clone();
    let mounted = mount(&root, DataCacheOptions::default(), move || {
        let products = use_cached(CacheKey::new(DataKind::Products), Fake::new(list(&["p"]), 10).fetcher());
        let counted_text = move || {
            counted.fetch_add(1, Ordering::Relaxed);
            products.data.get().map(|v| v.join(",")).unwrap_or_default()
        };
        view! {
            {reader("orders", orders(1), Fake::new(list(&["o"]), 10))}
            <p class="products">{counted_text}</p>
        }
    });
    wait_text(&root, ".orders .value", "o").await;
    wait_text(&root, ".products", "p").await;
    let before = renders.load(Ordering::Relaxed);

    assert!(mounted.cache.update(&orders(1), |v: &mut Vec<String>| v.push("o2".into())));
    assert_eq!(mounted.cache.invalidate(&orders(1)), 1);
    wait_text(&root, ".orders .value", "o").await;
    sleep(50).await;
    assert_eq!(renders.load(Ordering::Relaxed), before, "the products reader did not re-render");

    assert!(mounted.cache.set(&CacheKey::new(DataKind::Products), &list(&["p2"])));
    wait_text(&root, ".products", "p2").await;
    assert_eq!(renders.load(Ordering::Relaxed), before + 1);
}

#[wasm_bindgen_test]
async fn a_failed_refetch_is_retried_then_keeps_the_last_good_value_and_shows_the_error() {
    let root = fresh_page();
    let retry = RetryPolicy { max_attempts: 2, base_delay: Millis(20), max_delay: Millis(20) };
    let policy = CachePolicy::default().with_retry(DataKind::Orders, retry);
    let fake = Fake::new(list(&["a"]), 10);
    let component_fake = fake.clone();
    let _mounted = mount(&root, DataCacheOptions { policy, ..DataCacheOptions::default() }, move || {
        reader("orders", orders(1), component_fake)
    });
    wait_text(&root, ".orders .value", "a").await;

    let down = ApiError::Server { status: 503, code: "unavailable".into(), message: "down for maintenance".into() };
    fake.answer(Err(down));
    let refresh = root.query_selector(".orders button").unwrap().unwrap().dyn_into::<web_sys::HtmlElement>().unwrap();
    refresh.click();
    wait_until("the retry ran", || fake.calls() == 3).await;
    wait_text(&root, ".orders .state", "Error").await;
    assert_eq!(text(&root, ".orders .error"), "down for maintenance");
    assert_eq!(text(&root, ".orders .value"), "a", "the last good value is kept");
    sleep(100).await;
    assert_eq!(fake.calls(), 3, "two attempts, then it gives up");

    fake.answer(Ok(list(&["b"])));
    refresh.click();
    wait_text(&root, ".orders .value", "b").await;
    assert_eq!(text(&root, ".orders .error"), "", "a success clears the error");
}

#[wasm_bindgen_test]
async fn invalidating_a_kind_refetches_only_the_keys_being_read() {
    let root = fresh_page();
    let read_orders = Fake::new(list(&["o1"]), 10);
    let read_products = Fake::new(list(&["p1"]), 10);
    let (o, p) = (read_orders.clone(), read_products.clone());
    let mounted = mount(&root, DataCacheOptions::default(), move || {
        view! {
            {reader("orders", orders(1), o)}
            {reader("products", CacheKey::new(DataKind::Products), p)}
        }
    });
    let unread = Fake::new(list(&["u1"]), 10);
    assert_eq!(mounted.cache.fetch(orders(2), unread.fetcher()).await, Ok(list(&["u1"])));
    wait_text(&root, ".orders .value", "o1").await;
    wait_text(&root, ".products .value", "p1").await;

    read_orders.answer(Ok(list(&["o2"])));
    unread.answer(Ok(list(&["u2"])));
    assert_eq!(mounted.cache.invalidate_kind(DataKind::Orders), 2);
    wait_text(&root, ".orders .value", "o2").await;
    sleep(50).await;
    assert_eq!((read_orders.calls(), read_products.calls(), unread.calls()), (2, 1, 1));

    // The unread key was only marked stale: its next read serves the old value and revalidates.
    assert_eq!(mounted.cache.fetch(orders(2), unread.fetcher()).await, Ok(list(&["u1"])));
    wait_until("the unread key revalidated", || unread.calls() == 2).await;
}

#[wasm_bindgen_test]
async fn batches_fetch_concurrently_once_per_key_and_stats_are_reactive() {
    let root = fresh_page();
    let mounted = mount(&root, DataCacheOptions::default(), || {
        let stats = use_cache_stats();
        view! { <p class="fetches">{move || stats.get().total.fetches}</p> }
    });
    let cache = mounted.cache;
    let calls = Rc::new(Cell::new(0));
    let page = |n: u32| CacheKey::with_params(DataKind::Orders, Params::new().page(n));
    let requests = [page(1), page(2), page(1)].map(|key| {
        let (calls, n) = (calls.clone(), key.params.page_number().unwrap());
        let fetcher = move || {
            calls.set(calls.get() + 1);
            async move {
                sleep(150).await;
                Ok::<_, ApiError>(format!("page {n}"))
            }
        };
        (key, fetcher)
    });
    let started = js_sys::Date::now();
    let answers = cache.fetch_many(requests).await;
    assert_eq!(answers, [Ok("page 1".to_owned()), Ok("page 2".to_owned()), Ok("page 1".to_owned())]);
    assert_eq!(calls.get(), 2, "the duplicate joined the first");
    assert!(js_sys::Date::now() - started < 290.0, "the two fetches ran side by side");
    wait_text(&root, ".fetches", "2").await;

    assert_eq!(cache.set_many([(page(1), "one"), (page(3), "three")]), 2);
    assert_eq!(cache.get::<String>(&page(3)).as_deref(), Some("three"));
    assert_eq!(cache.invalidate_many([&page(1), &page(2)]), 2);
    assert_eq!(cache.stats().total.entries, 3);
}

#[wasm_bindgen_test]
async fn a_reload_shows_the_persisted_value_before_its_refetch_and_logout_forgets_it() {
    let root = fresh_page();
    sign_in_before_mount();
    let policy = CachePolicy::default().with_ttl(DataKind::DashboardData, Millis(50));
    let options = DataCacheOptions { policy, ..DataCacheOptions::default() };
    let dashboard = CacheKey::new(DataKind::DashboardData);

    let first_visit = Fake::new(list(&["saved"]), 10);
    let (key, fake) = (dashboard.clone(), first_visit.clone());
    let mounted = mount(&root, options.clone(), move || reader("dash", key, fake));
    wait_text(&root, ".dash .value", "saved").await;
    wait_until("the snapshot is saved", || {
        storage().get_item(persist::STORAGE_KEY).unwrap().is_some_and(|text| text.contains("saved"))
    })
    .await;
    let text_saved = storage().get_item(persist::STORAGE_KEY).unwrap().unwrap();
    assert!(persist::decode::<serde_json::Value>(&text_saved, persist::CACHE_FORMAT_VERSION, UserId(2)).is_ok());
    drop(mounted);

    // The reload: a slow fetcher, so what shows first can only come from the snapshot.
    let reload = Fake::new(list(&["fresh"]), 600);
    let (key, fake) = (dashboard.clone(), reload.clone());
    let mounted = mount(&root, options, move || reader("dash", key, fake));
    assert_eq!(text(&root, ".dash .value"), "saved", "the persisted value, before any answer");
    // Once the browser said no other tab is there to answer (a few ms), the stale value is revalidated.
    wait_text(&root, ".dash .state", "Refreshing").await;
    assert_eq!(reload.answered.get(), 0);
    wait_text(&root, ".dash .value", "fresh").await;
    assert_eq!(reload.calls(), 1);

    mounted.auth.logout();
    wait_until("the snapshot is removed", || storage().get_item(persist::STORAGE_KEY).unwrap().is_none()).await;
    assert_eq!(mounted.cache.get::<Vec<String>>(&dashboard), None, "the cache is cleared");
    wait_text(&root, ".dash .value", "none").await;
    sleep(700).await;
    assert_eq!(storage().get_item(persist::STORAGE_KEY).unwrap(), None, "nothing is saved once signed out");
}

#[wasm_bindgen_test]
async fn nothing_is_persisted_for_a_visitor_and_an_orphan_snapshot_is_dropped() {
    let root = fresh_page();
    storage().set_item(persist::STORAGE_KEY, r#"{"version":1,"user_id":9,"entries":[]}"#).unwrap();
    let mounted = mount(&root, DataCacheOptions::default(), || view! { <p/> });
    assert_eq!(storage().get_item(persist::STORAGE_KEY).unwrap(), None, "nobody signed in owns it");

    let fake = Fake::new("all shops".to_owned(), 10);
    assert_eq!(mounted.cache.fetch(CacheKey::new(DataKind::Shops), fake.fetcher()).await, Ok("all shops".to_owned()));
    sleep(700).await;
    assert_eq!(storage().get_item(persist::STORAGE_KEY).unwrap(), None);
}

#[wasm_bindgen_test]
async fn hiding_the_page_saves_at_once() {
    let root = fresh_page();
    sign_in_before_mount();
    let mounted = mount(&root, DataCacheOptions::default(), || view! { <p/> });
    assert!(mounted.cache.set(&CacheKey::new(DataKind::Shops), &"all shops"));
    assert_eq!(storage().get_item(persist::STORAGE_KEY).unwrap(), None, "the debounced save is still pending");
    js_sys::eval("window.dispatchEvent(new Event('pagehide'))").unwrap();
    let saved = storage().get_item(persist::STORAGE_KEY).unwrap().expect("saved on pagehide");
    assert!(saved.contains("all shops"));
}

#[wasm_bindgen_test]
async fn a_reader_mounted_across_a_sign_in_fetches_again_for_the_new_user() {
    let root = fresh_page();
    let fake = Fake::new(list(&["public"]), 10);
    let component_fake = fake.clone();
    let mounted = mount(&root, DataCacheOptions::default(), move || {
        reader("shops", CacheKey::new(DataKind::Shops), component_fake)
    });
    wait_text(&root, ".shops .value", "public").await;

    fake.answer(Ok(list(&["mine"])));
    sign_in_before_mount();
    let session = session::decode(&storage().get_item(session::STORAGE_KEY).unwrap().unwrap(), 0).unwrap();
    mounted.auth.login(session);
    wait_text(&root, ".shops .value", "mine").await;
    assert_eq!(fake.calls(), 2);
}

#[wasm_bindgen_test]
async fn two_tabs_of_one_user_share_one_cache() {
    let (first_root, second_root) = (fresh_page(), fresh_page());
    sign_in_before_mount();
    let key = orders(1);
    let first_fake = Fake::new(list(&["o1"]), 10);
    let (k, f) = (key.clone(), first_fake.clone());
    let first = mount(&first_root, DataCacheOptions::default(), move || reader("orders", k, f));
    wait_text(&first_root, ".orders .value", "o1").await;

    // A second tab paints what the first holds and asks nothing of its own fetcher.
    let second_fake = Fake::new(list(&["never"]), 10);
    let (k, f) = (key.clone(), second_fake.clone());
    let second = mount(&second_root, DataCacheOptions::default(), move || reader("orders", k, f));
    wait_text(&second_root, ".orders .value", "o1").await;
    sleep(100).await;
    assert_eq!(second_fake.calls(), 0, "the second tab fetched what the first holds");

    // Refreshed by hand in the second tab: it fetches once, and the first tab shows the answer without a
    // fetch of its own.
    second_fake.answer(Ok(list(&["o2"])));
    second_root.query_selector(".orders button").unwrap().unwrap().dyn_into::<web_sys::HtmlElement>().unwrap().click();
    wait_text(&first_root, ".orders .value", "o2").await;
    sleep(100).await;
    assert_eq!((first_fake.calls(), second_fake.calls()), (1, 1));

    // A fetch in one tab fills the other's cache, even for a key the other does not read.
    let other = Fake::new(list(&["p1"]), 10);
    assert_eq!(first.cache.fetch(orders(2), other.fetcher()).await, Ok(list(&["p1"])));
    wait_until("the second tab holds it", || second.cache.get::<Vec<String>>(&orders(2)).is_some()).await;

    // What the live layer does for an event stays in its tab: every tab gets the event itself.
    second.cache.from_events(Some(9), || second.cache.set(&orders(2), &list(&["patched"])));
    sleep(100).await;
    assert_eq!(first.cache.get::<Vec<String>>(&orders(2)), Some(list(&["p1"])));

    // Invalidated by hand in the first tab: the second tab marks it stale too.
    assert_eq!(first.cache.invalidate(&orders(2)), 1);
    wait_until("the second tab's entry is stale", || {
        second.cache.stats().total.entries > 0 && !second.cache.is_fresh(&orders(2))
    })
    .await;
}
