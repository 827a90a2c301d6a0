//! Confab wire protocol: the single definition of every frame the server, the SDK and the UI
//! exchange. `docs/protocol.md` explains the same types in prose with examples.
//!
//! # Layout
//!
//! - [`Request`] and [`ClientFrame`]: what a device sends over its WebSocket, each with an `id`.
//! - [`Event`]: what the server pushes without an `id`.
//! - [`WireError`] and [`ErrorCode`]: the typed error every failed request gets.
//! - [`close`]: WebSocket close codes and whether a client should reconnect.
//! - [`http`]: the bodies of the HTTP account endpoints (register, log in).
//! - [`integration`]: the bodies of the HTTP integration API for business systems.
//! - Media: [`MediaRef`], [`MediaKind`], [`UploadResponse`], [`MediaUrlRequest`] (the upload
//!   and download endpoints are described in docs/protocol.md).
//! - Shared records: [`Message`], [`Content`], [`ConversationSummary`], [`UserPublic`], …
//!
//! Frames are JSON text. A request is `{"id": 7, "type": "send", "data": {...}}`; its response
//! is `{"id": 7, "ok": {...}}` or `{"id": 7, "error": {"code": "not_member", "message": "..."}}`;
//! an event is `{"event": "message", "data": {...}}`.

use serde::{Deserialize, Serialize};

mod assistant;
mod error;
mod groups;
pub mod http;
pub mod integration;
mod media;
mod request;
mod social;
mod types;

pub use assistant::*;
pub use error::{ErrorCode, WireError};
pub use groups::*;
pub use media::*;
pub use request::*;
pub use social::*;
pub use types::*;

/// Protocol version negotiated at the handshake (`/ws?v=1`).
pub const PROTOCOL_VERSION: u32 = 1;

pub type UserId = i64;
pub type DeviceId = i64;
pub type ConversationId = i64;
/// Position of a message or event in its conversation: 1, 2, 3, … with no gaps.
pub type Seq = i64;
/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// WebSocket close codes. 4000–4099: transient, reconnect with backoff and resume by sync.
/// 4100–4199: terminal for these credentials, do not reconnect without new ones.
pub mod close {
    /// The outbound queue filled up (the device read too slowly); reconnect and sync.
    pub const SLOW_CONSUMER: u16 = 4000;
    /// The server is shutting down; reconnect (possibly to another node) and sync.
    pub const SERVER_SHUTDOWN: u16 = 4001;
    /// No frame arrived within the idle timeout.
    pub const IDLE_TIMEOUT: u16 = 4002;
    /// This node may have missed events (its link to the other nodes was interrupted);
    /// reconnect and sync.
    pub const RESYNC: u16 = 4003;
    /// Authentication failed or was never given in time.
    pub const AUTH_FAILED: u16 = 4100;
    /// This device's session was revoked (log out, or revoked from another device).
    pub const SESSION_REVOKED: u16 = 4101;
    /// The requested protocol version is not served.
    pub const UNSUPPORTED_VERSION: u16 = 4102;

    /// Whether a client should reconnect after this close code.
    pub fn should_reconnect(code: u16) -> bool {
        !(4100..4200).contains(&code)
    }
}

/// A request frame as sent by a client.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    pub id: u64,
    pub request: Request,
}

impl ClientFrame {
    /// Encode as a JSON text frame: `{"id":N,"type":...,"data":...}`.
    pub fn encode(&self) -> String {
        let body = serde_json::to_string(&self.request).expect("requests always serialize");
        // `body` is a JSON object; splice the id in front of its first key.
        let rest = body.strip_prefix('{').unwrap_or(&body);
        if rest == "}" {
            format!("{{\"id\":{}}}", self.id)
        } else {
            format!("{{\"id\":{},{}", self.id, rest)
        }
    }

    /// Decode a text frame. On failure the error carries the frame's `id` when it could be read,
    /// so the server can still answer the request it belongs to.
    pub fn decode(text: &str) -> Result<ClientFrame, DecodeError> {
        #[derive(Deserialize)]
        struct Envelope {
            id: Option<serde_json::Value>,
            #[serde(rename = "type")]
            kind: Option<String>,
        }
        let env: Envelope = serde_json::from_str(text).map_err(|e| DecodeError {
            id: None,
            error: WireError::new(ErrorCode::MalformedFrame, format!("not a JSON object: {e}")),
        })?;
        let id = match env.id {
            Some(serde_json::Value::Number(n)) if n.as_u64().is_some() => n.as_u64().unwrap(),
            _ => {
                return Err(DecodeError {
                    id: None,
                    error: WireError::new(
                        ErrorCode::MalformedFrame,
                        "every request needs a numeric \"id\"",
                    ),
                })
            }
        };
        let Some(kind) = env.kind else {
            return Err(DecodeError {
                id: Some(id),
                error: WireError::new(ErrorCode::MalformedFrame, "missing \"type\""),
            });
        };
        match serde_json::from_str::<Request>(text) {
            Ok(request) => Ok(ClientFrame { id, request }),
            Err(e) if !Request::KINDS.contains(&kind.as_str()) => Err(DecodeError {
                id: Some(id),
                error: WireError::new(
                    ErrorCode::UnknownType,
                    format!("unknown request type {kind:?}"),
                )
                .with_detail(e.to_string()),
            }),
            Err(e) => Err(DecodeError {
                id: Some(id),
                error: WireError::new(ErrorCode::BadRequest, format!("invalid {kind:?}: {e}")),
            }),
        }
    }
}

/// Why a client frame could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub id: Option<u64>,
    pub error: WireError,
}

/// A frame as sent by the server: the answer to a request, or a pushed event.
#[derive(Debug, Clone)]
pub enum ServerFrame {
    Ok {
        id: u64,
        body: Box<serde_json::value::RawValue>,
    },
    Error {
        id: Option<u64>,
        error: WireError,
    },
    Event(Box<Event>),
}

impl ServerFrame {
    pub fn decode(text: &str) -> Result<ServerFrame, serde_json::Error> {
        #[derive(Deserialize)]
        struct Envelope {
            id: Option<u64>,
            ok: Option<Box<serde_json::value::RawValue>>,
            error: Option<WireError>,
            event: Option<serde::de::IgnoredAny>,
        }
        let env: Envelope = serde_json::from_str(text)?;
        if env.event.is_some() {
            return Ok(ServerFrame::Event(Box::new(serde_json::from_str(text)?)));
        }
        match (env.id, env.ok, env.error) {
            (Some(id), Some(body), None) => Ok(ServerFrame::Ok { id, body }),
            (id, None, Some(error)) => Ok(ServerFrame::Error { id, error }),
            _ => Err(<serde_json::Error as serde::de::Error>::custom(
                "frame is neither a response nor an event",
            )),
        }
    }
}

/// Encode a successful response.
pub fn encode_ok<T: Serialize>(id: u64, body: &T) -> String {
    let body = serde_json::to_string(body).expect("responses always serialize");
    format!("{{\"id\":{id},\"ok\":{body}}}")
}

/// Encode an error response (`id` is absent when the request's id could not be read).
pub fn encode_error(id: Option<u64>, error: &WireError) -> String {
    #[derive(Serialize)]
    struct Frame<'a> {
        id: Option<u64>,
        error: &'a WireError,
    }
    serde_json::to_string(&Frame { id, error }).expect("errors always serialize")
}

/// Encode a pushed event.
pub fn encode_event(event: &Event) -> String {
    serde_json::to_string(event).expect("events always serialize")
}

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "ts"))]
mod ts_export;
