use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable error codes. The string form (`snake_case`) is the wire form and never changes meaning;
/// new codes may be added, so clients treat an unknown code as a generic failure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // Frame level: the request could not be understood.
    /// Not JSON, not an object, or no numeric `id`.
    MalformedFrame,
    /// A `type` the server does not know.
    UnknownType,
    /// A known `type` whose `data` does not fit it (missing or mistyped fields).
    BadRequest,
    /// The frame is larger than the server's frame limit.
    FrameTooLarge,
    /// The protocol version asked for at the handshake is not served.
    UnsupportedVersion,

    // Accounts and sessions.
    /// The connection has not authenticated yet.
    Unauthenticated,
    /// The token is unknown or malformed.
    InvalidToken,
    /// The token's lifetime has passed.
    TokenExpired,
    /// The token's session was revoked (logged out).
    TokenRevoked,
    /// Unknown username or wrong password (deliberately indistinguishable).
    WrongCredentials,
    UsernameTaken,
    InvalidUsername,
    WeakPassword,
    /// `auth` sent on a connection that is already authenticated.
    AlreadyAuthenticated,

    // Domain.
    /// The user, conversation or message does not exist (or is not visible to the caller).
    NotFound,
    /// The caller is not a member of the conversation.
    NotMember,
    /// The caller's role does not allow this action.
    Forbidden,
    /// A text or field is longer than the configured limit.
    TooLong,
    /// A field is invalid (empty text, bad name, talking to oneself, …).
    InvalidArgument,
    /// The recall window for this message has passed.
    RecallWindowPassed,
    /// The message is already recalled.
    AlreadyRecalled,
    /// The group is full (member limit).
    GroupFull,
    /// The caller is muted in this group (or the whole group is muted).
    Muted,
    /// The group was dissolved: it can be read, nothing new can happen in it.
    GroupDissolved,
    /// It already exists or is already so (friends already, member already, request pending).
    AlreadyExists,
    /// Blocked, or not allowed by the other person's settings (e.g. friends-only direct chats).
    NotAllowed,

    // Media.
    /// The upload is larger than the limit for its kind.
    MediaTooLarge,
    /// The content is not what the declared kind or `Content-Type` says (a "picture" that is
    /// not one), or not a kind the server can process as declared.
    MediaTypeMismatch,
    /// The content claims a format but is corrupt or cannot be read.
    InvalidMedia,
    /// An image whose dimensions exceed the limits (e.g. a decompression bomb).
    ImageTooLarge,
    /// The upload ended before `Content-Length` bytes arrived.
    IncompleteUpload,
    /// A signed media URL whose time has passed.
    UrlExpired,
    /// The requested byte range lies outside the blob.
    RangeNotSatisfiable,

    // Limits and the server.
    /// Too many requests; retry after `retry_after_ms`.
    RateLimited,
    /// An unexpected server fault; the cause is logged on the server, never sent.
    Internal,
    /// A dependency (database, broker) is unavailable; retry later.
    Unavailable,
    /// The server has no AI assistant configured.
    AssistantNotConfigured,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedFrame => "malformed_frame",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::TokenRevoked => "token_revoked",
            ErrorCode::WrongCredentials => "wrong_credentials",
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::InvalidUsername => "invalid_username",
            ErrorCode::WeakPassword => "weak_password",
            ErrorCode::AlreadyAuthenticated => "already_authenticated",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NotMember => "not_member",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::TooLong => "too_long",
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::RecallWindowPassed => "recall_window_passed",
            ErrorCode::AlreadyRecalled => "already_recalled",
            ErrorCode::GroupFull => "group_full",
            ErrorCode::Muted => "muted",
            ErrorCode::GroupDissolved => "group_dissolved",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::NotAllowed => "not_allowed",
            ErrorCode::MediaTooLarge => "media_too_large",
            ErrorCode::MediaTypeMismatch => "media_type_mismatch",
            ErrorCode::InvalidMedia => "invalid_media",
            ErrorCode::ImageTooLarge => "image_too_large",
            ErrorCode::IncompleteUpload => "incomplete_upload",
            ErrorCode::UrlExpired => "url_expired",
            ErrorCode::RangeNotSatisfiable => "range_not_satisfiable",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::AssistantNotConfigured => "assistant_not_configured",
        }
    }

    /// The HTTP status the HTTP API uses for this code.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            MalformedFrame | UnknownType | BadRequest | InvalidUsername | WeakPassword
            | TooLong | InvalidArgument | UnsupportedVersion | InvalidMedia | IncompleteUpload => {
                400
            }
            Unauthenticated | InvalidToken | TokenExpired | TokenRevoked | WrongCredentials => 401,
            NotMember | Forbidden | RecallWindowPassed | Muted | NotAllowed | UrlExpired => 403,
            NotFound => 404,
            UsernameTaken | AlreadyAuthenticated | AlreadyRecalled | GroupFull | GroupDissolved
            | AlreadyExists => 409,
            FrameTooLarge | MediaTooLarge | ImageTooLarge => 413,
            MediaTypeMismatch => 415,
            RangeNotSatisfiable => 416,
            RateLimited => 429,
            Internal => 500,
            Unavailable | AssistantNotConfigured => 503,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error body of a failed request: a stable code and a human message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
    /// With `rate_limited`: how long to wait before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// Optional extra detail for developers (e.g. the parser's complaint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl WireError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        WireError {
            code,
            message: message.into(),
            retry_after_ms: None,
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for WireError {}
