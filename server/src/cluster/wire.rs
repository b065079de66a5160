//! What instances tell each other over Redis (one pub/sub channel, JSON text). Server to server only: no
//! client ever sees these; what reaches a client is the stored event's JSON, byte for byte.

use protocol::{Seq, Topic};
use serde::{Deserialize, Serialize};

use crate::events::{Audience, StoredEvent};

/// One message on the channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RelayMsg {
    /// A committed write's events, written after `after` was committed (see `hub::sequencer`).
    Events { from: u64, after: Seq, events: Vec<RelayedEvent> },
    /// An instance's probe of its own subscription: it expects to read it back.
    Ping { from: u64, nonce: u64 },
    /// A session was revoked (a logout): its tokens are refused and its sockets closed everywhere.
    Revoked { sid: i64, expires_at: i64 },
}

/// A [`StoredEvent`] on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayedEvent {
    pub seq: Seq,
    pub topic: Topic,
    pub audience: Audience,
    /// The event's `ServerMsg` JSON, as stored in the log.
    pub json: String,
}

impl From<&StoredEvent> for RelayedEvent {
    fn from(event: &StoredEvent) -> Self {
        Self { seq: event.seq, topic: event.topic, audience: event.audience, json: event.json.as_str().to_owned() }
    }
}

impl From<RelayedEvent> for StoredEvent {
    fn from(event: RelayedEvent) -> Self {
        Self { seq: event.seq, topic: event.topic, audience: event.audience, json: event.json.into() }
    }
}

impl RelayMsg {
    /// The message as sent.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("relay messages always serialize")
    }

    /// A message read from the channel; `None` for anything that is not one (another program's, a newer
    /// version's), which is ignored.
    pub fn decode(text: &[u8]) -> Option<Self> {
        let message: Self = serde_json::from_slice(text).ok()?;
        match &message {
            // Events out of order inside one message would break the sequencer's rule: refuse the message
            // (the events are still in the log for a backfill).
            Self::Events { after, events, .. } => {
                let mut previous = *after;
                events
                    .iter()
                    .all(|event| {
                        let ascending = event.seq > previous;
                        previous = event.seq;
                        ascending
                    })
                    .then_some(message)
            }
            _ => Some(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: Seq) -> RelayedEvent {
        RelayedEvent { seq, topic: Topic::Orders, audience: Audience::everyone(), json: format!("{{\"seq\":{seq}}}") }
    }

    #[test]
    fn messages_survive_the_round_trip_and_junk_is_ignored() {
        let message = RelayMsg::Events { from: 7, after: 3, events: vec![event(4), event(5)] };
        assert_eq!(RelayMsg::decode(message.encode().as_bytes()), Some(message));
        let ping = RelayMsg::Ping { from: 1, nonce: 9 };
        assert_eq!(RelayMsg::decode(ping.encode().as_bytes()), Some(ping));
        assert_eq!(RelayMsg::decode(b"not json"), None);
        assert_eq!(RelayMsg::decode(br#"{"kind":"something_new"}"#), None);
    }

    #[test]
    fn events_out_of_order_are_refused() {
        let unordered = RelayMsg::Events { from: 7, after: 3, events: vec![event(5), event(4)] };
        assert_eq!(RelayMsg::decode(unordered.encode().as_bytes()), None);
        let before_after = RelayMsg::Events { from: 7, after: 5, events: vec![event(5)] };
        assert_eq!(RelayMsg::decode(before_after.encode().as_bytes()), None);
    }
}
