//! Decoding of the two internally tagged shapes of the wire (`{"type": "order_update", …}` frames and
//! `{"role": "owner", …}` dashboards) through `serde_json::Value`.
//!
//! serde's derive decodes an internally tagged enum by buffering the input in its private `Content` and then
//! decoding each variant's types from that buffer: in the wasm, a second decoder of `Order`, `Product` and every
//! other type inside, beside the one from `&Value` that the app's cache uses for every read. Decoding the
//! variant from `&Value` shares that one (the storefront's wasm lost 17 KB of Content decoding with it).

use serde::de::{DeserializeOwned, Error as _};
use serde_json::{Error, Value};

/// The tag `field` of `value`, which must be an object.
pub(crate) fn tag<'a>(value: &'a Value, field: &'static str) -> Result<&'a str, Error> {
    let Value::Object(map) = value else {
        return Err(Error::custom(format!("expected an object with a `{field}`")));
    };
    match map.get(field) {
        Some(Value::String(tag)) => Ok(tag),
        Some(_) => Err(Error::custom(format!("`{field}` is not a string"))),
        None => Err(Error::missing_field(field)),
    }
}

/// The variant's own fields, read from the same object (the tag is one more field, ignored).
pub(crate) fn part<T: DeserializeOwned>(value: &Value) -> Result<T, Error> {
    T::deserialize(value)
}

/// The error for a tag naming no variant.
pub(crate) fn unknown(tag: &str, expected: &'static [&'static str]) -> Error {
    Error::unknown_variant(tag, expected)
}
