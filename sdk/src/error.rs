//! The SDK's error type.

use confab_proto::{ErrorCode, WireError};

/// Everything a Confab SDK call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server refused the request with a typed error (also used for a token the server
    /// refused at the WebSocket handshake: `invalid_token`, `token_expired`, `token_revoked`).
    #[error("{0}")]
    Server(WireError),
    /// The HTTP request failed (connection refused, TLS, or a non-2xx answer without a
    /// Confab error body).
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The WebSocket failed (handshake or transport).
    #[error("websocket: {0}")]
    WebSocket(#[source] Box<tokio_tungstenite::tungstenite::Error>),
    /// No answer arrived within the request timeout.
    #[error("timed out")]
    Timeout,
    /// The connection dropped before the answer arrived. The request may or may not have been
    /// carried out; retrying a send with the same `client_msg_id` is safe.
    #[error("disconnected before the answer arrived")]
    Disconnected,
    /// The connection is closed for good: by [`crate::Client::close`], by a log out, or by the
    /// server with a terminal close code.
    #[error("connection closed ({})", closed_description(*code, reason))]
    Closed { code: Option<u16>, reason: String },
    /// A frame or body did not have the expected shape.
    #[error("could not decode the server's answer: {0}")]
    Decode(#[from] serde_json::Error),
    /// The server URL could not be used.
    #[error("invalid server URL: {0}")]
    InvalidUrl(String),
    /// A local file could not be read or written (uploads and downloads).
    #[error("io: {0}")]
    Io(String),
}

fn closed_description(code: Option<u16>, reason: &str) -> String {
    match (code, reason.is_empty()) {
        (Some(code), false) => format!("{code}: {reason}"),
        (Some(code), true) => code.to_string(),
        (None, false) => reason.to_string(),
        (None, true) => "no close code".to_string(),
    }
}

impl Error {
    /// The server's error code, when the server refused the request.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Server(e) => Some(e.code),
            _ => None,
        }
    }

    /// The server's error, when the server refused the request.
    pub fn wire(&self) -> Option<&WireError> {
        match self {
            Error::Server(e) => Some(e),
            _ => None,
        }
    }

    /// A short, stable name for this error: the server's code (`not_member`, …) for
    /// [`Error::Server`], otherwise `http`, `websocket`, `timeout`, `disconnected`, `closed`,
    /// `decode`, `invalid_url` or `io`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Server(e) => e.code.as_str(),
            Error::Http(_) => "http",
            Error::WebSocket(_) => "websocket",
            Error::Timeout => "timeout",
            Error::Disconnected => "disconnected",
            Error::Closed { .. } => "closed",
            Error::Decode(_) => "decode",
            Error::InvalidUrl(_) => "invalid_url",
            Error::Io(_) => "io",
        }
    }

    /// Whether the server refused the credentials themselves (the token is unknown, expired or
    /// revoked): logging in again is the only remedy.
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self.code(),
            Some(
                ErrorCode::InvalidToken
                    | ErrorCode::TokenExpired
                    | ErrorCode::TokenRevoked
                    | ErrorCode::Unauthenticated
            )
        )
    }
}

impl From<WireError> for Error {
    fn from(e: WireError) -> Self {
        Error::Server(e)
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Error::WebSocket(Box::new(e))
    }
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_expose_their_code() {
        let e = Error::Server(WireError::new(ErrorCode::NotMember, "not a member"));
        assert_eq!(e.code(), Some(ErrorCode::NotMember));
        assert_eq!(e.kind(), "not_member");
        assert_eq!(e.to_string(), "not_member: not a member");
        assert!(!e.is_auth_failure());
        assert!(Error::Server(WireError::new(ErrorCode::TokenRevoked, "gone")).is_auth_failure());
    }

    #[test]
    fn other_errors_have_a_kind() {
        assert_eq!(Error::Timeout.code(), None);
        assert_eq!(Error::Timeout.kind(), "timeout");
        let closed = Error::Closed {
            code: Some(4101),
            reason: "session revoked".into(),
        };
        assert_eq!(closed.kind(), "closed");
        assert_eq!(
            closed.to_string(),
            "connection closed (4101: session revoked)"
        );
    }
}
