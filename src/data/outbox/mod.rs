//! The outbox of writes: every change the UI makes is kept here (and persisted by the driver) before it is
//! sent, sent in order per scope with its `Idempotency-Key`, retried with backoff and jitter while the server
//! cannot be reached, and dropped, to be rolled back, when the server refuses it.
//!
//! Invariant: pure: no clock (`now` is passed in), no entropy of its own (jitter comes from a seeded
//! [`Rng`]), no I/O. Within a scope one write is in flight at a time and writes go in the order they were
//! made; a write is removed only once the server answered it (applied or refused), so a reload while one was
//! in flight sends it again with the same key and the server replays its first answer (docs/PROTOCOL.md).

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use protocol::{
    CartItemInput, NewProduct, OrderId, OrderStatus, Product, ProductId, ProductPatch, QuantityInput, StatusInput,
    UserId, WishlistInput,
};
use serde::{Deserialize, Serialize};

use crate::cache::time::Millis;
use crate::realtime::backoff::{Rng, bound, full_jitter};

mod optimistic;
#[cfg(test)]
mod tests;

pub use optimistic::{NewShown, cart_with, new_products, wishlist_with};

/// A write's id in this outbox (local; the server knows it by its key).
pub type WriteId = u64;

/// The first retry waits up to this long (doubling after each failure, with full jitter)…
pub const RETRY_BASE: Duration = Duration::from_secs(1);
/// …never longer than this…
pub const RETRY_CAP: Duration = Duration::from_secs(60);
/// …and never less than this (no retry in a tight loop).
pub const RETRY_FLOOR: Millis = Millis(250);
/// How many refused writes the monitoring panel keeps.
pub const FAILED_KEPT: usize = 10;
/// Version of the persisted outbox; another version reads as empty.
pub const STORED_VERSION: u32 = 1;

/// A change the UI makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Write {
    CartAdd {
        product: ProductId,
        quantity: u32,
    },
    CartSet {
        product: ProductId,
        quantity: u32,
    },
    CartRemove {
        product: ProductId,
    },
    WishlistAdd {
        product: ProductId,
    },
    WishlistRemove {
        product: ProductId,
    },
    ProductCreate {
        input: NewProduct,
    },
    /// `version` is the one the edit was made on (0: the backend keeps none, no `If-Match`).
    ProductEdit {
        id: ProductId,
        patch: ProductPatch,
        version: u64,
    },
    ProductDelete {
        id: ProductId,
        version: u64,
    },
    OrderStatus {
        id: OrderId,
        status: OrderStatus,
        version: u64,
    },
}

/// The HTTP method of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Patch,
    Delete,
}

/// What to send for a write (the path under `/api`).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Option<serde_json::Value>,
    /// `If-Match` (see docs/PROTOCOL.md).
    pub if_match: Option<u64>,
}

/// What must stay in order: writes of one scope go one at a time, in the order they were made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Cart,
    Wishlist,
    /// New products (their ids are not known before the answer).
    NewProducts,
    Product(ProductId),
    Order(OrderId),
}

fn json(value: impl Serialize) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

impl Write {
    /// The request that carries it.
    pub fn request(&self) -> Request {
        let version = |v: u64| (v > 0).then_some(v);
        let (method, path, body, if_match) = match self {
            Write::CartAdd { product, quantity } => (
                Method::Post,
                "/cart/items".to_owned(),
                json(CartItemInput { product_id: *product, quantity: i64::from(*quantity) }),
                None,
            ),
            Write::CartSet { product, quantity } => (
                Method::Patch,
                format!("/cart/items/{product}"),
                json(QuantityInput { quantity: i64::from(*quantity) }),
                None,
            ),
            Write::CartRemove { product } => (Method::Delete, format!("/cart/items/{product}"), None, None),
            Write::WishlistAdd { product } => {
                (Method::Post, "/wishlist".to_owned(), json(WishlistInput { product_id: *product }), None)
            }
            Write::WishlistRemove { product } => (Method::Delete, format!("/wishlist/{product}"), None, None),
            Write::ProductCreate { input } => (Method::Post, "/products".to_owned(), json(input), None),
            Write::ProductEdit { id, patch, version: v } => {
                (Method::Patch, format!("/products/{id}"), json(patch), version(*v))
            }
            Write::ProductDelete { id, version: v } => (Method::Delete, format!("/products/{id}"), None, version(*v)),
            Write::OrderStatus { id, status, version: v } => {
                (Method::Patch, format!("/orders/{id}"), json(StatusInput { status: *status }), version(*v))
            }
        };
        Request { method, path, body, if_match }
    }

    /// What it must stay in order with.
    pub fn scope(&self) -> Scope {
        match self {
            Write::CartAdd { .. } | Write::CartSet { .. } | Write::CartRemove { .. } => Scope::Cart,
            Write::WishlistAdd { .. } | Write::WishlistRemove { .. } => Scope::Wishlist,
            Write::ProductCreate { .. } => Scope::NewProducts,
            Write::ProductEdit { id, .. } | Write::ProductDelete { id, .. } => Scope::Product(*id),
            Write::OrderStatus { id, .. } => Scope::Order(*id),
        }
    }

    /// A short description for people (the monitoring panel, a toast).
    pub fn describe(&self) -> String {
        match self {
            Write::CartAdd { product, quantity } => format!("add {quantity} × product #{product} to the cart"),
            Write::CartSet { product, quantity } => format!("set product #{product} to {quantity} in the cart"),
            Write::CartRemove { product } => format!("remove product #{product} from the cart"),
            Write::WishlistAdd { product } => format!("add product #{product} to the wishlist"),
            Write::WishlistRemove { product } => format!("remove product #{product} from the wishlist"),
            Write::ProductCreate { input } => format!("create the product “{}”", input.name),
            Write::ProductEdit { id, .. } => format!("edit product #{id}"),
            Write::ProductDelete { id, .. } => format!("delete product #{id}"),
            Write::OrderStatus { id, status, .. } => format!("mark order #{id} {}", status.as_str()),
        }
    }
}

/// Where a kept write is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// To be sent at or after `not_before` (at once for a new write).
    Waiting { not_before: Millis },
    /// Sent; its answer is awaited.
    Sending,
}

/// A kept write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: WriteId,
    /// Its `Idempotency-Key`.
    pub key: String,
    pub write: Write,
    pub made_at: Millis,
    /// Sends that got no answer.
    pub attempts: u32,
    pub state: State,
    /// Why the last send got no answer.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The product as the UI showed it when the write was made, to show a cart or wishlist line the server
    /// has not answered yet.
    #[serde(default)]
    pub shown: Option<Product>,
}

impl Entry {
    /// Sent before without an answer, waiting to be sent again.
    pub fn retrying(&self) -> bool {
        self.attempts > 0 && matches!(self.state, State::Waiting { .. })
    }
}

/// A write the server refused, kept for the monitoring panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub write: Write,
    pub status: u16,
    pub message: String,
    pub at: Millis,
}

/// How the server answered one send.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Applied (a 2xx, replayed or not): the answer's body.
    Applied(serde_json::Value),
    /// Refused for good (400, 403, 404, 409, 422): not retried; its optimistic change is rolled back.
    /// `current` is the object as the server has it, for a 409 `stale`.
    Refused { status: u16, code: String, message: String, current: Option<serde_json::Value> },
    /// No answer worth keeping (no network, 408, 429, 5xx, a 409 `idempotency_in_progress`, a 401 while the
    /// session renews): sent again later, no sooner than `retry_after`.
    Unanswered { reason: String, retry_after: Option<Millis> },
}

impl Outcome {
    /// The outcome of an error answer with `status` and the body's `code` and `message`.
    pub fn of_error(status: u16, code: &str, message: &str, current: Option<serde_json::Value>) -> Outcome {
        let unanswered = |retry_after| Outcome::Unanswered { reason: format!("{status} {message}"), retry_after };
        match status {
            409 if code == "idempotency_in_progress" => unanswered(Some(Millis::from_secs(1))),
            400 | 403 | 404 | 409 | 410 | 413 | 422 => {
                Outcome::Refused { status, code: code.to_owned(), message: message.to_owned(), current }
            }
            _ => unanswered(None),
        }
    }
}

impl Outcome {
    /// The outcome of an error answer with `status` and body `text` (an `ErrorBody`, or anything else).
    pub fn of_answer(status: u16, text: &str) -> Outcome {
        match crate::json::from_text::<protocol::ErrorBody>(text) {
            Ok(body) => Outcome::of_error(status, &body.code, &body.message, body.current),
            Err(_) => Outcome::of_error(status, &format!("http_{status}"), &format!("status {status}"), None),
        }
    }
}

impl Method {
    /// Its name in HTTP.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What settling a send did.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// Applied: the server's answer replaces the optimistic value.
    Applied { write: Write, answer: serde_json::Value },
    /// Refused: roll its optimistic change back and say why.
    RolledBack { write: Write, status: u16, code: String, message: String, current: Option<serde_json::Value> },
    /// Sent again at `at`.
    Retrying { at: Millis },
    /// No such write in flight (settled twice, or the outbox was cleared meanwhile): nothing to do.
    Stale,
}

/// The outbox of one signed-in user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    user: UserId,
    entries: Vec<Entry>,
    failed: VecDeque<Failure>,
    next_id: WriteId,
}

/// The persisted form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub v: u32,
    pub outbox: Outbox,
}

impl Outbox {
    /// An empty outbox for `user`.
    pub fn new(user: UserId) -> Outbox {
        Outbox { user, entries: Vec::new(), failed: VecDeque::new(), next_id: 1 }
    }

    /// Whose writes these are.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// Keeps `write` under `key`, to be sent at once; a key already kept is the same write (made twice, say
    /// by a double click replayed from storage) and keeps its first id.
    pub fn push(&mut self, key: String, write: Write, now: Millis) -> WriteId {
        self.push_showing(key, write, None, now)
    }

    /// [`push`](Outbox::push), with the product the UI showed (see [`Entry::shown`]).
    pub fn push_showing(&mut self, key: String, write: Write, shown: Option<Product>, now: Millis) -> WriteId {
        if let Some(entry) = self.entries.iter().find(|e| e.key == key) {
            return entry.id;
        }
        let id = self.next_id;
        self.next_id += 1;
        let state = State::Waiting { not_before: now };
        self.entries.push(Entry { id, key, write, made_at: now, attempts: 0, state, last_error: None, shown });
        id
    }

    /// The writes to send now: in each scope with nothing in flight, the oldest write, if it is due. Marks them
    /// in flight; each must be [`settle`](Outbox::settle)d.
    pub fn due(&mut self, now: Millis) -> Vec<(WriteId, String, Request)> {
        let mut seen: BTreeSet<Scope> = BTreeSet::new();
        let mut out = Vec::new();
        for entry in &mut self.entries {
            if !seen.insert(entry.write.scope()) {
                continue;
            }
            if matches!(entry.state, State::Waiting { not_before } if not_before <= now) {
                entry.state = State::Sending;
                out.push((entry.id, entry.key.clone(), entry.write.request()));
            }
        }
        out
    }

    /// When the next write falls due, if one waits (the driver's timer); `None` when everything is in flight
    /// or nothing is kept.
    pub fn next_due(&self) -> Option<Millis> {
        let mut seen: BTreeSet<Scope> = BTreeSet::new();
        self.entries
            .iter()
            .filter(|entry| seen.insert(entry.write.scope()))
            .filter_map(|entry| match entry.state {
                State::Waiting { not_before } => Some(not_before),
                State::Sending => None,
            })
            .min()
    }

    /// Records how the server answered the send of `id`; `random` draws the retry's jitter.
    pub fn settle(&mut self, id: WriteId, outcome: Outcome, now: Millis, random: &mut Rng) -> Settled {
        let Some(index) = self.entries.iter().position(|e| e.id == id && e.state == State::Sending) else {
            return Settled::Stale;
        };
        match outcome {
            Outcome::Applied(answer) => Settled::Applied { write: self.entries.remove(index).write, answer },
            Outcome::Refused { status, code, message, current } => {
                let write = self.entries.remove(index).write;
                self.failed.push_back(Failure { write: write.clone(), status, message: message.clone(), at: now });
                while self.failed.len() > FAILED_KEPT {
                    self.failed.pop_front();
                }
                Settled::RolledBack { write, status, code, message, current }
            }
            Outcome::Unanswered { reason, retry_after } => {
                let entry = &mut self.entries[index];
                let jitter = full_jitter(bound(entry.attempts, RETRY_BASE, RETRY_CAP), random.next_u64());
                entry.attempts = entry.attempts.saturating_add(1);
                let wait = Millis(u64::try_from(jitter.as_millis()).unwrap_or(u64::MAX)).max(RETRY_FLOOR);
                let at = now.saturating_add(wait.max(retry_after.unwrap_or(Millis::ZERO)));
                entry.state = State::Waiting { not_before: at };
                entry.last_error = Some(reason);
                Settled::Retrying { at }
            }
        }
    }

    /// The network is back, the page became visible or the socket reconnected: every waiting write is due
    /// now (their attempt counts stay, so the next failure still waits longer).
    pub fn wake(&mut self, now: Millis) {
        for entry in &mut self.entries {
            if let State::Waiting { not_before } = &mut entry.state {
                *not_before = (*not_before).min(now);
            }
        }
    }

    /// The kept writes, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Writes not yet answered.
    pub fn pending(&self) -> usize {
        self.entries.len()
    }

    /// The writes the server refused lately, oldest first.
    pub fn failed(&self) -> impl Iterator<Item = &Failure> {
        self.failed.iter()
    }

    /// Whether a write of `scope` is kept (its optimistic change is still on screen).
    pub fn touches(&self, scope: &Scope) -> bool {
        self.entries.iter().any(|e| &e.write.scope() == scope)
    }

    /// Takes in the writes of `other` (the outbox another tab left in storage) that this one does not hold (by
    /// key), keeping every scope's order by the time the writes were made; writes that were in flight there are
    /// due now. Two tabs may then send one write: the key makes the second send a replay of the first answer.
    pub fn adopt(&mut self, other: Outbox, now: Millis) {
        if other.user != self.user {
            return;
        }
        for mut entry in other.entries {
            if self.entries.iter().any(|e| e.key == entry.key) {
                continue;
            }
            entry.id = self.next_id;
            self.next_id += 1;
            if entry.state == State::Sending {
                entry.state = State::Waiting { not_before: now };
            }
            let at = self.entries.iter().position(|e| e.made_at > entry.made_at && e.state != State::Sending);
            match at {
                Some(at) => self.entries.insert(at, entry),
                None => self.entries.push(entry),
            }
        }
    }

    /// The persisted form (JSON text).
    pub fn encode(&self) -> String {
        serde_json::to_string(&Stored { v: STORED_VERSION, outbox: self.clone() }).unwrap_or_default()
    }

    /// The outbox persisted in `text` if it is `user`'s, as after a reload at `now`: writes that were in flight
    /// are due again (sent with the same key: the server replays the answer if it had applied them). Anything
    /// unreadable, of another version or another user reads as an empty outbox.
    pub fn decode(text: &str, user: UserId, now: Millis) -> Outbox {
        let Ok(Stored { v: STORED_VERSION, mut outbox }) = crate::json::from_text::<Stored>(text) else {
            return Outbox::new(user);
        };
        if outbox.user != user {
            return Outbox::new(user);
        }
        for entry in &mut outbox.entries {
            if entry.state == State::Sending {
                entry.state = State::Waiting { not_before: now };
            }
        }
        outbox.next_id = outbox.next_id.max(outbox.entries.iter().map(|e| e.id + 1).max().unwrap_or(1));
        outbox
    }
}
