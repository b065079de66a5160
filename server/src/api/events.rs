//! `GET /api/events?after=SEQ`: the polling fallback of the WebSocket, the same stored events a `resume` replays.
//! Without an `Authorization` header it answers a visitor: the public events only (the catalog's changes), so a
//! signed-out catalog stays live.
//!
//! Invariant: a user receives only the events their audience rule lets them see, as the exact JSON stored at
//! append (never re-serialized), in seq order; unlike `resume`, every topic is included. A token that is sent
//! must be good: a bad or expired one is refused (401), never read as a visitor.

use axum::Router;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use protocol::{Seq, User};

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::events::{self, Replay};
use crate::state::AppState;

/// The events route, mounted under `/api`.
pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(list))
}

/// Answers a `protocol::EventsPage`: the visible events after `after` with the newest seq, or `resync: true`
/// (and no events) when `after` is older than the retention window or newer than the server's history.
async fn list(
    State(state): State<AppState>,
    Poller(viewer): Poller,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let after = parse_after(query.as_deref())?;
    let body = match events::replay_after(&state.db, viewer.as_ref(), after).await? {
        Replay::Events { events, last_seq } => page_json(events.iter().map(|(_, json)| json.as_str()), last_seq, false),
        Replay::Resync { last_seq } => page_json(std::iter::empty(), last_seq, true),
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Who polls: the signed-in user of the bearer token, or `None` (a visitor) when no `Authorization` header
/// is sent.
struct Poller(Option<User>);

impl FromRequestParts<AppState> for Poller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(Poller(None));
        }
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        Ok(Poller(Some(user)))
    }
}

/// The required `after` parameter: a seq (a non-negative integer).
fn parse_after(query: Option<&str>) -> Result<Seq, AppError> {
    let value = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("after="))
        .ok_or_else(|| AppError::validation("after", "required: the last seq you have (0 for none)"))?;
    value.parse::<Seq>().map_err(|_| AppError::validation("after", "must be a non-negative integer"))
}

/// An `EventsPage` body built from the stored event JSON texts without decoding them.
fn page_json<'a>(events: impl Iterator<Item = &'a str>, last_seq: Seq, resync: bool) -> String {
    let mut body = String::from(r#"{"events":["#);
    for (i, json) in events.enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(json);
    }
    body.push_str(&format!(r#"],"last_seq":{last_seq},"resync":{resync}}}"#));
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::EventsPage;

    #[test]
    fn after_is_required_and_numeric() {
        assert_eq!(parse_after(Some("after=12")).unwrap(), 12);
        assert_eq!(parse_after(Some("x=1&after=0")).unwrap(), 0);
        for bad in [None, Some(""), Some("after="), Some("after=-1"), Some("after=1.5"), Some("before=3")] {
            assert!(matches!(parse_after(bad), Err(AppError::Validation { .. })), "{bad:?}");
        }
    }

    #[test]
    fn the_page_is_an_events_page() {
        let page: EventsPage = serde_json::from_str(&page_json(std::iter::empty(), 7, true)).unwrap();
        assert_eq!(page, EventsPage { events: vec![], last_seq: 7, resync: true });
        let pong = r#"{"type":"pong"}"#;
        let page: EventsPage = serde_json::from_str(&page_json([pong, pong].into_iter(), 9, false)).unwrap();
        assert_eq!(page.events.len(), 2);
    }
}
