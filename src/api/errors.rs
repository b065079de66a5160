//! What can go wrong talking to the REST API, and how an HTTP answer maps onto it.
//!
//! Invariant: pure; every non-success answer becomes an [`ApiError`] with a message a user can read.

use protocol::ErrorBody;

/// A failed API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request never got an answer (server down, network blocked).
    #[error("cannot reach the server: {0}")]
    Network(String),
    /// The server answered with an error status.
    #[error("{message}")]
    Server { status: u16, code: String, message: String },
    /// The server answered success with a body of the wrong shape.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
}

impl ApiError {
    /// Maps an error answer (status and body text) onto an error, using the body's `{code, message}` when
    /// it has one.
    pub fn from_response(status: u16, body: &str) -> Self {
        match crate::json::from_text::<ErrorBody>(body) {
            Ok(ErrorBody { code, message, .. }) => ApiError::Server { status, code, message },
            Err(_) => ApiError::Server {
                status,
                code: format!("http_{status}"),
                message: format!("the server answered with status {status}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_gives_its_code_and_message() {
        let error = ApiError::from_response(401, r#"{"code":"bad_credentials","message":"Wrong email or password"}"#);
        assert_eq!(
            error,
            ApiError::Server { status: 401, code: "bad_credentials".into(), message: "Wrong email or password".into() }
        );
        assert_eq!(error.to_string(), "Wrong email or password");
    }

    #[test]
    fn a_body_without_the_shape_still_gives_a_readable_error() {
        let error = ApiError::from_response(502, "<html>Bad Gateway</html>");
        assert_eq!(error.to_string(), "the server answered with status 502");
    }
}
