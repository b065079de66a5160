//! The signed-in session and how it is stored: a versioned JSON record, dropped when unreadable or expired.
//!
//! Invariant: pure; time is passed in as Unix seconds.

use protocol::{LoginResponse, User};
use serde::{Deserialize, Serialize};

/// Version of the stored record; bump it when [`Session`] changes shape so old records are dropped.
pub const STORAGE_VERSION: u32 = 1;

/// The localStorage key holding the session.
pub const STORAGE_KEY: &str = "izi.session";

/// A signed-in user and their token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    /// Seconds since the Unix epoch after which the server refuses the token.
    pub expires_at: i64,
    pub user: User,
}

impl From<LoginResponse> for Session {
    fn from(response: LoginResponse) -> Self {
        Self { token: response.token, expires_at: response.expires_at, user: response.user }
    }
}

impl Session {
    /// Whether the token is past its expiry at `now_secs`.
    pub fn is_expired(&self, now_secs: i64) -> bool {
        now_secs >= self.expires_at
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    v: u32,
    session: Session,
}

/// Serializes a session for storage.
pub fn encode(session: &Session) -> String {
    serde_json::to_string(&Stored { v: STORAGE_VERSION, session: session.clone() })
        .expect("a session always serializes")
}

/// Reads a stored session; `None` when the text is unreadable, of another version, or expired at `now_secs`.
pub fn decode(text: &str, now_secs: i64) -> Option<Session> {
    let stored: Stored = crate::json::from_text(text).ok()?;
    (stored.v == STORAGE_VERSION && !stored.session.is_expired(now_secs)).then_some(stored.session)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Role, UserId};

    fn session(expires_at: i64) -> Session {
        Session {
            token: "jwt".into(),
            expires_at,
            user: User {
                id: UserId(7),
                name: "Cara".into(),
                email: "customer1@izishopin.test".into(),
                role: Role::Customer,
                shop_id: None,
            },
        }
    }

    #[test]
    fn a_stored_session_reads_back_until_it_expires() {
        let text = encode(&session(1_000));
        assert_eq!(decode(&text, 999), Some(session(1_000)));
        assert_eq!(decode(&text, 1_000), None, "expiry is exclusive");
    }

    #[test]
    fn garbage_and_other_versions_are_dropped() {
        assert_eq!(decode("not json", 0), None);
        assert_eq!(decode(r#"{"v":1}"#, 0), None);
        let other_version = encode(&session(1_000)).replace(r#""v":1"#, r#""v":99"#);
        assert_eq!(decode(&other_version, 0), None);
    }
}
