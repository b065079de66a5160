//! A cached value held typed: written as a `T` it stays a `T` (shared by `Rc`, read without decoding, patched
//! in place); JSON only where a value crosses a boundary (the localStorage snapshot, another tab), and a value
//! that arrives as JSON is decoded once, on its first typed read, then held typed.
//!
//! Invariant: a read as the type a value holds is a downcast; any other read goes through its JSON, as if the
//! value had come from storage (written as `&str`, it reads as a `String`), and holds the decoded `T` from
//! then on; a value that is not a `T` is an error and is left as it was. The size of a value is the length of
//! its JSON text, counted without building it, so the store's byte bound stays true after every update.

use std::any::Any;
use std::fmt;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How a typed value is written: as JSON (`None` when it cannot be, a map with non-string keys, say), and the
/// length of that JSON text, counted without building it.
#[derive(Clone, Copy)]
pub struct Codec {
    encode: fn(&dyn Any) -> Option<Value>,
    measure: fn(&dyn Any) -> u64,
    /// The value's type, for error messages.
    type_name: &'static str,
}

impl Codec {
    fn of<T: Serialize + 'static>() -> Codec {
        Codec { encode: encode_as::<T>, measure: measure_as::<T>, type_name: std::any::type_name::<T>() }
    }
}

/// One cached value.
#[derive(Clone)]
pub enum Held {
    /// Written by this app as some `T`.
    Typed { value: Rc<dyn Any>, codec: Codec },
    /// Arrived as JSON (restored, or shared by another tab); not read as a type yet.
    Json(Rc<Value>),
}

/// Why a typed read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeldError {
    /// The value is held as another type.
    #[error("the cached value is a {held}, not a {wanted}")]
    OtherType { held: &'static str, wanted: &'static str },
    /// The JSON is not a `T`.
    #[error("the cached value is not a {wanted}: {message}")]
    Decode { wanted: &'static str, message: String },
}

impl Held {
    /// Holds `value` as it is.
    pub fn new<T: Serialize + 'static>(value: T) -> Held {
        Held::Typed { value: Rc::new(value), codec: Codec::of::<T>() }
    }

    /// Holds JSON that came from outside; it is decoded on its first typed read.
    pub fn from_json(value: Value) -> Held {
        Held::Json(Rc::new(value))
    }

    /// The value as a `T`, shared, without copying it. Anything but a downcast (JSON from outside, a value
    /// written as another type) is decoded here and held as a `T` from then on.
    pub fn read<T: DeserializeOwned + Serialize + 'static>(&mut self) -> Result<Rc<T>, HeldError> {
        if let Held::Typed { value, .. } = self
            && let Ok(typed) = Rc::clone(value).downcast::<T>()
        {
            return Ok(typed);
        }
        let typed = Rc::new(self.decode::<T>()?);
        *self = Held::Typed { value: typed.clone(), codec: Codec::of::<T>() };
        Ok(typed)
    }

    /// The value as a `T` without changing how it is held (anything but a downcast decodes each time: for a
    /// reader that cannot write back).
    pub fn peek<T: DeserializeOwned + Clone + 'static>(&self) -> Result<T, HeldError> {
        if let Held::Typed { value, .. } = self
            && let Some(typed) = value.downcast_ref::<T>()
        {
            return Ok(typed.clone());
        }
        self.decode()
    }

    /// The value decoded from its JSON as a `T`.
    fn decode<T: DeserializeOwned>(&self) -> Result<T, HeldError> {
        let wanted = std::any::type_name::<T>();
        let decoded = match self {
            Held::Json(json) => T::deserialize(&**json),
            Held::Typed { value, codec } => {
                let json = (codec.encode)(&**value).ok_or(HeldError::OtherType { held: codec.type_name, wanted })?;
                T::deserialize(&json)
            }
        };
        decoded.map_err(|e| HeldError::Decode { wanted, message: e.to_string() })
    }

    /// Applies `change` to the value as a `T`, in place when nothing else shares it (else on a copy); answers
    /// what `change` answered. A value that is not a `T` is left as it was.
    pub fn update<T, R>(&mut self, change: impl FnOnce(&mut T) -> R) -> Result<R, HeldError>
    where
        T: DeserializeOwned + Serialize + Clone + 'static,
    {
        if let Held::Typed { value, .. } = self
            && let Some(typed) = Rc::get_mut(value).and_then(|value| value.downcast_mut::<T>())
        {
            return Ok(change(typed));
        }
        let mut copy = (*self.read::<T>()?).clone();
        let answer = change(&mut copy);
        *self = Held::new(copy);
        Ok(answer)
    }

    /// The value as JSON, for the snapshot and the other tabs.
    pub fn to_json(&self) -> Option<Value> {
        match self {
            Held::Typed { value, codec } => (codec.encode)(&**value),
            Held::Json(json) => Some((**json).clone()),
        }
    }

    /// The length of the value's JSON text, counted without building it.
    pub fn size_bytes(&self) -> u64 {
        match self {
            Held::Typed { value, codec } => (codec.measure)(&**value),
            Held::Json(json) => measure(&**json),
        }
    }
}

/// Two values are equal when their JSON is (the same `Rc` is, at once).
impl PartialEq for Held {
    fn eq(&self, other: &Held) -> bool {
        match (self, other) {
            (Held::Typed { value: a, .. }, Held::Typed { value: b, .. }) if Rc::ptr_eq(a, b) => true,
            (Held::Json(a), Held::Json(b)) if Rc::ptr_eq(a, b) => true,
            _ => self.to_json() == other.to_json(),
        }
    }
}

/// Written as its JSON (the localStorage snapshot).
impl Serialize for Held {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let json = self.to_json().ok_or_else(|| serde::ser::Error::custom("a cached value without JSON"))?;
        json.serialize(serializer)
    }
}

/// Read as JSON, decoded on its first typed read.
impl<'de> serde::Deserialize<'de> for Held {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Held, D::Error> {
        Value::deserialize(deserializer).map(Held::from_json)
    }
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Held::Typed { codec, .. } => write!(f, "Held::Typed({})", codec.type_name),
            Held::Json(json) => write!(f, "Held::Json({json})"),
        }
    }
}

fn encode_as<T: Serialize + 'static>(value: &dyn Any) -> Option<Value> {
    serde_json::to_value(value.downcast_ref::<T>()?).ok()
}

fn measure_as<T: Serialize + 'static>(value: &dyn Any) -> u64 {
    value.downcast_ref::<T>().map_or(0, measure)
}

/// The length of `value`'s JSON text (0 when it cannot be written).
fn measure(value: &impl Serialize) -> u64 {
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value).map_or(0, |()| counter.0)
}

/// Counts the bytes written to it.
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Card {
        title: String,
        count: u32,
    }

    fn card() -> Card {
        Card { title: "Orders".into(), count: 3 }
    }

    #[test]
    fn a_typed_value_is_read_shared_without_decoding() {
        let mut held = Held::new(card());
        let first = held.read::<Card>().unwrap();
        let second = held.read::<Card>().unwrap();
        assert!(Rc::ptr_eq(&first, &second), "the same value, not a copy");
        assert_eq!(*first, card());
        assert_eq!(held.peek::<Card>(), Ok(card()));
    }

    #[test]
    fn json_from_outside_is_decoded_once_then_held_typed() {
        let mut held = Held::from_json(json!({"title": "Orders", "count": 3}));
        assert!(matches!(held, Held::Json(_)));
        let first = held.read::<Card>().unwrap();
        assert!(matches!(held, Held::Typed { .. }), "held typed after the first read");
        let second = held.read::<Card>().unwrap();
        assert!(Rc::ptr_eq(&first, &second));
    }

    #[test]
    fn another_type_reads_through_json_or_is_an_error_that_changes_nothing() {
        let mut held = Held::new(card());
        let wrong = held.read::<Vec<String>>().unwrap_err();
        assert!(matches!(wrong, HeldError::Decode { .. }), "{wrong}");
        assert_eq!(*held.read::<Card>().unwrap(), card());

        let mut words = Held::new(vec!["a", "b"]);
        assert_eq!(*words.read::<Vec<String>>().unwrap(), ["a", "b"], "as storage would have read it");
        assert_eq!(words.peek::<Vec<String>>(), Ok(vec!["a".to_owned(), "b".to_owned()]));

        let mut json = Held::from_json(json!(["a"]));
        let undecodable = json.read::<Card>().unwrap_err();
        assert!(matches!(undecodable, HeldError::Decode { .. }), "{undecodable}");
        assert_eq!(json.to_json(), Some(json!(["a"])), "left as it came");
        assert_eq!(json.update(|c: &mut Card| c.count += 1), Err(undecodable));
    }

    #[test]
    fn an_update_changes_an_unshared_value_in_place_and_a_shared_one_on_a_copy() {
        let mut held = Held::new(card());
        let before = Rc::as_ptr(&held.read::<Card>().unwrap());
        assert_eq!(held.update(|c: &mut Card| c.count += 1), Ok(()));
        let after = held.read::<Card>().unwrap();
        assert_eq!((after.count, Rc::as_ptr(&after)), (4, before), "in place: nobody else held it");

        let reader = held.read::<Card>().unwrap();
        held.update(|c: &mut Card| c.count = 9).unwrap();
        assert_eq!((reader.count, held.read::<Card>().unwrap().count), (4, 9), "the reader keeps what it read");
    }

    #[test]
    fn json_and_size_are_those_of_the_value_after_every_change() {
        let mut held = Held::new(card());
        let text = serde_json::to_string(&card()).unwrap();
        assert_eq!(held.to_json(), Some(serde_json::to_value(card()).unwrap()));
        assert_eq!(held.size_bytes(), text.len() as u64);
        held.update(|c: &mut Card| c.title = "Every order of the month".into()).unwrap();
        let grown = serde_json::to_string(&held.peek::<Card>().unwrap()).unwrap();
        assert_eq!(held.size_bytes(), grown.len() as u64, "the size follows the update");
        assert_eq!(Held::from_json(json!({"a": 1})).size_bytes(), 7);
        assert_eq!(format!("{:?}", Held::from_json(json!(1))), "Held::Json(1)");
    }

    #[test]
    fn values_compare_and_persist_as_their_json() {
        assert_eq!(Held::new(card()), Held::from_json(json!({"title": "Orders", "count": 3})));
        assert_ne!(Held::new(card()), Held::new(Card { count: 4, ..card() }));
        let text = serde_json::to_string(&Held::new(card())).unwrap();
        let mut back: Held = serde_json::from_str(&text).unwrap();
        assert_eq!(*back.read::<Card>().unwrap(), card());
    }
}
