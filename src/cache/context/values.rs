//! The cache binding's small parts: fetchers with their value type erased (answering a [`Held`]), typed
//! reads of held values, and the clock the binding reads.
//!
//! Invariant: the only clock of the binding is [`now`] (wall-clock ms, the store's time unit).

use std::future::Future;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Fetcher;
use crate::api::ApiError;
use crate::cache::held::Held;
use crate::cache::time::Millis;

pub(super) fn erase<T, F, Fut>(fetcher: F) -> Fetcher
where
    T: Serialize + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    Rc::new(move || {
        let answer = fetcher();
        Box::pin(async move { answer.await.map(Held::new) })
    })
}

/// A held value as a `T` (cloned out of its `Rc`; decoded only when it was not held as a `T`).
pub(super) fn typed<T: DeserializeOwned + Serialize + Clone + 'static>(mut value: Held) -> Result<T, ApiError> {
    read_held(&mut value)
}

/// Reads `value` as a `T`, holding it typed from then on.
pub(super) fn read_held<T: DeserializeOwned + Serialize + Clone + 'static>(value: &mut Held) -> Result<T, ApiError> {
    value.read::<T>().map(|typed| (*typed).clone()).map_err(|e| ApiError::Decode(e.to_string()))
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
    use crate::cache::policy::CachePolicy;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn typed_reads_clone_what_is_held_and_decode_the_rest_once() {
        let mut held = Held::from_json(json!([7]));
        assert_eq!(read_held::<Vec<u32>>(&mut held), Ok(vec![7]));
        assert!(matches!(held, Held::Typed { .. }), "held typed after the first read");
        assert!(matches!(typed::<String>(Held::new(7u32)), Err(ApiError::Decode(_))));
        assert_eq!(typed::<u64>(Held::new(7u32)), Ok(7), "through JSON, as storage would");
    }

    #[test]
    fn options_default_to_the_spec_policy_with_persistence() {
        let options = DataCacheOptions::default();
        assert_eq!(options.policy, CachePolicy::default());
        assert!(options.persist);
        assert_eq!(options.save_delay, Duration::from_millis(500));
    }
}
