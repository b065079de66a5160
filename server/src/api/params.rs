//! Extractors for the parts of a request that are not the body: path ids and query strings, with their
//! rejections turned into JSON errors, and the paging parameters parsed once.
//!
//! Invariant: a handler never sees axum's plain-text rejections; a path id that is not a number is a 400
//! `bad_request`, a query value out of range a 422 naming the parameter.

use std::str::FromStr;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::store::Paging;

/// `Path<T>` whose rejection is a JSON 400 `bad_request`.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(AppError::BadRequest(format!("bad path: {}", rejection.body_text()))),
        }
    }
}

/// `Query<T>` whose rejection is a JSON 400 `bad_request`. Query structs keep their values as text and parse
/// them with [`parse_param`], so an out-of-range value is a 422 naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(AppError::BadRequest(format!("bad query string: {}", rejection.body_text()))),
        }
    }
}

/// Parses an optional query parameter; an empty value counts as absent.
pub fn parse_param<T: FromStr>(name: &str, value: Option<&str>) -> Result<Option<T>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => {
            text.parse().map(Some).map_err(|_| AppError::validation(name, format!("`{text}` is not a valid value")))
        }
    }
}

/// `page` (1-based, default 1) and `per_page` (default 20, at most 100) from their query text.
pub fn parse_paging(page: Option<&str>, per_page: Option<&str>) -> Result<Paging, AppError> {
    let page: u32 = parse_param("page", page)?.unwrap_or(1);
    let per_page: u32 = parse_param("per_page", per_page)?.unwrap_or(Paging::DEFAULT_PER_PAGE);
    if page == 0 {
        return Err(AppError::validation("page", "pages start at 1"));
    }
    Paging::new(page, per_page)
        .ok_or_else(|| AppError::validation("per_page", format!("must be between 1 and {}", Paging::MAX_PER_PAGE)))
}

/// The version a write's `If-Match` names (`"3"`, `W/"3"` or `3`); `None` without the header or with `*`:
/// the write then applies to whatever version is current. Anything else is a 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<u64>);

impl IfMatch {
    /// Parses the header's text.
    pub fn parse(text: &str) -> Result<IfMatch, AppError> {
        let text = text.trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        let bare = text.strip_prefix("W/").unwrap_or(text);
        let bare = bare.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(bare);
        bare.parse::<u64>()
            .map(|version| IfMatch(Some(version)))
            .map_err(|_| AppError::BadRequest(format!("If-Match must name one version, as \"3\"; got `{text}`")))
    }

    /// A 409 `stale` with `current` when the header named another version than `current_version`.
    pub fn check<T: serde::Serialize>(self, current_version: u64, current: &T) -> Result<(), AppError> {
        match self.0 {
            Some(expected) if expected != current_version => Err(AppError::stale(current)),
            _ => Ok(()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(axum::http::header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(value) => {
                IfMatch::parse(value.to_str().map_err(|_| AppError::BadRequest("If-Match is not text".into()))?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(error: AppError) -> String {
        match error {
            AppError::Validation { field, .. } => field,
            other => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn paging_has_defaults_and_limits() {
        assert_eq!(parse_paging(None, None).unwrap(), Paging::default());
        assert_eq!(parse_paging(Some(""), Some(" ")).unwrap(), Paging::default());
        let paging = parse_paging(Some("3"), Some("100")).unwrap();
        assert_eq!((paging.offset(), paging.limit()), (200, 100));
        assert_eq!(field(parse_paging(Some("0"), None).unwrap_err()), "page");
        assert_eq!(field(parse_paging(Some("-2"), None).unwrap_err()), "page");
        assert_eq!(field(parse_paging(Some("99999999999"), None).unwrap_err()), "page");
        assert_eq!(field(parse_paging(None, Some("0")).unwrap_err()), "per_page");
        assert_eq!(field(parse_paging(None, Some("101")).unwrap_err()), "per_page");
        assert_eq!(field(parse_paging(None, Some("ten")).unwrap_err()), "per_page");
    }

    #[test]
    fn if_match_names_one_version_or_any() {
        assert_eq!(IfMatch::parse("\"3\"").unwrap(), IfMatch(Some(3)));
        assert_eq!(IfMatch::parse("W/\"12\"").unwrap(), IfMatch(Some(12)));
        assert_eq!(IfMatch::parse(" 7 ").unwrap(), IfMatch(Some(7)));
        assert_eq!(IfMatch::parse("*").unwrap(), IfMatch(None));
        for bad in ["", "\"\"", "\"3\", \"4\"", "abc", "-1", "\"3"] {
            assert!(matches!(IfMatch::parse(bad), Err(AppError::BadRequest(_))), "{bad:?}");
        }
        assert!(IfMatch(Some(3)).check(3, &"now").is_ok());
        assert!(IfMatch(None).check(9, &"now").is_ok());
        match IfMatch(Some(2)).check(3, &"now") {
            Err(AppError::Stale { current }) => assert_eq!(current, serde_json::json!("now")),
            other => panic!("expected stale, got {other:?}"),
        }
    }
}
