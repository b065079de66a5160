//! The cache binding's small parts: callers waiting for a key's first value, fetchers with their value type
//! erased to JSON, typed reads and patches of JSON values, and the clock the binding reads.
//!
//! Invariant: the only clock of the binding is [`now`] (wall-clock ms, the store's time unit).

use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;

use futures::channel::oneshot;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Fetcher, Outcome};
use crate::api::ApiError;
use crate::cache::key::CacheKey;
use crate::cache::time::Millis;

pub(super) type Receiver = oneshot::Receiver<Outcome>;

/// Callers waiting for the first value of a key, answered all at once by the fetch in flight.
#[derive(Default)]
pub(super) struct Waiters(HashMap<CacheKey, Vec<oneshot::Sender<Outcome>>>);

impl Waiters {
    /// A receiver of the next outcome of `key`.
    pub(super) fn wait(&mut self, key: &CacheKey) -> Receiver {
        let (sender, receiver) = oneshot::channel();
        self.0.entry(key.clone()).or_default().push(sender);
        receiver
    }

    /// Sends `outcome` to every waiter of `key`.
    pub(super) fn settle(&mut self, key: &CacheKey, outcome: &Outcome) {
        for sender in self.0.remove(key).unwrap_or_default() {
            let _ = sender.send(outcome.clone());
        }
    }

    /// Drops the waiters of `key`: they see a cancellation.
    pub(super) fn cancel(&mut self, key: &CacheKey) {
        self.0.remove(key);
    }

    pub(super) fn cancel_all(&mut self) {
        self.0.clear();
    }
}

pub(super) fn erase<T, F, Fut>(fetcher: F) -> Fetcher
where
    T: Serialize + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    Rc::new(move || {
        let answer = fetcher();
        Box::pin(async move { serde_json::to_value(answer.await?).map_err(|e| ApiError::Decode(e.to_string())) })
    })
}

/// Reads a cached JSON value as a `T`. Every typed read of the cache goes through `T::deserialize(&Value)`
/// (here, [`DataCache::get`](super::DataCache::get), [`patch_typed`]): one decoding path per type in the wasm.
pub(super) fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    T::deserialize(&value).map_err(|e| ApiError::Decode(e.to_string()))
}

/// Applies `change` to the typed form of `value`; returns `false`, leaving `value` as it was, when `value` is
/// not a `T`.
pub(super) fn patch_typed<T: DeserializeOwned + Serialize>(value: &mut Value, change: impl FnOnce(&mut T)) -> bool {
    let Ok(mut typed) = T::deserialize(&*value) else {
        return false;
    };
    change(&mut typed);
    match serde_json::to_value(typed) {
        Ok(patched) => {
            *value = patched;
            true
        }
        Err(_) => false,
    }
}

/// Approximate bytes of a value: the length of its JSON text, what localStorage would hold.
pub(super) fn json_size(value: &Value) -> u64 {
    serde_json::to_string(value).map_or(0, |text| text.len() as u64)
}

pub(super) fn cancelled() -> ApiError {
    ApiError::Network("the request was cancelled (signed out or closed)".into())
}

/// Wall-clock now, the store's time unit (persisted `fetched_at` values compare across reloads).
pub(super) fn now() -> Millis {
    Millis::from_f64(js_sys::Date::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::context::DataCacheOptions;
    use crate::cache::key::DataKind;
    use crate::cache::policy::CachePolicy;
    use serde_json::json;
    use std::time::Duration;

    fn key(kind: DataKind) -> CacheKey {
        CacheKey::new(kind)
    }

    #[test]
    fn every_waiter_of_a_key_gets_the_one_outcome() {
        let mut waiters = Waiters::default();
        let mut first = waiters.wait(&key(DataKind::Orders));
        let mut second = waiters.wait(&key(DataKind::Orders));
        let mut other = waiters.wait(&key(DataKind::Shops));
        waiters.settle(&key(DataKind::Orders), &Ok(json!([1])));
        assert_eq!(first.try_recv(), Ok(Some(Ok(json!([1])))));
        assert_eq!(second.try_recv(), Ok(Some(Ok(json!([1])))));
        assert_eq!(other.try_recv(), Ok(None), "another key still waits");

        let error = ApiError::Network("down".into());
        let mut late = waiters.wait(&key(DataKind::Orders));
        waiters.settle(&key(DataKind::Orders), &Err(error.clone()));
        assert_eq!(late.try_recv(), Ok(Some(Err(error))), "a settled key starts a new round");

        waiters.cancel_all();
        assert!(other.try_recv().is_err(), "a cleared cache cancels its waiters");
    }

    #[test]
    fn a_typed_patch_changes_only_values_of_its_type() {
        let mut value = json!(["a"]);
        assert!(patch_typed(&mut value, |list: &mut Vec<String>| list.push("b".into())));
        assert_eq!(value, json!(["a", "b"]));
        assert!(!patch_typed(&mut value, |n: &mut u32| *n += 1), "not a number");
        assert_eq!(value, json!(["a", "b"]), "left as it was");
    }

    #[test]
    fn decoding_errors_are_api_errors_and_sizes_are_json_lengths() {
        assert_eq!(decode::<u32>(json!(7)), Ok(7));
        assert!(matches!(decode::<u32>(json!("seven")), Err(ApiError::Decode(_))));
        assert_eq!(json_size(&json!({"a": 1})), 7);
    }

    #[test]
    fn options_default_to_the_spec_policy_with_persistence() {
        let options = DataCacheOptions::default();
        assert_eq!(options.policy, CachePolicy::default());
        assert!(options.persist);
        assert_eq!(options.save_delay, Duration::from_millis(500));
    }
}
