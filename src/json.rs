//! Decoding JSON text the app's one way: parsed to a `serde_json::Value`, then read from `&Value`.
//!
//! Invariant: the app decodes every type from `&Value` (REST answers, frames, cache reads, tab messages,
//! storage): each type's decoder is then in the wasm once; decoding a type from text directly would add a
//! second copy (see ARCHITECTURE.md).

use serde::de::DeserializeOwned;

/// Decodes `text` as a `T` through `Value`.
pub fn from_text<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    T::deserialize(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_serde_json_and_says_why_not() {
        assert_eq!(from_text::<Vec<u8>>("[1, 2]").unwrap(), vec![1, 2]);
        assert!(from_text::<Vec<u8>>("[1, 2").unwrap_err().is_eof());
        let wrong = from_text::<Vec<u8>>(r#"["a"]"#).unwrap_err();
        assert!(wrong.to_string().contains("invalid type"), "{wrong}");
    }
}
