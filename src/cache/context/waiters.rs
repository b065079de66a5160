//! Callers waiting for a key's first value: every caller of a key without a value gets the one outcome of
//! the fetch in flight.
//!
//! Invariant: a settled key starts a new round; a cleared cache cancels every waiter (they see an error).

use std::collections::HashMap;

use futures::channel::oneshot;

use super::Outcome;
use crate::cache::key::CacheKey;

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::ApiError;
    use crate::cache::held::Held;
    use crate::cache::key::DataKind;

    fn key(kind: DataKind) -> CacheKey {
        CacheKey::new(kind)
    }

    #[test]
    fn every_waiter_of_a_key_gets_the_one_outcome() {
        let mut waiters = Waiters::default();
        let mut first = waiters.wait(&key(DataKind::Orders));
        let mut second = waiters.wait(&key(DataKind::Orders));
        let mut other = waiters.wait(&key(DataKind::Shops));
        waiters.settle(&key(DataKind::Orders), &Ok(Held::from_json(json!([1]))));
        assert_eq!(first.try_recv(), Ok(Some(Ok(Held::from_json(json!([1]))))));
        assert_eq!(second.try_recv(), Ok(Some(Ok(Held::new(vec![1])))));
        assert_eq!(other.try_recv(), Ok(None), "another key still waits");

        let error = ApiError::Network("down".into());
        let mut late = waiters.wait(&key(DataKind::Orders));
        waiters.settle(&key(DataKind::Orders), &Err(error.clone()));
        assert_eq!(late.try_recv(), Ok(Some(Err(error))), "a settled key starts a new round");

        waiters.cancel_all();
        assert!(other.try_recv().is_err(), "a cleared cache cancels its waiters");
    }
}
